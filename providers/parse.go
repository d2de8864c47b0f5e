package providers

import (
	"bytes"
	"cmp"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"slices"
)

// Limits on key documents (SECURITY.md#limits).
const (
	maxKeyDocument = 256 << 10
	maxJWKSKeys    = 100
)

// ParseKeys parses verification keys from configuration data:
//   - PEM: "PUBLIC KEY" (SubjectPublicKeyInfo), "RSA PUBLIC KEY" (PKCS#1)
//     and "CERTIFICATE" blocks, several per file;
//   - a JWK or a JWK Set (JSON), which may also hold "oct" secrets;
//   - Keycloak's realm public_key: one line of base64 DER
//     (SubjectPublicKeyInfo) with no PEM armour.
//
// A JWK's "kid" and "alg" become the Key's ID and Algorithm. A single JWK
// that is unusable (private members, "use":"enc", "key_ops" without
// "verify", an unknown "kty" or curve, a point off its curve, RSA under 2048
// bits, the ROCA fingerprint) is an error; in a set such keys are skipped,
// and a set with no usable key is an error, as is a set with two keys of
// the same kid and kty (RFC 7517 §4.5) or one that mixes "oct" secrets with
// public keys. Private keys are refused: configure public keys only.
func ParseKeys(data []byte) ([]Key, error) {
	data = bytes.TrimSpace(data)
	switch {
	case len(data) == 0:
		return nil, errors.New("providers: no key data")
	case len(data) > maxKeyDocument:
		return nil, errors.New("providers: key data too large")
	case bytes.HasPrefix(data, []byte("-----BEGIN")):
		return parsePEM(data)
	case data[0] == '{':
		return parseJWKDocument(data, true)
	}
	der, err := base64.StdEncoding.DecodeString(string(data))
	if err != nil {
		return nil, errors.New("providers: key data is neither PEM, JWK, JWKS nor base64 DER")
	}
	pub, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, fmt.Errorf("providers: base64 DER public key: %w", err)
	}
	k, err := publicKey(pub)
	if err != nil {
		return nil, err
	}
	return []Key{k}, nil
}

// ParseJWKS parses a JWK Set published by an identity provider. Only public
// signature keys are kept: entries that are secrets ("oct"), hold private
// members, are meant for encryption, use an unsupported type, curve or
// algorithm, or are malformed are skipped and counted. The document itself
// must be an object with a "keys" array of objects, at most 100 keys.
func ParseJWKS(data []byte) (keys []Key, skipped int, err error) {
	if len(data) > maxKeyDocument {
		return nil, 0, errors.New("providers: JWKS too large")
	}
	set, err := parseObject(data)
	if err != nil {
		return nil, 0, fmt.Errorf("providers: JWKS: %w", err)
	}
	entries, ok := set["keys"].([]any)
	if !ok {
		return nil, 0, errors.New(`providers: JWKS has no "keys" array`)
	}
	if len(entries) > maxJWKSKeys {
		return nil, 0, fmt.Errorf("providers: JWKS has more than %d keys", maxJWKSKeys)
	}
	for _, e := range entries {
		obj, ok := e.(map[string]any)
		if !ok {
			return nil, 0, errors.New("providers: JWKS entry is not an object")
		}
		k, err := parseJWK(obj, false)
		if err != nil {
			skipped++
			continue
		}
		keys = append(keys, k)
	}
	return keys, skipped, nil
}

func parsePEM(data []byte) ([]Key, error) {
	var keys []Key
	for rest := data; len(bytes.TrimSpace(rest)) > 0; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			return nil, errors.New("providers: malformed PEM")
		}
		var pub any
		var err error
		switch block.Type {
		case "PUBLIC KEY":
			pub, err = x509.ParsePKIXPublicKey(block.Bytes)
		case "RSA PUBLIC KEY":
			pub, err = x509.ParsePKCS1PublicKey(block.Bytes)
		case "CERTIFICATE":
			var cert *x509.Certificate
			if cert, err = x509.ParseCertificate(block.Bytes); err == nil {
				pub = cert.PublicKey
			}
		case "PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY", "ENCRYPTED PRIVATE KEY":
			return nil, errors.New("providers: PEM holds a private key; configure the public key")
		default:
			return nil, fmt.Errorf("providers: unsupported PEM block %q", block.Type)
		}
		if err != nil {
			return nil, fmt.Errorf("providers: PEM %s: %w", block.Type, err)
		}
		k, err := publicKey(pub)
		if err != nil {
			return nil, err
		}
		keys = append(keys, k)
	}
	return keys, nil
}

func publicKey(pub any) (Key, error) {
	switch p := pub.(type) {
	case *rsa.PublicKey:
		if err := checkRSA(p); err != nil {
			return Key{}, fmt.Errorf("providers: %w", err)
		}
	case *ecdsa.PublicKey:
		if _, err := curveAlgorithm(p.Curve); err != nil {
			return Key{}, err
		}
	case ed25519.PublicKey:
	default:
		return Key{}, fmt.Errorf("providers: unsupported public key type %T", pub)
	}
	return PublicKey(pub), nil
}

func curveAlgorithm(c elliptic.Curve) (string, error) {
	switch c {
	case elliptic.P256():
		return ES256, nil
	case elliptic.P384():
		return ES384, nil
	case elliptic.P521():
		return ES512, nil
	}
	return "", errors.New("providers: unsupported elliptic curve")
}

func parseJWKDocument(data []byte, allowSecret bool) ([]Key, error) {
	obj, err := parseObject(data)
	if err != nil {
		return nil, fmt.Errorf("providers: JWK: %w", err)
	}
	if _, isSet := obj["keys"]; !isSet {
		k, err := parseJWK(obj, allowSecret)
		if err != nil {
			return nil, fmt.Errorf("providers: JWK: %w", err)
		}
		return []Key{k}, nil
	}
	entries, ok := obj["keys"].([]any)
	if !ok {
		return nil, errors.New(`providers: JWKS "keys" is not an array`)
	}
	if len(entries) > maxJWKSKeys {
		return nil, fmt.Errorf("providers: JWKS has more than %d keys", maxJWKSKeys)
	}
	var keys []Key
	var firstErr error
	ids := make(map[[2]string]bool, len(entries))
	for _, e := range entries {
		m, ok := e.(map[string]any)
		if !ok {
			return nil, errors.New("providers: JWKS entry is not an object")
		}
		// RFC 7517 §4.5: one kid may name several keys only if their kty
		// differ. Checked on every entry, usable or not, so a broken
		// duplicate does not hide the ambiguity.
		if kid, ok := m["kid"].(string); ok {
			kty, _ := m["kty"].(string)
			if ids[[2]string{kid, kty}] {
				return nil, errors.New("providers: JWKS has two keys with the same kid and kty")
			}
			ids[[2]string{kid, kty}] = true
		}
		k, err := parseJWK(m, allowSecret)
		if err != nil {
			firstErr = cmp.Or(firstErr, err)
			continue
		}
		keys = append(keys, k)
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("providers: JWKS has no usable key (%v)", firstErr)
	}
	// A set that mixes HMAC secrets with public keys is refused: keep
	// symmetric and asymmetric keys in separate verifiers (RFC 8725 §3.1,
	// SECURITY.md#keys).
	secrets := 0
	for _, k := range keys {
		if k.secret != nil {
			secrets++
		}
	}
	if secrets > 0 && secrets < len(keys) {
		return nil, errors.New("providers: JWKS mixes secret (oct) and public keys")
	}
	return keys, nil
}

var privateMembers = []string{"d", "p", "q", "dp", "dq", "qi", "oth"}

// parseJWK turns one JWK object into a Key (RFC 7517, RFC 7518 §6, RFC
// 8037), refusing anything that is not a usable signature-verification key.
func parseJWK(obj map[string]any, allowSecret bool) (Key, error) {
	kty, ok := obj["kty"].(string)
	if !ok {
		return Key{}, errors.New(`missing "kty"`)
	}
	var k Key
	if v, present := obj["kid"]; present {
		if k.ID, ok = v.(string); !ok {
			return Key{}, errors.New(`"kid" is not a string`)
		}
	}
	if v, present := obj["issuer"]; present {
		if k.Issuer, ok = v.(string); !ok || k.Issuer == "" {
			return Key{}, errors.New(`"issuer" is not a non-empty string`)
		}
	}
	if v, present := obj["alg"]; present {
		if k.Algorithm, ok = v.(string); !ok {
			return Key{}, errors.New(`"alg" is not a string`)
		}
		if !SupportedAlgorithm(k.Algorithm) {
			return Key{}, fmt.Errorf("unsupported key algorithm %q", k.Algorithm)
		}
	}
	if err := checkKeyUse(obj); err != nil {
		return Key{}, err
	}
	if kty != "oct" {
		for _, m := range privateMembers {
			if _, present := obj[m]; present {
				return Key{}, errors.New("JWK holds private key members")
			}
		}
	}
	switch kty {
	case "RSA":
		n, err := jwkInt(obj, "n")
		if err != nil {
			return Key{}, err
		}
		e, err := jwkInt(obj, "e")
		if err != nil {
			return Key{}, err
		}
		if !e.IsInt64() || e.Int64() > 1<<31-1 {
			return Key{}, errors.New("RSA public exponent out of range")
		}
		pub := &rsa.PublicKey{N: n, E: int(e.Int64())}
		if err := checkRSA(pub); err != nil {
			return Key{}, err
		}
		k.public = pub
	case "EC":
		pub, err := jwkEC(obj)
		if err != nil {
			return Key{}, err
		}
		k.public = pub
	case "OKP":
		if crv, _ := obj["crv"].(string); crv != "Ed25519" {
			return Key{}, fmt.Errorf("unsupported OKP curve %q", crv)
		}
		x, err := jwkBytes(obj, "x")
		if err != nil {
			return Key{}, err
		}
		if len(x) != ed25519.PublicKeySize {
			return Key{}, errors.New("Ed25519 key has the wrong length")
		}
		k.public = ed25519.PublicKey(x)
	case "oct":
		if !allowSecret {
			return Key{}, errors.New(`symmetric "oct" key in a public key set`)
		}
		secret, err := jwkBytes(obj, "k")
		if err != nil {
			return Key{}, err
		}
		k.secret = newHMACSecret(secret)
	default:
		return Key{}, fmt.Errorf("unsupported kty %q", kty)
	}
	if k.Algorithm != "" && !k.fits(algorithms[k.Algorithm]) {
		return Key{}, fmt.Errorf("key type does not fit its algorithm %s", k.Algorithm)
	}
	if k.Algorithm != "" {
		if err := k.check(algorithms[k.Algorithm]); err != nil {
			return Key{}, err
		}
	}
	return k, nil
}

// checkKeyUse enforces "use" and "key_ops" (RFC 7517 §4.2–4.3): a key meant
// for encryption, or whose operations do not include "verify", never
// verifies a signature.
func checkKeyUse(obj map[string]any) error {
	use, hasUse := obj["use"]
	if hasUse && use != "sig" {
		return errors.New(`key "use" is not "sig"`)
	}
	ops, hasOps := obj["key_ops"]
	if !hasOps {
		return nil
	}
	list, ok := ops.([]any)
	if !ok || !slices.Contains(list, any("verify")) {
		return errors.New(`key "key_ops" does not include "verify"`)
	}
	return nil
}

func jwkBytes(obj map[string]any, name string) ([]byte, error) {
	s, ok := obj[name].(string)
	if !ok || s == "" {
		return nil, fmt.Errorf("JWK member %q missing or not a string", name)
	}
	if len(s) > 16<<10 {
		return nil, fmt.Errorf("JWK member %q too large", name)
	}
	b, err := strictBase64.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("JWK member %q is not base64url", name)
	}
	return b, nil
}

// jwkInt decodes a Base64urlUInt (RFC 7518 §2), which must use the minimum
// number of octets.
func jwkInt(obj map[string]any, name string) (*big.Int, error) {
	b, err := jwkBytes(obj, name)
	if err != nil {
		return nil, err
	}
	if len(b) > 1 && b[0] == 0 {
		return nil, fmt.Errorf("JWK member %q has leading zero octets", name)
	}
	return new(big.Int).SetBytes(b), nil
}

func jwkEC(obj map[string]any) (*ecdsa.PublicKey, error) {
	var curve elliptic.Curve
	switch crv, _ := obj["crv"].(string); crv {
	case "P-256":
		curve = elliptic.P256()
	case "P-384":
		curve = elliptic.P384()
	case "P-521":
		curve = elliptic.P521()
	default:
		return nil, fmt.Errorf("unsupported EC curve %q", crv)
	}
	size := (curve.Params().BitSize + 7) / 8
	x, err := jwkBytes(obj, "x")
	if err != nil {
		return nil, err
	}
	y, err := jwkBytes(obj, "y")
	if err != nil {
		return nil, err
	}
	if len(x) != size || len(y) != size {
		return nil, errors.New("EC coordinates have the wrong length")
	}
	point := make([]byte, 0, 1+2*size)
	point = append(append(append(point, 4), x...), y...)
	pub, err := ecdsa.ParseUncompressedPublicKey(curve, point)
	if err != nil {
		return nil, errors.New("EC point is not on the curve")
	}
	return pub, nil
}
