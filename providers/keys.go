package providers

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rsa"
	"errors"
	"fmt"
	"hash"
	"slices"
	"sync"
)

// MinRSABits is the smallest RSA modulus authgate accepts (RFC 7518 §3.3).
const MinRSABits = 2048

// Key is one verification key: a public key (RSA, ECDSA P-256/P-384/P-521,
// Ed25519) or an HMAC secret, with its key ID and the one algorithm it may
// verify (RFC 8725 §3.1).
//
// A Key is a value; copies share the key material, which is never modified.
// The zero Key verifies nothing.
type Key struct {
	// ID is the key ID ("kid") tokens name to select this key; may be empty.
	ID string
	// Algorithm is the one JWS algorithm this key verifies. When empty,
	// BindKeys sets it from the allowed algorithms.
	Algorithm string
	// Issuer, when set, is the only issuer whose tokens this key verifies
	// (the "issuer" member Entra ID puts on its JWKS entries). The tenant
	// placeholder "{tenantid}" in it stands for the token's verified "tid".
	// Empty: any issuer of the verifier.
	Issuer string

	public crypto.PublicKey // *rsa.PublicKey, *ecdsa.PublicKey or ed25519.PublicKey
	secret *hmacSecret
}

type hmacSecret struct {
	key []byte
	// pools hold keyed hash.Hash states for SHA-256, SHA-384 and SHA-512
	// (hmacHashes order), so a check costs no key schedule.
	pools [3]sync.Pool
}

// hmacHashes are the hashes of HS256, HS384 and HS512, in pools order.
var hmacHashes = [3]crypto.Hash{crypto.SHA256, crypto.SHA384, crypto.SHA512}

func newHMACSecret(key []byte) *hmacSecret {
	s := &hmacSecret{key: key}
	for i, h := range hmacHashes {
		s.pools[i].New = func() any { return hmac.New(h.New, s.key) }
	}
	return s
}

func (s *hmacSecret) sum(h crypto.Hash, input []byte, out []byte) []byte {
	var p *sync.Pool
	switch h {
	case crypto.SHA256:
		p = &s.pools[0]
	case crypto.SHA384:
		p = &s.pools[1]
	case crypto.SHA512:
		p = &s.pools[2]
	default:
		m := hmac.New(h.New, s.key)
		m.Write(input)
		return m.Sum(out)
	}
	m := p.Get().(hash.Hash)
	m.Reset()
	m.Write(input)
	out = m.Sum(out)
	p.Put(m)
	return out
}

// SecretKey returns an HMAC key (HS256, HS384 or HS512) holding a copy of
// secret. Its length is checked against the algorithm it is bound to (at
// least 32, 48 or 64 bytes, RFC 7518 §3.2) by BindKeys.
func SecretKey(secret []byte) Key {
	return Key{secret: newHMACSecret(slices.Clone(secret))}
}

// PublicKey returns a Key for an *rsa.PublicKey, *ecdsa.PublicKey or
// ed25519.PublicKey (a pointer to ed25519.PublicKey is accepted too). Other
// types yield a Key that BindKeys refuses.
func PublicKey(pub crypto.PublicKey) Key {
	if p, ok := pub.(*ed25519.PublicKey); ok && p != nil {
		pub = *p
	}
	return Key{public: pub}
}

// Public returns the key's public key, or nil for an HMAC key.
func (k Key) Public() crypto.PublicKey { return k.public }

// IsSecret reports whether k is an HMAC secret.
func (k Key) IsSecret() bool { return k.secret != nil }

// Kind describes the key type for messages: "RSA-2048", "EC P-256",
// "Ed25519", "HMAC" or "unsupported".
func (k Key) Kind() string {
	switch p := k.public.(type) {
	case *rsa.PublicKey:
		return fmt.Sprintf("RSA-%d", p.N.BitLen())
	case *ecdsa.PublicKey:
		return "EC " + p.Curve.Params().Name
	case ed25519.PublicKey:
		return "Ed25519"
	}
	if k.secret != nil {
		return "HMAC"
	}
	return "unsupported"
}

// fits reports whether alg can be used with the key's type.
func (k Key) fits(alg *algorithm) bool {
	switch p := k.public.(type) {
	case *rsa.PublicKey:
		return alg.family == familyRSA || alg.family == familyRSAPSS
	case *ecdsa.PublicKey:
		return alg.family == familyEC && (p.Curve.Params().BitSize+7)/8 == alg.size
	case ed25519.PublicKey:
		return alg.family == familyEdDSA && len(p) == ed25519.PublicKeySize
	}
	return k.secret != nil && alg.family == familyHMAC
}

// check validates the key material for use with alg.
func (k Key) check(alg *algorithm) error {
	switch p := k.public.(type) {
	case *rsa.PublicKey:
		return checkRSA(p)
	case *ecdsa.PublicKey:
		if p.Curve != elliptic.P256() && p.Curve != elliptic.P384() && p.Curve != elliptic.P521() {
			return errors.New("unsupported curve")
		}
	}
	if k.secret != nil && len(k.secret.key) < alg.size {
		return fmt.Errorf("%s secret of %d bytes is shorter than the %d bytes RFC 7518 §3.2 requires", alg.name, len(k.secret.key), alg.size)
	}
	return nil
}

func checkRSA(p *rsa.PublicKey) error {
	if p.N == nil || p.N.BitLen() < MinRSABits {
		return fmt.Errorf("RSA key smaller than %d bits", MinRSABits)
	}
	if p.E < 3 || p.E%2 == 0 {
		return errors.New("RSA public exponent must be odd and at least 3")
	}
	if rocaFingerprint(p.N) {
		return errors.New("RSA key has the ROCA fingerprint (CVE-2017-15361): its factors can be recovered")
	}
	return nil
}

// BindKeys binds every key to exactly one of the allowed algorithms (RFC
// 8725 §3.1) and validates it, returning the bound copies. A key whose
// Algorithm is set must name an allowed algorithm that fits its type; a key
// without one takes the single allowed algorithm of its family, and more
// than one (say RS256 and PS256 for an RSA key, or HS256 and HS512 for a
// secret) is an error: set Key.Algorithm. Weak keys are refused: RSA under
// 2048 bits or with a bad exponent, HMAC secrets shorter than the hash.
func BindKeys(keys []Key, allowed []string) ([]Key, error) {
	if len(allowed) == 0 {
		return nil, errors.New("providers: no algorithms allowed")
	}
	for _, a := range allowed {
		if !SupportedAlgorithm(a) {
			return nil, fmt.Errorf("providers: unsupported algorithm %q", a)
		}
	}
	if len(keys) == 0 {
		return nil, errors.New("providers: no keys")
	}
	out := make([]Key, 0, len(keys))
	for i, k := range keys {
		b, err := bindKey(k, allowed)
		if err != nil {
			return nil, fmt.Errorf("providers: key %d (kid %q, %s): %w", i, k.ID, k.Kind(), err)
		}
		out = append(out, b)
	}
	return out, nil
}

func bindKey(k Key, allowed []string) (Key, error) {
	if k.public == nil && k.secret == nil {
		return Key{}, errors.New("unsupported key type")
	}
	if k.Algorithm != "" {
		alg, ok := algorithms[k.Algorithm]
		switch {
		case !ok:
			return Key{}, fmt.Errorf("unsupported algorithm %q", k.Algorithm)
		case !slices.Contains(allowed, k.Algorithm):
			return Key{}, fmt.Errorf("bound to %s, which is not an allowed algorithm", k.Algorithm)
		case !k.fits(alg):
			return Key{}, fmt.Errorf("cannot be used with %s", k.Algorithm)
		}
		return k, k.check(alg)
	}
	var fit []string
	for _, a := range allowed {
		if k.fits(algorithms[a]) {
			fit = append(fit, a)
		}
	}
	switch len(fit) {
	case 0:
		return Key{}, fmt.Errorf("fits none of the allowed algorithms %v", allowed)
	case 1:
		k.Algorithm = fit[0]
		return k, k.check(algorithms[fit[0]])
	}
	return Key{}, fmt.Errorf("fits several allowed algorithms %v: set Key.Algorithm to bind it to one", fit)
}
