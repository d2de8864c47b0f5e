package introspection_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/authtest"
	"github.com/authgate/authgate/chain"
	"github.com/authgate/authgate/introspection"
	"github.com/authgate/authgate/oidc"
	"github.com/authgate/authgate/providers"
)

// clock is a test clock that only moves when told to.
type clock struct{ ns atomic.Int64 }

func newClock() *clock {
	c := &clock{}
	c.ns.Store(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC).UnixNano())
	return c
}
func (c *clock) Now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *clock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

// setup starts an introspection stand-in and returns it with the config
// that accepts its tokens.
func setup(t *testing.T, opts ...authtest.Option) (*authtest.IntrospectionServer, introspection.Config, *clock) {
	t.Helper()
	return setupLagging(t, 0, opts...)
}

// setupLagging is setup with a server whose clock runs lag behind
// authgate's, so it still calls active what authgate must find expired.
func setupLagging(t *testing.T, lag time.Duration, opts ...authtest.Option) (*authtest.IntrospectionServer, introspection.Config, *clock) {
	t.Helper()
	clk := newClock()
	serverNow := func() time.Time { return clk.Now().Add(-lag) }
	srv := authtest.NewIntrospectionServer(t, append([]authtest.Option{authtest.WithNow(serverNow)}, opts...)...)
	cfg := introspection.Config{
		Issuer:       srv.Issuer(),
		Endpoint:     srv.Endpoint(),
		ClientID:     srv.ClientID(),
		ClientSecret: introspection.Secret(srv.ClientSecret()),
		TokenOptions: providers.TokenOptions{
			Audience: []string{authtest.DefaultAudience},
			Now:      clk.Now,
			Logger:   slog.New(slog.DiscardHandler),
		},
	}
	return srv, cfg, clk
}

func mustNew(t *testing.T, cfg introspection.Config) *introspection.Authenticator {
	t.Helper()
	a, err := introspection.New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return a
}

func bearer(token string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set("Authorization", "Bearer "+token)
	return r
}

func TestAccept(t *testing.T) {
	for _, method := range []introspection.AuthMethod{"", introspection.ClientSecretBasic, introspection.ClientSecretPost} {
		t.Run(string(cmpOr(method, "default")), func(t *testing.T) {
			srv, cfg, clk := setup(t)
			cfg.AuthMethod = method
			cfg.RolesClaim = "groups"
			a := mustNew(t, cfg)
			tok := srv.Token(map[string]any{
				"sub": "user-1", "scope": "read write", "groups": []any{"admin"}, "tenant": "acme",
				"username": "ada", "email": "ada@example.test",
			})
			p, err := a.Authenticate(bearer(tok))
			if err != nil {
				t.Fatalf("Authenticate(active token) = %v", err)
			}
			if p.Provider != "introspection" || p.Method != "introspection" || p.Subject != "user-1" || p.Issuer != srv.Issuer() ||
				!slices.Equal(p.Audience, []string{authtest.DefaultAudience}) || !slices.Equal(p.Scopes, []string{"read", "write"}) ||
				!slices.Equal(p.Roles, []string{"admin"}) || p.Tenant != "acme" || p.Name != "ada" || p.Email != "ada@example.test" ||
				!p.ExpiresAt.Equal(clk.Now().Add(time.Hour)) || !p.Header.IsZero() || p.Claims.Map()["client_id"] != authtest.DefaultClientID {
				t.Errorf("principal = %+v", p)
			}
			want := string(cmpOr(method, introspection.ClientSecretBasic))
			if got := srv.LastRequest(); got.AuthMethod != want || got.TokenTypeHint != "access_token" {
				t.Errorf("LastRequest() = %+v, want %s with hint access_token", got, want)
			}
		})
	}
}

func cmpOr[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

func TestTokenTypeHint(t *testing.T) {
	srv, cfg, _ := setup(t)
	cfg.TokenTypeHint = "client_credentials"
	a := mustNew(t, cfg)
	if _, err := a.Verify(t.Context(), srv.Token(nil)); err != nil {
		t.Fatal(err)
	}
	if got := srv.LastRequest().TokenTypeHint; got != "client_credentials" {
		t.Errorf("token_type_hint = %q, want client_credentials", got)
	}
}

// TestBasicEncoding: RFC 6749 §2.3.1 form-urlencodes the ID and secret
// before Basic encoding, so a colon or a plus survives.
func TestBasicEncoding(t *testing.T) {
	srv, cfg, _ := setup(t)
	srv.SetClient("api:one", "s3cr+t %/ü")
	cfg.ClientID, cfg.ClientSecret = "api:one", "s3cr+t %/ü"
	a := mustNew(t, cfg)
	if _, err := a.Verify(t.Context(), srv.Token(nil)); err != nil {
		t.Fatalf("Verify with a secret that needs encoding = %v", err)
	}
}

func TestInactive(t *testing.T) {
	srv, cfg, _ := setup(t)
	a := mustNew(t, cfg)
	revoked := srv.Token(nil)
	srv.Revoke(revoked)
	for name, tok := range map[string]string{"unknown": "bm90LWEtdG9rZW4", "revoked": revoked} {
		t.Run(name, func(t *testing.T) {
			_, err := a.Verify(t.Context(), tok)
			if !errors.Is(err, authgate.ErrInvalidCredentials) || errors.Is(err, authgate.ErrUnavailable) {
				t.Fatalf("Verify(%s token) = %v, want ErrInvalidCredentials", name, err)
			}
			if s := authgate.StatusCode(err); s != http.StatusUnauthorized {
				t.Errorf("status = %d, want 401", s)
			}
		})
	}
}

func TestAnswerChecks(t *testing.T) {
	tests := []struct {
		name    string
		members map[string]any
		config  func(*introspection.Config)
		wantErr error
		wantSub string
	}{
		{name: "defaults", wantSub: "authtest-user"},
		{name: "no iss", members: map[string]any{"iss": nil}, wantErr: authgate.ErrInvalidIssuer},
		{name: "other iss", members: map[string]any{"iss": "https://other.example.test"}, wantErr: authgate.ErrInvalidIssuer},
		{name: "no exp", members: map[string]any{"exp": nil}, wantErr: authgate.ErrMissingClaim},
		{name: "exp a string", members: map[string]any{"exp": "tomorrow"}, wantErr: authgate.ErrInvalidClaim},
		{name: "expired beyond leeway", members: map[string]any{"exp": -61, "iat": -120}, wantErr: authgate.ErrTokenExpired},
		{name: "expired within leeway", members: map[string]any{"exp": -30, "iat": -120}, wantSub: "authtest-user"},
		{name: "expired, no leeway", members: map[string]any{"exp": -1, "iat": -120}, config: func(c *introspection.Config) { c.Leeway = providers.NoLeeway }, wantErr: authgate.ErrTokenExpired},
		{name: "nbf in the future", members: map[string]any{"nbf": 120}, wantErr: authgate.ErrTokenNotYetValid},
		{name: "nbf within leeway", members: map[string]any{"nbf": 30}, wantSub: "authtest-user"},
		{name: "iat in the future", members: map[string]any{"iat": 120}, wantErr: authgate.ErrTokenNotYetValid},
		{name: "iat after exp", members: map[string]any{"iat": 7200}, wantErr: authgate.ErrInvalidClaim},
		{name: "other aud", members: map[string]any{"aud": "https://other.example.test/"}, wantErr: authgate.ErrInvalidAudience},
		{name: "aud array", members: map[string]any{"aud": []any{"x", authtest.DefaultAudience}}, wantSub: "authtest-user"},
		{name: "aud not strings", members: map[string]any{"aud": []any{1}}, wantErr: authgate.ErrInvalidAudience},
		{name: "no aud", members: map[string]any{"aud": nil}, wantErr: authgate.ErrInvalidAudience},
		{name: "no aud, client accepted", members: map[string]any{"aud": nil},
			config: func(c *introspection.Config) {
				c.Audience, c.AuthorizedParties = nil, []string{authtest.DefaultClientID}
			}, wantSub: "authtest-user"},
		{name: "no aud, other client", members: map[string]any{"aud": nil, "client_id": "someone-else"},
			config: func(c *introspection.Config) { c.AuthorizedParties = []string{authtest.DefaultClientID} }, wantErr: authgate.ErrInvalidAudience},
		{name: "no token_type", members: map[string]any{"token_type": nil}, wantErr: authgate.ErrMissingClaim},
		{name: "token_type lower case", members: map[string]any{"token_type": "bearer"}, wantSub: "authtest-user"},
		{name: "DPoP token", members: map[string]any{"token_type": "DPoP"}, wantErr: authgate.ErrInvalidClaim},
		{name: "refresh token (token_type)", members: map[string]any{"token_type": "refresh_token"}, wantErr: authgate.ErrInvalidClaim},
		{name: "refresh token (token_use)", members: map[string]any{"token_use": "refresh_token"}, wantErr: authgate.ErrInvalidClaim},
		{name: "access token (token_use)", members: map[string]any{"token_use": "access_token"}, wantSub: "authtest-user"},
		{name: "sender-constrained", members: map[string]any{"cnf": map[string]any{"x5t#S256": "abc"}}, wantErr: authgate.ErrInvalidClaim},
		{name: "client credentials: client_id as subject", members: map[string]any{"sub": nil}, wantSub: authtest.DefaultClientID},
		{name: "no sub, no client_id", members: map[string]any{"sub": nil, "client_id": nil}, wantErr: authgate.ErrMissingClaim},
		{name: "sub not a string", members: map[string]any{"sub": 7}, wantErr: authgate.ErrInvalidClaim},
		{name: "sub with control characters", members: map[string]any{"sub": "a\nb"}, wantErr: authgate.ErrInvalidClaim},
		{name: "claim rule met", members: map[string]any{"scope": "read admin"},
			config: func(c *introspection.Config) { c.Claims = providers.Claims{"scope": {Value: "admin"}} }, wantSub: "authtest-user"},
		{name: "claim rule failed", config: func(c *introspection.Config) { c.Claims = providers.Claims{"scope": {Value: "admin"}} }, wantErr: authgate.ErrInvalidClaim},
		{name: "essential claim missing", config: func(c *introspection.Config) { c.Claims = providers.Claims{"tenant": {Essential: true}} }, wantErr: authgate.ErrMissingClaim},
		{name: "Validate refuses", config: func(c *introspection.Config) {
			c.Validate = func(*providers.Token) error { return errors.New("no") }
		}, wantErr: authgate.ErrInvalidClaim},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, cfg, clk := setupLagging(t, 10*time.Minute)
			if tt.config != nil {
				tt.config(&cfg)
			}
			a := mustNew(t, cfg)
			members := map[string]any{}
			for k, v := range tt.members {
				if n, ok := v.(int); ok && (k == "exp" || k == "nbf" || k == "iat") {
					v = clk.Now().Unix() + int64(n) // seconds relative to now
				}
				members[k] = v
			}
			tok := srv.Token(members)
			p, err := a.Verify(t.Context(), tok)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) || errors.Is(err, authgate.ErrUnavailable) {
					t.Fatalf("Verify() = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Verify() = %v, want success", err)
			}
			if p.Subject != tt.wantSub {
				t.Errorf("Subject = %q, want %q", p.Subject, tt.wantSub)
			}
		})
	}
}

// TestUnavailable: an endpoint that is down, slow or answers garbage is a
// 503, never a 401 and never a principal.
func TestUnavailable(t *testing.T) {
	tests := []struct {
		name  string
		setup func(*authtest.IntrospectionServer, *introspection.Config)
	}{
		{"status 500", func(s *authtest.IntrospectionServer, _ *introspection.Config) { s.Fail(500) }},
		{"status 503", func(s *authtest.IntrospectionServer, _ *introspection.Config) { s.Fail(503) }},
		{"connection dropped", func(s *authtest.IntrospectionServer, _ *introspection.Config) { s.Drop() }},
		{"closed", func(s *authtest.IntrospectionServer, _ *introspection.Config) { s.Close() }},
		{"wrong client secret", func(_ *authtest.IntrospectionServer, c *introspection.Config) { c.ClientSecret = "wrong-secret" }},
		{"not JSON", func(s *authtest.IntrospectionServer, _ *introspection.Config) { s.Respond(200, "<html>ok</html>") }},
		{"empty body", func(s *authtest.IntrospectionServer, _ *introspection.Config) { s.Respond(200, "") }},
		{"JSON array", func(s *authtest.IntrospectionServer, _ *introspection.Config) { s.Respond(200, `[{"active":true}]`) }},
		{"no active", func(s *authtest.IntrospectionServer, _ *introspection.Config) { s.Respond(200, `{"sub":"x"}`) }},
		{"active a string", func(s *authtest.IntrospectionServer, _ *introspection.Config) { s.Respond(200, `{"active":"true"}`) }},
		{"duplicate active", func(s *authtest.IntrospectionServer, _ *introspection.Config) {
			s.Respond(200, `{"active":false,"active":true}`)
		}},
		{"case-variant active", func(s *authtest.IntrospectionServer, _ *introspection.Config) {
			s.Respond(200, `{"active":false,"ACTIVE":true}`)
		}},
		{"trailing garbage", func(s *authtest.IntrospectionServer, _ *introspection.Config) { s.Respond(200, `{"active":false} x`) }},
		{"oversized", func(s *authtest.IntrospectionServer, _ *introspection.Config) {
			s.Respond(200, `{"active":false,"pad":"`+strings.Repeat("a", introspection.MaxResponseSize)+`"}`)
		}},
		{"redirect", func(s *authtest.IntrospectionServer, _ *introspection.Config) { s.Respond(http.StatusFound, "") }},
		{"slow", func(s *authtest.IntrospectionServer, c *introspection.Config) {
			s.Delay(5 * time.Second)
			c.Timeout = 100 * time.Millisecond
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, cfg, _ := setup(t)
			tok := srv.Token(nil)
			tt.setup(srv, &cfg)
			a := mustNew(t, cfg)
			start := time.Now()
			p, err := a.Authenticate(bearer(tok))
			if p != nil || !errors.Is(err, authgate.ErrUnavailable) || errors.Is(err, authgate.ErrInvalidCredentials) {
				t.Fatalf("Authenticate() = %v, %v; want ErrUnavailable only", p, err)
			}
			if s := authgate.StatusCode(err); s != http.StatusServiceUnavailable {
				t.Errorf("status = %d, want 503", s)
			}
			if strings.Contains(err.Error(), tok) || strings.Contains(err.Error(), string(cfg.ClientSecret)) {
				t.Errorf("error %q carries the token or the secret", err)
			}
			if d := time.Since(start); d > 3*time.Second {
				t.Errorf("Authenticate took %v", d)
			}
		})
	}
}

func TestRedirectNotFollowed(t *testing.T) {
	srv, cfg, _ := setup(t)
	var hits atomic.Int32
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		fmt.Fprint(w, `{"active":true}`)
	}))
	defer target.Close()
	redirect := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.URL, http.StatusTemporaryRedirect)
	}))
	defer redirect.Close()
	cfg.Endpoint = redirect.URL
	a := mustNew(t, cfg)
	if _, err := a.Verify(t.Context(), srv.Token(nil)); !errors.Is(err, authgate.ErrUnavailable) {
		t.Fatalf("Verify(through a redirect) = %v, want ErrUnavailable", err)
	}
	if hits.Load() != 0 {
		t.Errorf("the redirect was followed: the token reached another server")
	}
}

// TestRouting: JWTs of other issuers are not this provider's and cost no
// request; JWTs of its issuer and opaque tokens are.
func TestRouting(t *testing.T) {
	srv, cfg, _ := setup(t)
	a := mustNew(t, cfg)
	jwtIssuer := authtest.NewIssuer(t)
	foreign := jwtIssuer.Token(nil)
	noIss := jwtIssuer.Token(map[string]any{"iss": nil})
	unsecured := strings.Join(strings.Split(foreign, ".")[:2], ".") + "."
	for name, tok := range map[string]string{"JWT of another issuer": foreign, "JWT without iss": noIss, "unsecured JWT": unsecured} {
		t.Run(name, func(t *testing.T) {
			before := srv.Requests()
			_, err := a.Authenticate(bearer(tok))
			if !errors.Is(err, authgate.ErrUnrecognizedCredential) || !authgate.IsNotMine(err) {
				t.Fatalf("Authenticate(%s) = %v, want ErrUnrecognizedCredential", name, err)
			}
			if n := srv.Requests() - before; n != 0 {
				t.Errorf("%s cost %d introspection requests, want 0", name, n)
			}
		})
	}

	ownJWT := authtest.NewIssuer(t).Token(map[string]any{"iss": srv.Issuer()})
	srv.Activate(ownJWT, nil)
	hydra := "ory_at_" + "c29tZS1vcGFxdWU" + "." + "c2lnbmF0dXJl" // Hydra's opaque shape: one dot
	srv.Activate(hydra, nil)
	dotted := "abc.def.ghi" // three segments, but no JSON header: opaque
	srv.Activate(dotted, nil)
	for name, tok := range map[string]string{"JWT of this issuer": ownJWT, "Hydra-style opaque": hydra, "dotted opaque": dotted} {
		t.Run(name, func(t *testing.T) {
			before := srv.Requests()
			if _, err := a.Authenticate(bearer(tok)); err != nil {
				t.Fatalf("Authenticate(%s) = %v", name, err)
			}
			if n := srv.Requests() - before; n != 1 {
				t.Errorf("%s cost %d introspection requests, want 1", name, n)
			}
		})
	}

	t.Run("no credentials", func(t *testing.T) {
		_, err := a.Authenticate(httptest.NewRequest(http.MethodGet, "/", nil))
		if !errors.Is(err, authgate.ErrNoCredentials) || errors.Is(err, authgate.ErrUnrecognizedCredential) {
			t.Fatalf("Authenticate(no header) = %v, want ErrNoCredentials", err)
		}
	})
	t.Run("two headers", func(t *testing.T) {
		r := bearer("abc")
		r.Header.Add("Authorization", "Bearer def")
		if _, err := a.Authenticate(r); !errors.Is(err, authgate.ErrMalformedRequest) {
			t.Fatalf("Authenticate(two headers) = %v, want ErrMalformedRequest", err)
		}
	})
}

// TestChain: a JWT provider and introspection behind one route; the
// introspection provider is a catch-all for bearer tokens, so it goes last.
func TestChain(t *testing.T) {
	srv, cfg, clk := setup(t)
	intro := mustNew(t, cfg)
	jwtIssuer := authtest.NewIssuer(t, authtest.WithNow(clk.Now))
	jwt, err := oidc.New(oidc.Config{Issuer: jwtIssuer.Issuer(), TokenOptions: providers.TokenOptions{
		Audience: []string{authtest.DefaultAudience}, Now: clk.Now, Logger: slog.New(slog.DiscardHandler),
	}})
	if err != nil {
		t.Fatal(err)
	}
	c, err := chain.New(jwt, intro)
	if err != nil {
		t.Fatalf("chain.New(jwt, introspection) = %v", err)
	}
	p, err := c.Authenticate(bearer(jwtIssuer.Token(nil)))
	if err != nil || p.Method != "jwt" {
		t.Fatalf("chain(JWT) = %+v, %v; want the JWT provider's principal", p, err)
	}
	if srv.Requests() != 0 {
		t.Errorf("a JWT of another issuer cost %d introspection requests", srv.Requests())
	}
	p, err = c.Authenticate(bearer(srv.Token(nil)))
	if err != nil || p.Method != "introspection" {
		t.Fatalf("chain(opaque) = %+v, %v; want the introspection principal", p, err)
	}
	if _, err := chain.New(intro, jwt); err == nil {
		t.Errorf("chain.New(introspection, jwt) = nil error, want the catch-all-first error")
	}
}

func TestCache(t *testing.T) {
	srv, cfg, clk := setup(t)
	cfg.CacheSize = 100
	cfg.CacheTTL = time.Minute
	a := mustNew(t, cfg)
	tok := srv.Token(nil)

	p, err := a.Verify(t.Context(), tok)
	if err != nil {
		t.Fatal(err)
	}
	p.Claims.Map()["scope"] = "changed" // a caller changing its principal changes nothing cached
	p.Audience[0] = "changed"
	p2, err := a.Verify(t.Context(), tok)
	if err != nil {
		t.Fatal(err)
	}
	if n := srv.Requests(); n != 1 {
		t.Errorf("two Verify calls made %d requests, want 1 (a cache hit)", n)
	}
	if p2.Claims.Map()["scope"] != "read" || p2.Audience[0] != authtest.DefaultAudience {
		t.Errorf("cached principal was changed through a caller's copy: %v %v", p2.Claims.Map()["scope"], p2.Audience)
	}

	// Revoked at the server: still served from the cache until the TTL.
	srv.Revoke(tok)
	clk.Advance(59 * time.Second)
	if _, err := a.Verify(t.Context(), tok); err != nil {
		t.Fatalf("Verify(revoked, cached) = %v, want the cached answer", err)
	}
	clk.Advance(time.Second)
	if _, err := a.Verify(t.Context(), tok); !errors.Is(err, authgate.ErrInvalidCredentials) {
		t.Fatalf("Verify(revoked, past the TTL) = %v, want ErrInvalidCredentials", err)
	}

	// Inactive answers are not cached: every try asks again.
	before := srv.Requests()
	a.Verify(t.Context(), tok)
	a.Verify(t.Context(), tok)
	if n := srv.Requests() - before; n != 2 {
		t.Errorf("two Verify calls of an inactive token made %d requests, want 2", n)
	}

	// A token a similar hash would not match: the key is the full token.
	other := srv.Token(nil)
	if _, err := a.Verify(t.Context(), other+"x"); !errors.Is(err, authgate.ErrInvalidCredentials) {
		t.Errorf("Verify(other+x) = %v, want ErrInvalidCredentials", err)
	}
}

// TestCacheNeverPastExp: an entry ends at the token's exp even when the TTL
// is longer, and a server whose clock lags is asked again.
func TestCacheNeverPastExp(t *testing.T) {
	srv, cfg, clk := setupLagging(t, 10*time.Minute)
	cfg.CacheSize = 100
	cfg.CacheTTL = providers.MaxCacheTTL
	cfg.Leeway = providers.NoLeeway
	a := mustNew(t, cfg)
	tok := srv.Token(map[string]any{"exp": clk.Now().Add(20 * time.Second).Unix()})
	if _, err := a.Verify(t.Context(), tok); err != nil {
		t.Fatal(err)
	}
	clk.Advance(19 * time.Second)
	if _, err := a.Verify(t.Context(), tok); err != nil || srv.Requests() != 1 {
		t.Fatalf("Verify before exp = %v after %d requests, want a cache hit", err, srv.Requests())
	}
	clk.Advance(time.Second)
	if _, err := a.Verify(t.Context(), tok); !errors.Is(err, authgate.ErrTokenExpired) {
		t.Fatalf("Verify at exp = %v, want ErrTokenExpired", err)
	}
	if n := srv.Requests(); n != 2 {
		t.Errorf("Verify at exp made %d requests in all, want 2 (no cache hit past exp)", n)
	}
}

func TestCacheDisabledByDefault(t *testing.T) {
	srv, cfg, _ := setup(t)
	a := mustNew(t, cfg)
	tok := srv.Token(nil)
	a.Verify(t.Context(), tok)
	a.Verify(t.Context(), tok)
	if n := srv.Requests(); n != 2 {
		t.Errorf("without CacheSize, two Verify calls made %d requests, want 2", n)
	}
}

func TestConcurrent(t *testing.T) {
	srv, cfg, _ := setup(t)
	cfg.CacheSize = 8
	a := mustNew(t, cfg)
	tokens := make([]string, 20)
	for i := range tokens {
		tokens[i] = srv.Token(map[string]any{"sub": fmt.Sprintf("user-%d", i)})
	}
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Go(func() {
			for i := 0; i < 60; i++ {
				n := (g + i) % len(tokens)
				p, err := a.Verify(context.Background(), tokens[n])
				if err != nil || p.Subject != fmt.Sprintf("user-%d", n) {
					t.Errorf("Verify(token %d) = %+v, %v", n, p, err)
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestNew(t *testing.T) {
	valid := func() introspection.Config {
		return introspection.Config{
			Issuer: "https://as.example.test", Endpoint: "https://as.example.test/introspect",
			ClientID: "api", ClientSecret: "s",
			TokenOptions: providers.TokenOptions{Audience: []string{"https://api.example.test"}},
		}
	}
	tests := []struct {
		name   string
		change func(*introspection.Config)
		ok     bool
	}{
		{"valid", func(*introspection.Config) {}, true},
		{"loopback http", func(c *introspection.Config) { c.Endpoint = "http://127.0.0.1:8080/introspect" }, true},
		{"client_id only", func(c *introspection.Config) { c.Audience, c.AuthorizedParties = nil, []string{"web"} }, true},
		{"no issuer", func(c *introspection.Config) { c.Issuer = "" }, false},
		{"no endpoint", func(c *introspection.Config) { c.Endpoint = "" }, false},
		{"plain http", func(c *introspection.Config) { c.Endpoint = "http://as.example.test/introspect" }, false},
		{"user info in URL", func(c *introspection.Config) { c.Endpoint = "https://u:p@as.example.test/introspect" }, false},
		{"no client ID", func(c *introspection.Config) { c.ClientID = "" }, false},
		{"no secret", func(c *introspection.Config) { c.ClientSecret = "" }, false},
		{"no audience", func(c *introspection.Config) { c.Audience = nil }, false},
		{"empty audience", func(c *introspection.Config) { c.Audience = []string{""} }, false},
		{"unknown method", func(c *introspection.Config) { c.AuthMethod = "private_key_jwt" }, false},
		{"algorithms", func(c *introspection.Config) { c.Algorithms = []string{"RS256"} }, false},
		{"empty token type", func(c *introspection.Config) { c.TokenTypes = []string{""} }, false},
		{"timeout too long", func(c *introspection.Config) { c.Timeout = time.Hour }, false},
		{"negative timeout", func(c *introspection.Config) { c.Timeout = -time.Second }, false},
		{"leeway too long", func(c *introspection.Config) { c.Leeway = time.Hour }, false},
		{"cache too big", func(c *introspection.Config) { c.CacheSize = providers.MaxCacheSize + 1 }, false},
		{"cache TTL too long", func(c *introspection.Config) { c.CacheTTL = time.Hour }, false},
		{"bad claim rule", func(c *introspection.Config) { c.Claims = providers.Claims{"x": {}} }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := valid()
			tt.change(&cfg)
			a, err := introspection.New(cfg)
			if tt.ok != (err == nil) || (a == nil) == (err == nil) {
				t.Fatalf("New() = %v, %v; want ok %v", a, err, tt.ok)
			}
			if err != nil && (!strings.HasPrefix(err.Error(), "introspection: ") || strings.Contains(err.Error(), "\"s\"")) {
				t.Errorf("New() error %q: want the package prefix and no secret", err)
			}
		})
	}
	t.Run("named", func(t *testing.T) {
		cfg := valid()
		cfg.Name, cfg.Issuer = "corp", ""
		if _, err := introspection.New(cfg); err == nil || !strings.HasPrefix(err.Error(), "introspection: corp: ") {
			t.Errorf("New(named) error = %v, want prefix \"introspection: corp: \"", err)
		}
	})
}

// TestSecretNeverShown: the secret stays out of formatted configs, logs and
// errors.
func TestSecretNeverShown(t *testing.T) {
	const secret = "very-secret-value"
	cfg := introspection.Config{ClientSecret: secret, Endpoint: "https://as.example.test/i"}
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("config", "cfg", cfg, "secret", cfg.ClientSecret)
	out := fmt.Sprintf("%v %+v %#v %s %q", cfg, cfg, cfg, cfg.ClientSecret, cfg.ClientSecret) + logged.String()
	if strings.Contains(out, secret) {
		t.Errorf("the secret shows in %s", out)
	}

	srv, good, _ := setup(t)
	var logs bytes.Buffer
	good.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	srv.Fail(500)
	a := mustNew(t, good)
	_, err := a.Verify(t.Context(), "some-opaque-token")
	if !errors.Is(err, authgate.ErrUnavailable) {
		t.Fatal(err)
	}
	if logs.Len() == 0 {
		t.Errorf("an endpoint failure was not logged")
	}
	for _, s := range []string{err.Error(), logs.String()} {
		if strings.Contains(s, string(good.ClientSecret)) || strings.Contains(s, "some-opaque-token") {
			t.Errorf("%q shows the secret or the token", s)
		}
	}
}

func TestDescribe(t *testing.T) {
	_, cfg, _ := setup(t)
	cfg.Name = "hydra"
	d := mustNew(t, cfg).Describe()
	if d.Name != "hydra" || d.Scheme != "Bearer" || d.Issuers != nil {
		t.Errorf("Describe() = %+v", d)
	}
}
