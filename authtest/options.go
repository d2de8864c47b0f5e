package authtest

import (
	"slices"
	"time"
)

// DefaultAudience is the "aud" of tokens minted by NewIssuer and Auth0
// unless WithAudience says otherwise.
const DefaultAudience = "https://api.example.test/"

// DefaultClientID is the client ("azp", "client_id") of minted tokens
// unless WithClientID says otherwise.
const DefaultClientID = "authtest-client"

// Option configures an Issuer, a KeycloakRealm or a FirebaseProject.
type Option func(*config)

type config struct {
	algs         []string
	now          func() time.Time
	lifetime     time.Duration
	audience     []string
	path         string
	tls          bool
	rfc9068      bool
	clientID     string
	cacheControl *string
	tenant       string
}

func newConfig(opts []Option) config {
	c := config{now: time.Now, clientID: DefaultClientID}
	for _, o := range opts {
		o(&c)
	}
	return c
}

// WithAlgorithms generates one signing key per algorithm at start, all
// published: RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512,
// EdDSA (Ed25519), or HS256, HS384, HS512 for an HMAC secret, which is
// never published in a key set and only reaches verifiers through
// Issuer.Keys. The first key signs tokens; Issuer.TokenWithHeader selects
// another by its kid. The default is one RS256 key. Firebase ignores it:
// Google signs with RS256 only.
func WithAlgorithms(algs ...string) Option {
	return func(c *config) { c.algs = slices.Clone(algs) }
}

// WithNow sets the clock tokens are minted by (default time.Now): "iat"
// is now() and "exp" now() plus the lifetime. Give the verifier under test
// the same clock, so tests never depend on the wall clock or sleep.
func WithNow(now func() time.Time) Option {
	return func(c *config) { c.now = now }
}

// WithLifetime sets the time from "iat" to "exp" of minted tokens. The
// defaults are each provider's: 5 minutes for NewIssuer, 24 hours for
// Auth0, 300 seconds for Keycloak access tokens, one hour for Firebase ID
// tokens.
func WithLifetime(d time.Duration) Option {
	return func(c *config) { c.lifetime = d }
}

// WithAudience sets the audience of minted tokens (one value: a string
// "aud"; several: an array). For Auth0 it is the API identifier, placed
// before the userinfo URL; for Keycloak it stands for an audience mapper
// and comes before "account". Firebase ignores it: "aud" is the project.
func WithAudience(aud ...string) Option {
	return func(c *config) { c.audience = slices.Clone(aud) }
}

// WithPath puts the issuer under a path of the server: NewIssuer's issuer
// becomes URL()+path (a path ending in "/" gives an issuer with a trailing
// slash), and a Keycloak realm lives under URL()+path+"/realms/REALM"
// (WithPath("/auth") for Keycloak ≤ 16). Auth0 and Firebase ignore it.
func WithPath(path string) Option {
	return func(c *config) { c.path = path }
}

// WithTLS serves over https (httptest.NewTLSServer); use Client as the
// provider's HTTPClient. Auth0 and Firebase are always TLS, since their
// providers only know https URLs.
func WithTLS() Option {
	return func(c *config) { c.tls = true }
}

// WithRFC9068 makes NewIssuer and Auth0 mint access tokens in the JWT
// profile of RFC 9068: header "typ" "at+jwt" and the claims "client_id"
// and "jti". Verifiers must then accept that typ (TokenTypes:
// {"at+jwt"}). Keycloak ignores it: Keycloak sends "typ":"JWT".
func WithRFC9068() Option {
	return func(c *config) { c.rfc9068 = true }
}

// WithClientID sets the client the tokens were issued to: "azp" (Auth0,
// Keycloak), "client_id" (RFC 9068), "aud" of Keycloak ID tokens. Default
// DefaultClientID.
func WithClientID(id string) Option {
	return func(c *config) { c.clientID = id }
}

// WithCacheControl sets the Cache-Control header of key set answers (JWKS,
// Firebase certificate maps); "" sends none. The defaults are the
// providers': none for NewIssuer, Auth0's "public, max-age=15,
// stale-while-revalidate=15, stale-if-error=86400", Keycloak's "no-cache",
// Google's "public, max-age=21600, must-revalidate, no-transform".
func WithCacheControl(value string) Option {
	return func(c *config) { c.cacheControl = &value }
}

// WithTenant makes a FirebaseProject mint tokens of an Identity Platform
// tenant ("firebase.tenant"). Other shapes ignore it.
func WithTenant(id string) Option {
	return func(c *config) { c.tenant = id }
}

func (c *config) cache(def string) string {
	if c.cacheControl != nil {
		return *c.cacheControl
	}
	return def
}
