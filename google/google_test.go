package google_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/authtest"
	"github.com/authgate/authgate/google"
	"github.com/authgate/authgate/oidc"
	"github.com/authgate/authgate/providers"
)

var now = time.Unix(1_800_000_000, 0)

const serviceURL = "https://billing-4xk2mq7zfa-ew.a.run.app"

func clock() time.Time { return now }

func newAccounts(t *testing.T) *authtest.GoogleAccounts {
	return authtest.Google(t, authtest.WithNow(clock))
}

func newAuth(t *testing.T, g *authtest.GoogleAccounts, edit func(*google.Config)) *google.Authenticator {
	t.Helper()
	cfg := google.Config{
		CertsURL:     g.CertsURL(),
		TokenOptions: providers.TokenOptions{Audience: []string{g.ClientID(), serviceURL}, Now: clock},
		FetchOptions: providers.FetchOptions{HTTPClient: g.Client()},
	}
	if edit != nil {
		edit(&cfg)
	}
	a, err := google.New(cfg)
	if err != nil {
		t.Fatalf("google.New: %v", err)
	}
	return a
}

func authenticate(a *google.Authenticator, token string) (*authgate.Principal, error) {
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Authorization", "Bearer "+token)
	return a.Authenticate(r)
}

func TestIDTokens(t *testing.T) {
	g := newAccounts(t)
	other := authtest.Google(t, authtest.WithNow(clock)) // another key set: a forged token
	tests := []struct {
		name    string
		edit    func(*google.Config)
		token   string
		wantErr error
		want    string // Principal.Subject
	}{
		{"sign-in ID token", nil, g.IDToken(nil), nil, g.Subject()},
		{"scheme-less issuer", nil, g.IDToken(map[string]any{"iss": "accounts.google.com"}), nil, g.Subject()},
		{"service identity token for the service URL", nil, g.ServiceIdentityToken(serviceURL, nil), nil, "104237812345678901234"},
		{"consumer account without hd", nil, g.IDToken(map[string]any{"hd": nil, "email": "alice@gmail.com"}), nil, g.Subject()},
		{"another client's token", nil, g.IDToken(map[string]any{"aud": "1-other.apps.googleusercontent.com", "azp": "1-other.apps.googleusercontent.com"}), authgate.ErrInvalidAudience, ""},
		{"identity token for another service", nil, g.ServiceIdentityToken("https://other-4xk2mq7zfa-ew.a.run.app", nil), authgate.ErrInvalidAudience, ""},
		{"expired", nil, g.IDToken(map[string]any{"iat": now.Add(-2 * time.Hour)}), authgate.ErrTokenExpired, ""},
		{"another issuer", nil, g.IDToken(map[string]any{"iss": "https://accounts.google.com/"}), authgate.ErrUnrecognizedCredential, ""},
		{"http issuer", nil, g.IDToken(map[string]any{"iss": "http://accounts.google.com"}), authgate.ErrUnrecognizedCredential, ""},
		{"signed by another key", nil, other.IDToken(nil), authgate.ErrInvalidSignature, ""},
		{"alg none", nil, g.IDTokenWithHeader(map[string]any{"alg": "none"}, nil), authgate.ErrUnrecognizedCredential, ""},
		{"ES256 header", nil, g.IDTokenWithHeader(map[string]any{"alg": "ES256"}, nil), authgate.ErrUnsupportedAlgorithm, ""},
		{"accepted hosted domain", hd("example.test", "example.org"), g.IDToken(nil), nil, g.Subject()},
		{"other hosted domain", hd("example.org"), g.IDToken(nil), authgate.ErrInvalidClaim, ""},
		{"no hosted domain when required", hd("example.test"), g.IDToken(map[string]any{"hd": nil}), authgate.ErrMissingClaim, ""},
		{"hd of the wrong type", hd("example.test"), g.IDToken(map[string]any{"hd": []string{"example.test"}}), authgate.ErrMissingClaim, ""},
		{"verified email required", verified, g.IDToken(nil), nil, g.Subject()},
		{"unverified email refused", verified, g.IDToken(map[string]any{"email_verified": false}), authgate.ErrInvalidClaim, ""},
		{"email_verified as a string refused", verified, g.IDToken(map[string]any{"email_verified": "true"}), authgate.ErrInvalidClaim, ""},
		{"no email refused", verified, g.IDToken(map[string]any{"email": nil, "email_verified": nil}), authgate.ErrInvalidClaim, ""},
		{"verified email and hd", func(c *google.Config) { verified(c); hd("example.org")(c) }, g.IDToken(nil), authgate.ErrInvalidClaim, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newAuth(t, g, tt.edit)
			p, err := authenticate(a, tt.token)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("Authenticate = %v, want %v", err, tt.wantErr)
			}
			if err == nil && (p.Subject != tt.want || p.Provider != "google" || p.Method != "jwt") {
				t.Errorf("principal = %q/%q/%q, want %q/google/jwt", p.Subject, p.Provider, p.Method, tt.want)
			}
		})
	}
}

func hd(domains ...string) func(*google.Config) {
	return func(c *google.Config) { c.HostedDomains = domains }
}

func verified(c *google.Config) { c.RequireVerifiedEmail = true }

func TestPrincipalEmailOnlyWhenVerified(t *testing.T) {
	g := newAccounts(t)
	a := newAuth(t, g, nil)
	tests := []struct {
		name     string
		verified any
		want     string
	}{
		{"verified", true, "alice@example.test"},
		{"unverified", false, ""},
		{"no email_verified", nil, ""},
		{"a string", "true", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := authenticate(a, g.IDToken(map[string]any{"email_verified": tt.verified}))
			if err != nil {
				t.Fatal(err)
			}
			if p.Email != tt.want || p.Claims.Map()["email"] != "alice@example.test" {
				t.Errorf("Email = %q (claim %v), want %q (claim kept)", p.Email, p.Claims.Map()["email"], tt.want)
			}
		})
	}
}

// A token of another issuer is decided without a fetch.
func TestForeignTokenCostsNoFetch(t *testing.T) {
	g := newAccounts(t)
	a := newAuth(t, g, nil)
	foreign := authtest.NewIssuer(t, authtest.WithNow(clock))
	if _, err := authenticate(a, foreign.Token(nil)); !errors.Is(err, authgate.ErrUnrecognizedCredential) {
		t.Fatalf("Authenticate(foreign) = %v, want ErrUnrecognizedCredential", err)
	}
	if n := g.CertsRequests(); n != 0 {
		t.Errorf("CertsRequests = %d after a foreign token, want 0", n)
	}
	if _, err := authenticate(a, g.IDToken(nil)); err != nil {
		t.Fatal(err)
	}
	if n := g.CertsRequests(); n != 1 {
		t.Errorf("CertsRequests = %d after a Google token, want 1", n)
	}
}

// The scheme-less issuer is Google's quirk: a generic OIDC provider
// configured with Google's issuer does not claim it.
func TestSchemelessIssuerOnlyForGoogle(t *testing.T) {
	g := newAccounts(t)
	o, err := oidc.New(oidc.Config{
		Issuer:       google.Issuer,
		JWKSURL:      g.CertsURL(),
		TokenOptions: providers.TokenOptions{Audience: []string{g.ClientID()}, Now: clock},
		FetchOptions: providers.FetchOptions{HTTPClient: g.Client()},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := o.Verify(context.Background(), g.IDToken(nil)); err != nil {
		t.Fatalf("oidc Verify(https issuer) = %v, want nil", err)
	}
	_, err = o.Verify(context.Background(), g.IDToken(map[string]any{"iss": google.SchemelessIssuer}))
	if !errors.Is(err, authgate.ErrUnrecognizedCredential) {
		t.Fatalf("oidc Verify(scheme-less issuer) = %v, want ErrUnrecognizedCredential", err)
	}
	if got := newAuth(t, g, nil).Describe().Issuers; len(got) != 2 || got[0] != google.Issuer || got[1] != google.SchemelessIssuer {
		t.Errorf("Describe().Issuers = %q, want both Google issuers", got)
	}
}

func TestKeyRotation(t *testing.T) {
	var at atomic.Int64
	at.Store(now.Unix())
	moving := func() time.Time { return time.Unix(at.Load(), 0) }
	g := authtest.Google(t, authtest.WithNow(moving))
	a := newAuth(t, g, func(c *google.Config) { c.Now = moving })
	if _, err := authenticate(a, g.IDToken(nil)); err != nil {
		t.Fatal(err)
	}
	g.Rotate()
	at.Add(int64(providers.DefaultCooldown / time.Second))
	if _, err := authenticate(a, g.IDToken(nil)); err != nil {
		t.Fatalf("Authenticate after rotation = %v", err)
	}
	if n := g.CertsRequests(); n != 2 {
		t.Errorf("CertsRequests = %d, want 2 (one refetch for the new kid)", n)
	}
}

func TestNewErrors(t *testing.T) {
	tests := []struct {
		name string
		cfg  google.Config
		want string
	}{
		{"no audience", google.Config{}, "audience is required"},
		{"upper-case hosted domain", google.Config{HostedDomains: []string{"Example.com"}, TokenOptions: providers.TokenOptions{Audience: []string{"x"}}}, "lower-case domain"},
		{"email as hosted domain", google.Config{HostedDomains: []string{"alice@example.com"}, TokenOptions: providers.TokenOptions{Audience: []string{"x"}}}, "lower-case domain"},
		{"empty hosted domain", google.Config{HostedDomains: []string{""}, TokenOptions: providers.TokenOptions{Audience: []string{"x"}}}, "lower-case domain"},
		{"http certs URL", google.Config{CertsURL: "http://certs.example.com/", TokenOptions: providers.TokenOptions{Audience: []string{"x"}}}, "https"},
		{"HMAC", google.Config{TokenOptions: providers.TokenOptions{Audience: []string{"x"}, Algorithms: []string{"HS256"}}}, "HS256"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := google.New(tt.cfg)
			if err == nil || a != nil {
				t.Fatalf("New = %v, %v; want an error", a, err)
			}
			if !strings.HasPrefix(err.Error(), "google: ") || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("New error = %q, want google: …%s…", err, tt.want)
			}
		})
	}
}
