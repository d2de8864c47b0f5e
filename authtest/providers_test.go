package authtest_test

// End-to-end tests of authgate's remote providers against the kit: real
// httptest servers, real keys, real HTTP fetches, the providers' own
// caches. Each test moves a shared test clock instead of sleeping.

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/auth0"
	"github.com/authgate/authgate/authtest"
	"github.com/authgate/authgate/chain"
	"github.com/authgate/authgate/firebase"
	"github.com/authgate/authgate/httpauth"
	"github.com/authgate/authgate/keycloak"
	"github.com/authgate/authgate/oidc"
	"github.com/authgate/authgate/providers"
)

var quiet = slog.New(slog.DiscardHandler)

// bearer returns a request carrying token as a bearer token.
func bearer(token string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set("Authorization", "Bearer "+token)
	return r
}

// wantErr fails unless err wraps want (a nil want means success).
func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if want == nil && err != nil || want != nil && !errors.Is(err, want) {
		t.Errorf("%s: err = %v, want %v", what, err, want)
	}
}

// TestOIDCAgainstIssuer runs package oidc through discovery, caching, key
// rotation and an outage.
func TestOIDCAgainstIssuer(t *testing.T) {
	c := newClock()
	iss := authtest.NewIssuer(t, authtest.WithNow(c.Now))
	a, err := oidc.New(oidc.Config{
		Issuer: iss.Issuer(),
		TokenOptions: providers.TokenOptions{
			Audience: []string{authtest.DefaultAudience},
			Now:      c.Now,
			Logger:   quiet,
		},
		FetchOptions: providers.FetchOptions{
			MaxKeyAge: 10 * time.Minute,
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if iss.DiscoveryRequests() != 0 || iss.JWKSRequests() != 0 {
		t.Fatal("oidc.New fetched something")
	}

	// Valid tokens; discovery and keys fetched once.
	for range 3 {
		p, err := a.Authenticate(bearer(iss.Token(map[string]any{"roles": []string{"editor"}})))
		if err != nil {
			t.Fatalf("Authenticate = %v", err)
		}
		if p.Subject != iss.Subject() || p.Issuer != iss.Issuer() || !p.HasRole("editor") {
			t.Errorf("principal = %+v", p)
		}
	}
	if d, j := iss.DiscoveryRequests(), iss.JWKSRequests(); d != 1 || j != 1 {
		t.Errorf("requests: discovery %d, JWKS %d, want 1, 1 (cached)", d, j)
	}

	// Rotation: the first fetch did not start the unknown-kid cooldown, so
	// one fetch picks the new key up at once. That fetch starts it: a
	// second rotation within it is refused without a fetch, and one fetch
	// after it picks that key up.
	old := iss.Token(nil)
	iss.Rotate()
	_, err = a.Authenticate(bearer(iss.Token(nil)))
	wantErr(t, "new kid", err, nil)
	if got := iss.JWKSRequests(); got != 2 {
		t.Errorf("JWKSRequests() = %d after a new kid, want 2", got)
	}
	iss.Rotate()
	rotated := iss.Token(nil)
	_, err = a.Authenticate(bearer(rotated))
	wantErr(t, "new kid within the cooldown", err, authgate.ErrInvalidSignature)
	if got := iss.JWKSRequests(); got != 2 {
		t.Errorf("JWKSRequests() = %d after a new kid within the cooldown, want 2", got)
	}
	c.Advance(providers.DefaultCooldown)
	_, err = a.Authenticate(bearer(rotated))
	wantErr(t, "new kid after the cooldown", err, nil)
	_, err = a.Authenticate(bearer(old))
	wantErr(t, "old key during the overlap", err, nil)
	if got := iss.JWKSRequests(); got != 3 {
		t.Errorf("JWKSRequests() = %d after rotation, want 3", got)
	}

	// Outage: the last good keys verify until MaxKeyAge, then 503.
	iss.Fail(http.StatusServiceUnavailable)
	c.Advance(9 * time.Minute) // MaxKeyAge is 10 minutes after the last fetch
	_, err = a.Authenticate(bearer(iss.Token(nil)))
	wantErr(t, "during the outage, before MaxKeyAge", err, nil)
	c.Advance(time.Minute)
	h := httpauth.Require(a, httpauth.WithLogger(nil))(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, bearer(iss.Token(nil)))
	if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") == "" {
		t.Errorf("after MaxKeyAge of outage: %d, Retry-After %q, want 503 with Retry-After", w.Code, w.Header().Get("Retry-After"))
	}
	_, err = a.Authenticate(bearer(iss.Token(nil)))
	wantErr(t, "after MaxKeyAge of outage", err, authgate.ErrUnavailable)

	// Recovery: once backoff allows, the keys are fetched again.
	iss.Recover()
	c.Advance(time.Minute + time.Second)
	_, err = a.Authenticate(bearer(iss.Token(nil)))
	wantErr(t, "after recovery", err, nil)
}

// TestOIDCConnectionOutage: an issuer that drops connections before any
// key was fetched is 503, never 401.
func TestOIDCConnectionOutage(t *testing.T) {
	iss := authtest.NewIssuer(t, authtest.WithRFC9068())
	a, err := oidc.New(oidc.Config{Issuer: iss.Issuer(), TokenOptions: providers.TokenOptions{Audience: []string{authtest.DefaultAudience}, TokenTypes: []string{"at+jwt"}, Logger: quiet}})
	if err != nil {
		t.Fatal(err)
	}
	iss.Drop()
	_, err = a.Authenticate(bearer(iss.Token(nil)))
	wantErr(t, "issuer dropping connections", err, authgate.ErrUnavailable)
	iss.Recover()
	if err := a.Prefetch(context.Background()); err != nil {
		t.Fatalf("Prefetch after Recover = %v", err)
	}
	_, err = a.Authenticate(bearer(iss.Token(nil)))
	wantErr(t, "RFC 9068 token", err, nil)
}

func TestAuth0AgainstTenant(t *testing.T) {
	c := newClock()
	const api, rolesClaim = "https://orders.example/", "https://example.com/roles"
	tenant := authtest.Auth0(t, authtest.WithNow(c.Now), authtest.WithAudience(api))
	other := authtest.Auth0(t, authtest.WithNow(c.Now), authtest.WithAudience(api))
	a, err := auth0.New(auth0.Config{
		Domain: tenant.Host(),
		TokenOptions: providers.TokenOptions{
			Audience:   []string{api},
			RolesClaim: rolesClaim,
			Now:        c.Now,
			Logger:     quiet,
		},
		FetchOptions: providers.FetchOptions{
			HTTPClient: tenant.Client(),
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	rbac := map[string]any{"permissions": []string{"read:orders"}, rolesClaim: []string{"clerk"}, "scope": "read:orders"}
	p, err := a.Authenticate(bearer(tenant.Token(rbac)))
	if err != nil {
		t.Fatalf("Authenticate = %v", err)
	}
	if !p.HasPermission("read:orders") || !p.HasRole("clerk") || !p.HasScope("read:orders") || p.Subject != tenant.Subject() {
		t.Errorf("principal = %+v", p)
	}
	tests := []struct {
		name  string
		token string
		want  error
	}{
		{"aud array with userinfo", tenant.Token(nil), nil},
		{"aud string", tenant.Token(map[string]any{"aud": api}), nil},
		{"another API", tenant.Token(map[string]any{"aud": "https://billing.example/"}), authgate.ErrInvalidAudience},
		{"ID token (aud = client)", tenant.Token(map[string]any{"aud": authtest.DefaultClientID}), authgate.ErrInvalidAudience},
		{"another tenant", other.Token(nil), authgate.ErrUnrecognizedCredential},
		{"another tenant's key, this issuer", other.Token(map[string]any{"iss": tenant.Issuer()}), authgate.ErrInvalidSignature},
		{"expired", tenant.Token(map[string]any{"iat": epoch.Add(-25 * time.Hour)}), authgate.ErrTokenExpired},
	}
	for _, tt := range tests {
		_, err := a.Authenticate(bearer(tt.token))
		wantErr(t, tt.name, err, tt.want)
	}
	// The other tenant's kid is unknown here: it costs one refetch (the
	// first fetch starts no unknown-kid cooldown), then the cooldown holds.
	if got := tenant.JWKSRequests(); got != 2 {
		t.Errorf("JWKSRequests() = %d, want 2", got)
	}
	if got := tenant.DiscoveryRequests() + other.JWKSRequests(); got != 0 {
		t.Errorf("auth0 ran discovery or fetched another tenant's keys (%d requests)", got)
	}
}

func TestKeycloakAgainstRealm(t *testing.T) {
	c := newClock()
	const client = "orders-api"
	kc := authtest.Keycloak(t, "demo", authtest.WithNow(c.Now), authtest.WithClientID(client))
	newAuth := func(edit func(*keycloak.Config)) *keycloak.Authenticator {
		t.Helper()
		cfg := keycloak.Config{BaseURL: kc.BaseURL(), Realm: kc.Realm(), ClientID: client, TokenOptions: providers.TokenOptions{Now: c.Now, Logger: quiet}}
		if edit != nil {
			edit(&cfg)
		}
		a, err := keycloak.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	a := newAuth(nil)
	clientRoles := map[string]any{"resource_access": map[string]any{client: map[string]any{"roles": []string{"orders:write"}}}}
	p, err := a.Authenticate(bearer(kc.Token(clientRoles)))
	if err != nil {
		t.Fatalf("Authenticate = %v", err)
	}
	if !p.HasRole("orders:write") || !p.HasRole("default-roles-demo") || p.Name != "alice" || !p.HasScope("email") {
		t.Errorf("principal = %+v", p)
	}
	tests := []struct {
		name  string
		token string
		want  error
	}{
		{"access token, aud account, azp the API", kc.Token(nil), nil},
		{"service account", kc.ServiceAccountToken(client, nil), nil},
		{"another client's token", kc.Token(map[string]any{"azp": "web"}), authgate.ErrInvalidAudience},
		{"ID token", kc.IDToken(nil), authgate.ErrInvalidClaim},
		{"refresh token", kc.RefreshToken(nil), authgate.ErrUnsupportedAlgorithm},
		{"RS256 token with typ Refresh", kc.Token(map[string]any{"typ": "Refresh"}), authgate.ErrInvalidClaim},
		{"another realm", kc.Token(map[string]any{"iss": kc.BaseURL() + "/realms/other"}), authgate.ErrUnrecognizedCredential},
		{"expired after 300 s and the leeway", kc.Token(map[string]any{"iat": epoch.Add(-(300 + 61) * time.Second)}), authgate.ErrTokenExpired},
	}
	for _, tt := range tests {
		_, err := a.Authenticate(bearer(tt.token))
		wantErr(t, tt.name, err, tt.want)
	}
	if got := kc.JWKSRequests(); got != 1 {
		t.Errorf("JWKSRequests() = %d, want 1", got)
	}

	// The realm's bare public_key, when the certs endpoint is not used.
	pub := newAuth(func(c *keycloak.Config) { c.UseRealmPublicKey = true })
	_, err = pub.Authenticate(bearer(kc.Token(nil)))
	wantErr(t, "UseRealmPublicKey", err, nil)
	if got := kc.RealmRequests(); got != 1 {
		t.Errorf("RealmRequests() = %d, want 1", got)
	}

	// tokens-not-before revokes older tokens.
	issued := kc.Token(nil)
	c.Advance(time.Minute)
	kc.SetTokensNotBefore(c.Now())
	revoking := newAuth(func(c *keycloak.Config) { c.TokensNotBefore = true })
	_, err = revoking.Authenticate(bearer(issued))
	wantErr(t, "token issued before tokens-not-before", err, authgate.ErrRevoked)
	_, err = revoking.Authenticate(bearer(kc.Token(nil)))
	wantErr(t, "token issued at tokens-not-before", err, nil)
}

func TestFirebaseAgainstCerts(t *testing.T) {
	c := newClock()
	fb := authtest.Firebase(t, "proj-a", authtest.WithNow(c.Now))
	otherProject := authtest.Firebase(t, "proj-b", authtest.WithNow(c.Now))
	tenant := authtest.Firebase(t, "proj-a", authtest.WithNow(c.Now), authtest.WithTenant("tenant-1"))
	a, err := firebase.New(firebase.Config{
		ProjectID:       "proj-a",
		CertsURL:        fb.CertsURL(),
		SessionCookies:  true,
		SessionCertsURL: fb.SessionCertsURL(),
		TokenOptions: providers.TokenOptions{
			Now:    c.Now,
			Logger: quiet,
		},
		FetchOptions: providers.FetchOptions{
			HTTPClient: fb.Client(),
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	p, err := a.Authenticate(bearer(fb.IDToken(map[string]any{"roles": []string{"admin"}})))
	if err != nil {
		t.Fatalf("Authenticate = %v", err)
	}
	if p.Subject != fb.Subject() || p.Method != firebase.MethodIDToken || !p.HasRole("admin") || p.Email != "alice@example.test" {
		t.Errorf("principal = %+v", p)
	}

	cookie := httptest.NewRequest(http.MethodGet, "/", nil)
	cookie.AddCookie(&http.Cookie{Name: firebase.DefaultSessionCookieName, Value: fb.SessionCookie(nil)})
	if p, err := a.Authenticate(cookie); err != nil || p.Method != firebase.MethodSessionCookie {
		t.Errorf("session cookie: %+v, %v", p, err)
	}

	tests := []struct {
		name  string
		token string
		want  error
	}{
		{"another project", otherProject.IDToken(nil), authgate.ErrUnrecognizedCredential},
		{"this issuer, another project's audience", fb.IDToken(map[string]any{"aud": "proj-b"}), authgate.ErrInvalidAudience},
		{"another project's key", otherProject.IDToken(map[string]any{"iss": "https://securetoken.google.com/proj-a", "aud": "proj-a"}), authgate.ErrInvalidSignature},
		{"a tenant's token", tenant.IDToken(nil), authgate.ErrInvalidCredentials},
		{"no kid", fb.IDTokenWithHeader(map[string]any{"kid": nil}, nil), authgate.ErrInvalidCredentials},
		{"session cookie as bearer", fb.SessionCookie(nil), authgate.ErrInvalidIssuer},
		{"auth_time in the future", fb.IDToken(map[string]any{"auth_time": epoch.Add(time.Hour)}), authgate.ErrInvalidCredentials},
		{"expired after an hour", fb.IDToken(map[string]any{"iat": epoch.Add(-62 * time.Minute)}), authgate.ErrTokenExpired},
	}
	for _, tt := range tests {
		_, err := a.Authenticate(bearer(tt.token))
		wantErr(t, tt.name, err, tt.want)
	}
	// The other project's kid is unknown here: one refetch, which starts
	// the unknown-kid cooldown.
	if fb.CertsRequests() != 2 || fb.SessionCertsRequests() != 1 {
		t.Errorf("certificate requests = %d, %d, want 2, 1", fb.CertsRequests(), fb.SessionCertsRequests())
	}

	// Rotation: Google publishes the next key before signing with it; a
	// token with the new kid is picked up by one refetch after the
	// cooldown.
	fb.Rotate()
	c.Advance(providers.DefaultCooldown)
	_, err = a.Authenticate(bearer(fb.IDToken(nil)))
	wantErr(t, "rotated key", err, nil)
	if got := fb.CertsRequests(); got != 3 {
		t.Errorf("CertsRequests() = %d after rotation, want 3", got)
	}
}

// TestChainRoutesByIssuer: one chain of every remote provider sends each
// token to its own provider, and no provider fetches keys for another's
// token.
func TestChainRoutesByIssuer(t *testing.T) {
	c := newClock()
	iss := authtest.NewIssuer(t, authtest.WithNow(c.Now))
	tenant := authtest.Auth0(t, authtest.WithNow(c.Now))
	kc := authtest.Keycloak(t, "demo", authtest.WithNow(c.Now), authtest.WithClientID("api"))
	fb := authtest.Firebase(t, "proj-a", authtest.WithNow(c.Now))
	o, err1 := oidc.New(oidc.Config{Issuer: iss.Issuer(), TokenOptions: providers.TokenOptions{Audience: []string{authtest.DefaultAudience}, Now: c.Now, Logger: quiet}})
	a, err2 := auth0.New(auth0.Config{Domain: tenant.Host(), TokenOptions: providers.TokenOptions{Audience: []string{authtest.DefaultAudience}, Now: c.Now, Logger: quiet}, FetchOptions: providers.FetchOptions{HTTPClient: tenant.Client()}})
	k, err3 := keycloak.New(keycloak.Config{BaseURL: kc.BaseURL(), Realm: "demo", ClientID: "api", TokenOptions: providers.TokenOptions{Now: c.Now, Logger: quiet}})
	f, err4 := firebase.New(firebase.Config{ProjectID: "proj-a", CertsURL: fb.CertsURL(), TokenOptions: providers.TokenOptions{Now: c.Now, Logger: quiet}, FetchOptions: providers.FetchOptions{HTTPClient: fb.Client()}})
	if err := errors.Join(err1, err2, err3, err4); err != nil {
		t.Fatal(err)
	}
	all := chain.Any(o, a, k, f)
	for _, tt := range []struct{ token, provider string }{
		{kc.Token(nil), "keycloak"},
		{fb.IDToken(nil), "firebase"},
		{tenant.Token(nil), "auth0"},
		{iss.Token(nil), "oidc"},
	} {
		p, err := all.Authenticate(bearer(tt.token))
		if err != nil || p.Provider != tt.provider {
			t.Errorf("%s token: %+v, %v", tt.provider, p, err)
		}
	}
	got := []int{iss.JWKSRequests(), tenant.JWKSRequests(), kc.JWKSRequests(), fb.CertsRequests()}
	if !slices.Equal(got, []int{1, 1, 1, 1}) {
		t.Errorf("key fetches per provider = %v, want one each", got)
	}
}
