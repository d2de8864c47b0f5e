package keyfuncset_test

import (
	"crypto"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
)

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// rsaKey generates a 2048-bit RSA key, or fails the test.
func rsaKey(t testing.TB) *rsa.PrivateKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// rsaJWK is the public JWK of k with the given members added.
func rsaJWK(k *rsa.PrivateKey, members map[string]any) map[string]any {
	m := map[string]any{
		"kty": "RSA",
		"n":   b64(k.N.Bytes()),
		"e":   b64(big.NewInt(int64(k.E)).Bytes()),
	}
	for name, v := range members {
		m[name] = v
	}
	return m
}

// signRS256 returns a compact JWS of header and claims signed with k.
func signRS256(t testing.TB, k *rsa.PrivateKey, header, claims map[string]any) string {
	t.Helper()
	input := encode(t, header) + "." + encode(t, claims)
	sum := sha256.Sum256([]byte(input))
	sig, err := rsa.SignPKCS1v15(rand.Reader, k, crypto.SHA256, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	return input + "." + b64(sig)
}

// signHS256 returns a compact JWS of header and claims with an HMAC-SHA256
// over secret.
func signHS256(t testing.TB, secret []byte, header, claims map[string]any) string {
	t.Helper()
	input := encode(t, header) + "." + encode(t, claims)
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(input))
	return input + "." + b64(m.Sum(nil))
}

func encode(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b64(b)
}

// publicDER is the SubjectPublicKeyInfo of k: what an algorithm-confusion
// attacker uses as the "HMAC secret".
func publicDER(t testing.TB, k *rsa.PrivateKey) []byte {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// jwksServer serves a JWK Set that a test can replace, and counts the
// requests it gets.
type jwksServer struct {
	*httptest.Server
	mu       sync.Mutex
	keys     []map[string]any
	status   int
	requests atomic.Int64
}

func newJWKSServer(t testing.TB, keys ...map[string]any) *jwksServer {
	t.Helper()
	s := &jwksServer{keys: keys}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.requests.Add(1)
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.status != 0 {
			w.WriteHeader(s.status)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"keys": s.keys})
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *jwksServer) set(keys ...map[string]any) {
	s.mu.Lock()
	s.keys = keys
	s.mu.Unlock()
}

func (s *jwksServer) fail(status int) {
	s.mu.Lock()
	s.status = status
	s.mu.Unlock()
}

func (s *jwksServer) count() int { return int(s.requests.Load()) }
