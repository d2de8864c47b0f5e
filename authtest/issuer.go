package authtest

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/authgate/authgate/providers"
)

type shape int

const (
	shapeOIDC shape = iota
	shapeAuth0
	shapeKeycloak
)

// Issuer is a local OpenID provider on an httptest server: a discovery
// document, a JWKS of keys generated at start, and token minting. Make one
// with NewIssuer, Auth0 or Keycloak. Its methods are safe for concurrent
// use; minting is safe from any goroutine.
type Issuer struct {
	server
	shape    shape
	cfg      config
	issuer   string
	base     string // issuer without a trailing slash: endpoints hang below it
	jwksURL  string
	ring     *keyRing
	subject  string
	lifetime time.Duration

	discoveryPattern, jwksPattern string
	extraKeys                     []map[string]any // published beside the ring (Keycloak's enc key)
}

// NewIssuer starts a local OpenID Connect issuer on 127.0.0.1 (plain http,
// which authgate's fetchers allow for loopback hosts; https WithTLS) and
// closes it with t.Cleanup. Its issuer is URL() (URL()+path WithPath); it
// serves
//
//	ISSUER/.well-known/openid-configuration  discovery, "issuer" = Issuer()
//	ISSUER/jwks                              the JWKS: kid, alg, "use":"sig"
//
// and mints tokens signed by one RS256 key (WithAlgorithms for others)
// with "iss", "sub" (Subject()), "aud" DefaultAudience, "iat" now and
// "exp" now + 5 minutes (WithNow, WithLifetime, WithAudience). The header
// is {"alg", "typ":"JWT", "kid"} ("typ":"at+jwt" WithRFC9068).
//
// t may be nil outside tests (Example functions, TestMain): then the
// issuer must be closed with Close, and setup failures panic. Otherwise
// NewIssuer must be called from the test's goroutine, like t.Fatal.
func NewIssuer(t testing.TB, opts ...Option) *Issuer {
	if t != nil {
		t.Helper()
	}
	cfg := newConfig(opts)
	i := &Issuer{shape: shapeOIDC, cfg: cfg, subject: "user-1", lifetime: 5 * time.Minute}
	mux := http.NewServeMux()
	url := i.init(mux, cfg.tls)
	i.issuer = url + cfg.path
	i.base = strings.TrimSuffix(i.issuer, "/")
	prefix := strings.TrimSuffix(cfg.path, "/")
	i.jwksURL = i.base + "/jwks"
	i.discoveryPattern = "GET " + prefix + "/.well-known/openid-configuration"
	i.jwksPattern = "GET " + prefix + "/jwks"
	i.setup(t, mux, "authtest")
	return i
}

// Auth0 starts an issuer in the shape of an Auth0 tenant, over https
// (httptest.NewTLSServer: pass Client() as auth0.Config.HTTPClient), and
// closes it with t.Cleanup. Its domain is Host() (127.0.0.1:PORT), its
// issuer "https://DOMAIN/" with Auth0's trailing slash; it serves
//
//	/.well-known/openid-configuration  discovery
//	/.well-known/jwks.json             the JWKS (RS256, x5c, x5t)
//
// with Auth0's Cache-Control. Tokens are access tokens of a user who asked
// for "openid profile email": "aud" is [DefaultAudience,
// "https://DOMAIN/userinfo"] (pass "aud" as a string for a token without
// openid), "azp" the client, "scope" space-separated, "sub"
// "auth0|…", lifetime 24 hours. Add "permissions" (RBAC) and namespaced
// claims ("https://example.com/roles") in Token's claims. WithRFC9068
// gives Auth0's RFC 9068 token profile. t may be nil as for NewIssuer.
func Auth0(t testing.TB, opts ...Option) *Issuer {
	if t != nil {
		t.Helper()
	}
	cfg := newConfig(opts)
	cfg.tls = true
	i := &Issuer{shape: shapeAuth0, cfg: cfg, subject: "auth0|6560f0b4c0ffee0000000001", lifetime: 24 * time.Hour}
	mux := http.NewServeMux()
	url := i.init(mux, true)
	i.issuer = url + "/"
	i.base = url
	i.jwksURL = url + "/.well-known/jwks.json"
	i.discoveryPattern = "GET /.well-known/openid-configuration"
	i.jwksPattern = "GET /.well-known/jwks.json"
	i.setup(t, mux, "authtest-auth0")
	return i
}

// setup generates the keys, registers discovery and JWKS on mux and
// starts the server.
func (i *Issuer) setup(t testing.TB, mux *http.ServeMux, cn string) {
	if len(i.cfg.algs) == 0 {
		i.cfg.algs = []string{providers.RS256}
	}
	if i.cfg.lifetime > 0 {
		i.lifetime = i.cfg.lifetime
	}
	ring, err := newKeyRing(cn, i.cfg.now, i.cfg.algs)
	if err != nil {
		fatal(t, err)
	}
	i.ring = ring
	i.handle(mux, i.discoveryPattern, func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, i.discovery(), "")
	})
	i.handle(mux, i.jwksPattern, func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, i.jwks(), i.cfg.cache(i.defaultCacheControl()))
	})
	i.begin(t)
}

// fatal fails the test, or panics without one.
func fatal(t testing.TB, err error) {
	if t == nil {
		panic(err)
	}
	t.Helper()
	t.Fatal(err)
}

func (i *Issuer) defaultCacheControl() string {
	switch i.shape {
	case shapeAuth0:
		return "public, max-age=15, stale-while-revalidate=15, stale-if-error=86400"
	case shapeKeycloak:
		return "no-cache"
	}
	return ""
}

func (i *Issuer) discovery() map[string]any {
	algs := []string{}
	for _, k := range i.ring.published() {
		if k.secret == nil && !slices.Contains(algs, k.alg) {
			algs = append(algs, k.alg)
		}
	}
	doc := map[string]any{
		"issuer":                                i.issuer,
		"authorization_endpoint":                i.base + "/authorize",
		"token_endpoint":                        i.base + "/token",
		"userinfo_endpoint":                     i.base + "/userinfo",
		"jwks_uri":                              i.jwksURL,
		"response_types_supported":              []string{"code", "id_token", "code id_token"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": algs,
		"scopes_supported":                      []string{"openid", "profile", "email", "offline_access"},
		"grant_types_supported":                 []string{"authorization_code", "refresh_token", "client_credentials"},
	}
	switch i.shape {
	case shapeAuth0:
		doc["token_endpoint"] = i.base + "/oauth/token"
		doc["end_session_endpoint"] = i.base + "/oidc/logout"
	case shapeKeycloak:
		oc := i.issuer + "/protocol/openid-connect"
		doc["authorization_endpoint"] = oc + "/auth"
		doc["token_endpoint"] = oc + "/token"
		doc["userinfo_endpoint"] = oc + "/userinfo"
		doc["introspection_endpoint"] = oc + "/token/introspect"
		doc["end_session_endpoint"] = oc + "/logout"
	}
	return doc
}

func (i *Issuer) jwks() map[string]any {
	keys := []map[string]any{}
	for _, k := range i.ring.published() {
		if k.secret == nil {
			keys = append(keys, k.jwk("sig", i.shape != shapeOIDC, i.shape == shapeKeycloak))
		}
	}
	keys = append(keys, i.extraKeys...)
	return map[string]any{"keys": keys}
}

// Issuer returns the issuer identifier, the tokens' "iss".
func (i *Issuer) Issuer() string { return i.issuer }

// Host returns the server's host and port, 127.0.0.1:PORT: the domain of
// an Auth0 issuer (auth0.Config.Domain).
func (i *Issuer) Host() string { return i.srv.Listener.Addr().String() }

// JWKSURL returns the address of the key set.
func (i *Issuer) JWKSURL() string { return i.jwksURL }

// Subject returns the default "sub" of minted tokens.
func (i *Issuer) Subject() string { return i.subject }

// KeyID returns the kid of the key that signs tokens by default.
func (i *Issuer) KeyID() string { return i.ring.find("").kid }

// Keys returns the published verification keys, the signing key first,
// each with its kid and algorithm — for static.Config.Keys, to verify the
// issuer's tokens without fetching. HMAC secrets (WithAlgorithms("HS256"))
// appear here although no key set serves them.
func (i *Issuer) Keys() []providers.Key { return i.ring.verificationKeys() }

// Rotate generates a new key of the signing key's algorithm, publishes it
// and makes it the signing key; it returns the new kid. The previous key
// stays published, as providers overlap keys during a rotation: Retire it
// to take it out of the key set. Tokens minted earlier keep their kid.
func (i *Issuer) Rotate() string { return i.ring.rotate() }

// Retire takes the key kid out of the key set; TokenWithHeader can still
// sign with it, for tokens a verifier must now refuse. It reports whether
// the issuer has such a key.
func (i *Issuer) Retire(kid string) bool { return i.ring.retire(kid) }

// JWKSRequests returns how many requests the key set endpoint got,
// including those answered with an error by Fail: tests prove caching and
// backoff with it.
func (i *Issuer) JWKSRequests() int { return i.requests(i.jwksPattern) }

// DiscoveryRequests returns how many requests the discovery document got,
// including those answered with an error by Fail.
func (i *Issuer) DiscoveryRequests() int { return i.requests(i.discoveryPattern) }

// Token mints a signed access token in the issuer's shape (see NewIssuer,
// Auth0, Keycloak). claims override the defaults member by member; a nil
// value removes a default claim ("exp": nil mints a token without
// expiry). A time.Time value becomes a NumericDate, and an "iat" given
// without "exp" moves "exp" with it. Token panics if claims cannot be
// encoded as JSON; it is safe to call from any goroutine.
func (i *Issuer) Token(claims map[string]any) string {
	return i.TokenWithHeader(nil, claims)
}

// TokenWithHeader is Token with header members overriding the defaults
// ({"alg", "typ", "kid"}; nil removes one), for hostile cases. The token
// is signed by the key its "kid" names — any key the issuer ever had,
// retired ones included — or by the signing key for another kid, and
// always under that key's own algorithm, whatever "alg" says; with "alg"
// "none" the signature is empty.
func (i *Issuer) TokenWithHeader(header, claims map[string]any) string {
	kid, _ := header["kid"].(string)
	k := i.ring.find(kid)
	typ := "JWT"
	if i.cfg.rfc9068 {
		typ = "at+jwt"
	}
	return mint(k, typ, header, i.accessClaims(claims), claims)
}

// accessClaims returns the default claims of an access token.
func (i *Issuer) accessClaims(over map[string]any) map[string]any {
	iat, exp := times(i.cfg.now, i.lifetime, over)
	c := map[string]any{"iss": i.issuer, "sub": i.subject, "iat": iat, "exp": exp}
	switch i.shape {
	case shapeOIDC:
		c["aud"] = audience(i.cfg.audience, DefaultAudience)
	case shapeAuth0:
		aud := append([]string{}, i.cfg.audience...)
		if len(aud) == 0 {
			aud = []string{DefaultAudience}
		}
		c["aud"] = append(aud, i.issuer+"userinfo")
		c["azp"] = i.cfg.clientID
		c["scope"] = "openid profile email"
	case shapeKeycloak:
		return c // KeycloakRealm adds its own
	}
	if i.cfg.rfc9068 {
		c["client_id"] = i.cfg.clientID
		c["jti"] = randomID(12)
	}
	return c
}

// audience returns the "aud" of a token: the configured audiences, or def.
func audience(configured []string, def string) any {
	switch len(configured) {
	case 0:
		return def
	case 1:
		return configured[0]
	}
	return append([]string{}, configured...)
}
