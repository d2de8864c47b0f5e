// Command multi serves one route group that accepts an access token of
// Auth0, Keycloak, Microsoft Entra ID or Amazon Cognito, a GitHub Actions
// OIDC token of one repository, or an API key — the seed's "multiple
// authentication methods" across identity providers. Tokens are routed by
// their exact issuer, so each request costs one signature check however many
// providers are configured, and a token of an unknown issuer causes no
// network request.
//
//	AUTH0_DOMAIN=example.eu.auth0.com AUTH0_AUDIENCE=https://api.example.com \
//	KEYCLOAK_URL=https://sso.example.com KEYCLOAK_REALM=shop KEYCLOAK_CLIENT=orders-api \
//	ENTRA_TENANT=<tenant-id> ENTRA_AUDIENCE=<api-client-id> \
//	COGNITO_POOL=eu-west-1_AbCdEfGhI COGNITO_CLIENT=<app-client-id> \
//	GITHUB_REPOSITORY=org/repo GITHUB_AUDIENCE=https://orders.example.com \
//	go run ./examples/multi
//
// Providers without settings are left out; API keys are always on (kept
// hashed in a SQLite file; one is created at start and printed).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"

	"github.com/gin-gonic/gin"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/apikey"
	"github.com/authgate/authgate/apikey/sqlstore"
	"github.com/authgate/authgate/auth0"
	"github.com/authgate/authgate/chain"
	"github.com/authgate/authgate/cognito"
	"github.com/authgate/authgate/entra"
	"github.com/authgate/authgate/examples/internal/serve"
	"github.com/authgate/authgate/ginauth"
	"github.com/authgate/authgate/github"
	"github.com/authgate/authgate/keycloak"
	"github.com/authgate/authgate/providers"
)

// settings say which providers to chain.
type settings struct {
	Auth0Domain, Auth0Audience                   string
	KeycloakURL, KeycloakRealm, KeycloakClientID string
	EntraTenant, EntraAudience                   string
	CognitoPool, CognitoClientID                 string
	GitHubRepository, GitHubAudience             string
	KeyStore                                     string // API-key store DSN

	// For tests: where the providers are and how to reach them (nil and
	// empty: the real services over http.DefaultTransport).
	HTTPClient                     *http.Client // Auth0, Keycloak
	EntraAuthority, CognitoBaseURL string
	GitHubJWKSURL                  string
	EntraClient, CognitoClient     *http.Client
	GitHubClient                   *http.Client
}

// server is the example's handler and what it hands out.
type server struct {
	handler http.Handler
	apiKey  string
	close   func() error
}

func newServer(ctx context.Context, s settings) (_ *server, err error) {
	var auths []authgate.Authenticator
	if s.Auth0Domain != "" {
		a, err := auth0.New(auth0.Config{Domain: s.Auth0Domain, TokenOptions: providers.TokenOptions{Audience: []string{s.Auth0Audience}}, FetchOptions: providers.FetchOptions{HTTPClient: s.HTTPClient}})
		if err != nil {
			return nil, err
		}
		auths = append(auths, a)
	}
	if s.KeycloakURL != "" {
		k, err := keycloak.New(keycloak.Config{BaseURL: s.KeycloakURL, Realm: s.KeycloakRealm, ClientID: s.KeycloakClientID, FetchOptions: providers.FetchOptions{HTTPClient: s.HTTPClient}})
		if err != nil {
			return nil, err
		}
		auths = append(auths, k)
	}
	if s.EntraTenant != "" {
		e, err := entra.New(entra.Config{Tenant: s.EntraTenant, Authority: s.EntraAuthority,
			TokenOptions: providers.TokenOptions{Audience: []string{s.EntraAudience}},
			FetchOptions: providers.FetchOptions{HTTPClient: s.EntraClient}})
		if err != nil {
			return nil, err
		}
		auths = append(auths, e)
	}
	if s.CognitoPool != "" {
		c, err := cognito.New(cognito.Config{UserPoolID: s.CognitoPool, TokenUse: cognito.AccessTokens,
			ClientIDs: []string{s.CognitoClientID}, BaseURL: s.CognitoBaseURL,
			FetchOptions: providers.FetchOptions{HTTPClient: s.CognitoClient}})
		if err != nil {
			return nil, err
		}
		auths = append(auths, c)
	}
	if s.GitHubRepository != "" {
		// A deploy hook: only this repository's main branch.
		g, err := github.New(github.Config{Repositories: []string{s.GitHubRepository}, Refs: []string{"refs/heads/main"},
			JWKSURL:      s.GitHubJWKSURL,
			TokenOptions: providers.TokenOptions{Audience: []string{s.GitHubAudience}},
			FetchOptions: providers.FetchOptions{HTTPClient: s.GitHubClient}})
		if err != nil {
			return nil, err
		}
		auths = append(auths, g)
	}
	store, err := sqlstore.Open(ctx, s.KeyStore)
	if err != nil {
		return nil, err
	}
	keys, err := apikey.New(store, apikey.Config{Prefix: "ord_live"})
	if err != nil {
		store.Close()
		return nil, err
	}
	srv := &server{close: func() error { return errors.Join(keys.Close(), store.Close()) }}
	defer func() {
		if err != nil {
			srv.close()
		}
	}()
	if srv.apiKey, _, err = keys.Manager().Issue(ctx, apikey.Key{Name: "example", Subject: "svc-reports", Scopes: []string{"orders:read"}}); err != nil {
		return nil, err
	}
	auths = append(auths, keys)

	// chain.New reports a configuration that cannot work (two providers
	// claiming one issuer) here, at start.
	callers, err := chain.New(auths...)
	if err != nil {
		return nil, err
	}
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	orders := r.Group("/api/orders", ginauth.Require(callers))
	orders.GET("", func(c *gin.Context) {
		p, _ := ginauth.PrincipalFrom(c)
		// Principals are namespaced: the same subject from two providers is
		// two different callers.
		c.JSON(http.StatusOK, gin.H{"caller": p.Provider + ":" + p.Subject, "method": p.Method, "roles": p.Roles, "scopes": p.Scopes})
	})
	srv.handler = r
	return srv, nil
}

func main() {
	var s settings
	flag.StringVar(&s.Auth0Domain, "auth0-domain", os.Getenv("AUTH0_DOMAIN"), "Auth0 tenant domain")
	flag.StringVar(&s.Auth0Audience, "auth0-audience", os.Getenv("AUTH0_AUDIENCE"), "Auth0 API identifier")
	flag.StringVar(&s.KeycloakURL, "keycloak-url", os.Getenv("KEYCLOAK_URL"), "Keycloak base URL")
	flag.StringVar(&s.KeycloakRealm, "keycloak-realm", os.Getenv("KEYCLOAK_REALM"), "Keycloak realm")
	flag.StringVar(&s.KeycloakClientID, "keycloak-client", os.Getenv("KEYCLOAK_CLIENT"), "Keycloak client id of this API")
	flag.StringVar(&s.EntraTenant, "entra-tenant", os.Getenv("ENTRA_TENANT"), "Entra ID tenant id")
	flag.StringVar(&s.EntraAudience, "entra-audience", os.Getenv("ENTRA_AUDIENCE"), "Entra ID audience of this API (its client id or App ID URI)")
	flag.StringVar(&s.CognitoPool, "cognito-pool", os.Getenv("COGNITO_POOL"), "Cognito user pool id")
	flag.StringVar(&s.CognitoClientID, "cognito-client", os.Getenv("COGNITO_CLIENT"), "Cognito app client id")
	flag.StringVar(&s.GitHubRepository, "github-repository", os.Getenv("GITHUB_REPOSITORY"), "GitHub repository (OWNER/REPO) whose main branch may call")
	flag.StringVar(&s.GitHubAudience, "github-audience", os.Getenv("GITHUB_AUDIENCE"), "audience the workflow requests")
	db := flag.String("db", "authgate-multi.db", "SQLite file holding the API keys")
	addr := flag.String("addr", "127.0.0.1:8083", "address to listen on")
	flag.Parse()
	s.KeyStore = "sqlite:" + *db
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *addr, s, os.Stdout); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context, addr string, s settings, out io.Writer) error {
	srv, err := newServer(ctx, s)
	if err != nil {
		return err
	}
	defer srv.close()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "multi example on http://%s\nexport API_KEY=%s\ncurl http://%s/api/orders -H \"X-API-Key: $API_KEY\"\n", ln.Addr(), srv.apiKey, ln.Addr())
	return serve.Serve(ctx, ln, srv.handler)
}
