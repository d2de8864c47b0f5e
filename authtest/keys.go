package authtest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"math/big"
	"sync"
	"time"

	"github.com/authgate/authgate/providers"
)

// key is one key of an issuer: an asymmetric signing key with a
// self-signed certificate (for x5c and Firebase's certificate maps), or an
// HMAC secret. published means "verifies tokens": a published secret is
// still never served in a key set.
type key struct {
	kid       string
	alg       string
	signer    crypto.Signer // nil for HMAC
	secret    []byte        // HMAC only
	certDER   []byte        // nil for HMAC
	published bool
}

// newKey generates a key for alg, with a certificate whose subject is cn.
func newKey(alg, cn string, now time.Time) (*key, error) {
	k := &key{kid: randomID(16), alg: alg, published: true}
	var err error
	switch alg {
	case "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "RSA-OAEP":
		k.signer, err = rsa.GenerateKey(rand.Reader, 2048)
	case "ES256":
		k.signer, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case "ES384":
		k.signer, err = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	case "ES512":
		k.signer, err = ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	case "EdDSA":
		_, k.signer, err = ed25519.GenerateKey(rand.Reader)
	case "HS256", "HS384", "HS512":
		k.secret = make([]byte, hashOf(alg).Size())
		_, err = rand.Read(k.secret)
		return k, err
	default:
		return nil, fmt.Errorf("authtest: unsupported algorithm %q", alg)
	}
	if err != nil {
		return nil, fmt.Errorf("authtest: generating a %s key: %w", alg, err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: cn},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(10 * 365 * 24 * time.Hour),
		BasicConstraintsValid: true,
	}
	if k.certDER, err = x509.CreateCertificate(rand.Reader, tmpl, tmpl, k.signer.Public(), k.signer); err != nil {
		return nil, fmt.Errorf("authtest: self-signing a %s certificate: %w", alg, err)
	}
	return k, nil
}

// verificationKey returns the key as authgate verifies with it.
func (k *key) verificationKey() providers.Key {
	var v providers.Key
	if k.secret != nil {
		v = providers.SecretKey(k.secret)
	} else {
		v = providers.PublicKey(k.signer.Public())
	}
	v.ID, v.Algorithm = k.kid, k.alg
	return v
}

// jwk returns the public JWK of k with "use" and, when withX5C, the
// certificate chain and its thumbprints.
func (k *key) jwk(use string, withX5C, withS256 bool) map[string]any {
	m := map[string]any{"kid": k.kid, "alg": k.alg, "use": use}
	switch p := k.signer.Public().(type) {
	case *rsa.PublicKey:
		m["kty"], m["n"], m["e"] = "RSA", b64(p.N.Bytes()), b64(big.NewInt(int64(p.E)).Bytes())
	case *ecdsa.PublicKey:
		point, err := p.Bytes() // 0x04 ‖ X ‖ Y
		if err != nil {
			panic(err)
		}
		x, y := point[1:1+len(point)/2], point[1+len(point)/2:]
		m["kty"], m["crv"], m["x"], m["y"] = "EC", p.Curve.Params().Name, b64(x), b64(y)
	case ed25519.PublicKey:
		m["kty"], m["crv"], m["x"] = "OKP", "Ed25519", b64(p)
	}
	if withX5C {
		sum1 := sha1.Sum(k.certDER)
		m["x5c"] = []string{base64.StdEncoding.EncodeToString(k.certDER)}
		m["x5t"] = b64(sum1[:])
		if withS256 {
			sum256 := sha256.Sum256(k.certDER)
			m["x5t#S256"] = b64(sum256[:])
		}
	}
	return m
}

// certPEM returns the key's certificate as PEM.
func (k *key) certPEM() string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: k.certDER}))
}

// sign signs input with k under k's algorithm.
func (k *key) sign(input []byte) []byte {
	if k.secret != nil {
		m := hmac.New(hashOf(k.alg).New, k.secret)
		m.Write(input)
		return m.Sum(nil)
	}
	var (
		sig []byte
		err error
	)
	switch s := k.signer.(type) {
	case ed25519.PrivateKey:
		return ed25519.Sign(s, input)
	case *ecdsa.PrivateKey:
		h := hashOf(k.alg)
		r, ss, err := ecdsa.Sign(rand.Reader, s, digest(h, input))
		if err != nil {
			panic("authtest: " + err.Error())
		}
		size := (s.Curve.Params().BitSize + 7) / 8
		sig = make([]byte, 2*size)
		r.FillBytes(sig[:size])
		ss.FillBytes(sig[size:])
		return sig
	case *rsa.PrivateKey:
		h := hashOf(k.alg)
		if k.alg[:2] == "PS" {
			sig, err = rsa.SignPSS(rand.Reader, s, h, digest(h, input), &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
		} else {
			sig, err = rsa.SignPKCS1v15(nil, s, h, digest(h, input))
		}
	}
	if err != nil {
		panic("authtest: " + err.Error())
	}
	return sig
}

func hashOf(alg string) crypto.Hash {
	switch alg[len(alg)-3:] {
	case "384":
		return crypto.SHA384
	case "512":
		return crypto.SHA512
	}
	return crypto.SHA256
}

func digest(h crypto.Hash, b []byte) []byte {
	switch h {
	case crypto.SHA384:
		s := sha512.Sum384(b)
		return s[:]
	case crypto.SHA512:
		s := sha512.Sum512(b)
		return s[:]
	}
	s := sha256.Sum256(b)
	return s[:]
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// randomID returns n random bytes as base64url.
func randomID(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails (crypto/rand.Read documents it)
	return b64(b)
}

// randomUUID returns a random (version 4) UUID, the shape of Keycloak's
// ids.
func randomUUID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// keyRing is the keys of one issuer: every key it ever generated (so
// tokens can still be signed with a retired key), which of them are
// published, and which one signs by default. It is safe for concurrent use.
type keyRing struct {
	cn  string
	now func() time.Time

	mu     sync.Mutex
	keys   []*key
	signer *key
}

func newKeyRing(cn string, now func() time.Time, algs []string) (*keyRing, error) {
	r := &keyRing{cn: cn, now: now}
	for _, alg := range algs {
		k, err := newKey(alg, cn, now())
		if err != nil {
			return nil, err
		}
		r.keys = append(r.keys, k)
	}
	r.signer = r.keys[0]
	return r, nil
}

// rotate generates a new key of the signing key's algorithm, publishes it
// and makes it the signing key.
func (r *keyRing) rotate() string {
	r.mu.Lock()
	alg := r.signer.alg
	r.mu.Unlock()
	k, err := newKey(alg, r.cn, r.now())
	if err != nil {
		panic(err) // key generation does not fail with crypto/rand
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.keys = append(r.keys, k)
	r.signer = k
	return k.kid
}

// retire unpublishes the key kid; it reports whether the ring has it.
func (r *keyRing) retire(kid string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, k := range r.keys {
		if k.kid == kid {
			k.published = false
			return true
		}
	}
	return false
}

// find returns the key kid, or the signing key when kid is unknown.
func (r *keyRing) find(kid string) *key {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, k := range r.keys {
		if k.kid == kid {
			return k
		}
	}
	return r.signer
}

// published returns copies of the published keys, signing key first.
func (r *keyRing) published() []key {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []key
	if r.signer.published {
		out = append(out, *r.signer)
	}
	for _, k := range r.keys {
		if k.published && k != r.signer {
			out = append(out, *k)
		}
	}
	return out
}

// verificationKeys returns the published keys (secrets included) as
// authgate verifies with them, signing key first.
func (r *keyRing) verificationKeys() []providers.Key {
	var out []providers.Key
	for _, k := range r.published() {
		out = append(out, k.verificationKey())
	}
	return out
}
