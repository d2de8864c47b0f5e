package bench

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"strings"
	"time"
)

// The token every verifier checks: a realistic access token of the shape
// authgate's own benchmarks use (iss, sub, two audiences, exp, iat, jti,
// azp, scope) under the header alg, kid, typ.
const (
	issuer   = "https://issuer.bench.test/"
	audience = "https://api.bench.test"
	keyID    = "k1"
)

// algs are the algorithms compared, in table order.
var algs = []string{"RS256", "ES256", "HS256"}

// keySet holds the keys generated at start: one per algorithm.
type keySet struct {
	rsa    *rsa.PrivateKey
	ec     *ecdsa.PrivateKey
	secret []byte
}

// fixture is one algorithm's key and tokens.
type fixture struct {
	alg  string
	priv any    // *rsa.PrivateKey, *ecdsa.PrivateKey or []byte
	pub  any    // *rsa.PublicKey, *ecdsa.PublicKey or []byte
	good string // the benchmark's token
	// bad are tokens every strict verifier must refuse, by reason.
	bad map[string]string
}

var keys = mustKeys()

func mustKeys() keySet {
	r, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	e, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	s := make([]byte, 32)
	if _, err := rand.Read(s); err != nil {
		panic(err)
	}
	return keySet{rsa: r, ec: e, secret: s}
}

// privateKey returns the signing key of alg.
func privateKey(alg string) any {
	switch alg {
	case "RS256":
		return keys.rsa
	case "ES256":
		return keys.ec
	case "HS256":
		return keys.secret
	}
	panic("no key for " + alg)
}

// publicKey returns the verification key of alg.
func publicKey(alg string) any {
	switch alg {
	case "RS256":
		return &keys.rsa.PublicKey
	case "ES256":
		return &keys.ec.PublicKey
	case "HS256":
		return keys.secret
	}
	panic("no key for " + alg)
}

// claims returns the benchmark's claims valid at now, with overrides.
func claims(now time.Time, over map[string]any) map[string]any {
	c := map[string]any{
		"iss":   issuer,
		"sub":   "auth0|5f7c8ec7c33c6c004bbafe82",
		"aud":   []string{audience, issuer + "userinfo"},
		"exp":   now.Add(time.Hour).Unix(),
		"iat":   now.Unix(),
		"jti":   "6c0e7a1d-6a5f-4a0b-9a41-1f3b2f3c4d5e",
		"azp":   "VvQ8kZ3m1y2xJ4pL",
		"scope": "openid profile email read:articles write:articles",
	}
	for k, v := range over {
		c[k] = v
	}
	return c
}

// sign returns the compact JWS of claims under alg with key.
func sign(alg string, key any, c map[string]any) string {
	h, err := json.Marshal(map[string]string{"alg": alg, "kid": keyID, "typ": "JWT"})
	if err != nil {
		panic(err)
	}
	p, err := json.Marshal(c)
	if err != nil {
		panic(err)
	}
	enc := base64.RawURLEncoding
	input := enc.EncodeToString(h) + "." + enc.EncodeToString(p)
	digest := sha256.Sum256([]byte(input))
	var sig []byte
	switch k := key.(type) {
	case *rsa.PrivateKey:
		sig, err = rsa.SignPKCS1v15(rand.Reader, k, crypto.SHA256, digest[:])
	case *ecdsa.PrivateKey:
		var r, s *big.Int
		r, s, err = ecdsa.Sign(rand.Reader, k, digest[:])
		if err == nil {
			sig = make([]byte, 64)
			r.FillBytes(sig[:32])
			s.FillBytes(sig[32:])
		}
	case []byte:
		m := hmac.New(sha256.New, k)
		m.Write([]byte(input))
		sig = m.Sum(nil)
	default:
		err = fmt.Errorf("no signer for %T", key)
	}
	if err != nil {
		panic(err)
	}
	return input + "." + enc.EncodeToString(sig)
}

// otherAlg is the algorithm whose token a verifier pinned to alg is given
// to prove that it pins the algorithm.
func otherAlg(alg string) string {
	if alg == "RS256" {
		return "ES256"
	}
	return "RS256"
}

// newFixture mints alg's token and the tokens that must be refused.
func newFixture(alg string, now time.Time) fixture {
	priv := privateKey(alg)
	good := sign(alg, priv, claims(now, nil))
	i := strings.IndexByte(good, '.')
	tampered := good[:i+1] + base64.RawURLEncoding.EncodeToString(
		mustJSON(claims(now, map[string]any{"sub": "someone-else"}))) + good[strings.LastIndexByte(good, '.'):]
	return fixture{
		alg:  alg,
		priv: priv,
		pub:  publicKey(alg),
		good: good,
		bad: map[string]string{
			"tampered":     tampered,
			"expired":      sign(alg, priv, claims(now, map[string]any{"exp": now.Add(-time.Hour).Unix(), "iat": now.Add(-2 * time.Hour).Unix()})),
			"no exp":       sign(alg, priv, withoutExp(claims(now, nil))),
			"other issuer": sign(alg, priv, claims(now, map[string]any{"iss": "https://other.bench.test/"})),
			"other aud":    sign(alg, priv, claims(now, map[string]any{"aud": []string{"https://other-api.bench.test"}})),
			"other alg":    sign(otherAlg(alg), privateKey(otherAlg(alg)), claims(now, nil)),
		},
	}
}

func withoutExp(c map[string]any) map[string]any {
	delete(c, "exp")
	return c
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
