package oidc_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/auth0"
	"github.com/authgate/authgate/chain"
	"github.com/authgate/authgate/internal/jwttest"
	"github.com/authgate/authgate/keycloak"
	"github.com/authgate/authgate/providers"
	"github.com/authgate/authgate/static"
)

// jwksServer serves one RS256 key at path, counting requests.
func jwksServer(t *testing.T, tls bool, path, kid string, hits *atomic.Int64) *httptest.Server {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if r.URL.Path != path {
			http.NotFound(w, r)
			return
		}
		w.Write(jwttest.JWKS(jwttest.JWK(jwttest.Key("RS256", kid), kid, "RS256")))
	})
	var s *httptest.Server
	if tls {
		s = httptest.NewTLSServer(h)
	} else {
		s = httptest.NewServer(h)
	}
	t.Cleanup(s.Close)
	return s
}

// TestMultiIssuer: chain.Any(auth0, keycloak, oidc, static) routes each
// token to the provider of its exact issuer; a token of an unknown issuer
// is refused with no network request at all, and a token one provider
// rejects is not rescued by another (SECURITY.md#attacks-remote-keys, #attacks-chains).
func TestMultiIssuer(t *testing.T) {
	var a0Hits, kcHits atomic.Int64
	a0 := jwksServer(t, true, "/.well-known/jwks.json", "RS256-auth0", &a0Hits)
	kc := jwksServer(t, false, "/realms/demo/protocol/openid-connect/certs", "RS256-kc", &kcHits)
	op := newIssuer(t, "RS256-op")
	a0Domain := strings.TrimPrefix(a0.URL, "https://")
	clock := func() time.Time { return now }

	auth0Auth, err := auth0.New(auth0.Config{Domain: a0Domain, TokenOptions: providers.TokenOptions{Audience: []string{"https://api.example"}, Now: clock}, FetchOptions: providers.FetchOptions{HTTPClient: a0.Client()}})
	if err != nil {
		t.Fatal(err)
	}
	kcAuth, err := keycloak.New(keycloak.Config{BaseURL: kc.URL, Realm: "demo", ClientID: "orders-api", TokenOptions: providers.TokenOptions{Audience: []string{"https://api.example"}, Now: clock}})
	if err != nil {
		t.Fatal(err)
	}
	oidcAuth := newAuth(t, op.URL, nil)
	secret := []byte(strings.Repeat("s", 32))
	staticAuth, err := static.New(static.Config{
		Keys:   []providers.Key{providers.SecretKey(secret)},
		Issuer: "https://static.example",
		TokenOptions: providers.TokenOptions{
			Algorithms: []string{"HS256"},
			Audience:   []string{"https://api.example"},
			Now:        clock,
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	anyOf := chain.Any(auth0Auth, kcAuth, oidcAuth, staticAuth)
	fetches := func() int64 { return a0Hits.Load() + kcHits.Load() + op.discoveries.Load() + op.keyFetches.Load() }

	kcIss := kc.URL + "/realms/demo"
	a0Iss := "https://" + a0Domain + "/"
	hs := func(iss string) string {
		return jwttest.Token("HS256", "", secret, map[string]any{"iss": iss, "aud": "https://api.example", "sub": "123", "exp": now.Add(time.Minute).Unix()})
	}
	unknown := []string{
		mint("https://attacker.example/", "RS256-op", nil),
		mint("http://169.254.169.254/latest/meta-data/", "RS256-op", nil),
		mint("http://127.0.0.1:6379/", "RS256-op", nil),
		mint(a0Iss[:len(a0Iss)-1], "RS256-auth0", nil), // Auth0 without the trailing slash
		hs(strings.Repeat("x", 4000)),
	}
	for i, tok := range unknown {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Authorization", "Bearer "+tok)
		_, err := anyOf.Authenticate(r)
		if !errors.Is(err, authgate.ErrUnrecognizedCredential) || authgate.StatusCode(err) != http.StatusUnauthorized {
			t.Errorf("unknown issuer %d: Authenticate = %v, want 401 unrecognized", i, err)
		}
	}
	if n := fetches(); n != 0 {
		t.Fatalf("tokens of unknown issuers caused %d requests, want 0", n)
	}

	tests := []struct {
		name, token, provider string
		wantErr               error
	}{
		{"auth0", mint(a0Iss, "RS256-auth0", nil), "auth0", nil},
		{"keycloak", mint(kcIss, "RS256-kc", func(c map[string]any) { c["typ"] = "Bearer" }), "keycloak", nil},
		{"oidc", mint(op.URL, "RS256-op", nil), "oidc", nil},
		{"static", hs("https://static.example"), "static", nil},
		// Mine but invalid is final: the HS256 static provider never sees
		// a token that claims Auth0's issuer.
		{"auth0 issuer, HS256", hs(a0Iss), "", authgate.ErrUnsupportedAlgorithm},
		{"keycloak refresh token", mint(kcIss, "RS256-kc", func(c map[string]any) { c["typ"] = "Refresh" }), "", authgate.ErrInvalidClaim},
		{"oidc token, auth0 key", mint(op.URL, "RS256-auth0", nil), "", authgate.ErrInvalidSignature},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.Header.Set("Authorization", "Bearer "+tc.token)
			p, err := anyOf.Authenticate(r)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) || p != nil {
					t.Fatalf("Authenticate = %v, %v; want %v", p, err, tc.wantErr)
				}
				return
			}
			if err != nil || p.Provider != tc.provider {
				t.Fatalf("Authenticate = %+v, %v; want a principal of %s", p, err, tc.provider)
			}
		})
	}
	if _, err := chain.New(oidcAuth, newAuth(t, op.URL, nil)); err == nil {
		t.Fatal("chain.New with two authenticators of one issuer = nil error")
	}
}
