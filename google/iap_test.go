package google_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/authtest"
	"github.com/authgate/authgate/chain"
	"github.com/authgate/authgate/google"
	"github.com/authgate/authgate/providers"
)

var backend = google.BackendServiceAudience("1071284184436", "4929192873648274104")

func newIAP(t *testing.T, p *authtest.GoogleIAP, edit func(*google.IAPConfig)) *google.Authenticator {
	t.Helper()
	cfg := google.IAPConfig{
		KeysURL:      p.KeysURL(),
		TokenOptions: providers.TokenOptions{Audience: []string{p.Audience()}, Now: clock},
		FetchOptions: providers.FetchOptions{HTTPClient: p.Client()},
	}
	if edit != nil {
		edit(&cfg)
	}
	a, err := google.NewIAP(cfg)
	if err != nil {
		t.Fatalf("google.NewIAP: %v", err)
	}
	return a
}

func withAssertion(values ...string) *http.Request {
	r := httptest.NewRequest("GET", "/", nil)
	for _, v := range values {
		r.Header.Add("x-goog-iap-jwt-assertion", v)
	}
	return r
}

func TestIAPAssertions(t *testing.T) {
	p := authtest.IAP(t, backend, authtest.WithNow(clock))
	g := newAccounts(t)
	app := google.AppEngineAudience("1071284184436", "mineral-minutia-820")
	tests := []struct {
		name    string
		edit    func(*google.IAPConfig)
		req     *http.Request
		wantErr error
	}{
		{"assertion", nil, withAssertion(p.Assertion(nil)), nil},
		{"with access levels", nil, withAssertion(p.Assertion(map[string]any{"google": map[string]any{"access_levels": []string{"accessPolicies/1/accessLevels/corp"}}})), nil},
		{"no header", nil, withAssertion(), authgate.ErrNoCredentials},
		{"bearer token only", nil, func() *http.Request {
			r := withAssertion()
			r.Header.Set("Authorization", "Bearer "+p.Assertion(nil))
			return r
		}(), authgate.ErrNoCredentials},
		{"two headers", nil, withAssertion(p.Assertion(nil), p.Assertion(nil)), authgate.ErrMalformedRequest},
		{"empty header", nil, withAssertion(""), authgate.ErrMalformedRequest},
		{"another backend", nil, withAssertion(p.Assertion(map[string]any{"aud": google.BackendServiceAudience("1071284184436", "1")})), authgate.ErrInvalidAudience},
		{"App Engine assertion for a backend service", nil, withAssertion(p.Assertion(map[string]any{"aud": app})), authgate.ErrInvalidAudience},
		{"App Engine audience", func(c *google.IAPConfig) { c.Audience = []string{app} }, withAssertion(p.Assertion(map[string]any{"aud": app})), nil},
		{"expired", nil, withAssertion(p.Assertion(map[string]any{"iat": now.Add(-15 * time.Minute)})), authgate.ErrTokenExpired},
		{"a Google ID token in the header", nil, withAssertion(g.IDToken(map[string]any{"aud": backend})), authgate.ErrUnrecognizedCredential},
		{"RS256 header", nil, withAssertion(p.AssertionWithHeader(map[string]any{"alg": "RS256"}, nil)), authgate.ErrUnsupportedAlgorithm},
		{"hosted domain", func(c *google.IAPConfig) { c.HostedDomains = []string{"example.test"} }, withAssertion(p.Assertion(nil)), nil},
		{"other hosted domain", func(c *google.IAPConfig) { c.HostedDomains = []string{"example.org"} }, withAssertion(p.Assertion(nil)), authgate.ErrInvalidClaim},
		{"no hosted domain", func(c *google.IAPConfig) { c.HostedDomains = []string{"example.test"} }, withAssertion(p.Assertion(map[string]any{"hd": nil})), authgate.ErrMissingClaim},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newIAP(t, p, tt.edit)
			pr, err := a.Authenticate(tt.req)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("Authenticate = %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if pr.Provider != "iap" || pr.Method != google.MethodIAP || pr.Email != "alice@example.test" ||
				pr.Subject != "accounts.google.com:110248495921238986420" || pr.Issuer != google.IAPIssuer {
				t.Errorf("principal = %+v", pr)
			}
		})
	}
}

func TestIAPAccessLevelsAsRoles(t *testing.T) {
	p := authtest.IAP(t, backend, authtest.WithNow(clock))
	a := newIAP(t, p, func(c *google.IAPConfig) { c.RolesClaim = "google.access_levels" })
	level := "accessPolicies/1/accessLevels/corp"
	pr, err := a.Authenticate(withAssertion(p.Assertion(map[string]any{"google": map[string]any{"access_levels": []string{level}}})))
	if err != nil {
		t.Fatal(err)
	}
	if !pr.HasRole(level) {
		t.Errorf("Roles = %q, want %q", pr.Roles, level)
	}
}

// Requests without the IAP header, and assertions of another issuer, cost
// no key fetch.
func TestIAPNotMineCostsNoFetch(t *testing.T) {
	p := authtest.IAP(t, backend, authtest.WithNow(clock))
	g := newAccounts(t)
	a := newIAP(t, p, nil)
	for _, r := range []*http.Request{withAssertion(), withAssertion(g.IDToken(nil))} {
		if _, err := a.Authenticate(r); !errors.Is(err, authgate.ErrNoCredentials) && !errors.Is(err, authgate.ErrUnrecognizedCredential) {
			t.Fatalf("Authenticate = %v, want not mine", err)
		}
	}
	if n := p.KeysRequests(); n != 0 {
		t.Errorf("KeysRequests = %d, want 0", n)
	}
}

// An IAP authenticator describes the header it reads, so a chain routes
// the assertion to it and a bearer token to the ID-token provider, and
// challenges with both schemes.
func TestIAPInChain(t *testing.T) {
	p := authtest.IAP(t, backend, authtest.WithNow(clock))
	g := newAccounts(t)
	iap, id := newIAP(t, p, nil), newAuth(t, g, nil)
	if s := iap.Describe().Scheme; s != `IAP header="X-Goog-IAP-JWT-Assertion"` {
		t.Errorf("Describe().Scheme = %q", s)
	}
	c, err := chain.New(id, iap)
	if err != nil {
		t.Fatalf("chain.New: %v", err)
	}
	pr, err := c.Authenticate(withAssertion(p.Assertion(nil)))
	if err != nil || pr.Provider != "iap" {
		t.Fatalf("chain(IAP header) = %v, %v; want the iap principal", pr, err)
	}
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Authorization", "Bearer "+g.IDToken(nil))
	if pr, err := c.Authenticate(r); err != nil || pr.Provider != "google" {
		t.Fatalf("chain(bearer) = %v, %v; want the google principal", pr, err)
	}
	both := withAssertion(p.Assertion(nil))
	both.Header.Set("Authorization", "Bearer "+g.IDToken(nil))
	if _, err := c.Authenticate(both); !errors.Is(err, authgate.ErrMalformedRequest) {
		t.Errorf("chain(both credentials) = %v, want ErrMalformedRequest (ambiguous)", err)
	}
	_, err = c.Authenticate(httptest.NewRequest("GET", "/", nil))
	if ch := authgate.Challenge(err, "api"); !strings.Contains(ch, "Bearer") || !strings.Contains(ch, "IAP") {
		t.Errorf("Challenge = %q, want Bearer and IAP", ch)
	}
}

func TestNewIAPErrors(t *testing.T) {
	tests := []struct {
		name string
		aud  []string
		hd   []string
		want string
	}{
		{"no audience", nil, nil, "audience is required"},
		{"project id instead of number", []string{"/projects/my-project/apps/my-project"}, nil, "/projects/NUMBER"},
		{"OAuth client ID", []string{"1-abc.apps.googleusercontent.com"}, nil, "/projects/NUMBER"},
		{"nothing below the project", []string{"/projects/1071284184436/"}, nil, "/projects/NUMBER"},
		{"bad hosted domain", []string{backend}, []string{"EXAMPLE.com"}, "lower-case domain"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := google.NewIAP(google.IAPConfig{HostedDomains: tt.hd, TokenOptions: providers.TokenOptions{Audience: tt.aud}})
			if err == nil || a != nil {
				t.Fatalf("NewIAP = %v, %v; want an error", a, err)
			}
			if !strings.HasPrefix(err.Error(), "google: ") || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("NewIAP error = %q, want google: …%s…", err, tt.want)
			}
		})
	}
}
