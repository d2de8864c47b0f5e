package providers_test

import (
	"context"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authgate/authgate/internal/jwttest"
	"github.com/authgate/authgate/providers"
)

const (
	remoteIssuer   = "https://issuer.remote.test/"
	remoteAudience = "api"
)

// fakeClock is an injected clock tests move by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *fakeClock { return &fakeClock{t: time.Unix(1_800_000_000, 0)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// keyServer is an httptest key server whose answer tests change, counting
// the requests it gets.
type keyServer struct {
	*httptest.Server
	hits atomic.Int64

	mu           sync.Mutex
	body         []byte
	cacheControl string
	handler      http.HandlerFunc // replaces the normal answer when set
	lastHeader   http.Header
}

func newKeyServer(t testing.TB, body []byte) *keyServer {
	t.Helper()
	s := &keyServer{body: body}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hits.Add(1)
		s.mu.Lock()
		s.lastHeader = r.Header.Clone()
		body, cc, h := s.body, s.cacheControl, s.handler
		s.mu.Unlock()
		if h != nil {
			h(w, r)
			return
		}
		if cc != "" {
			w.Header().Set("Cache-Control", cc)
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *keyServer) set(body []byte, cacheControl string) {
	s.mu.Lock()
	s.body, s.cacheControl, s.handler = body, cacheControl, nil
	s.mu.Unlock()
}

func (s *keyServer) setHandler(h http.HandlerFunc) {
	s.mu.Lock()
	s.handler = h
	s.mu.Unlock()
}

func (s *keyServer) header() http.Header {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastHeader
}

// remote returns a verifier over a RemoteKeySet reading srv, allowing RS256
// and ES256, with the clock clk.
func newRemote(t testing.TB, url string, clk *fakeClock, edit func(*providers.RemoteKeySetConfig)) (*providers.Verifier, *providers.RemoteKeySet) {
	t.Helper()
	cfg := providers.RemoteKeySetConfig{
		Name:         "remote",
		URL:          url,
		Algorithms:   []string{providers.RS256, providers.ES256},
		Cooldown:     30 * time.Second,
		FetchTimeout: 2 * time.Second,
		Now:          clk.Now,
	}
	if edit != nil {
		edit(&cfg)
	}
	ks, err := providers.NewRemoteKeySet(cfg)
	if err != nil {
		t.Fatalf("NewRemoteKeySet: %v", err)
	}
	v, err := providers.NewVerifier(providers.VerifierConfig{
		Name:       "remote",
		Issuer:     remoteIssuer,
		Audience:   []string{remoteAudience},
		Algorithms: cfg.Algorithms,
		Keys:       ks,
		Now:        clk.Now,
	})
	if err != nil {
		t.Fatalf("NewVerifier: %v", err)
	}
	return v, ks
}

// token mints an RS256 (or ES256) token of remoteIssuer valid at clk.
func token(clk *fakeClock, alg, kid, keyName string, edit func(map[string]any)) string {
	now := clk.Now()
	c := map[string]any{
		"iss": remoteIssuer, "aud": remoteAudience, "sub": "alice",
		"iat": now.Add(-time.Second).Unix(), "exp": now.Add(time.Hour).Unix(),
	}
	if edit != nil {
		edit(c)
	}
	return jwttest.Token(alg, kid, jwttest.Key(alg, keyName), c)
}

// set returns a JWKS with the RS256 keys named by kid (the key of jwttest
// name kid).
func set(kids ...string) []byte {
	var keys []map[string]any
	for _, kid := range kids {
		keys = append(keys, jwttest.JWK(jwttest.Key("RS256", kid), kid, "RS256"))
	}
	return jwttest.JWKS(keys...)
}

// eventually polls cond until it holds or 5 s pass: for effects of a
// background fetch, which the caller cannot join.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// checkNoLeak fails when goroutines started after base are still running
// once idle connections are closed.
func checkNoLeak(t *testing.T, base int) {
	t.Helper()
	http.DefaultTransport.(*http.Transport).CloseIdleConnections()
	deadline := time.Now().Add(5 * time.Second)
	for {
		n := runtime.NumGoroutine()
		if n <= base {
			return
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("goroutines: %d, want ≤ %d (leak)\n%s", n, base, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(5 * time.Millisecond)
		http.DefaultTransport.(*http.Transport).CloseIdleConnections()
	}
}

func verify(v *providers.Verifier, tok string) error {
	_, err := v.Verify(context.Background(), tok)
	return err
}

func base64RawURL(s string) ([]byte, error) { return base64.RawURLEncoding.DecodeString(s) }
