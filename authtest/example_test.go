package authtest_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/auth0"
	"github.com/authgate/authgate/authtest"
	"github.com/authgate/authgate/firebase"
	"github.com/authgate/authgate/httpauth"
	"github.com/authgate/authgate/keycloak"
	"github.com/authgate/authgate/oidc"
	"github.com/authgate/authgate/providers"
	"github.com/authgate/authgate/static"
)

// An OpenID Connect provider under test: the authenticator finds the keys
// through discovery, once.
func ExampleNewIssuer() {
	iss := authtest.NewIssuer(nil) // in a test: authtest.NewIssuer(t), closed by t.Cleanup
	defer iss.Close()

	a, err := oidc.New(oidc.Config{Issuer: iss.Issuer(), TokenOptions: providers.TokenOptions{Audience: []string{authtest.DefaultAudience}}})
	if err != nil {
		panic(err)
	}
	for _, sub := range []string{"alice", "bob"} {
		r := httptest.NewRequest("GET", "/orders", nil)
		r.Header.Set("Authorization", "Bearer "+iss.Token(map[string]any{"sub": sub, "roles": []string{"clerk"}}))
		p, err := a.Authenticate(r)
		fmt.Println(p.Subject, p.Roles, err)
	}
	fmt.Println("discovery:", iss.DiscoveryRequests(), "key set:", iss.JWKSRequests())
	// Output:
	// alice [clerk] <nil>
	// bob [clerk] <nil>
	// discovery: 1 key set: 1
}

// Keys verifies the issuer's tokens with keys you hold (package static),
// here Ed25519.
func ExampleIssuer_Keys() {
	iss := authtest.NewIssuer(nil, authtest.WithAlgorithms("EdDSA"))
	defer iss.Close()

	a, err := static.New(static.Config{
		Keys:   iss.Keys(),
		Issuer: iss.Issuer(),
		TokenOptions: providers.TokenOptions{
			Algorithms: []string{"EdDSA"},
			Audience:   []string{authtest.DefaultAudience},
		},
	})
	if err != nil {
		panic(err)
	}
	_, err = a.Verify(context.Background(), iss.Token(nil))
	fmt.Println("valid:", err)
	_, err = a.Verify(context.Background(), iss.Token(map[string]any{"exp": nil}))
	fmt.Println("no exp:", errors.Is(err, authgate.ErrMissingClaim))
	// Output:
	// valid: <nil>
	// no exp: true
}

// A simulated outage: with no keys ever fetched, the issuer's tokens are
// refused with 503, never accepted and never called invalid.
func ExampleIssuer_Fail() {
	iss := authtest.NewIssuer(nil)
	defer iss.Close()
	iss.Fail(http.StatusServiceUnavailable)

	a, err := oidc.New(oidc.Config{Issuer: iss.Issuer(), TokenOptions: providers.TokenOptions{Audience: []string{authtest.DefaultAudience}, Logger: slog.New(slog.DiscardHandler)}})
	if err != nil {
		panic(err)
	}
	h := httpauth.Require(a, httpauth.WithLogger(nil))(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Authorization", "Bearer "+iss.Token(nil))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	fmt.Println(w.Code, w.Body.String())
	// Output:
	// 503 {"detail":"Authentication service unavailable","error":"temporarily_unavailable"}
}

// A Keycloak realm: client roles, and ID tokens refused as bearer tokens.
func ExampleKeycloak() {
	kc := authtest.Keycloak(nil, "demo", authtest.WithClientID("orders-api"))
	defer kc.Close()

	a, err := keycloak.New(keycloak.Config{BaseURL: kc.BaseURL(), Realm: "demo", ClientID: "orders-api"})
	if err != nil {
		panic(err)
	}
	access := kc.Token(map[string]any{
		"preferred_username": "alice",
		"realm_access":       map[string]any{"roles": []string{"staff"}},
		"resource_access":    map[string]any{"orders-api": map[string]any{"roles": []string{"orders:write"}}},
	})
	p, err := a.Verify(context.Background(), access)
	fmt.Println(p.Name, p.Roles, err)
	_, err = a.Verify(context.Background(), kc.IDToken(nil))
	fmt.Println("ID token refused:", errors.Is(err, authgate.ErrInvalidCredentials))
	// Output:
	// alice [staff orders:write] <nil>
	// ID token refused: true
}

// An Auth0 tenant over https: RBAC permissions and a namespaced roles
// claim.
func ExampleAuth0() {
	tenant := authtest.Auth0(nil, authtest.WithAudience("https://orders.example/"))
	defer tenant.Close()

	a, err := auth0.New(auth0.Config{
		Domain: tenant.Host(),
		TokenOptions: providers.TokenOptions{
			Audience:   []string{"https://orders.example/"},
			RolesClaim: "https://example.com/roles",
		},
		FetchOptions: providers.FetchOptions{
			HTTPClient: tenant.Client(),
		},
	})
	if err != nil {
		panic(err)
	}
	p, err := a.Verify(context.Background(), tenant.Token(map[string]any{
		"permissions":               []string{"read:orders"},
		"https://example.com/roles": []string{"clerk"},
	}))
	fmt.Println(p.Permissions, p.Roles, p.Audience[1] == tenant.Issuer()+"userinfo", err)
	// Output:
	// [read:orders] [clerk] true <nil>
}

// Firebase ID tokens verified against a local copy of Google's
// certificate endpoint.
func ExampleFirebase() {
	project := authtest.Firebase(nil, "my-project")
	defer project.Close()

	a, err := firebase.New(firebase.Config{
		ProjectID: "my-project",
		CertsURL:  project.CertsURL(),
		FetchOptions: providers.FetchOptions{
			HTTPClient: project.Client(),
		},
	})
	if err != nil {
		panic(err)
	}
	p, err := a.Verify(context.Background(), project.IDToken(map[string]any{"sub": "uid-1", "roles": []string{"admin"}}))
	fmt.Println(p.Subject, p.Roles, p.Method, err)
	other := authtest.Firebase(nil, "other-project")
	defer other.Close()
	_, err = a.Verify(context.Background(), other.IDToken(nil))
	fmt.Println("other project:", errors.Is(err, authgate.ErrUnrecognizedCredential))
	// Output:
	// uid-1 [admin] firebase <nil>
	// other project: true
}

// Principal mocks authentication to test a route's guards and handler
// without any token.
func ExamplePrincipal() {
	route := func(a authgate.Authenticator) http.Handler {
		next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			p, _ := httpauth.PrincipalFrom(r)
			fmt.Fprint(w, "deleted by ", p.Subject)
		})
		return httpauth.Require(a, httpauth.WithLogger(nil))(httpauth.RequireRoles("admin")(next))
	}
	for _, a := range []authgate.Authenticator{
		authtest.Principal(&authgate.Principal{Subject: "alice", Roles: []string{"admin"}}),
		authtest.Principal(&authgate.Principal{Subject: "bob", Roles: []string{"reader"}}),
		authtest.Reject(authgate.ErrTokenExpired),
	} {
		w := httptest.NewRecorder()
		route(a).ServeHTTP(w, httptest.NewRequest("DELETE", "/articles/1", nil))
		fmt.Println(w.Code, w.Body.String())
	}
	// Output:
	// 200 deleted by alice
	// 403 {"detail":"Insufficient permissions","error":"insufficient_scope"}
	// 401 {"detail":"Token has expired","error":"invalid_token"}
}
