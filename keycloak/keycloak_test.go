package keycloak_test

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"errors"
	"math/big"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/internal/jwttest"
	"github.com/authgate/authgate/keycloak"
	"github.com/authgate/authgate/providers"
)

var now = time.Unix(1_800_000_000, 0)

// server is a Keycloak stand-in with the real server's paths and shapes
// (the paths and shapes a real Keycloak server serves): GET /realms/<realm> (realm JSON with the bare base64
// public_key and tokens-not-before) and the certs JWKS, whose signing key
// carries x5c/x5t/x5t#S256 and beside which sits an RSA-OAEP "enc" key.
type server struct {
	*httptest.Server
	prefix              string
	realmHits, certHits atomic.Int64
	notBefore           atomic.Int64
	down, realmDown     atomic.Bool
}

const realm = "demo"

func newServer(t *testing.T, prefix string) *server {
	t.Helper()
	s := &server{prefix: prefix}
	sig := jwttest.Key("RS256", "kc-sig").(*rsa.PrivateKey)
	enc := jwttest.Key("RS256", "kc-enc").(*rsa.PrivateKey)
	spki, _ := x509.MarshalPKIXPublicKey(&sig.PublicKey)
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.down.Load() {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		base := s.URL + prefix + "/realms/" + realm
		switch r.URL.Path {
		case prefix + "/realms/" + realm:
			s.realmHits.Add(1)
			if s.realmDown.Load() {
				http.Error(w, "down", http.StatusInternalServerError)
				return
			}
			w.Write(jwttest.JSON(map[string]any{
				"realm": realm, "public_key": base64.StdEncoding.EncodeToString(spki),
				"token-service": base + "/protocol/openid-connect", "account-service": base + "/account",
				"tokens-not-before": s.notBefore.Load(),
			}))
		case prefix + "/realms/" + realm + "/protocol/openid-connect/certs":
			s.certHits.Add(1)
			w.Write(jwttest.JWKS(certJWK(t, sig, "kc-sig", "RS256", "sig"), certJWK(t, enc, "kc-enc", "RSA-OAEP", "enc")))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *server) issuer() string { return s.URL + s.prefix + "/realms/" + realm }

// certJWK is a Keycloak certs entry: the JWK with x5c, x5t and x5t#S256.
func certJWK(t *testing.T, k *rsa.PrivateKey, kid, alg, use string) map[string]any {
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: realm},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * 365 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	s1, s256 := sha1.Sum(der), sha256.Sum256(der)
	m := jwttest.JWK(k, kid, alg)
	m["use"] = use
	m["x5c"] = []string{base64.StdEncoding.EncodeToString(der)}
	m["x5t"] = jwttest.B64(s1[:])
	m["x5t#S256"] = jwttest.B64(s256[:])
	return m
}

// accessToken is a Keycloak user access token in the server's shape.
func accessToken(iss string, edit func(map[string]any)) string {
	c := map[string]any{
		"exp": now.Add(5 * time.Minute).Unix(), "iat": now.Add(-time.Second).Unix(),
		"jti": "onrtac:3d1c5f9e", "iss": iss, "aud": []string{"orders-api", "account"},
		"sub": "f3b0c2a8-6c1e-4c1b-9f4e-2d6c1a7b9e10", "typ": "Bearer", "azp": "frontend",
		"sid": "8a1d2f0e-1b7c-4e8a-9c3d-5e6f7a8b9c0d", "acr": "1",
		"allowed-origins": []string{"https://app.example.com"},
		"realm_access":    map[string]any{"roles": []string{"offline_access", "default-roles-demo", "admin"}},
		"resource_access": map[string]any{
			"orders-api": map[string]any{"roles": []string{"orders:write", "admin"}},
			"account":    map[string]any{"roles": []string{"manage-account"}},
		},
		"scope": "openid email profile", "email_verified": true,
		"preferred_username": "ada", "email": "ada@example.com",
	}
	if edit != nil {
		edit(c)
	}
	return jwttest.Sign("RS256", jwttest.Key("RS256", "kc-sig"), []byte(`{"alg":"RS256","typ":"JWT","kid":"kc-sig"}`), jwttest.JSON(c))
}

func newAuth(t *testing.T, s *server, edit func(*keycloak.Config)) *keycloak.Authenticator {
	t.Helper()
	cfg := keycloak.Config{BaseURL: s.URL, Realm: realm, ClientID: "orders-api", TokenOptions: providers.TokenOptions{Now: func() time.Time { return now }}}
	if edit != nil {
		edit(&cfg)
	}
	a, err := keycloak.New(cfg)
	if err != nil {
		t.Fatalf("keycloak.New: %v", err)
	}
	return a
}

func TestNew(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  keycloak.Config
	}{
		{"no base", keycloak.Config{Realm: "r", ClientID: "c"}},
		{"http base", keycloak.Config{BaseURL: "http://sso.example", Realm: "r", ClientID: "c"}},
		{"query", keycloak.Config{BaseURL: "https://sso.example?x=1", Realm: "r", ClientID: "c"}},
		{"no realm", keycloak.Config{BaseURL: "https://sso.example", ClientID: "c"}},
		{"realm with slash", keycloak.Config{BaseURL: "https://sso.example", Realm: "a/b", ClientID: "c"}},
		{"no client or audience", keycloak.Config{BaseURL: "https://sso.example", Realm: "r"}},
		{"HS512", keycloak.Config{BaseURL: "https://sso.example", Realm: "r", ClientID: "c", TokenOptions: providers.TokenOptions{Algorithms: []string{"HS512"}}}},
		{"not-before refresh", keycloak.Config{BaseURL: "https://sso.example", Realm: "r", ClientID: "c", TokensNotBefore: true, TokensNotBeforeRefresh: time.Second}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := keycloak.New(tc.cfg); err == nil || !strings.HasPrefix(err.Error(), "keycloak: ") {
				t.Fatalf("keycloak.New = %v, want an error starting with %q", err, "keycloak: ")
			}
		})
	}
	if got := keycloak.Issuer("https://sso.example/", "demo", true); got != "https://sso.example/auth/realms/demo" {
		t.Fatalf("Issuer = %q", got)
	}
}

func TestAccessToken(t *testing.T) {
	s := newServer(t, "")
	a := newAuth(t, s, nil)
	r := httptest.NewRequest("GET", "/orders", nil)
	r.Header.Set("Authorization", "Bearer "+accessToken(s.issuer(), nil))
	p, err := a.Authenticate(r)
	if err != nil {
		t.Fatalf("Authenticate = %v", err)
	}
	if want := []string{"offline_access", "default-roles-demo", "admin", "orders:write"}; !slices.Equal(p.Roles, want) {
		t.Errorf("Roles = %q, want %q (realm roles, then this client's, without the account client's)", p.Roles, want)
	}
	if p.Name != "ada" || p.Email != "ada@example.com" || p.Provider != "keycloak" {
		t.Errorf("Name, Email, Provider = %q, %q, %q", p.Name, p.Email, p.Provider)
	}
	if !slices.Equal(p.Scopes, []string{"openid", "email", "profile"}) {
		t.Errorf("Scopes = %q", p.Scopes)
	}
	named := accessToken(s.issuer(), func(c map[string]any) { c["name"] = "Ada Lovelace" })
	if p, err := a.Verify(t.Context(), named); err != nil || p.Name != "Ada Lovelace" {
		t.Errorf("Verify(token with name) = %v, %v; want Name from \"name\"", p, err)
	}
	if s.realmHits.Load() != 0 {
		t.Errorf("realm JSON fetched without UseRealmPublicKey or TokensNotBefore")
	}
}

// TestProfiles covers SECURITY.md#attacks-providers for Keycloak with the server's shapes.
func TestProfiles(t *testing.T) {
	s := newServer(t, "")
	byClient := newAuth(t, s, nil)
	byAudience := newAuth(t, s, func(c *keycloak.Config) { c.Audience = []string{"https://orders.example.com"} })
	other := strings.Replace(s.issuer(), "/realms/demo", "/realms/other", 1)
	service := func(c map[string]any) {
		c["aud"] = "account"
		c["azp"] = "orders-api"
		c["preferred_username"] = "service-account-orders-api"
		c["client_id"] = "orders-api"
		delete(c, "sid")
	}
	encToken := jwttest.Sign("RS256", jwttest.Key("RS256", "kc-enc"), []byte(`{"alg":"RS256","typ":"JWT","kid":"kc-enc"}`),
		jwttest.JSON(map[string]any{"iss": s.issuer(), "sub": "x", "typ": "Bearer", "aud": "orders-api", "exp": now.Add(time.Minute).Unix()}))
	refresh := jwttest.Token("HS512", "hs", jwttest.Key("HS512", "kc"), map[string]any{"iss": s.issuer(), "sub": "x", "typ": "Refresh", "aud": s.issuer(), "exp": now.Add(time.Minute).Unix()})
	tests := []struct {
		name    string
		auth    *keycloak.Authenticator
		token   string
		wantErr error // nil: accepted
	}{
		{"aud names the client", byClient, accessToken(s.issuer(), nil), nil},
		{"default aud, azp is the client", byClient, accessToken(s.issuer(), func(c map[string]any) { c["aud"] = "account"; c["azp"] = "orders-api" }), nil},
		{"no aud, azp is the client", byClient, accessToken(s.issuer(), func(c map[string]any) { delete(c, "aud"); c["azp"] = "orders-api" }), nil},
		{"service account", byClient, accessToken(s.issuer(), service), nil},
		{"default aud, other azp", byClient, accessToken(s.issuer(), func(c map[string]any) { c["aud"] = "account" }), authgate.ErrInvalidAudience},
		{"audience configured: default aud", byAudience, accessToken(s.issuer(), func(c map[string]any) { c["aud"] = "account"; c["azp"] = "orders-api" }), authgate.ErrInvalidAudience},
		{"audience configured: mapped aud", byAudience, accessToken(s.issuer(), func(c map[string]any) { c["aud"] = []string{"https://orders.example.com", "account"} }), nil},
		{"ID token", byClient, accessToken(s.issuer(), func(c map[string]any) { c["typ"] = "ID"; c["aud"] = "orders-api" }), authgate.ErrInvalidClaim},
		{"refresh token, RS256", byClient, accessToken(s.issuer(), func(c map[string]any) { c["typ"] = "Refresh" }), authgate.ErrInvalidClaim},
		{"logout token", byClient, accessToken(s.issuer(), func(c map[string]any) { c["typ"] = "Logout" }), authgate.ErrInvalidClaim},
		{"no typ", byClient, accessToken(s.issuer(), func(c map[string]any) { delete(c, "typ") }), authgate.ErrInvalidClaim},
		{"refresh token, HS512", byClient, refresh, authgate.ErrUnsupportedAlgorithm},
		{"signed with the enc key", byClient, encToken, authgate.ErrInvalidSignature},
		{"legacy issuer", byClient, accessToken(strings.Replace(s.issuer(), "/realms", "/auth/realms", 1), nil), authgate.ErrUnrecognizedCredential},
		{"other realm", byClient, accessToken(other, nil), authgate.ErrUnrecognizedCredential},
		{"issuer with slash", byClient, accessToken(s.issuer()+"/", nil), authgate.ErrUnrecognizedCredential},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := tc.auth.Verify(t.Context(), tc.token)
			if (tc.wantErr == nil) != (err == nil) || (tc.wantErr != nil && !errors.Is(err, tc.wantErr)) {
				t.Fatalf("Verify = %v, %v; want %v", p, err, tc.wantErr)
			}
		})
	}
}

func TestLegacyAuthPrefix(t *testing.T) {
	s := newServer(t, "/auth")
	a := newAuth(t, s, func(c *keycloak.Config) { c.LegacyAuthPrefix = true })
	if _, err := a.Verify(t.Context(), accessToken(s.issuer(), nil)); err != nil {
		t.Fatalf("Verify(legacy issuer) = %v", err)
	}
	modern := strings.Replace(s.issuer(), "/auth/realms", "/realms", 1)
	if _, err := a.Verify(t.Context(), accessToken(modern, nil)); !errors.Is(err, authgate.ErrUnrecognizedCredential) {
		t.Fatalf("Verify(modern issuer) against a legacy configuration = %v, want ErrUnrecognizedCredential", err)
	}
}

func TestUseRealmPublicKey(t *testing.T) {
	s := newServer(t, "")
	a := newAuth(t, s, func(c *keycloak.Config) { c.UseRealmPublicKey = true })
	if err := a.Prefetch(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Verify(t.Context(), accessToken(s.issuer(), nil)); err != nil {
		t.Fatalf("Verify with the realm public key = %v", err)
	}
	other := jwttest.Sign("RS256", jwttest.Key("RS256", "kc-enc"), []byte(`{"alg":"RS256","kid":"kc-sig"}`),
		jwttest.JSON(map[string]any{"iss": s.issuer(), "sub": "x", "typ": "Bearer", "aud": "orders-api", "exp": now.Add(time.Minute).Unix()}))
	if _, err := a.Verify(t.Context(), other); !errors.Is(err, authgate.ErrInvalidSignature) {
		t.Fatalf("Verify(token of another key) = %v, want ErrInvalidSignature", err)
	}
	if s.certHits.Load() != 0 || s.realmHits.Load() != 1 {
		t.Fatalf("certs, realm fetches = %d, %d; want 0, 1", s.certHits.Load(), s.realmHits.Load())
	}
}

func TestTokensNotBefore(t *testing.T) {
	s := newServer(t, "")
	clock := now
	var mu atomic.Pointer[time.Time]
	mu.Store(&clock)
	a := newAuth(t, s, func(c *keycloak.Config) {
		c.TokensNotBefore = true
		c.Now = func() time.Time { return *mu.Load() }
	})
	tok := accessToken(s.issuer(), nil)
	if _, err := a.Verify(t.Context(), tok); err != nil {
		t.Fatalf("Verify with tokens-not-before 0 = %v", err)
	}
	// An administrator pushes a revocation: tokens-not-before = now.
	s.notBefore.Store(now.Unix())
	later := now.Add(61 * time.Second)
	mu.Store(&later)
	a.Verify(t.Context(), tok) // starts the refresh
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, err := a.Verify(t.Context(), tok)
		if errors.Is(err, authgate.ErrRevoked) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Verify after tokens-not-before moved = %v, want ErrRevoked", err)
		}
		time.Sleep(time.Millisecond)
	}
	if _, err := a.Verify(t.Context(), accessToken(s.issuer(), func(c map[string]any) { c["iat"] = now.Add(time.Second).Unix() })); err != nil {
		t.Fatalf("Verify(token issued after tokens-not-before) = %v", err)
	}
	if _, err := a.Verify(t.Context(), accessToken(s.issuer(), func(c map[string]any) { delete(c, "iat") })); !errors.Is(err, authgate.ErrRevoked) {
		t.Fatalf("Verify(token without iat) = %v, want ErrRevoked", err)
	}

	// Keys available, realm data never read: 503, not accepted.
	cold := newServer(t, "")
	cold.realmDown.Store(true)
	c := newAuth(t, cold, func(c *keycloak.Config) { c.TokensNotBefore = true })
	if _, err := c.Verify(t.Context(), accessToken(cold.issuer(), nil)); !errors.Is(err, authgate.ErrUnavailable) {
		t.Fatalf("Verify with the realm never read = %v, want ErrUnavailable", err)
	}
	if cold.certHits.Load() != 1 {
		t.Fatalf("certs fetched %d times, want 1", cold.certHits.Load())
	}
	if err := c.Prefetch(t.Context()); !errors.Is(err, authgate.ErrUnavailable) {
		t.Fatalf("Prefetch with the realm down = %v, want ErrUnavailable", err)
	}
	// Ready says the same without a fetch: keys held, realm document not.
	certs := cold.certHits.Load()
	if err := c.Ready(); !errors.Is(err, authgate.ErrUnavailable) || !strings.Contains(err.Error(), "document") {
		t.Fatalf("Ready with the realm never read = %v, want ErrUnavailable naming the document", err)
	}
	cold.realmDown.Store(false)
	if err := c.Prefetch(t.Context()); err != nil {
		t.Fatalf("Prefetch with the realm back = %v", err)
	}
	if err := c.Ready(); err != nil {
		t.Fatalf("Ready with keys and realm document held = %v", err)
	}
	if n := cold.certHits.Load() - certs; n > 1 {
		t.Fatalf("Ready fetched certs (%d fetches)", n)
	}
}

// TestCacheHitStillChecksTokensNotBefore: a cached token is refused as soon
// as the realm's tokens-not-before moves past its iat; the cache saves the
// signature check, never the revocation.
func TestCacheHitStillChecksTokensNotBefore(t *testing.T) {
	s := newServer(t, "")
	var clock atomic.Pointer[time.Time]
	clock.Store(&now)
	var validated atomic.Int64
	a := newAuth(t, s, func(c *keycloak.Config) {
		c.TokensNotBefore = true
		c.CacheSize, c.CacheTTL = 100, 5*time.Minute
		c.Now = func() time.Time { return *clock.Load() }
		c.Validate = func(*providers.Token) error { validated.Add(1); return nil }
	})
	tok := accessToken(s.issuer(), nil)
	for i := range 2 {
		if _, err := a.Verify(t.Context(), tok); err != nil {
			t.Fatalf("Verify #%d = %v", i+1, err)
		}
	}
	if n := validated.Load(); n != 1 {
		t.Fatalf("Validate ran %d times for two presentations, want 1 (the second is a cache hit)", n)
	}
	s.notBefore.Store(now.Unix())
	later := now.Add(61 * time.Second)
	clock.Store(&later)
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, err := a.Verify(t.Context(), tok)
		if errors.Is(err, authgate.ErrRevoked) {
			break
		}
		if err != nil || time.Now().After(deadline) {
			t.Fatalf("Verify(cached token) after tokens-not-before moved = %v, want ErrRevoked", err)
		}
		time.Sleep(time.Millisecond)
	}
	if n := validated.Load(); n != 1 {
		t.Fatalf("Validate ran %d times, want 1: the refusal came from a cache hit", n)
	}
}
