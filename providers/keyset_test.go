package providers_test

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/internal/jwttest"
	"github.com/authgate/authgate/providers"
)

// pemKeys parses the public half of priv the way a configuration file
// holds it: one PEM "PUBLIC KEY" block, which has no kid.
func pemKeys(t *testing.T, priv any) []providers.Key {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(jwttest.Public(priv))
	if err != nil {
		t.Fatal(err)
	}
	keys, err := providers.ParseKeys(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

func withID(k providers.Key, id string) providers.Key {
	k.ID = id
	return k
}

// TestKeySelection pins how a StaticKeySet picks the key for a token: a
// kid selects the key with that kid; when no configured key has a kid, a
// token's kid selects nothing and the one key of the token's algorithm is
// used; and a set that names its keys (even only some of them) never falls
// back to a key without a kid for a kid it does not hold.
func TestKeySelection(t *testing.T) {
	rsa1, rsa2 := jwttest.Key("RS256", "select-1"), jwttest.Key("RS256", "select-2")
	ec := jwttest.Key("ES256", "select")
	secret := jwttest.Key("HS256", "select").([]byte)
	pem1, pem2, pemEC := pemKeys(t, rsa1)[0], pemKeys(t, rsa2)[0], pemKeys(t, ec)[0]
	tests := []struct {
		name    string
		keys    []providers.Key
		algs    []string
		token   string
		wantErr error // nil: accepted
	}{
		{name: "PEM key, token with kid", keys: []providers.Key{pem1}, algs: []string{"RS256"},
			token: jwttest.Token("RS256", "2026-05", rsa1, testClaims())},
		{name: "PEM key, token without kid", keys: []providers.Key{pem1}, algs: []string{"RS256"},
			token: jwttest.Token("RS256", "", rsa1, testClaims())},
		{name: "PEM key, token with kid signed by another key", keys: []providers.Key{pem1}, algs: []string{"RS256"},
			token: jwttest.Token("RS256", "2026-05", rsa2, testClaims()), wantErr: authgate.ErrInvalidSignature},
		{name: "HMAC secret without kid, token with kid", keys: []providers.Key{providers.SecretKey(secret)}, algs: []string{"HS256"},
			token: jwttest.Token("HS256", "hs-1", secret, testClaims())},
		{name: "HMAC secret without kid, token with kid and another secret", keys: []providers.Key{providers.SecretKey(secret)}, algs: []string{"HS256"},
			token: jwttest.Token("HS256", "hs-1", jwttest.Key("HS256", "other"), testClaims()), wantErr: authgate.ErrInvalidSignature},
		{name: "one kid-less key per algorithm, RS256 token with kid", keys: []providers.Key{pem1, pemEC}, algs: []string{"RS256", "ES256"},
			token: jwttest.Token("RS256", "x", rsa1, testClaims())},
		{name: "one kid-less key per algorithm, ES256 token with kid", keys: []providers.Key{pem1, pemEC}, algs: []string{"RS256", "ES256"},
			token: jwttest.Token("ES256", "x", ec, testClaims())},
		{name: "two kid-less keys, token with kid", keys: []providers.Key{pem1, pem2}, algs: []string{"RS256"},
			token: jwttest.Token("RS256", "2026-05", rsa2, testClaims()), wantErr: authgate.ErrInvalidSignature},
		{name: "two kid-less keys, token without kid", keys: []providers.Key{pem1, pem2}, algs: []string{"RS256"},
			token: jwttest.Token("RS256", "", rsa2, testClaims())},
		{name: "kid'd keys, matching kid", keys: []providers.Key{withID(pem1, "k1"), withID(pem2, "k2")}, algs: []string{"RS256"},
			token: jwttest.Token("RS256", "k2", rsa2, testClaims())},
		{name: "kid'd keys, kid of the other key", keys: []providers.Key{withID(pem1, "k1"), withID(pem2, "k2")}, algs: []string{"RS256"},
			token: jwttest.Token("RS256", "k1", rsa2, testClaims()), wantErr: authgate.ErrInvalidSignature},
		{name: "kid'd keys, non-matching kid", keys: []providers.Key{withID(pem1, "k1"), withID(pem2, "k2")}, algs: []string{"RS256"},
			token: jwttest.Token("RS256", "k3", rsa1, testClaims()), wantErr: authgate.ErrInvalidSignature},
		{name: "one kid'd key, non-matching kid", keys: []providers.Key{withID(pem1, "k1")}, algs: []string{"RS256"},
			token: jwttest.Token("RS256", "k3", rsa1, testClaims()), wantErr: authgate.ErrInvalidSignature},
		{name: "mixed, kid of the kid'd key", keys: []providers.Key{withID(pem1, "k1"), pem2}, algs: []string{"RS256"},
			token: jwttest.Token("RS256", "k1", rsa1, testClaims())},
		{name: "mixed, unknown kid, signed by the kid-less key", keys: []providers.Key{withID(pem1, "k1"), pem2}, algs: []string{"RS256"},
			token: jwttest.Token("RS256", "k9", rsa2, testClaims()), wantErr: authgate.ErrInvalidSignature},
		{name: "mixed, kid'd key of another algorithm, unknown kid", keys: []providers.Key{withID(pemEC, "e1"), pem2}, algs: []string{"RS256", "ES256"},
			token: jwttest.Token("RS256", "k9", rsa2, testClaims()), wantErr: authgate.ErrInvalidSignature},
		{name: "mixed, token without kid, signed by the kid-less key", keys: []providers.Key{withID(pem1, "k1"), pem2}, algs: []string{"RS256"},
			token: jwttest.Token("RS256", "", rsa2, testClaims())},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ks, err := providers.NewStaticKeySet(tt.keys, tt.algs)
			if err != nil {
				t.Fatal(err)
			}
			v, err := providers.NewVerifier(providers.VerifierConfig{
				Issuer: testIssuer, Audience: []string{testAudience}, Algorithms: tt.algs, Keys: ks,
				Now: func() time.Time { return testNow },
			})
			if err != nil {
				t.Fatal(err)
			}
			_, err = v.Verify(t.Context(), tt.token)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("Verify() = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

// TestStaticKeySetVerificationKeys checks the lookup itself: what each kid
// and algorithm yields.
func TestStaticKeySetVerificationKeys(t *testing.T) {
	pem1 := pemKeys(t, jwttest.Key("RS256", "select-1"))[0]
	pem2 := pemKeys(t, jwttest.Key("RS256", "select-2"))[0]
	pemEC := pemKeys(t, jwttest.Key("ES256", "select"))[0]
	tests := []struct {
		name     string
		keys     []providers.Key
		kid, alg string
		want     int // keys returned
	}{
		{name: "kid-less key, any kid", keys: []providers.Key{pem1}, kid: "x", alg: "RS256", want: 1},
		{name: "kid-less key, no kid", keys: []providers.Key{pem1}, kid: "", alg: "RS256", want: 1},
		{name: "kid-less key, other algorithm", keys: []providers.Key{pem1}, kid: "x", alg: "ES256", want: 0},
		{name: "kid-less key per algorithm, any kid", keys: []providers.Key{pem1, pemEC}, kid: "x", alg: "ES256", want: 1},
		{name: "two kid-less keys, any kid", keys: []providers.Key{pem1, pem2}, kid: "x", alg: "RS256", want: 0},
		{name: "two kid-less keys, no kid", keys: []providers.Key{pem1, pem2}, kid: "", alg: "RS256", want: 2},
		{name: "kid'd key, its kid", keys: []providers.Key{withID(pem1, "k1")}, kid: "k1", alg: "RS256", want: 1},
		{name: "kid'd key, other kid", keys: []providers.Key{withID(pem1, "k1")}, kid: "k2", alg: "RS256", want: 0},
		{name: "mixed, unknown kid", keys: []providers.Key{withID(pem1, "k1"), pem2}, kid: "k2", alg: "RS256", want: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ks, err := providers.NewStaticKeySet(tt.keys, []string{"RS256", "ES256"})
			if err != nil {
				t.Fatal(err)
			}
			got, err := ks.VerificationKeys(t.Context(), tt.kid, tt.alg)
			if err != nil || len(got) != tt.want {
				t.Fatalf("VerificationKeys(%q, %s) = %d keys, %v; want %d", tt.kid, tt.alg, len(got), err, tt.want)
			}
		})
	}
}

// TestRemoteKeySetKeepsExactKids: the kid-less fallback is a rule of
// configured keys only. A fetched key set still matches kids exactly, so a
// published key without a kid never verifies a token that names one.
func TestRemoteKeySetKeepsExactKids(t *testing.T) {
	priv := jwttest.Key("RS256", "select-1")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(jwttest.JWKS(jwttest.JWK(priv, "", "RS256")))
	}))
	t.Cleanup(srv.Close)
	ks, err := providers.NewRemoteKeySet(providers.RemoteKeySetConfig{URL: srv.URL, Algorithms: []string{"RS256"}})
	if err != nil {
		t.Fatal(err)
	}
	v, err := providers.NewVerifier(providers.VerifierConfig{
		Issuer: testIssuer, Audience: []string{testAudience}, Algorithms: []string{"RS256"}, Keys: ks,
		Now: func() time.Time { return testNow },
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(t.Context(), jwttest.Token("RS256", "", priv, testClaims())); err != nil {
		t.Fatalf("Verify(token without kid) = %v", err)
	}
	if _, err := v.Verify(t.Context(), jwttest.Token("RS256", "k1", priv, testClaims())); !errors.Is(err, authgate.ErrInvalidSignature) {
		t.Fatalf("Verify(token with kid) = %v, want ErrInvalidSignature", err)
	}
}
