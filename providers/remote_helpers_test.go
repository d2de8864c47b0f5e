package providers_test

import (
	"context"
	"encoding/base64"
	"net"
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

// downServer serves a handler on a fixed loopback address and can go down
// (connections refused) and come back on the same address.
type downServer struct {
	t       testing.TB
	addr    string
	URL     string
	handler http.Handler

	mu  sync.Mutex
	srv *http.Server
}

func newDownServer(t testing.TB, h http.Handler) *downServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	d := &downServer{t: t, addr: ln.Addr().String(), URL: "http://" + ln.Addr().String(), handler: h}
	d.serve(ln)
	t.Cleanup(d.down)
	return d
}

func (d *downServer) serve(ln net.Listener) {
	srv := &http.Server{Handler: d.handler}
	d.mu.Lock()
	d.srv = srv
	d.mu.Unlock()
	go srv.Serve(ln)
}

// down closes the listener and every connection.
func (d *downServer) down() {
	d.mu.Lock()
	srv := d.srv
	d.srv = nil
	d.mu.Unlock()
	if srv != nil {
		srv.Close()
	}
}

// up listens again on the same address.
func (d *downServer) up() {
	d.t.Helper()
	var ln net.Listener
	var err error
	for range 100 { // the port may linger for a moment
		if ln, err = net.Listen("tcp", d.addr); err == nil {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err != nil {
		d.t.Fatalf("listening again on %s: %v", d.addr, err)
	}
	d.serve(ln)
}

// hang makes srv's answers wait until release is closed or the request
// ends.
func hang(srv *keyServer, release <-chan struct{}) {
	srv.setHandler(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
}
