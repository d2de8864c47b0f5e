package static_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rsa"
	"crypto/sha256"
	"strings"
	"testing"

	"github.com/authgate/authgate/internal/jwttest"
	"github.com/authgate/authgate/providers"
	"github.com/authgate/authgate/static"
)

// benchClaims is a realistic access token: the same shape the peer
// benchmarks use (iss, sub, two audiences, exp, iat, jti, azp, scope).
func benchClaims() map[string]any {
	return claims(map[string]any{
		"aud": []string{api, "https://issuer.test/userinfo"},
		"sub": "auth0|5f7c8ec7c33c6c004bbafe82", "jti": "6c0e7a1d-6a5f-4a0b-9a41-1f3b2f3c4d5e",
		"azp": "VvQ8kZ3m1y2xJ4pL", "scope": "openid profile email read:articles write:articles",
	})
}

// BenchmarkVerify compares a full verification (framing, header, key
// lookup, signature, every claim check, principal) with the raw signature
// check over the same signing input in the same run ("floor").
//
//	go test -run '^$' -bench 'Verify' -benchmem -count 6 ./static/
func BenchmarkVerify(b *testing.B) {
	for _, alg := range []string{"RS256", "PS256", "ES256", "EdDSA", "HS256"} {
		a, priv, token := benchSetup(b, alg, 0)
		ctx := context.Background()
		floor := floorCheck(b, alg, priv, token)
		b.Run("alg="+alg+"/impl=floor", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if !floor() {
					b.Fatal("floor rejected")
				}
			}
		})
		b.Run("alg="+alg+"/impl=authgate", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := a.Verify(ctx, token); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// benchSetup returns a static authenticator for alg (with a verified-token
// cache of cacheSize entries), its private key and a token it accepts.
func benchSetup(b *testing.B, alg string, cacheSize int) (*static.Authenticator, any, string) {
	priv := jwttest.Key(alg, "")
	var k providers.Key
	if s, ok := priv.([]byte); ok {
		k = providers.SecretKey(s)
	} else {
		k = providers.PublicKey(jwttest.Public(priv))
	}
	k.ID = "k1"
	a, err := static.New(static.Config{Keys: []providers.Key{k}, Issuer: issuer, TokenOptions: providers.TokenOptions{Algorithms: []string{alg}, Audience: []string{api}, Now: clock, CacheSize: cacheSize}})
	if err != nil {
		b.Fatal(err)
	}
	token := jwttest.Token(alg, "k1", priv, benchClaims())
	if _, err := a.Verify(context.Background(), token); err != nil {
		b.Fatal(err)
	}
	return a, priv, token
}

// floorCheck returns the physical floor: hashing the signing input and
// checking the signature with the standard library, nothing else (the same
// definition as the peer benchmarks: ECDSA over pre-encoded DER, HMAC with
// hmac.New per check).
func floorCheck(b *testing.B, alg string, priv any, token string) func() bool {
	i := strings.LastIndexByte(token, '.')
	input := []byte(token[:i])
	sig := mustDecode(token[i+1:])
	switch alg {
	case "RS256":
		pub := jwttest.Public(priv).(*rsa.PublicKey)
		return func() bool {
			d := sha256.Sum256(input)
			return rsa.VerifyPKCS1v15(pub, crypto.SHA256, d[:], sig) == nil
		}
	case "PS256":
		pub := jwttest.Public(priv).(*rsa.PublicKey)
		opts := &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: crypto.SHA256}
		return func() bool {
			d := sha256.Sum256(input)
			return rsa.VerifyPSS(pub, crypto.SHA256, d[:], sig, opts) == nil
		}
	case "ES256":
		pub := jwttest.Public(priv).(*ecdsa.PublicKey)
		der := derSig(sig[:32], sig[32:])
		return func() bool {
			d := sha256.Sum256(input)
			return ecdsa.VerifyASN1(pub, d[:], der)
		}
	case "EdDSA":
		pub := jwttest.Public(priv).(ed25519.PublicKey)
		return func() bool { return ed25519.Verify(pub, input, sig) }
	case "HS256":
		secret := priv.([]byte)
		return func() bool {
			m := hmac.New(sha256.New, secret)
			m.Write(input)
			return hmac.Equal(m.Sum(nil), sig)
		}
	}
	b.Fatalf("no floor for %s", alg)
	return nil
}

// BenchmarkVerifyCached measures a hit in the verified-token cache
// (static.Config.CacheSize) against the same floor.
//
//	go test -run '^$' -bench 'VerifyCached' -benchmem -count 6 ./static/
func BenchmarkVerifyCached(b *testing.B) {
	for _, alg := range []string{"RS256", "ES256", "HS256"} {
		a, priv, token := benchSetup(b, alg, 10000)
		ctx := context.Background()
		floor := floorCheck(b, alg, priv, token)
		b.Run("alg="+alg+"/impl=floor", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if !floor() {
					b.Fatal("floor rejected")
				}
			}
		})
		b.Run("alg="+alg+"/impl=authgate-cached", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := a.Verify(ctx, token); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
