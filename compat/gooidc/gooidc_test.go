package gooidc_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	oidc "github.com/coreos/go-oidc/v3/oidc"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/authtest"
	"github.com/authgate/authgate/compat/gooidc"
	"github.com/authgate/authgate/providers"
)

// newProvider is what a go-oidc user already has: a provider that
// discovered iss.
func newProvider(t *testing.T, iss *authtest.Issuer) *oidc.Provider {
	t.Helper()
	p, err := oidc.NewProvider(oidc.ClientContext(context.Background(), iss.Client()), iss.Issuer())
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func options() providers.TokenOptions {
	return providers.TokenOptions{Audience: []string{authtest.DefaultAudience}}
}

func bearer(token string) *http.Request {
	r := httptest.NewRequest("GET", "/orders", nil)
	r.Header.Set("Authorization", "Bearer "+token)
	return r
}

func TestNoSecondDiscovery(t *testing.T) {
	var clock atomic.Int64
	clock.Store(time.Now().UnixNano())
	now := func() time.Time { return time.Unix(0, clock.Load()) }
	iss := authtest.NewIssuer(t, authtest.WithNow(now))
	provider := newProvider(t, iss)
	if n := iss.DiscoveryRequests(); n != 1 {
		t.Fatalf("go-oidc made %d discovery requests, want 1", n)
	}
	opts := options()
	opts.Now = now
	auth, err := gooidc.New(gooidc.Config{Provider: provider, TokenOptions: opts})
	if err != nil {
		t.Fatal(err)
	}
	if n := iss.JWKSRequests(); n != 0 {
		t.Fatalf("New made %d key set requests, want none", n)
	}

	p, err := auth.Authenticate(bearer(iss.Token(nil)))
	if err != nil {
		t.Fatalf("Authenticate = %v, want accepted", err)
	}
	if p.Subject != iss.Subject() || p.Issuer != iss.Issuer() || p.Provider != "oidc" {
		t.Errorf("principal = %s %s %s, want oidc %s %s", p.Provider, p.Issuer, p.Subject, iss.Issuer(), iss.Subject())
	}

	// A rotation is authgate's key manager's business: it refetches the
	// key set, never the discovery document.
	iss.Rotate()
	clock.Add(int64(providers.DefaultCooldown + time.Second))
	if _, err := auth.Authenticate(bearer(iss.Token(nil))); err != nil {
		t.Fatalf("Authenticate(token of a rotated key) = %v, want accepted", err)
	}

	// A token of another issuer is not this provider's, and costs nothing.
	other := authtest.NewIssuer(t)
	if _, err := auth.Authenticate(bearer(other.Token(nil))); !errors.Is(err, authgate.ErrUnrecognizedCredential) {
		t.Errorf("Authenticate(token of another issuer) = %v, want ErrUnrecognizedCredential", err)
	}
	if n := iss.DiscoveryRequests(); n != 1 {
		t.Errorf("the discovery document got %d requests, want 1 (go-oidc's)", n)
	}
	if n := iss.JWKSRequests(); n != 2 {
		t.Errorf("the key set got %d requests, want 2 (authgate's first fetch and its refetch)", n)
	}
}

// Prefetch warms authgate's keys from the jwks_uri go-oidc discovered.
func TestPrefetch(t *testing.T) {
	iss := authtest.NewIssuer(t)
	auth, err := gooidc.New(gooidc.Config{Provider: newProvider(t, iss), TokenOptions: options()})
	if err != nil {
		t.Fatal(err)
	}
	if err := auth.Prefetch(context.Background()); err != nil {
		t.Fatal(err)
	}
	if d, k := iss.DiscoveryRequests(), iss.JWKSRequests(); d != 1 || k != 1 {
		t.Errorf("requests: discovery %d, key set %d; want 1, 1", d, k)
	}
}

// The token checks are authgate's: what oidc.New refuses, New refuses.
func TestChecksAreAuthgates(t *testing.T) {
	iss := authtest.NewIssuer(t)
	auth, err := gooidc.New(gooidc.Config{Provider: newProvider(t, iss), TokenOptions: options()})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		token   string
		wantErr error
	}{
		{"wrong audience", iss.Token(map[string]any{"aud": "another-api"}), authgate.ErrInvalidAudience},
		{"expired", iss.Token(map[string]any{"iat": 999_999_000, "exp": 1_000_000_000}), authgate.ErrTokenExpired},
		{"string exp", iss.Token(map[string]any{"exp": "9999999999"}), authgate.ErrInvalidClaim},
		{"unknown crit", iss.TokenWithHeader(map[string]any{"crit": []string{"exp"}, "exp": 1}, nil), authgate.ErrUnsupportedAlgorithm},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := auth.Authenticate(bearer(tt.token)); !errors.Is(err, tt.wantErr) {
				t.Fatalf("Authenticate = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

// discoveryServer serves doc (with %s standing for its own URL) as a
// discovery document.
func discoveryServer(t *testing.T, doc string) *httptest.Server {
	t.Helper()
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, strings.ReplaceAll(doc, "%s", srv.URL))
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestNewErrors(t *testing.T) {
	ctx := context.Background()
	discovered := func(doc string) *oidc.Provider {
		srv := discoveryServer(t, doc)
		p, err := oidc.NewProvider(ctx, srv.URL)
		if err != nil {
			t.Fatalf("go-oidc refused the document: %v", err)
		}
		return p
	}
	iss := authtest.NewIssuer(t)
	configured := (&oidc.ProviderConfig{IssuerURL: iss.Issuer(), JWKSURL: iss.JWKSURL()}).NewProvider(ctx)
	tests := []struct {
		name    string
		cfg     gooidc.Config
		wantErr string
	}{
		{"zero", gooidc.Config{}, "gooidc: a go-oidc provider is required"},
		{"provider without document", gooidc.Config{Provider: configured, TokenOptions: options()},
			"gooidc: the provider has no discovery document"},
		{"no jwks_uri", gooidc.Config{Provider: discovered(`{"issuer":"%s"}`), TokenOptions: options()},
			`gooidc: discovery document has no "jwks_uri" string`},
		{"empty jwks_uri", gooidc.Config{Provider: discovered(`{"issuer":"%s","jwks_uri":""}`), TokenOptions: options()},
			`gooidc: discovery document has no "jwks_uri" string`},
		{"case-variant issuer", gooidc.Config{
			Provider:     discovered(`{"Issuer":"https://evil.example","issuer":"%s","jwks_uri":"%s/jwks"}`),
			TokenOptions: options()},
			"gooidc: discovery document: "},
		{"duplicate jwks_uri", gooidc.Config{
			Provider:     discovered(`{"issuer":"%s","jwks_uri":"https://evil.example/jwks","jwks_uri":"%s/jwks"}`),
			TokenOptions: options()},
			"gooidc: discovery document: "},
		{"plain http jwks_uri off loopback", gooidc.Config{
			Provider:     discovered(`{"issuer":"%s","jwks_uri":"http://keys.example.com/jwks"}`),
			TokenOptions: options()},
			"oidc: "},
		{"no audience", gooidc.Config{Provider: newProvider(t, iss)}, "oidc: an audience is required"},
		{"HMAC", gooidc.Config{Provider: newProvider(t, iss), TokenOptions: providers.TokenOptions{
			Audience: []string{"api"}, Algorithms: []string{"HS256"}}}, "oidc: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			auth, err := gooidc.New(tt.cfg)
			if err == nil || !strings.HasPrefix(err.Error(), tt.wantErr) {
				t.Fatalf("New = %v, %v, want an error starting %q", auth, err, tt.wantErr)
			}
			if strings.Contains(err.Error(), "evil") {
				t.Errorf("error %q repeats a value of the document", err)
			}
		})
	}
}
