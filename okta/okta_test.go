package okta_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/authtest"
	"github.com/authgate/authgate/chain"
	"github.com/authgate/authgate/httpauth"
	"github.com/authgate/authgate/okta"
	"github.com/authgate/authgate/providers"
)

var now = time.Unix(1_800_000_000, 0)

func clock() time.Time { return now }

func newOrg(t *testing.T, serverID string, opts ...authtest.Option) *authtest.OktaOrg {
	t.Helper()
	return authtest.Okta(t, serverID, append([]authtest.Option{authtest.WithNow(clock), authtest.WithClientID("0oa1b2c3d4e5f6g7h8i9")}, opts...)...)
}

func newAuth(t *testing.T, o *authtest.OktaOrg, edit func(*okta.Config)) *okta.Authenticator {
	t.Helper()
	cfg := okta.Config{
		Domain:       o.Domain(),
		ServerID:     o.ServerID(),
		TokenOptions: providers.TokenOptions{Now: clock},
		FetchOptions: providers.FetchOptions{HTTPClient: o.Client()},
	}
	if o.ServerID() == okta.DefaultServerID {
		cfg.ServerID = "" // the default
	}
	if edit != nil {
		edit(&cfg)
	}
	a, err := okta.New(cfg)
	if err != nil {
		t.Fatalf("okta.New: %v", err)
	}
	return a
}

func TestNew(t *testing.T) {
	tests := []struct {
		name string
		cfg  okta.Config
		want string
	}{
		{"no domain", okta.Config{}, "a domain is required"},
		{"scheme", okta.Config{Domain: "https://example.okta.com"}, "without scheme or path"},
		{"path", okta.Config{Domain: "example.okta.com/oauth2/default"}, "without scheme or path"},
		{"upper case", okta.Config{Domain: "Example.okta.com"}, "lower case"},
		{"server ID with a slash", okta.Config{Domain: "example.okta.com", ServerID: "a/b"}, "needs escaping"},
		{"custom server without audience", okta.Config{Domain: "example.okta.com", ServerID: "aus1a2b3c4d5e6f7g8h9"}, "an audience"},
		{"empty client", okta.Config{Domain: "example.okta.com", ClientIDs: []string{""}}, "empty client ID"},
		{"HMAC", okta.Config{Domain: "example.okta.com", TokenOptions: providers.TokenOptions{Algorithms: []string{"HS256"}}}, "HS256"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := okta.New(tt.cfg)
			if err == nil || !strings.HasPrefix(err.Error(), "okta: ") || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("okta.New() = %v, want an error with %q", err, tt.want)
			}
		})
	}
	a, err := okta.New(okta.Config{Domain: "example.okta.com"})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := a.Describe().Issuers, []string{"https://example.okta.com/oauth2/default", "https://example.okta.com"}; !slices.Equal(got, want) {
		t.Errorf("Describe().Issuers = %q, want %q", got, want)
	}
	a, err = okta.New(okta.Config{Domain: "example.okta.com", OrgTokensNotMine: true})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := a.Describe().Issuers, []string{"https://example.okta.com/oauth2/default"}; !slices.Equal(got, want) {
		t.Errorf("Describe().Issuers with OrgTokensNotMine = %q, want %q", got, want)
	}
}

func TestAccessToken(t *testing.T) {
	o := newOrg(t, "default")
	a := newAuth(t, o, nil)
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Authorization", "Bearer "+o.Token(map[string]any{"groups": []string{"Everyone", "Admins"}}))
	p, err := a.Authenticate(r)
	if err != nil {
		t.Fatalf("Authenticate() = %v", err)
	}
	if p.Subject != "alice@example.test" || p.Issuer != o.Issuer() || !slices.Equal(p.Audience, []string{okta.DefaultAudience}) {
		t.Errorf("principal = %q %q %q", p.Subject, p.Issuer, p.Audience)
	}
	if !slices.Equal(p.Scopes, []string{"openid", "profile", "email"}) || !slices.Equal(p.Roles, []string{"Everyone", "Admins"}) {
		t.Errorf("Scopes = %q, Roles = %q", p.Scopes, p.Roles)
	}
	if okta.UserID(p) != o.UserID() || okta.ClientID(p) != o.ClientID() {
		t.Errorf("UserID = %q, ClientID = %q", okta.UserID(p), okta.ClientID(p))
	}

	m2m, err := a.Verify(context.Background(), o.ClientCredentialsToken(nil))
	if err != nil {
		t.Fatalf("Verify(client credentials) = %v", err)
	}
	if m2m.Subject != o.ClientID() || okta.UserID(m2m) != "" || !m2m.HasScope("api:read") {
		t.Errorf("client credentials principal = %q %q %q", m2m.Subject, okta.UserID(m2m), m2m.Scopes)
	}
}

func TestCustomServer(t *testing.T) {
	o := newOrg(t, "aus1a2b3c4d5e6f7g8h9", authtest.WithAudience("https://api.example.test"))
	a := newAuth(t, o, func(c *okta.Config) {
		c.Audience = []string{"https://api.example.test"}
		c.ClientIDs = []string{o.ClientID()}
	})
	if _, err := a.Verify(context.Background(), o.Token(nil)); err != nil {
		t.Fatalf("Verify() = %v", err)
	}
	if !strings.HasSuffix(o.Issuer(), "/oauth2/aus1a2b3c4d5e6f7g8h9") {
		t.Errorf("Issuer() = %q", o.Issuer())
	}
}

func TestRejections(t *testing.T) {
	o := newOrg(t, "default")
	other := newOrg(t, "aus1a2b3c4d5e6f7g8h9")
	a := newAuth(t, o, func(c *okta.Config) { c.ClientIDs = []string{o.ClientID()} })
	// An audience naming the client lets ID tokens past aud: "cid" stops them.
	withClientAud := newAuth(t, o, func(c *okta.Config) { c.Audience = []string{okta.DefaultAudience, o.ClientID()} })
	tests := []struct {
		name    string
		auth    *okta.Authenticator
		token   string
		wantErr error
	}{
		{"org server token", a, o.OrgToken(nil), authgate.ErrInvalidIssuer},
		{"another client", a, o.Token(map[string]any{"cid": "0oaAnotherClient0000"}), authgate.ErrInvalidAudience},
		{"wrong audience", a, o.Token(map[string]any{"aud": "api://other"}), authgate.ErrInvalidAudience},
		{"ID token", a, o.IDToken(nil), authgate.ErrInvalidAudience},
		{"ID token with the client as audience", withClientAud, o.IDToken(nil), authgate.ErrMissingClaim},
		{"expired", a, o.Token(map[string]any{"iat": now.Add(-2 * time.Hour)}), authgate.ErrTokenExpired},
		{"org key on the custom issuer", a, o.OrgToken(map[string]any{"iss": o.Issuer(), "aud": okta.DefaultAudience}), authgate.ErrInvalidSignature},
		{"another server", a, other.Token(nil), authgate.ErrUnrecognizedCredential},
		{"scheme-less issuer", a, o.Token(map[string]any{"iss": strings.TrimPrefix(o.Issuer(), "https://")}), authgate.ErrUnrecognizedCredential},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.auth.Verify(context.Background(), tt.token)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Verify() = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

// TestOrgServerToken: a token of the org authorization server is this
// provider's to refuse, as 401 with a reason pointing to introspection,
// and costs no key fetch from either server.
func TestOrgServerToken(t *testing.T) {
	o := newOrg(t, "default")
	a := newAuth(t, o, nil)
	_, err := a.Verify(context.Background(), o.OrgToken(nil))
	if !errors.Is(err, okta.ErrOrgServer) || !errors.Is(err, authgate.ErrInvalidIssuer) || authgate.IsNotMine(err) {
		t.Fatalf("Verify(org token) = %v, want ErrOrgServer, mine", err)
	}
	if !strings.Contains(err.Error(), "introspection") || !strings.Contains(err.Error(), o.OrgIssuer()+"/oauth2/v1/introspect") {
		t.Errorf("error %q does not say to use introspection", err)
	}
	if n, m := o.JWKSRequests(), o.OrgJWKSRequests(); n != 0 || m != 0 {
		t.Errorf("key fetches = %d, %d; want none", n, m)
	}

	// Through a chain and HTTP: 401 invalid_token, not a pass to the next
	// member.
	next := authtest.Principal(&authgate.Principal{Subject: "should-not-be-reached"})
	h := httpauth.Require(chain.Any(a, next))(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Authorization", "Bearer "+o.OrgToken(nil))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != http.StatusUnauthorized || !strings.Contains(w.Header().Get("WWW-Authenticate"), "invalid_token") {
		t.Errorf("status %d, WWW-Authenticate %q; want 401 invalid_token", w.Code, w.Header().Get("WWW-Authenticate"))
	}

	// With OrgTokensNotMine the token is left to others.
	leave := newAuth(t, o, func(c *okta.Config) { c.OrgTokensNotMine = true })
	if _, err := leave.Verify(context.Background(), o.OrgToken(nil)); !authgate.IsNotMine(err) {
		t.Errorf("Verify(org token) with OrgTokensNotMine = %v, want not mine", err)
	}
}

// TestNoNetworkForOthers: a token of another issuer costs no key fetch.
func TestNoNetworkForOthers(t *testing.T) {
	o := newOrg(t, "default")
	a := newAuth(t, o, nil)
	other := newOrg(t, "default")
	kc := authtest.Keycloak(t, "corp", authtest.WithNow(clock))
	for _, token := range []string{other.Token(nil), other.OrgToken(nil), kc.Token(nil), "opaque"} {
		if _, err := a.Verify(context.Background(), token); !authgate.IsNotMine(err) {
			t.Errorf("Verify(foreign token) = %v, want not mine", err)
		}
	}
	if n := o.JWKSRequests(); n != 0 {
		t.Errorf("JWKSRequests() = %d, want 0", n)
	}
}
