package oidc_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/internal/jwttest"
	"github.com/authgate/authgate/oidc"
	"github.com/authgate/authgate/providers"
)

// issuerServer is an OpenID provider stand-in: discovery and a JWKS whose
// keys tests change, with request counters.
type issuerServer struct {
	*httptest.Server
	discoveries, keyFetches atomic.Int64
	down                    atomic.Bool
	mu                      sync.Mutex
	jwks                    []byte
}

func newIssuer(t *testing.T, kids ...string) *issuerServer {
	t.Helper()
	s := &issuerServer{}
	s.setKeys(kids...)
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.down.Load() {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		switch r.URL.Path {
		case "/.well-known/openid-configuration":
			s.discoveries.Add(1)
			w.Write(jwttest.JSON(map[string]any{
				"issuer": s.URL, "jwks_uri": s.URL + "/jwks",
				"id_token_signing_alg_values_supported": []string{"none", "HS256", "RS256"},
			}))
		case "/jwks":
			s.keyFetches.Add(1)
			s.mu.Lock()
			w.Write(s.jwks)
			s.mu.Unlock()
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *issuerServer) setKeys(kids ...string) {
	var keys []map[string]any
	for _, kid := range kids {
		alg, _, _ := strings.Cut(kid, "-")
		keys = append(keys, jwttest.JWK(jwttest.Key(alg, kid), kid, alg))
	}
	s.mu.Lock()
	s.jwks = jwttest.JWKS(keys...)
	s.mu.Unlock()
}

var now = time.Unix(1_800_000_000, 0)

// mint signs a token of iss with the key named kid ("RS256-a": alg RS256).
func mint(iss, kid string, edit func(map[string]any)) string {
	alg, _, _ := strings.Cut(kid, "-")
	c := map[string]any{"iss": iss, "aud": "https://api.example", "sub": "svc", "exp": now.Add(5 * time.Minute).Unix(),
		"iat": now.Unix(), "scope": "read write", "roles": []string{"reader"}, "tenant": "acme"}
	if edit != nil {
		edit(c)
	}
	return jwttest.Token(alg, kid, jwttest.Key(alg, kid), c)
}

func newAuth(t *testing.T, iss string, edit func(*oidc.Config)) *oidc.Authenticator {
	t.Helper()
	cfg := oidc.Config{Issuer: iss, TokenOptions: providers.TokenOptions{Audience: []string{"https://api.example"}, Algorithms: []string{"RS256", "ES256"}, Now: func() time.Time { return now }}}
	if edit != nil {
		edit(&cfg)
	}
	a, err := oidc.New(cfg)
	if err != nil {
		t.Fatalf("oidc.New: %v", err)
	}
	return a
}

func TestNew(t *testing.T) {
	tests := []struct {
		name string
		cfg  oidc.Config
	}{
		{"no issuer", oidc.Config{TokenOptions: providers.TokenOptions{Audience: []string{"a"}}}},
		{"http issuer", oidc.Config{Issuer: "http://idp.example", TokenOptions: providers.TokenOptions{Audience: []string{"a"}}}},
		{"no audience", oidc.Config{Issuer: "https://idp.example"}},
		{"HS256", oidc.Config{Issuer: "https://idp.example", TokenOptions: providers.TokenOptions{Audience: []string{"a"}, Algorithms: []string{"HS256"}}}},
		{"none", oidc.Config{Issuer: "https://idp.example", TokenOptions: providers.TokenOptions{Audience: []string{"a"}, Algorithms: []string{"none"}}}},
		{"http JWKS", oidc.Config{Issuer: "https://idp.example", JWKSURL: "http://idp.example/jwks", TokenOptions: providers.TokenOptions{Audience: []string{"a"}}}},
		{"leeway", oidc.Config{Issuer: "https://idp.example", TokenOptions: providers.TokenOptions{Audience: []string{"a"}, Leeway: time.Hour}}},
		{"claims", oidc.Config{Issuer: "https://idp.example", TokenOptions: providers.TokenOptions{Audience: []string{"a"}, Claims: providers.Claims{"x": {}}}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, err := oidc.New(tc.cfg)
			if err == nil || a != nil {
				t.Fatalf("oidc.New(%s) = %v, %v; want an error", tc.name, a, err)
			}
			if !strings.HasPrefix(err.Error(), "oidc: ") {
				t.Errorf("error %q does not start with %q", err, "oidc: ")
			}
		})
	}
	if _, err := oidc.New(oidc.Config{Issuer: "https://idp.example", TokenOptions: providers.TokenOptions{Name: "corp"}}); err == nil || !strings.HasPrefix(err.Error(), "oidc: corp: ") {
		t.Errorf("oidc.New with a custom name = %v, want an error starting with %q", err, "oidc: corp: ")
	}
}

func TestAuthenticate(t *testing.T) {
	srv := newIssuer(t, "RS256-a", "ES256-b")
	a := newAuth(t, srv.URL, func(c *oidc.Config) { c.RolesClaim = "roles" })
	if n := srv.discoveries.Load() + srv.keyFetches.Load(); n != 0 {
		t.Fatalf("New made %d requests", n)
	}
	for _, kid := range []string{"RS256-a", "ES256-b"} {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Authorization", "Bearer "+mint(srv.URL, kid, nil))
		p, err := a.Authenticate(r)
		if err != nil {
			t.Fatalf("Authenticate(%s) = %v", kid, err)
		}
		if p.Provider != "oidc" || p.Subject != "svc" || p.Issuer != srv.URL || p.Tenant != "acme" ||
			!slices.Equal(p.Roles, []string{"reader"}) || !slices.Equal(p.Scopes, []string{"read", "write"}) {
			t.Fatalf("principal = %+v", p)
		}
	}
	if d, k := srv.discoveries.Load(), srv.keyFetches.Load(); d != 1 || k != 1 {
		t.Fatalf("discoveries, key fetches = %d, %d; want 1, 1", d, k)
	}
	if got := a.Describe(); got.Name != "oidc" || got.Scheme != "Bearer" || !slices.Equal(got.Issuers, []string{srv.URL}) {
		t.Fatalf("Describe() = %+v", got)
	}
}

func TestVerifyRejections(t *testing.T) {
	srv := newIssuer(t, "RS256-a")
	a := newAuth(t, srv.URL, func(c *oidc.Config) { c.TokenTypes = []string{"JWT"} })
	if err := a.Prefetch(t.Context()); err != nil {
		t.Fatalf("Prefetch = %v", err)
	}
	tests := []struct {
		name    string
		token   string
		wantErr error
	}{
		{"expired", mint(srv.URL, "RS256-a", func(c map[string]any) {
			c["exp"] = now.Add(-time.Hour).Unix()
			c["iat"] = now.Add(-2 * time.Hour).Unix()
		}), authgate.ErrTokenExpired},
		{"audience", mint(srv.URL, "RS256-a", func(c map[string]any) { c["aud"] = "other" }), authgate.ErrInvalidAudience},
		{"issuer with slash", mint(srv.URL+"/", "RS256-a", nil), authgate.ErrUnrecognizedCredential},
		{"unknown kid", mint(srv.URL, "RS256-z", nil), authgate.ErrInvalidSignature},
		{"HS256 with the RSA key as secret", jwttest.Token("HS256", "RS256-a", []byte(strings.Repeat("k", 32)), map[string]any{"iss": srv.URL, "aud": "https://api.example", "sub": "x", "exp": now.Add(time.Minute).Unix()}), authgate.ErrUnsupportedAlgorithm},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := a.Verify(t.Context(), tc.token)
			if !errors.Is(err, tc.wantErr) || p != nil {
				t.Fatalf("Verify = %v, %v; want %v", p, err, tc.wantErr)
			}
		})
	}
}

// TestUnavailable: an issuer that cannot be reached is a 503, never a 401,
// and never "allowed" (133, 145).
func TestUnavailable(t *testing.T) {
	srv := newIssuer(t, "RS256-a")
	srv.down.Store(true)
	a := newAuth(t, srv.URL, nil)
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Authorization", "Bearer "+mint(srv.URL, "RS256-a", nil))
	p, err := a.Authenticate(r)
	if p != nil || authgate.StatusCode(err) != http.StatusServiceUnavailable {
		t.Fatalf("Authenticate with the issuer down = %v, %v (status %d); want 503", p, err, authgate.StatusCode(err))
	}
	if err := a.Prefetch(t.Context()); !errors.Is(err, authgate.ErrUnavailable) {
		t.Fatalf("Prefetch = %v, want ErrUnavailable", err)
	}
}

func TestJWKSURLSkipsDiscovery(t *testing.T) {
	srv := newIssuer(t, "RS256-a")
	a := newAuth(t, "https://issuer.example/", func(c *oidc.Config) { c.JWKSURL = srv.URL + "/jwks" })
	if _, err := a.Verify(t.Context(), mint("https://issuer.example/", "RS256-a", nil)); err != nil {
		t.Fatalf("Verify = %v", err)
	}
	if d, k := srv.discoveries.Load(), srv.keyFetches.Load(); d != 0 || k != 1 {
		t.Fatalf("discoveries, key fetches = %d, %d; want 0, 1", d, k)
	}
}

// TestRotation: a new key is picked up on its first token; a removed key
// stops verifying after the refresh.
func TestRotation(t *testing.T) {
	srv := newIssuer(t, "RS256-a")
	clock := now
	var mu sync.Mutex
	a := newAuth(t, srv.URL, func(c *oidc.Config) {
		c.Now = func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
	})
	old := mint(srv.URL, "RS256-a", func(c map[string]any) { c["exp"] = now.Add(time.Hour).Unix() })
	if _, err := a.Verify(t.Context(), old); err != nil {
		t.Fatal(err)
	}
	srv.setKeys("RS256-b")
	mu.Lock()
	clock = clock.Add(2 * time.Minute)
	mu.Unlock()
	if _, err := a.Verify(t.Context(), mint(srv.URL, "RS256-b", func(c map[string]any) { c["exp"] = now.Add(time.Hour).Unix() })); err != nil {
		t.Fatalf("Verify(new key) = %v", err)
	}
	if _, err := a.Verify(t.Context(), old); !errors.Is(err, authgate.ErrInvalidSignature) {
		t.Fatalf("Verify(removed key) = %v, want ErrInvalidSignature", err)
	}
	if d, k := srv.discoveries.Load(), srv.keyFetches.Load(); d != 1 || k != 2 {
		t.Fatalf("discoveries, key fetches = %d, %d; want 1, 2", d, k)
	}
}
