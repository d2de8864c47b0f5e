package providers

import (
	"maps"
	"reflect"
	"testing"

	"github.com/authgate/authgate/internal/jwttest"
)

// TestPrincipalSeenClaims: the principal of a verified token, whose absent
// claims Principal skips (claimsSeen), is the one every claim looked up
// gives, and a token given other claims, by assignment or by a write into
// its map, gets those.
func TestPrincipalSeenClaims(t *testing.T) {
	v := headerCacheVerifier(t)
	key := jwttest.Key("HS256", "headers")
	for _, claims := range []map[string]any{
		{},
		{"scope": "a b", "jti": "j1"},
		{"scope": 7.0, "scp": []any{"x", "y"}, "roles": []any{"r"}, "tenant": "t1", "email": "e@x", "name": "N", "permissions": []any{"p"}},
		{"scp": "s1 s2", "realm": map[string]any{"roles": []any{"nested"}}},
	} {
		all := map[string]any{"iss": "https://issuer.test/", "aud": "api", "sub": "alice", "exp": 1_800_000_300, "iat": 1_799_999_999}
		maps.Copy(all, claims)
		token := jwttest.Sign("HS256", key, []byte(`{"alg":"HS256"}`), jwttest.JSON(all))
		for _, m := range []Mapping{{}, {RolesClaim: "realm.roles", TenantClaim: "email"}} {
			tok, err := v.Verify(t.Context(), token)
			if err != nil {
				t.Fatal(err)
			}
			if tok.absentClaims() == 0 && len(claims) < 8 {
				t.Fatalf("%v: no claim known absent", claims)
			}
			looked := *tok
			looked.seen = claimsSeen{}
			if got, want := m.Principal(tok), m.Principal(&looked); !reflect.DeepEqual(got, want) {
				t.Fatalf("%v, %+v: Principal = %+v, looking every claim up %+v", claims, m, got, want)
			}

			other := *tok
			other.Claims = maps.Clone(tok.Claims)
			other.Claims["email"] = "other@x"
			delete(other.Claims, "sub") // as many members as before
			if got := m.Principal(&other); got.Email != "other@x" {
				t.Errorf("%v: Principal of a token given other claims: Email %q", claims, got.Email)
			}
			tok.Claims["name"] = "written"
			if _, had := claims["name"]; !had {
				if got := m.Principal(tok); got.Name != "written" {
					t.Errorf("%v: Principal after a claim was added: Name %q", claims, got.Name)
				}
			}
		}
	}
}
