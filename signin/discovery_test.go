package signin_test

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/providers"
	"github.com/authgate/authgate/signin"
)

// TestDiscoveryGuards: discovery goes through go-oidc over the guarded
// client; a document that breaks a rule is a failed discovery (503 at
// login, no redirect to the provider), never followed or trusted.
func TestDiscoveryGuards(t *testing.T) {
	for _, tt := range []struct {
		name    string
		serve   func(w http.ResponseWriter, r *http.Request, base string)
		wantErr error
	}{
		{name: "issuer mismatch", wantErr: providers.ErrIssuerMismatch, serve: func(w http.ResponseWriter, r *http.Request, base string) {
			writeDoc(w, base, map[string]any{"issuer": "https://other.example.test"})
		}},
		{name: "redirect not followed", serve: func(w http.ResponseWriter, r *http.Request, base string) {
			http.Redirect(w, r, "http://169.254.169.254/latest/meta-data", http.StatusFound)
		}},
		{name: "plain http token endpoint", serve: func(w http.ResponseWriter, r *http.Request, base string) {
			writeDoc(w, base, map[string]any{"token_endpoint": "http://op.example.test/token"})
		}},
		{name: "no PKCE S256", serve: func(w http.ResponseWriter, r *http.Request, base string) {
			writeDoc(w, base, map[string]any{"code_challenge_methods_supported": []string{"plain"}})
		}},
		{name: "document over the size cap", serve: func(w http.ResponseWriter, r *http.Request, base string) {
			writeDoc(w, base, map[string]any{"padding": strings.Repeat("x", providers.MaxFetchBody)})
		}},
		{name: "server error", serve: func(w http.ResponseWriter, r *http.Request, base string) {
			http.Error(w, strings.Repeat("secret-looking body ", 100), http.StatusInternalServerError)
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var srv *httptest.Server
			srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { tt.serve(w, r, srv.URL) }))
			defer srv.Close()
			var got error
			h, err := signin.New(signin.Config{Issuer: srv.URL, ClientID: clientID, RedirectURL: "http://127.0.0.1:1/callback",
				Keys: []signin.Key{signin.NewKey("k1")}, TokenOptions: providers.TokenOptions{Logger: slog.New(slog.DiscardHandler)},
				OnError: func(w http.ResponseWriter, r *http.Request, err error) {
					got = err
					w.WriteHeader(authgate.StatusCode(err))
				}})
			if err != nil {
				t.Fatal(err)
			}
			w := httptest.NewRecorder()
			h.Login(w, httptest.NewRequest("GET", "/login", nil))
			if w.Code != http.StatusServiceUnavailable || !errors.Is(got, authgate.ErrUnavailable) || w.Header().Get("Location") != "" {
				t.Fatalf("Login = %d (Location %q), error %v; want 503", w.Code, w.Header().Get("Location"), got)
			}
			if tt.wantErr != nil && !errors.Is(got, tt.wantErr) {
				t.Fatalf("error %v does not wrap %v", got, tt.wantErr)
			}
			if len(got.Error()) > 400 {
				t.Fatalf("error message of %d bytes: %.100s…", len(got.Error()), got)
			}
		})
	}
}

func writeDoc(w http.ResponseWriter, base string, over map[string]any) {
	doc := map[string]any{
		"issuer":                 base,
		"authorization_endpoint": base + "/authorize",
		"token_endpoint":         base + "/token",
		"jwks_uri":               base + "/jwks",
	}
	for k, v := range over {
		doc[k] = v
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(doc)
}

// TestDiscoveryRetry: discovery runs once when it succeeds, and after a
// failure is retried once the backoff has passed (on the handler's clock).
func TestDiscoveryRetry(t *testing.T) {
	var down atomic.Bool
	var requests atomic.Int64
	down.Store(true)
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		if down.Load() {
			http.Error(w, "down", http.StatusBadGateway)
			return
		}
		writeDoc(w, srv.URL, nil)
	}))
	defer srv.Close()
	c := newClock()
	h, err := signin.New(signin.Config{Issuer: srv.URL, ClientID: clientID, RedirectURL: "http://127.0.0.1:1/callback",
		Keys: []signin.Key{signin.NewKey("k1")}, TokenOptions: providers.TokenOptions{Now: c.Now, Logger: slog.New(slog.DiscardHandler)}})
	if err != nil {
		t.Fatal(err)
	}
	login := func() int {
		w := httptest.NewRecorder()
		h.Login(w, httptest.NewRequest("GET", "/login", nil))
		return w.Code
	}
	if code := login(); code != 503 || requests.Load() != 1 {
		t.Fatalf("Login with the provider down = %d after %d requests", code, requests.Load())
	}
	down.Store(false)
	if code := login(); code != 503 || requests.Load() != 1 {
		t.Fatalf("Login within the backoff = %d after %d requests; want 503 and no new request", code, requests.Load())
	}
	c.Add(2 * time.Second)
	if code := login(); code != http.StatusSeeOther || requests.Load() != 2 {
		t.Fatalf("Login after the backoff = %d after %d requests; want 303", code, requests.Load())
	}
	for range 3 {
		login()
	}
	if requests.Load() != 2 {
		t.Fatalf("discovery ran %d times, want it cached after success", requests.Load())
	}
}

func TestNewRefuses(t *testing.T) {
	good := func() signin.Config {
		return signin.Config{Issuer: "https://op.example.test", ClientID: "app", RedirectURL: "https://app.example.test/callback", Keys: []signin.Key{signin.NewKey("k1")}}
	}
	for _, tt := range []struct {
		name string
		mod  func(*signin.Config)
	}{
		{"zero config", func(c *signin.Config) { *c = signin.Config{} }},
		{"http issuer", func(c *signin.Config) { c.Issuer = "http://op.example.test" }},
		{"no client", func(c *signin.Config) { c.ClientID = "" }},
		{"no redirect", func(c *signin.Config) { c.RedirectURL = "" }},
		{"relative redirect", func(c *signin.Config) { c.RedirectURL = "/callback" }},
		{"http redirect off loopback", func(c *signin.Config) { c.RedirectURL = "http://app.example.test/callback" }},
		{"no keys", func(c *signin.Config) { c.Keys = nil }},
		{"short key", func(c *signin.Config) { c.Keys = []signin.Key{{ID: "k", Secret: make([]byte, 16)}} }},
		{"zero key", func(c *signin.Config) { c.Keys = []signin.Key{{ID: "k", Secret: make([]byte, 32)}} }},
		{"bad key ID", func(c *signin.Config) { c.Keys = []signin.Key{signin.NewKey("k.1")} }},
		{"duplicate key ID", func(c *signin.Config) { c.Keys = []signin.Key{signin.NewKey("k"), signin.NewKey("k")} }},
		{"HMAC algorithm", func(c *signin.Config) { c.Algorithms = []string{"HS256"} }},
		{"unknown algorithm", func(c *signin.Config) { c.Algorithms = []string{"none"} }},
		{"audience set", func(c *signin.Config) { c.Audience = []string{"x"} }},
		{"idle over absolute", func(c *signin.Config) { c.AbsoluteLifetime = time.Hour; c.IdleLifetime = 2 * time.Hour }},
		{"absolute too long", func(c *signin.Config) { c.AbsoluteLifetime = 365 * 24 * time.Hour }},
		{"leeway too long", func(c *signin.Config) { c.Leeway = time.Hour }},
		{"absolute AfterLogin", func(c *signin.Config) { c.AfterLogin = "https://evil.example.test/" }},
		{"http AfterLogout", func(c *signin.Config) { c.AfterLogout = "http://evil.example.test/" }},
		{"bad cookie name", func(c *signin.Config) { c.CookieName = "a b" }},
		{"__Host- with a domain", func(c *signin.Config) { c.CookieName = "__Host-x"; c.CookieDomain = "example.test" }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg := good()
			tt.mod(&cfg)
			h, err := signin.New(cfg)
			if err == nil || h != nil || !strings.HasPrefix(err.Error(), "signin: ") {
				t.Fatalf("New = %v, %v; want a signin: error", h, err)
			}
		})
	}
	if _, err := signin.New(good()); err != nil {
		t.Fatalf("New(good) = %v", err)
	}
}
