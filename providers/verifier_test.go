package providers_test

import (
	"testing"
	"time"

	"github.com/authgate/authgate/internal/jwttest"
	"github.com/authgate/authgate/providers"
)

const (
	testIssuer   = "https://issuer.test/"
	testAudience = "api"
)

var testNow = time.Unix(1_800_000_000, 0)

// testClaims are the claims of a valid token at testNow.
func testClaims() map[string]any {
	return map[string]any{"iss": testIssuer, "aud": testAudience, "sub": "alice", "iat": testNow.Unix() - 1, "exp": testNow.Unix() + 300}
}

// hmacVerifier returns an HS256 verifier over the one kid-less secret of
// jwttest.Key("HS256", "verifier"), with edit applied to its configuration.
func hmacVerifier(t *testing.T, edit func(*providers.VerifierConfig)) *providers.Verifier {
	t.Helper()
	keys, err := providers.NewStaticKeySet([]providers.Key{providers.SecretKey(jwttest.Key("HS256", "verifier").([]byte))}, []string{"HS256"})
	if err != nil {
		t.Fatal(err)
	}
	cfg := providers.VerifierConfig{
		Issuer: testIssuer, Audience: []string{testAudience}, Algorithms: []string{"HS256"}, Keys: keys,
		Now: func() time.Time { return testNow },
	}
	if edit != nil {
		edit(&cfg)
	}
	v, err := providers.NewVerifier(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// hmacToken signs claims with header under the secret of hmacVerifier.
func hmacToken(header string, claims map[string]any) string {
	return jwttest.Sign("HS256", jwttest.Key("HS256", "verifier"), []byte(header), jwttest.JSON(claims))
}
