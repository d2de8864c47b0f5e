package authtest

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
)

// server is the httptest server under every fake of this package: it
// counts requests per endpoint and simulates outages. Its exported methods
// are promoted to Issuer, KeycloakRealm and FirebaseProject.
type server struct {
	srv *httptest.Server
	tls bool

	mu     sync.Mutex
	status int  // non-zero: answer every request with it
	drop   bool // close every connection without an answer

	counts sync.Map // endpoint name → *atomic.Int64
}

// init creates the server (TLS when tls is set) serving mux without
// starting it, and returns the URL it will have, so handlers can be
// configured with it before any request can arrive.
func (s *server) init(mux *http.ServeMux, tls bool) string {
	s.tls = tls
	s.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		status, drop := s.status, s.drop
		s.mu.Unlock()
		if drop {
			if hj, ok := w.(http.Hijacker); ok {
				if conn, _, err := hj.Hijack(); err == nil {
					conn.Close()
					return
				}
			}
			panic(http.ErrAbortHandler) // closes the connection too
		}
		if status != 0 {
			if _, pattern := mux.Handler(r); pattern != "" {
				s.counter(pattern).Add(1) // a failed fetch is a fetch
			}
			http.Error(w, http.StatusText(status), status)
			return
		}
		mux.ServeHTTP(w, r)
	}))
	if tls {
		return "https://" + s.srv.Listener.Addr().String()
	}
	return "http://" + s.srv.Listener.Addr().String()
}

// begin starts the server and, when t is not nil, closes it with
// t.Cleanup.
func (s *server) begin(t testing.TB) {
	if s.tls {
		s.srv.StartTLS()
	} else {
		s.srv.Start()
	}
	if t != nil {
		t.Cleanup(s.srv.Close)
	}
}

func (s *server) counter(name string) *atomic.Int64 {
	c, _ := s.counts.LoadOrStore(name, new(atomic.Int64))
	return c.(*atomic.Int64)
}

// requests returns how many requests the route pattern got.
func (s *server) requests(pattern string) int {
	return int(s.counter(pattern).Load())
}

// handle registers h under pattern on mux, counting its requests under
// the pattern.
func (s *server) handle(mux *http.ServeMux, pattern string, h http.HandlerFunc) {
	mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		s.counter(pattern).Add(1)
		h(w, r)
	})
}

// URL returns the server's base URL, "http://127.0.0.1:PORT" (https for
// TLS servers).
func (s *server) URL() string { return s.srv.URL }

// Client returns an *http.Client that trusts the server's TLS certificate
// (for TLS servers: Auth0 and Firebase shapes). Pass it as the provider's
// HTTPClient; for plain http servers any client works.
func (s *server) Client() *http.Client { return s.srv.Client() }

// Fail makes every endpoint answer every request with status (503 for a
// typical outage, 500, 429, …) and an empty text body, until Recover.
// These requests are counted. A status of 0 is the same as Recover.
func (s *server) Fail(status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.status, s.drop = status, false
}

// Drop simulates an outage at the connection level until Recover: every
// connection is closed without an answer, so clients see a transport
// error instead of a status. These requests are not counted.
func (s *server) Drop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.status, s.drop = 0, true
}

// Recover ends an outage started by Fail or Drop.
func (s *server) Recover() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.status, s.drop = 0, false
}

// Close shuts the server down. Servers made with a non-nil testing.TB are
// closed by t.Cleanup; call Close for one made with a nil t (Example
// functions, TestMain). After Close, connections are refused.
func (s *server) Close() { s.srv.Close() }

// writeJSON writes v as a JSON response with the given Cache-Control
// (none when empty).
func writeJSON(w http.ResponseWriter, v any, cacheControl string) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "authtest: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	if cacheControl != "" {
		w.Header().Set("Cache-Control", cacheControl)
	}
	w.Write(b)
}
