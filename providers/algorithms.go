package providers

import (
	"crypto"
	_ "crypto/sha256" // hash implementations for the algorithms below
	_ "crypto/sha512"
	"slices"
)

// The JWS algorithms authgate verifies (RFC 7518, RFC 8037). "none" is not
// among them, and never will be.
const (
	RS256 = "RS256"
	RS384 = "RS384"
	RS512 = "RS512"
	PS256 = "PS256"
	PS384 = "PS384"
	PS512 = "PS512"
	ES256 = "ES256"
	ES384 = "ES384"
	ES512 = "ES512"
	HS256 = "HS256"
	HS384 = "HS384"
	HS512 = "HS512"
	EdDSA = "EdDSA"
)

type family int

const (
	familyRSA family = iota + 1
	familyRSAPSS
	familyEC
	familyHMAC
	familyEdDSA
)

type algorithm struct {
	name   string
	family family
	hash   crypto.Hash
	// size is the byte length of an ECDSA coordinate (ES*) or the minimum
	// HMAC secret length (HS*, RFC 7518 §3.2).
	size int
}

var algorithms = map[string]*algorithm{
	RS256: {RS256, familyRSA, crypto.SHA256, 0},
	RS384: {RS384, familyRSA, crypto.SHA384, 0},
	RS512: {RS512, familyRSA, crypto.SHA512, 0},
	PS256: {PS256, familyRSAPSS, crypto.SHA256, 0},
	PS384: {PS384, familyRSAPSS, crypto.SHA384, 0},
	PS512: {PS512, familyRSAPSS, crypto.SHA512, 0},
	ES256: {ES256, familyEC, crypto.SHA256, 32},
	ES384: {ES384, familyEC, crypto.SHA384, 48},
	ES512: {ES512, familyEC, crypto.SHA512, 66},
	HS256: {HS256, familyHMAC, crypto.SHA256, 32},
	HS384: {HS384, familyHMAC, crypto.SHA384, 48},
	HS512: {HS512, familyHMAC, crypto.SHA512, 64},
	EdDSA: {EdDSA, familyEdDSA, 0, 0},
}

// Algorithms returns every algorithm authgate can verify, in a fixed order.
func Algorithms() []string {
	return []string{RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512, HS256, HS384, HS512, EdDSA}
}

// SupportedAlgorithm reports whether alg is one authgate verifies.
func SupportedAlgorithm(alg string) bool {
	_, ok := algorithms[alg]
	return ok
}

// AsymmetricAlgorithms returns the algorithms of algs that use public keys
// (everything but HS*).
func AsymmetricAlgorithms(algs []string) []string {
	return slices.DeleteFunc(slices.Clone(algs), func(a string) bool {
		al, ok := algorithms[a]
		return !ok || al.family == familyHMAC
	})
}
