// Package jwttest mints JWTs for authgate's own tests and benchmarks with
// the standard library's crypto. It signs whatever it is given — broken
// headers, odd claims — so tests can build hostile tokens.
package jwttest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"sync"
)

// B64 encodes unpadded base64url.
func B64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// JSON encodes v, panicking on error (test data only).
func JSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// Sign returns header.claims.signature with header and claims given as raw
// JSON, signed by key (an *rsa.PrivateKey, *ecdsa.PrivateKey,
// ed25519.PrivateKey or []byte HMAC secret) under alg.
func Sign(alg string, key any, header, claims []byte) string {
	input := B64(header) + "." + B64(claims)
	return input + "." + B64(SignInput(alg, key, []byte(input)))
}

// Token signs claims with a header {"alg":alg,"typ":"JWT","kid":kid} (kid
// left out when empty).
func Token(alg, kid string, key any, claims map[string]any) string {
	h := map[string]any{"alg": alg, "typ": "JWT"}
	if kid != "" {
		h["kid"] = kid
	}
	return Sign(alg, key, JSON(h), JSON(claims))
}

// SignInput signs input under alg.
func SignInput(alg string, key any, input []byte) []byte {
	var h crypto.Hash
	switch alg[2:] {
	case "256":
		h = crypto.SHA256
	case "384":
		h = crypto.SHA384
	case "512":
		h = crypto.SHA512
	}
	if alg == "EdDSA" {
		return ed25519.Sign(key.(ed25519.PrivateKey), input)
	}
	switch alg[:2] {
	case "HS":
		m := hmac.New(h.New, key.([]byte))
		m.Write(input)
		return m.Sum(nil)
	case "RS":
		d := digest(h, input)
		sig, err := rsa.SignPKCS1v15(nil, key.(*rsa.PrivateKey), h, d)
		must(err)
		return sig
	case "PS":
		sig, err := rsa.SignPSS(rand.Reader, key.(*rsa.PrivateKey), h, digest(h, input), &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
		must(err)
		return sig
	case "ES":
		k := key.(*ecdsa.PrivateKey)
		r, s, err := ecdsa.Sign(rand.Reader, k, digest(h, input))
		must(err)
		size := (k.Curve.Params().BitSize + 7) / 8
		out := make([]byte, 2*size)
		r.FillBytes(out[:size])
		s.FillBytes(out[size:])
		return out
	}
	panic("jwttest: unknown algorithm " + alg)
}

func digest(h crypto.Hash, b []byte) []byte {
	m := h.New()
	m.Write(b)
	return m.Sum(nil)
}

func must(err error) {
	if err != nil {
		panic(err)
	}
}

var (
	keyMu sync.Mutex
	keys  = map[string]any{}
)

// Key returns a private key for alg, generated once per process and name
// ("" is the default key): RSA 2048, P-256/P-384/P-521, Ed25519, or a random
// HMAC secret of the hash length.
func Key(alg, name string) any {
	keyMu.Lock()
	defer keyMu.Unlock()
	id := alg[:2] + alg[2:] + "/" + name
	if alg[:2] == "RS" || alg[:2] == "PS" {
		id = "RSA/" + name
	}
	if k, ok := keys[id]; ok {
		return k
	}
	var k any
	var err error
	switch {
	case alg == "EdDSA":
		_, k, err = ed25519.GenerateKey(rand.Reader)
	case alg[:2] == "RS" || alg[:2] == "PS":
		k, err = rsa.GenerateKey(rand.Reader, 2048)
	case alg == "ES256":
		k, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case alg == "ES384":
		k, err = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	case alg == "ES512":
		k, err = ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	case alg[:2] == "HS":
		n := map[string]int{"HS256": 32, "HS384": 48, "HS512": 64}[alg]
		b := make([]byte, n)
		rand.Read(b)
		k = b
	default:
		panic("jwttest: unknown algorithm " + alg)
	}
	must(err)
	keys[id] = k
	return k
}

// Public returns the public half of a private key from Key (the secret
// itself for HMAC).
func Public(priv any) any {
	switch k := priv.(type) {
	case *rsa.PrivateKey:
		return &k.PublicKey
	case *ecdsa.PrivateKey:
		return &k.PublicKey
	case ed25519.PrivateKey:
		return k.Public()
	case []byte:
		return k
	}
	panic(fmt.Sprintf("jwttest: unknown key %T", priv))
}

// BigB64 encodes a big integer as Base64urlUInt.
func BigB64(i *big.Int) string { return B64(i.Bytes()) }
