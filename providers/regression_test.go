package providers

import (
	"crypto/rsa"
	"encoding/json"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/authgate/authgate/internal/jwttest"
)

func reviewVerifier(t *testing.T) (*Verifier, *rsa.PrivateKey, time.Time) {
	t.Helper()
	priv := jwttest.Key("RS256", "").(*rsa.PrivateKey)
	k := PublicKey(&priv.PublicKey)
	k.ID = "k1"
	set, err := NewStaticKeySet([]Key{k}, []string{RS256})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1_800_000_000, 0)
	v, err := NewVerifier(VerifierConfig{
		Issuer: "https://i.test/", Audience: []string{"api"}, Algorithms: []string{RS256}, Keys: set,
		Now: func() time.Time { return now },
	})
	if err != nil {
		t.Fatal(err)
	}
	return v, priv, now
}

func reviewSign(priv *rsa.PrivateKey, payload string) string {
	return jwttest.Sign("RS256", priv, []byte(`{"alg":"RS256","kid":"k1"}`), []byte(payload))
}

// encoding/json matches member names to struct fields with Unicode simple
// case folding, so "ſUB" (U+017F LATIN SMALL LETTER LONG S) is the "sub"
// field to every Go service that decodes the same claims into a struct
// (golang-jwt's RegisteredClaims included). The verifier checks "sub" =
// "alice": the token must be refused, as SECURITY.md#strict-json asks for every
// case variant, including fold variants strings.ToLower does not map.
func TestRegressionUnicodeFoldVariantOfRegisteredClaim(t *testing.T) {
	v, priv, now := reviewVerifier(t)
	payload := `{"iss":"https://i.test/","aud":"api","exp":` + jsonInt(now.Add(time.Hour).Unix()) +
		`,"sub":"alice","ſUB":"admin"}`
	var std struct {
		Sub string `json:"sub"`
	}
	if err := json.Unmarshal([]byte(payload), &std); err != nil || std.Sub != "admin" {
		t.Fatalf("premise: encoding/json sub = %q, %v", std.Sub, err)
	}
	tok, err := v.Verify(t.Context(), reviewSign(priv, payload))
	if err == nil {
		t.Fatalf("token with fold-variant duplicate of \"sub\" accepted: authgate sub=%q, encoding/json sub=%q", tok.Subject, std.Sub)
	}
}

// A lower-case non-ASCII member name ("café") is no case variant of
// anything: a token carrying one is valid. (An earlier check compared the
// name with its own lower case and refused it as a "duplicate".)
func TestRegressionNonASCIIClaimNameRejected(t *testing.T) {
	v, priv, now := reviewVerifier(t)
	payload := `{"iss":"https://i.test/","aud":"api","exp":` + jsonInt(now.Add(time.Hour).Unix()) +
		`,"sub":"alice","café":"au lait"}`
	if _, err := v.Verify(t.Context(), reviewSign(priv, payload)); err != nil {
		t.Fatalf("valid token with a non-ASCII claim name rejected: %v", err)
	}
}

// RFC 6750 §2 / SECURITY.md#bearer: a bearer header together with an
// access_token query parameter is a 400, also when the name is
// percent-encoded ("access%5Ftoken", which url.Values and any framework
// reading the query decode to access_token).
func TestRegressionBearerPlusPercentEncodedQueryToken(t *testing.T) {
	r := httptest.NewRequest("GET", "/x?access%5Ftoken=other", nil)
	r.Header.Set("Authorization", "Bearer abc.def.ghi")
	if !r.URL.Query().Has("access_token") {
		t.Fatal("premise: query has no access_token")
	}
	if _, err := BearerToken(r); err == nil {
		t.Fatal("header bearer plus ?access%5Ftoken= accepted; want ErrMalformedRequest")
	}
}

func jsonInt(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// Claims documents dotted names as paths into nested claims
// ("realm_access.roles"): a top-level member literally named
// "realm_access.roles" (a Keycloak mapper with claim name
// `realm_access\.roles`, an Auth0 Action, a Firebase custom claim) must not
// satisfy a role rule that the token's real realm_access.roles does not.
func TestRegressionDottedClaimRuleSatisfiedByLiteralMember(t *testing.T) {
	priv := jwttest.Key("RS256", "").(*rsa.PrivateKey)
	k := PublicKey(&priv.PublicKey)
	k.ID = "k1"
	set, err := NewStaticKeySet([]Key{k}, []string{RS256})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1_800_000_000, 0)
	v, err := NewVerifier(VerifierConfig{
		Issuer: "https://i.test/", Audience: []string{"api"}, Algorithms: []string{RS256}, Keys: set,
		Now:    func() time.Time { return now },
		Claims: Claims{"realm_access.roles": {Values: []any{"admin"}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	payload := `{"iss":"https://i.test/","aud":"api","exp":` + jsonInt(now.Add(time.Hour).Unix()) +
		`,"sub":"alice","realm_access":{"roles":["user"]},"realm_access.roles":["admin"]}`
	if _, err := v.Verify(t.Context(), reviewSign(priv, payload)); err == nil {
		t.Fatal(`rule realm_access.roles ∋ "admin" satisfied by a top-level "realm_access.roles" member; nested roles are ["user"]`)
	}
}

// Any spelling of access_token in the query, percent-encoded letters
// included, is found beside a header token; unrelated queries are not.
func TestRegressionBearerQuerySpellings(t *testing.T) {
	for q, want := range map[string]bool{
		"access_token=x": true, "%61ccess_token=x": true, "access%5ftoken=x": true,
		"a=1&access_token=": true, "page=2": false, "access=1": false, "q=%20": false,
	} {
		r := httptest.NewRequest("GET", "/x?"+q, nil)
		r.Header.Set("Authorization", "Bearer abc.def.ghi")
		_, err := BearerToken(r)
		if got := err != nil; got != want {
			t.Errorf("query %q: rejected %v, want %v (%v)", q, got, want, err)
		}
	}
}
