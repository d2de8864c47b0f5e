package jwttest

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"fmt"
)

// JWK returns the public JWK (RFC 7517) of a public key from Public — or of
// a private key, whose public half is used — with kid and alg set when not
// empty and "use":"sig".
func JWK(key any, kid, alg string) map[string]any {
	switch k := key.(type) {
	case *rsa.PrivateKey, *ecdsa.PrivateKey, ed25519.PrivateKey:
		key = Public(k)
	}
	var m map[string]any
	switch k := key.(type) {
	case *rsa.PublicKey:
		m = map[string]any{"kty": "RSA", "n": BigB64(k.N), "e": B64([]byte{1, 0, 1})}
		if k.E != 65537 {
			panic("jwttest: JWK supports e=65537 only")
		}
	case *ecdsa.PublicKey:
		point, err := k.Bytes() // 0x04 ‖ X ‖ Y
		if err != nil {
			panic(err)
		}
		x, y := point[1:1+len(point)/2], point[1+len(point)/2:]
		m = map[string]any{"kty": "EC", "crv": k.Curve.Params().Name, "x": B64(x), "y": B64(y)}
	case ed25519.PublicKey:
		m = map[string]any{"kty": "OKP", "crv": "Ed25519", "x": B64(k)}
	default:
		panic(fmt.Sprintf("jwttest: no JWK for %T", key))
	}
	m["use"] = "sig"
	if kid != "" {
		m["kid"] = kid
	}
	if alg != "" {
		m["alg"] = alg
	}
	return m
}

// JWKS returns the JSON of a JWK Set holding keys.
func JWKS(keys ...map[string]any) []byte {
	if keys == nil {
		keys = []map[string]any{}
	}
	return JSON(map[string]any{"keys": keys})
}
