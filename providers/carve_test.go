package providers

import (
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/authgate/authgate"
)

// TestCarveFields: the principal's scopes split exactly as strings.Fields
// splits them, ASCII or not.
func TestCarveFields(t *testing.T) {
	for _, s := range []string{
		"", " ", "openid", "openid profile email", "  a\tb\nc\vd\fe\rf  ", "a  b", "é ü", "a\u00a0b c", "a\u2003b", "x\x85y",
	} {
		t.Run(s, func(t *testing.T) {
			got, rest := carveFields(s, make([]string, 0, 2))
			if want := strings.Fields(s); !slices.Equal(got, want) || got == nil {
				t.Errorf("carveFields(%q) = %q, want %q (non-nil)", s, got, want)
			}
			if cap(got) != len(got) || len(rest) != 0 {
				t.Errorf("carveFields(%q): list cap %d for len %d, rest len %d", s, cap(got), len(got), len(rest))
			}
		})
	}
}

// TestMappingPrincipalLists: the lists of a principal share one backing
// array, each capped at its length, so appending to one never changes
// another; and they hold what StringList and strings.Fields give.
func TestMappingPrincipalLists(t *testing.T) {
	tests := []struct {
		name                      string
		claims                    map[string]any
		roles, scopes, permission []string
	}{
		{name: "none", claims: map[string]any{}},
		{name: "all", claims: map[string]any{"roles": []any{"r1", "r2"}, "scope": "s1 s2", "permissions": []any{"p1", 7.0, "p2"}},
			roles: []string{"r1", "r2"}, scopes: []string{"s1", "s2"}, permission: []string{"p1", "p2"}},
		{name: "scp array", claims: map[string]any{"scp": []any{"a", "b"}}, scopes: []string{"a", "b"}},
		{name: "scp string", claims: map[string]any{"scp": "a b"}, scopes: []string{"a", "b"}},
		{name: "empty scope", claims: map[string]any{"scope": ""}, scopes: []string{}},
		{name: "beyond the inline lists", claims: map[string]any{"roles": []any{"1", "2", "3", "4", "5", "6"}, "scope": "a b c d e", "permissions": []any{"x"}},
			roles: []string{"1", "2", "3", "4", "5", "6"}, scopes: []string{"a", "b", "c", "d", "e"}, permission: []string{"x"}},
		{name: "roles not an array", claims: map[string]any{"roles": "admin", "permissions": []any{}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := Mapping{}.Principal(&Token{Claims: tt.claims})
			for _, l := range []struct {
				name      string
				got, want []string
			}{{"Roles", p.Roles, tt.roles}, {"Scopes", p.Scopes, tt.scopes}, {"Permissions", p.Permissions, tt.permission}} {
				if !reflect.DeepEqual(l.got, l.want) {
					t.Errorf("Principal().%s = %#v, want %#v", l.name, l.got, l.want)
				}
				if cap(l.got) != len(l.got) {
					t.Errorf("Principal().%s has cap %d for len %d", l.name, cap(l.got), len(l.got))
				}
			}
			perms := slices.Clone(p.Permissions)
			scopes := slices.Clone(p.Scopes)
			p.Roles = append(p.Roles, "appended")
			p.Scopes = append(p.Scopes, "appended")
			if !slices.Equal(p.Permissions, perms) || !slices.Equal(p.Scopes[:len(scopes)], scopes) {
				t.Errorf("appending to Roles and Scopes changed Scopes %q or Permissions %q", p.Scopes, p.Permissions)
			}
		})
	}
}

// TestAudienceStorage: "aud" is read into the token's own storage when it
// fits, always capped at its length, and the same list either way.
func TestAudienceStorage(t *testing.T) {
	tests := []struct {
		name string
		aud  any
		want []string
	}{
		{name: "string", aud: "a", want: []string{"a"}},
		{name: "two", aud: []any{"a", "b"}, want: []string{"a", "b"}},
		{name: "three", aud: []any{"a", "b", "c"}, want: []string{"a", "b", "c"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var tok Token
			got, err := audience(tt.aud, true, tok.audience[:0])
			if err != nil || !slices.Equal(got, tt.want) || cap(got) != len(got) {
				t.Fatalf("audience(%v) = %q (cap %d), %v; want %q", tt.aud, got, cap(got), err, tt.want)
			}
		})
	}
}

// TestCopyPrincipalShares: copyPrincipal copies the principal and its
// lists in one allocation (each list capped, so an append reallocates)
// and shares the read-only Claims and Header.
func TestCopyPrincipalShares(t *testing.T) {
	claims := map[string]any{"aud": []any{"api", "other"}, "sub": "u", "exp": 1.0, "scope": "openid email"}
	template := &authgate.Principal{Provider: "static", Method: "jwt", Subject: "u", Issuer: "https://i.test/",
		Audience: []string{"api", "other"}, Email: "u@example.test", Name: "U", Tenant: "t",
		Roles: []string{"admin"}, Scopes: []string{"openid", "email"}, Permissions: []string{"p"},
		Claims: authgate.AdoptObject(claims), Header: authgate.NewObject(map[string]any{"alg": "HS256", "kid": "k1", "typ": "JWT"}),
		CredentialID: "c", TokenID: "j", ExpiresAt: time.Unix(2, 0), IssuedAt: time.Unix(1, 0)}
	// Every field but User (a template has none) is set, so a field added
	// to Principal and forgotten by copyPrincipal fails here.
	fields := reflect.ValueOf(template).Elem()
	for i := range fields.NumField() {
		if name := fields.Type().Field(i).Name; name != "User" && fields.Field(i).IsZero() {
			t.Fatalf("the template leaves Principal.%s zero: set it", name)
		}
	}
	p := copyPrincipal(template)
	if !reflect.DeepEqual(p, template) {
		t.Fatalf("copyPrincipal = %+v, want %+v", p, template)
	}
	if cap(p.Audience) != len(p.Audience) || cap(p.Scopes) != len(p.Scopes) || &p.Audience[0] == &template.Audience[0] {
		t.Errorf("lists not copied and capped: cap %d/%d for len %d/%d", cap(p.Audience), cap(p.Scopes), len(p.Audience), len(p.Scopes))
	}
	p.Audience = append(p.Audience, "more")
	if p.Scopes[0] != "openid" {
		t.Errorf("appending to Audience changed Scopes to %v", p.Scopes)
	}
	if aud, _ := p.Claims.Get("aud"); reflect.ValueOf(aud).Pointer() == reflect.ValueOf(claims["aud"]).Pointer() {
		t.Error("Claims.Get handed out the shared array")
	}
	if n := testing.AllocsPerRun(100, func() { copyPrincipal(template) }); n != 1 {
		t.Errorf("copyPrincipal of a usual principal: %v allocations, want 1", n)
	}
}
