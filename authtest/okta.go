package authtest

import (
	"crypto/rand"
	"net/http"
	"testing"
	"time"

	"github.com/authgate/authgate/providers"
)

// OktaDefaultAudience is the "aud" of the access tokens of Okta's "default"
// custom authorization server, and of OktaOrg's tokens unless WithAudience
// says otherwise.
const OktaDefaultAudience = "api://default"

// OktaOrg is a stand-in for one Okta org: one custom authorization server
// and the org authorization server, their discovery documents, key sets
// and tokens. Make one with Okta. Its methods are safe for concurrent use.
//
// The shapes follow Okta's "Validate access tokens" guide
// (https://developer.okta.com/docs/guides/validate-access-tokens/go/main/)
// and its OpenID Connect & OAuth 2.0 API reference (token claims, the
// /.well-known/oauth-authorization-server and /v1/keys endpoints of
// https://developer.okta.com/docs/reference/api/oidc/).
type OktaOrg struct {
	server
	cfg      config
	serverID string
	issuer   string // the custom authorization server
	org      string // the org authorization server, https://DOMAIN
	userID   string
	custom   *keyRing
	orgKeys  *keyRing
}

// Okta starts a stand-in for an Okta org over https
// (httptest.NewTLSServer: pass Client() as okta.Config.HTTPClient) and
// closes it with t.Cleanup. Its domain is Host() (okta.Config.Domain), the
// custom authorization server serverID ("default", or an ID like
// "aus1a2b3c4d5e6f7g8h9") has the issuer https://DOMAIN/oauth2/SERVERID
// and the org authorization server the issuer https://DOMAIN. It serves
//
//	/oauth2/SERVERID/.well-known/oauth-authorization-server  metadata (RFC 8414)
//	/oauth2/SERVERID/.well-known/openid-configuration        discovery
//	/oauth2/SERVERID/v1/keys                                 the JWKS (RS256)
//	/.well-known/openid-configuration                        the org server's discovery
//	/oauth2/v1/keys                                          the org server's own keys
//
// Tokens have Okta's header {"kid","alg":"RS256"} (no "typ"), kids of 43
// base64url characters, and a one-hour lifetime (WithLifetime). "aud" is
// OktaDefaultAudience (WithAudience), "cid" the client (WithClientID, default
// DefaultClientID). Add "groups" in the claims for a
// server with a groups claim. t may be nil as for NewIssuer.
func Okta(t testing.TB, serverID string, opts ...Option) *OktaOrg {
	if t != nil {
		t.Helper()
	}
	cfg := newConfig(opts)
	o := &OktaOrg{cfg: cfg, serverID: serverID, userID: oktaID("00u")}
	mux := http.NewServeMux()
	o.org = o.init(mux, true)
	o.issuer = o.org + "/oauth2/" + serverID
	var err error
	if o.custom, err = oktaKeys(cfg); err != nil {
		fatal(t, err)
	}
	if o.orgKeys, err = oktaKeys(cfg); err != nil {
		fatal(t, err)
	}
	prefix := "/oauth2/" + serverID
	custom := func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, o.metadata(o.issuer, o.issuer), "") }
	o.handle(mux, "GET "+prefix+"/.well-known/oauth-authorization-server", custom)
	o.handle(mux, "GET "+prefix+"/.well-known/openid-configuration", custom)
	o.handle(mux, "GET "+prefix+"/v1/keys", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, oktaJWKS(o.custom), cfg.cache(""))
	})
	o.handle(mux, "GET /.well-known/openid-configuration", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, o.metadata(o.org, o.org+"/oauth2"), "")
	})
	o.handle(mux, "GET /oauth2/v1/keys", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, oktaJWKS(o.orgKeys), cfg.cache(""))
	})
	o.begin(t)
	return o
}

// oktaID returns an Okta object ID: a three-character type prefix ("00u"
// users, "0oa" apps) and 17 random alphanumerics.
func oktaID(prefix string) string {
	const alnum = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	b := make([]byte, 17)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alnum[int(b[i])%len(alnum)]
	}
	return prefix + string(b)
}

func oktaKeys(cfg config) (*keyRing, error) {
	r, err := newKeyRing("okta", cfg.now, []string{providers.RS256})
	if err != nil {
		return nil, err
	}
	r.keys[0].kid = randomID(32)
	return r, nil
}

func oktaJWKS(r *keyRing) map[string]any {
	keys := []map[string]any{}
	for _, k := range r.published() {
		keys = append(keys, k.jwk("sig", false, false))
	}
	return map[string]any{"keys": keys}
}

// metadata is an authorization server's discovery document; base is where
// its /v1 endpoints hang.
func (o *OktaOrg) metadata(issuer, base string) map[string]any {
	return map[string]any{
		"issuer":                                issuer,
		"authorization_endpoint":                base + "/v1/authorize",
		"token_endpoint":                        base + "/v1/token",
		"userinfo_endpoint":                     base + "/v1/userinfo",
		"registration_endpoint":                 o.org + "/oauth2/v1/clients",
		"jwks_uri":                              base + "/v1/keys",
		"introspection_endpoint":                base + "/v1/introspect",
		"revocation_endpoint":                   base + "/v1/revoke",
		"end_session_endpoint":                  base + "/v1/logout",
		"response_types_supported":              []string{"code", "id_token", "code id_token", "code token", "id_token token", "code id_token token"},
		"grant_types_supported":                 []string{"authorization_code", "implicit", "refresh_token", "password", "client_credentials"},
		"subject_types_supported":               []string{"public"},
		"scopes_supported":                      []string{"openid", "profile", "email", "address", "phone", "offline_access", "groups"},
		"id_token_signing_alg_values_supported": []string{providers.RS256},
		"token_endpoint_auth_methods_supported": []string{"client_secret_basic", "client_secret_post", "client_secret_jwt", "private_key_jwt", "none"},
	}
}

// Issuer returns the custom authorization server's issuer,
// https://DOMAIN/oauth2/SERVERID.
func (o *OktaOrg) Issuer() string { return o.issuer }

// OrgIssuer returns the org authorization server's issuer, https://DOMAIN.
func (o *OktaOrg) OrgIssuer() string { return o.org }

// Domain returns the org's domain, 127.0.0.1:PORT (okta.Config.Domain).
func (o *OktaOrg) Domain() string { return o.srv.Listener.Addr().String() }

// ServerID returns the custom authorization server's ID.
func (o *OktaOrg) ServerID() string { return o.serverID }

// ClientID returns the client ("cid") of minted tokens.
func (o *OktaOrg) ClientID() string { return o.cfg.clientID }

// UserID returns the user's Okta ID ("uid" of access tokens, "sub" of ID
// tokens).
func (o *OktaOrg) UserID() string { return o.userID }

// JWKSRequests returns how many requests the custom authorization
// server's key set got, including those answered with an error by Fail.
func (o *OktaOrg) JWKSRequests() int { return o.requests("GET /oauth2/" + o.serverID + "/v1/keys") }

// OrgJWKSRequests returns how many requests the org server's key set got.
func (o *OktaOrg) OrgJWKSRequests() int { return o.requests("GET /oauth2/v1/keys") }

// Token mints an access token of the custom authorization server for a
// user: "ver" 1, "jti" "AT.…", "iss", "aud", "sub" the user's login
// "alice@example.test", "iat", "exp", "cid", "uid", "scp" ["openid",
// "profile", "email"] (an array) and "auth_time". claims override as for
// Issuer.Token.
func (o *OktaOrg) Token(claims map[string]any) string {
	return mint(o.custom.find(""), "", oktaHeader, o.accessClaims(o.issuer, claims), claims)
}

// ClientCredentialsToken mints an access token of the custom authorization
// server for a service app (client credentials grant): "sub" the client
// ID, "scp" a custom scope ["api:read"], and no "uid" or "auth_time".
func (o *OktaOrg) ClientCredentialsToken(claims map[string]any) string {
	c := o.accessClaims(o.issuer, claims)
	c["sub"] = o.cfg.clientID
	c["scp"] = []string{"api:read"}
	delete(c, "uid")
	delete(c, "auth_time")
	return mint(o.custom.find(""), "", oktaHeader, c, claims)
}

// IDToken mints an ID token of the custom authorization server: "sub" the
// user's ID, "aud" the client, "ver", "jti" "ID.…", "name", "email",
// "preferred_username", "amr", "idp", "auth_time" and "at_hash", and no
// "cid" or "scp". An API must refuse it as a bearer token.
func (o *OktaOrg) IDToken(claims map[string]any) string {
	iat, exp := times(o.cfg.now, o.lifetime(), claims)
	c := map[string]any{
		"sub": o.userID, "name": "Alice Example", "email": "alice@example.test",
		"ver": 1, "iss": o.issuer, "aud": o.cfg.clientID, "iat": iat, "exp": exp,
		"jti": "ID." + randomID(32), "amr": []string{"pwd"}, "idp": oktaID("00o"),
		"preferred_username": "alice@example.test", "auth_time": iat, "at_hash": randomID(16),
	}
	return mint(o.custom.find(""), "", oktaHeader, c, claims)
}

// OrgToken mints an access token of the org authorization server: "iss"
// and "aud" https://DOMAIN, signed by the org server's keys, otherwise
// like Token. Okta documents these tokens as opaque to everyone but Okta:
// an API must not validate them locally.
func (o *OktaOrg) OrgToken(claims map[string]any) string {
	c := o.accessClaims(o.org, claims)
	c["aud"] = o.org
	return mint(o.orgKeys.find(""), "", oktaHeader, c, claims)
}

// oktaHeader drops the "typ" mint puts in: Okta sends kid and alg only.
var oktaHeader = map[string]any{"typ": nil}

func (o *OktaOrg) lifetime() time.Duration {
	if o.cfg.lifetime > 0 {
		return o.cfg.lifetime
	}
	return time.Hour
}

func (o *OktaOrg) accessClaims(issuer string, over map[string]any) map[string]any {
	iat, exp := times(o.cfg.now, o.lifetime(), over)
	return map[string]any{
		"ver": 1, "jti": "AT." + randomID(32), "iss": issuer,
		"aud": audience(o.cfg.audience, OktaDefaultAudience), "sub": "alice@example.test",
		"iat": iat, "exp": exp, "cid": o.cfg.clientID, "uid": o.userID,
		"scp": []string{"openid", "profile", "email"}, "auth_time": iat,
	}
}
