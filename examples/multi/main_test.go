package main

import (
	"context"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authgate/authgate/authtest"
	"github.com/authgate/authgate/internal/jwttest"
)

// TestMulti runs Auth0-, Keycloak-, Entra ID-, Cognito- and GitHub
// Actions-shaped key servers on loopback and sends each kind of credential
// to the one route group.
func TestMulti(t *testing.T) {
	a0Key := jwttest.Key("RS256", "auth0").(*rsa.PrivateKey)
	kcKey := jwttest.Key("RS256", "keycloak").(*rsa.PrivateKey)
	var fetches atomic.Int32
	mux := http.NewServeMux()
	mux.HandleFunc("/.well-known/jwks.json", func(w http.ResponseWriter, r *http.Request) {
		fetches.Add(1)
		w.Write(jwttest.JWKS(jwttest.JWK(&a0Key.PublicKey, "a0", "RS256")))
	})
	mux.HandleFunc("/realms/shop/protocol/openid-connect/certs", func(w http.ResponseWriter, r *http.Request) {
		fetches.Add(1)
		w.Write(jwttest.JWKS(jwttest.JWK(&kcKey.PublicKey, "kc", "RS256")))
	})
	ts := httptest.NewTLSServer(mux)
	defer ts.Close()
	host := strings.TrimPrefix(ts.URL, "https://")

	idp := authtest.Entra(t)
	pool := authtest.Cognito(t, "eu-west-1_AbCdEfGhI", authtest.WithClientID("57cbishk4j24pabc1234567890"))
	gh := authtest.GitHub(t, authtest.WithAudience("https://orders.example.com"))

	srv, err := newServer(context.Background(), settings{
		Auth0Domain: host, Auth0Audience: "https://api.example.com",
		KeycloakURL: ts.URL, KeycloakRealm: "shop", KeycloakClientID: "orders-api",
		EntraTenant: idp.TenantID(), EntraAudience: idp.Audience(), EntraAuthority: idp.URL(),
		CognitoPool: pool.UserPoolID(), CognitoClientID: pool.ClientID(), CognitoBaseURL: pool.BaseURL(),
		GitHubRepository: "octo-org/octo-repo", GitHubAudience: "https://orders.example.com", GitHubJWKSURL: gh.JWKSURL(),
		GitHubClient: gh.Client(),
		KeyStore:     "sqlite:" + filepath.Join(t.TempDir(), "keys.db"), HTTPClient: ts.Client(),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.close()

	now := time.Now().Unix()
	auth0Token := jwttest.Token("RS256", "a0", a0Key, map[string]any{
		"iss": "https://" + host + "/", "aud": []string{"https://api.example.com", "https://" + host + "/userinfo"},
		"sub": "auth0|123", "exp": now + 300, "iat": now, "scope": "orders:read",
	})
	kcToken := jwttest.Token("RS256", "kc", kcKey, map[string]any{
		"iss": ts.URL + "/realms/shop", "aud": "account", "azp": "orders-api", "typ": "Bearer",
		"sub": "123", "exp": now + 300, "iat": now, "realm_access": map[string]any{"roles": []string{"clerk"}},
	})
	foreign := jwttest.Token("RS256", "x", a0Key, map[string]any{"iss": "https://attacker.example/", "sub": "1", "exp": now + 300})

	entraKeys, poolKeys, ghKeys := idp.KeysRequests(), pool.JWKSRequests(), gh.JWKSRequests()
	for _, tt := range []struct {
		name, header, value string
		want                int
		caller              string
	}{
		{"auth0", "Authorization", "Bearer " + auth0Token, 200, "auth0:auth0|123"},
		{"keycloak", "Authorization", "Bearer " + kcToken, 200, "keycloak:123"},
		{"entra", "Authorization", "Bearer " + idp.Token(nil), 200, "entra:" + idp.Subject()},
		{"cognito", "Authorization", "Bearer " + pool.AccessToken(nil), 200, "cognito:" + pool.Subject()},
		{"github main", "Authorization", "Bearer " + gh.Token(nil), 200, ""},
		{"github other branch", "Authorization", "Bearer " + gh.Token(map[string]any{"ref": "refs/heads/feature"}), 401, ""},
		{"cognito id token", "Authorization", "Bearer " + pool.IDToken(nil), 401, ""},
		{"api key", "X-API-Key", srv.apiKey, 200, "apikey:svc-reports"},
		{"unknown issuer", "Authorization", "Bearer " + foreign, 401, ""},
		{"nothing", "", "", 401, ""},
	} {
		before := fetches.Load()
		r := httptest.NewRequest("GET", "/api/orders", nil)
		if tt.header != "" {
			r.Header.Set(tt.header, tt.value)
		}
		w := httptest.NewRecorder()
		srv.handler.ServeHTTP(w, r)
		var body map[string]any
		json.Unmarshal(w.Body.Bytes(), &body)
		if w.Code != tt.want || (tt.caller != "" && body["caller"] != tt.caller) {
			t.Errorf("%s: %d %s, want %d caller %q", tt.name, w.Code, w.Body, tt.want, tt.caller)
		}
		if tt.name == "unknown issuer" && fetches.Load() != before {
			t.Errorf("a token of an unknown issuer caused %d key fetches", fetches.Load()-before)
		}
		if tt.want == 200 && tt.caller == "" && !strings.HasPrefix(body["caller"].(string), "github:repo:octo-org/octo-repo:") {
			t.Errorf("%s: caller %v, want github:repo:octo-org/octo-repo:…", tt.name, body["caller"])
		}
	}
	// The unknown issuer and the Auth0/Keycloak tokens cost the other
	// providers nothing; each of them fetched its keys once.
	if n := [3]int{idp.KeysRequests() - entraKeys, pool.JWKSRequests() - poolKeys, gh.JWKSRequests() - ghKeys}; n != [3]int{1, 1, 1} {
		t.Errorf("key fetches (entra, cognito, github) = %v, want one each", n)
	}
}
