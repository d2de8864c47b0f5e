package firebase_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"log/slog"
	"maps"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authgate/authgate/firebase"
	"github.com/authgate/authgate/internal/jwttest"
	"github.com/authgate/authgate/providers"
)

const (
	project   = "demo-authgate"
	otherProj = "other-project"
	uid       = "uid-alice"
)

// t0 is the fake clock's start.
var t0 = time.Unix(1_800_000_000, 0)

// clock is an injectable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: t0} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// rsaKey returns a process-wide RSA key by name.
func rsaKey(name string) *rsa.PrivateKey { return jwttest.Key("RS256", name).(*rsa.PrivateKey) }

// certPEM wraps key's public half in a self-signed X.509 certificate, as
// Google publishes them.
func certPEM(t testing.TB, key *rsa.PrivateKey) string {
	t.Helper()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "securetoken.system.gserviceaccount.com"},
		NotBefore:    t0.Add(-24 * time.Hour),
		NotAfter:     t0.Add(14 * 24 * time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

// certServer stands in for Google's certificate endpoint: a TLS server
// publishing {kid: PEM certificate} with Cache-Control max-age.
type certServer struct {
	srv    *httptest.Server
	hits   atomic.Int64
	mu     sync.Mutex
	certs  map[string]string
	maxAge int
	down   bool
}

func newCertServer(t testing.TB, keys map[string]*rsa.PrivateKey) *certServer {
	t.Helper()
	s := &certServer{certs: map[string]string{}, maxAge: 3600}
	for kid, k := range keys {
		s.certs[kid] = certPEM(t, k)
	}
	s.srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hits.Add(1)
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.down {
			http.Error(w, "backend error", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json; charset=UTF-8")
		w.Header().Set("Cache-Control", "public, max-age="+strconv.Itoa(s.maxAge)+", must-revalidate, no-transform")
		_ = json.NewEncoder(w).Encode(s.certs)
	}))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *certServer) setDown(down bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.down = down
}

func (s *certServer) setKeys(t testing.TB, keys map[string]*rsa.PrivateKey) {
	certs := map[string]string{}
	for kid, k := range keys {
		certs[kid] = certPEM(t, k)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.certs = certs
}

// env is an authenticator with its cert servers and clock.
type env struct {
	auth    *firebase.Authenticator
	clock   *clock
	id      *certServer // ID-token certificates: kid "id-1" → rsaKey("id-1")
	session *certServer // session-cookie certificates: kid "ses-1" → rsaKey("ses-1")
}

// newEnv builds an authenticator against local cert servers; edit adjusts
// the configuration.
func newEnv(t testing.TB, edit func(*firebase.Config)) *env {
	t.Helper()
	e := &env{
		clock:   newClock(),
		id:      newCertServer(t, map[string]*rsa.PrivateKey{"id-1": rsaKey("id-1"), "id-2": rsaKey("id-2")}),
		session: newCertServer(t, map[string]*rsa.PrivateKey{"ses-1": rsaKey("ses-1")}),
	}
	cfg := firebase.Config{
		ProjectID: project,
		CertsURL:  e.id.srv.URL + "/robot/v1/metadata/x509/securetoken@system.gserviceaccount.com",
		TokenOptions: providers.TokenOptions{
			Logger: slog.New(slog.DiscardHandler),
			Now:    e.clock.Now,
		},
		FetchOptions: providers.FetchOptions{
			HTTPClient: e.id.srv.Client(),
		},
	}
	if edit != nil {
		edit(&cfg)
	}
	if cfg.SessionCookies && cfg.SessionCertsURL == "" && !cfg.InsecureEmulator {
		cfg.SessionCertsURL = e.session.srv.URL + "/identitytoolkit/v3/relyingparty/publicKeys"
	}
	a, err := firebase.New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	e.auth = a
	return e
}

// claims returns a valid ID token's claims at the clock's time, edited by
// the edits.
func claims(now time.Time, edits ...func(map[string]any)) map[string]any {
	c := map[string]any{
		"iss":            firebase.IDTokenIssuer(project),
		"aud":            project,
		"sub":            uid,
		"user_id":        uid,
		"iat":            now.Add(-time.Minute).Unix(),
		"auth_time":      now.Add(-2 * time.Minute).Unix(),
		"exp":            now.Add(59 * time.Minute).Unix(),
		"email":          "alice@example.com",
		"email_verified": true,
		"name":           "Alice",
		"roles":          []any{"editor", "auditor"},
		"plan":           "pro",
		"firebase": map[string]any{
			"sign_in_provider": "password",
			"identities":       map[string]any{"email": []any{"alice@example.com"}},
		},
	}
	for _, e := range edits {
		e(c)
	}
	return c
}

// set returns an edit setting claim name to v (nil deletes it).
func set(name string, v any) func(map[string]any) {
	return func(c map[string]any) {
		if v == nil {
			delete(c, name)
			return
		}
		c[name] = v
	}
}

// sessionClaims are a session cookie's claims.
func sessionClaims(now time.Time, edits ...func(map[string]any)) map[string]any {
	c := claims(now, set("iss", firebase.SessionCookieIssuer(project)), set("exp", now.Add(7*24*time.Hour).Unix()))
	for _, e := range edits {
		e(c)
	}
	return c
}

// idToken signs claims as Google does for ID tokens (RS256, kid "id-1").
func idToken(c map[string]any) string {
	return jwttest.Token("RS256", "id-1", rsaKey("id-1"), c)
}

// sessionCookie signs claims as Google does for session cookies.
func sessionCookie(c map[string]any) string {
	return jwttest.Token("RS256", "ses-1", rsaKey("ses-1"), c)
}

// unsigned builds an emulator-style token: {"alg":"none","typ":"JWT"} and
// an empty signature.
func unsigned(c map[string]any) string {
	return jwttest.B64([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + jwttest.B64(jwttest.JSON(c)) + "."
}

// fakeUsers is a UserLookup with a call counter; block, when set, holds
// every call until it is closed.
type fakeUsers struct {
	mu    sync.Mutex
	users map[string]*firebase.User
	err   error
	calls atomic.Int64
	block chan struct{}
}

func (f *fakeUsers) LookupUser(ctx context.Context, id string) (*firebase.User, error) {
	f.calls.Add(1)
	if f.block != nil {
		select {
		case <-f.block:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return nil, f.err
	}
	u, ok := f.users[id]
	if !ok {
		return nil, firebase.ErrUserNotFound
	}
	cp := *u
	return &cp, nil
}

func (f *fakeUsers) set(id string, edit func(*firebase.User)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	u, ok := f.users[id]
	if !ok {
		u = &firebase.User{}
		f.users[id] = u
	}
	edit(u)
}

func newFakeUsers(ids ...string) *fakeUsers {
	f := &fakeUsers{users: map[string]*firebase.User{}}
	for _, id := range ids {
		f.users[id] = &firebase.User{}
	}
	return f
}

var errBackend = errors.New("identitytoolkit: 503 backend unavailable")

// clone copies a claims map one level deep.
func clone(c map[string]any) map[string]any { return maps.Clone(c) }
