package auth0_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/auth0"
	"github.com/authgate/authgate/internal/jwttest"
	"github.com/authgate/authgate/providers"
)

const api = "https://api.example.com"

var now = time.Unix(1_800_000_000, 0)

// tenant is an Auth0 tenant stand-in: an https server publishing its JWKS
// at /.well-known/jwks.json, counting fetches. Its "domain" is its
// 127.0.0.1:port address, and its client trusts its certificate.
type tenant struct {
	*httptest.Server
	domain  string
	fetches atomic.Int64
}

func newTenant(t *testing.T, kid string) *tenant {
	t.Helper()
	tn := &tenant{}
	tn.Server = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/.well-known/jwks.json" {
			http.NotFound(w, r)
			return
		}
		tn.fetches.Add(1)
		w.Header().Set("Cache-Control", "public, max-age=15, stale-while-revalidate=15")
		w.Write(jwttest.JWKS(jwttest.JWK(jwttest.Key("RS256", kid), kid, "RS256")))
	}))
	tn.domain = strings.TrimPrefix(tn.URL, "https://")
	t.Cleanup(tn.Close)
	return tn
}

func (tn *tenant) auth(t *testing.T, edit func(*auth0.Config)) *auth0.Authenticator {
	t.Helper()
	cfg := auth0.Config{
		Domain: tn.domain,
		TokenOptions: providers.TokenOptions{
			Audience:   []string{api},
			RolesClaim: "https://example.com/roles",
			Now:        func() time.Time { return now },
		},
		FetchOptions: providers.FetchOptions{
			HTTPClient: tn.Client(),
		},
	}
	if edit != nil {
		edit(&cfg)
	}
	a, err := auth0.New(cfg)
	if err != nil {
		t.Fatalf("auth0.New: %v", err)
	}
	return a
}

// accessToken is an Auth0 access token: Auth0's header, the API and the
// userinfo URL in aud, scope, RBAC permissions, a namespaced roles claim.
func accessToken(domain, kid string, edit func(map[string]any)) string {
	c := map[string]any{
		"iss": "https://" + domain + "/",
		"sub": "auth0|5f7c8ec7c33c6c004bbafe82",
		"aud": []string{api, "https://" + domain + "/userinfo"},
		"iat": now.Add(-time.Minute).Unix(), "exp": now.Add(time.Hour).Unix(),
		"azp": "VvQ8kZ3m1y2xJ4pL", "scope": "openid profile read:articles",
		"permissions":               []string{"read:articles", "write:articles"},
		"https://example.com/roles": []string{"editor"},
	}
	if edit != nil {
		edit(c)
	}
	return jwttest.Token("RS256", kid, jwttest.Key("RS256", kid), c)
}

func TestNew(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  auth0.Config
	}{
		{"no domain", auth0.Config{TokenOptions: providers.TokenOptions{Audience: []string{api}}}},
		{"scheme", auth0.Config{Domain: "https://example.auth0.com", TokenOptions: providers.TokenOptions{Audience: []string{api}}}},
		{"path", auth0.Config{Domain: "example.auth0.com/", TokenOptions: providers.TokenOptions{Audience: []string{api}}}},
		{"upper case", auth0.Config{Domain: "Example.auth0.com", TokenOptions: providers.TokenOptions{Audience: []string{api}}}},
		{"user info", auth0.Config{Domain: "u@example.auth0.com", TokenOptions: providers.TokenOptions{Audience: []string{api}}}},
		{"no audience", auth0.Config{Domain: "example.auth0.com"}},
		{"HS256", auth0.Config{Domain: "example.auth0.com", TokenOptions: providers.TokenOptions{Audience: []string{api}, Algorithms: []string{"HS256"}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := auth0.New(tc.cfg); err == nil || !strings.HasPrefix(err.Error(), "auth0: ") {
				t.Fatalf("auth0.New(%s) = %v, want an error starting with %q", tc.name, err, "auth0: ")
			}
		})
	}
	if got := auth0.Issuer("example.eu.auth0.com"); got != "https://example.eu.auth0.com/" {
		t.Fatalf("Issuer = %q", got)
	}
}

func TestAccessToken(t *testing.T) {
	tn := newTenant(t, "k1")
	a := tn.auth(t, nil)
	r := httptest.NewRequest("GET", "/articles", nil)
	r.Header.Set("Authorization", "Bearer "+accessToken(tn.domain, "k1", nil))
	p, err := a.Authenticate(r)
	if err != nil {
		t.Fatalf("Authenticate = %v", err)
	}
	if p.Provider != "auth0" || p.Issuer != "https://"+tn.domain+"/" || p.Subject != "auth0|5f7c8ec7c33c6c004bbafe82" {
		t.Fatalf("principal = %+v", p)
	}
	if !slices.Equal(p.Scopes, []string{"openid", "profile", "read:articles"}) ||
		!slices.Equal(p.Permissions, []string{"read:articles", "write:articles"}) ||
		!slices.Equal(p.Roles, []string{"editor"}) {
		t.Fatalf("scopes %q, permissions %q, roles %q", p.Scopes, p.Permissions, p.Roles)
	}
	if got := a.Describe().Issuers; !slices.Equal(got, []string{"https://" + tn.domain + "/"}) {
		t.Fatalf("Describe().Issuers = %q", got)
	}
}

// TestProfiles covers SECURITY.md#attacks-providers for Auth0.
func TestProfiles(t *testing.T) {
	tn := newTenant(t, "k1")
	other := newTenant(t, "k2")
	a := tn.auth(t, nil)
	if err := a.Prefetch(t.Context()); err != nil {
		t.Fatalf("Prefetch = %v", err)
	}
	tests := []struct {
		name    string
		token   string
		wantErr error // nil: accepted
	}{
		{"aud string", accessToken(tn.domain, "k1", func(c map[string]any) { c["aud"] = api }), nil},
		{"aud array", accessToken(tn.domain, "k1", nil), nil},
		{"RFC 9068 profile", jwttest.Sign("RS256", jwttest.Key("RS256", "k1"), []byte(`{"alg":"RS256","typ":"at+jwt","kid":"k1"}`),
			jwttest.JSON(map[string]any{"iss": "https://" + tn.domain + "/", "sub": "abc@clients", "aud": api, "exp": now.Add(time.Hour).Unix(),
				"client_id": "abc", "jti": "j1", "gty": "client-credentials"})), nil},
		{"issuer without slash", accessToken(tn.domain, "k1", func(c map[string]any) { c["iss"] = "https://" + tn.domain }), authgate.ErrUnrecognizedCredential},
		{"ID token", accessToken(tn.domain, "k1", func(c map[string]any) { c["aud"] = "VvQ8kZ3m1y2xJ4pL" }), authgate.ErrInvalidAudience},
		{"other tenant", accessToken(other.domain, "k2", nil), authgate.ErrUnrecognizedCredential},
		{"other tenant's key, our issuer", accessToken(tn.domain, "k2", nil), authgate.ErrInvalidSignature},
		{"HS256", jwttest.Token("HS256", "", []byte(strings.Repeat("s", 32)), map[string]any{"iss": "https://" + tn.domain + "/", "sub": "x", "aud": api, "exp": now.Add(time.Hour).Unix()}), authgate.ErrUnsupportedAlgorithm},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := a.Verify(t.Context(), tc.token)
			if (tc.wantErr == nil) != (err == nil) || (tc.wantErr != nil && !errors.Is(err, tc.wantErr)) {
				t.Fatalf("Verify = %v, want %v", err, tc.wantErr)
			}
		})
	}
	if n := other.fetches.Load(); n != 0 {
		t.Fatalf("the other tenant's JWKS was fetched %d times, want 0", n)
	}
}

func TestKeysUnavailable(t *testing.T) {
	tn := newTenant(t, "k1")
	a := tn.auth(t, func(c *auth0.Config) { c.HTTPClient = nil }) // the test certificate is not trusted
	_, err := a.Verify(t.Context(), accessToken(tn.domain, "k1", nil))
	if !errors.Is(err, authgate.ErrUnavailable) || authgate.StatusCode(err) != http.StatusServiceUnavailable {
		t.Fatalf("Verify with an untrusted certificate = %v, want ErrUnavailable (503)", err)
	}
}
