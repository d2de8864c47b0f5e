package providers_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/internal/jwttest"
	"github.com/authgate/authgate/providers"
)

const (
	unsignedIssuer   = "https://securetoken.google.com/demo-x"
	unsignedAudience = "demo-x"
)

func unsignedToken(header string, claims map[string]any) string {
	return jwttest.B64([]byte(header)) + "." + jwttest.B64(jwttest.JSON(claims)) + "."
}

func TestInsecureVerifyUnsigned(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	key := jwttest.Key("RS256", "unsigned")
	keys, err := providers.NewStaticKeySet([]providers.Key{providers.PublicKey(jwttest.Public(key))}, []string{"RS256"})
	if err != nil {
		t.Fatal(err)
	}
	v, err := providers.NewVerifier(providers.VerifierConfig{
		Issuer: unsignedIssuer, Audience: []string{unsignedAudience}, Algorithms: []string{"RS256"}, Keys: keys,
		Now: func() time.Time { return now },
	})
	if err != nil {
		t.Fatal(err)
	}
	claims := func(edit func(map[string]any)) map[string]any {
		c := map[string]any{"iss": unsignedIssuer, "aud": unsignedAudience, "sub": "u1", "iat": now.Unix() - 1, "exp": now.Unix() + 300}
		if edit != nil {
			edit(c)
		}
		return c
	}
	none := `{"alg":"none","typ":"JWT"}`
	tests := []struct {
		name    string
		token   string
		wantErr error
	}{
		{name: "unsigned", token: unsignedToken(none, claims(nil))},
		{name: "unsigned without typ", token: unsignedToken(`{"alg":"none"}`, claims(nil))},
		{name: "signed", token: jwttest.Token("RS256", "", key, claims(nil)), wantErr: authgate.ErrUnsupportedAlgorithm},
		{name: "none with a signature", token: unsignedToken(none, claims(nil)) + "AAAA", wantErr: authgate.ErrMalformedToken},
		{name: "None", token: unsignedToken(`{"alg":"None"}`, claims(nil)), wantErr: authgate.ErrUnsupportedAlgorithm},
		{name: "alg missing", token: unsignedToken(`{"typ":"JWT"}`, claims(nil)), wantErr: authgate.ErrMalformedToken},
		{name: "crit", token: unsignedToken(`{"alg":"none","crit":["x"],"x":1}`, claims(nil)), wantErr: authgate.ErrUnsupportedAlgorithm},
		{name: "jku", token: unsignedToken(`{"alg":"none","jku":"https://x.example"}`, claims(nil)), wantErr: authgate.ErrUnsupportedAlgorithm},
		{name: "nested", token: unsignedToken(`{"alg":"none","cty":"JWT"}`, claims(nil)), wantErr: authgate.ErrUnsupportedAlgorithm},
		{name: "typ at+jwt", token: unsignedToken(`{"alg":"none","typ":"at+jwt"}`, claims(nil)), wantErr: authgate.ErrInvalidCredentials},
		{name: "header trailing data", token: unsignedToken(`{"alg":"none"}x`, claims(nil)), wantErr: authgate.ErrMalformedToken},
		{name: "other issuer", token: unsignedToken(none, claims(func(c map[string]any) { c["iss"] = "https://other.example" })), wantErr: authgate.ErrUnrecognizedCredential},
		{name: "expired", token: unsignedToken(none, claims(func(c map[string]any) { c["exp"] = now.Unix() - 3600; c["iat"] = now.Unix() - 7200 })), wantErr: authgate.ErrTokenExpired},
		{name: "audience", token: unsignedToken(none, claims(func(c map[string]any) { c["aud"] = "other" })), wantErr: authgate.ErrInvalidAudience},
		{name: "two segments", token: "eyJhbGciOiJub25lIn0.e30", wantErr: authgate.ErrUnrecognizedCredential},
		{name: "four segments", token: unsignedToken(none, claims(nil)) + ".", wantErr: authgate.ErrUnrecognizedCredential},
		{name: "empty payload", token: jwttest.B64([]byte(none)) + "..", wantErr: authgate.ErrUnrecognizedCredential},
		{name: "too large", token: unsignedToken(none, claims(func(c map[string]any) { c["x"] = strings.Repeat("a", 20000) })), wantErr: authgate.ErrUnrecognizedCredential},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, err := v.InsecureVerifyUnsigned(tt.token)
			if tt.wantErr == nil {
				if err != nil || tok.Subject != "u1" || tok.Algorithm != "none" {
					t.Fatalf("InsecureVerifyUnsigned() = %+v, %v; want subject u1", tok, err)
				}
				return
			}
			if !errors.Is(err, tt.wantErr) || tok != nil {
				t.Fatalf("InsecureVerifyUnsigned() = %v, want %v", err, tt.wantErr)
			}
		})
	}

	// Verify never accepts what InsecureVerifyUnsigned does.
	if _, err := v.Verify(t.Context(), unsignedToken(none, claims(nil))); err == nil {
		t.Fatal("Verify accepted an unsigned token")
	}
}

func TestPeekIssuer(t *testing.T) {
	signed := jwttest.Token("RS256", "k", jwttest.Key("RS256", "unsigned"), map[string]any{"iss": "https://a.example"})
	tests := []struct {
		name   string
		token  string
		want   string
		wantOK bool
	}{
		{name: "signed", token: signed, want: "https://a.example", wantOK: true},
		{name: "unsigned", token: unsignedToken(`{"alg":"none"}`, map[string]any{"iss": "https://b.example"}), want: "https://b.example", wantOK: true},
		{name: "no iss", token: unsignedToken(`{"alg":"none"}`, map[string]any{"sub": "x"})},
		{name: "iss not a string", token: unsignedToken(`{"alg":"none"}`, map[string]any{"iss": 1})},
		{name: "not a JWT", token: "opaque-token"},
		{name: "duplicate iss", token: jwttest.B64([]byte(`{}`)) + "." + jwttest.B64([]byte(`{"iss":"a","iss":"b"}`)) + "."},
		{name: "CR in payload", token: strings.Replace(signed, ".", ".\r", 1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := providers.PeekIssuer(tt.token)
			if got != tt.want || ok != tt.wantOK {
				t.Fatalf("PeekIssuer() = %q, %v; want %q, %v", got, ok, tt.want, tt.wantOK)
			}
		})
	}
}
