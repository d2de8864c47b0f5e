package authtest

import (
	"net/http"
	"testing"
	"time"

	"github.com/authgate/authgate/providers"
)

// The shapes below follow Google's documentation:
//   - "Verify the Google ID token on your server side"
//     (https://developers.google.com/identity/gsi/web/guides/verify-google-id-token):
//     keys as JWK at https://www.googleapis.com/oauth2/v3/certs, "iss"
//     "accounts.google.com" or "https://accounts.google.com", "aud" the
//     client ID, "hd" for Workspace accounts, "email_verified".
//   - "Authenticate for invocation" (Cloud Run) and the metadata server's
//     identity endpoint: service identity tokens with "aud" the service
//     URL and "azp" = "sub" the service account's numeric ID.
//   - "Securing your app with signed headers"
//     (https://cloud.google.com/iap/docs/signed-headers-howto): ES256, keys
//     at https://www.gstatic.com/iap/verify/public_key-jwk, "iss"
//     "https://cloud.google.com/iap", "aud" "/projects/NUMBER/…", "sub"
//     "accounts.google.com:ID", "email", "hd", "google.access_levels",
//     lifetime 10 minutes.
const (
	googleCertsPath     = "/oauth2/v3/certs"
	googleDiscoveryPath = "/.well-known/openid-configuration"
	iapKeysPath         = "/iap/verify/public_key-jwk"

	// GoogleClientID is the OAuth client ID ("aud", "azp") of ID tokens
	// minted by Google unless WithClientID says otherwise.
	GoogleClientID = "407408718192-5c4d2i0l7hq2mnr0a1b2c3d4e5f6g7h8.apps.googleusercontent.com"
	// GoogleServiceAccount is the service account of
	// GoogleAccounts.ServiceIdentityToken.
	GoogleServiceAccount = "invoker@authtest-project.iam.gserviceaccount.com"
)

// GoogleAccounts is a server in the shape of Google's ID-token key set,
// and the minting of Google ID tokens. Make one with Google. Its methods
// are safe for concurrent use.
type GoogleAccounts struct {
	server
	cfg      config
	ring     *keyRing
	clientID string
	subject  string
}

// Google starts a server in the shape of Google's OAuth 2.0 endpoints, over
// https (pass Client() as google.Config.HTTPClient), and closes it with
// t.Cleanup. It serves
//
//	CertsURL()                          the JWKS: RS256 keys with kid, alg, "use":"sig", n, e (no x5c)
//	/.well-known/openid-configuration  discovery: "issuer" https://accounts.google.com, jwks_uri CertsURL()
//
// with Google's "Cache-Control: public, max-age=21600, must-revalidate,
// no-transform" (WithCacheControl). IDToken mints sign-in ID tokens,
// ServiceIdentityToken the identity tokens of service-to-service calls.
// Options: WithNow, WithLifetime, WithClientID, WithCacheControl. t may
// be nil as for NewIssuer.
func Google(t testing.TB, opts ...Option) *GoogleAccounts {
	if t != nil {
		t.Helper()
	}
	cfg := newConfig(opts)
	g := &GoogleAccounts{cfg: cfg, clientID: cfg.clientID, subject: "110248495921238986420"}
	if g.clientID == DefaultClientID {
		g.clientID = GoogleClientID
	}
	mux := http.NewServeMux()
	url := g.init(mux, true)
	var err error
	if g.ring, err = newKeyRing("accounts.google.com", cfg.now, []string{providers.RS256}); err != nil {
		fatal(t, err)
	}
	cache := cfg.cache("public, max-age=21600, must-revalidate, no-transform")
	g.handle(mux, "GET "+googleCertsPath, func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, publicJWKS(g.ring, false), cache)
	})
	g.handle(mux, "GET "+googleDiscoveryPath, func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, map[string]any{
			"issuer":                                "https://accounts.google.com",
			"authorization_endpoint":                "https://accounts.google.com/o/oauth2/v2/auth",
			"token_endpoint":                        "https://oauth2.googleapis.com/token",
			"userinfo_endpoint":                     "https://openidconnect.googleapis.com/v1/userinfo",
			"jwks_uri":                              url + googleCertsPath,
			"response_types_supported":              []string{"code", "token", "id_token", "code token", "code id_token", "token id_token", "code token id_token", "none"},
			"subject_types_supported":               []string{"public"},
			"id_token_signing_alg_values_supported": []string{"RS256"},
			"scopes_supported":                      []string{"openid", "email", "profile"},
			"claims_supported":                      []string{"aud", "email", "email_verified", "exp", "family_name", "given_name", "iat", "iss", "name", "picture", "sub"},
		}, "")
	})
	g.begin(t)
	return g
}

// publicJWKS returns the published keys of ring as a JWKS.
func publicJWKS(ring *keyRing, withX5C bool) map[string]any {
	keys := []map[string]any{}
	for _, k := range ring.published() {
		keys = append(keys, k.jwk("sig", withX5C, false))
	}
	return map[string]any{"keys": keys}
}

// CertsURL returns the address of the key set (google.Config.CertsURL).
func (g *GoogleAccounts) CertsURL() string { return g.URL() + googleCertsPath }

// CertsRequests returns how many requests CertsURL got, including those
// answered with an error by Fail.
func (g *GoogleAccounts) CertsRequests() int { return g.requests("GET " + googleCertsPath) }

// ClientID returns the OAuth client ID of minted ID tokens ("aud").
func (g *GoogleAccounts) ClientID() string { return g.clientID }

// Subject returns the default "sub" of IDToken: a Google account ID.
func (g *GoogleAccounts) Subject() string { return g.subject }

// Rotate publishes a new key and signs with it from now on; the previous
// key stays published until Retire. It returns the new kid.
func (g *GoogleAccounts) Rotate() string { return g.ring.rotate() }

// Retire takes the key kid out of the key set; it reports whether there is
// such a key.
func (g *GoogleAccounts) Retire(kid string) bool { return g.ring.retire(kid) }

// IDToken mints the ID token Sign in with Google returns for a Google
// Workspace user: header {"alg":"RS256","kid","typ":"JWT"}; claims "iss"
// https://accounts.google.com, "azp" and "aud" the client ID, "sub" the
// account ID, "hd" "example.test", "email", "email_verified" true,
// "at_hash", "name", "picture", "given_name", "family_name", "iat", "exp"
// one hour later. Override "iss" with "accounts.google.com" for the
// scheme-less issuer Google also writes, "hd" with nil for a consumer
// account. claims override as for Issuer.Token.
func (g *GoogleAccounts) IDToken(claims map[string]any) string {
	return g.IDTokenWithHeader(nil, claims)
}

// IDTokenWithHeader is IDToken with header overrides, with the rules of
// Issuer.TokenWithHeader.
func (g *GoogleAccounts) IDTokenWithHeader(header, claims map[string]any) string {
	iat, exp := times(g.cfg.now, g.lifetime(), claims)
	c := map[string]any{
		"iss": "https://accounts.google.com", "azp": g.clientID, "aud": g.clientID,
		"sub": g.subject, "hd": "example.test", "email": "alice@example.test", "email_verified": true,
		"at_hash": randomID(16), "name": "Alice Example", "picture": "https://lh3.googleusercontent.com/a/authtest=s96-c",
		"given_name": "Alice", "family_name": "Example", "iat": iat, "exp": exp,
	}
	kid, _ := header["kid"].(string)
	return mint(g.ring.find(kid), "JWT", header, c, claims)
}

// ServiceIdentityToken mints the identity token a service account gets
// from the metadata server (or generateIdToken) to call audience, a Cloud
// Run service URL: "iss" https://accounts.google.com, "aud" audience,
// "azp" and "sub" the service account's numeric ID, "email"
// GoogleServiceAccount, "email_verified" true, "iat", "exp" one hour
// later; no "hd".
func (g *GoogleAccounts) ServiceIdentityToken(audience string, claims map[string]any) string {
	iat, exp := times(g.cfg.now, g.lifetime(), claims)
	c := map[string]any{
		"iss": "https://accounts.google.com", "aud": audience,
		"azp": "104237812345678901234", "sub": "104237812345678901234",
		"email": GoogleServiceAccount, "email_verified": true, "iat": iat, "exp": exp,
	}
	return mint(g.ring.find(""), "JWT", nil, c, claims)
}

func (g *GoogleAccounts) lifetime() time.Duration {
	if g.cfg.lifetime > 0 {
		return g.cfg.lifetime
	}
	return time.Hour
}

// GoogleIAP is a server in the shape of Cloud IAP's key set, and the
// minting of the assertions IAP signs. Make one with IAP. Its methods are
// safe for concurrent use.
type GoogleIAP struct {
	server
	cfg      config
	ring     *keyRing
	audience string
}

// IAP starts a server in the shape of IAP's key endpoint on
// www.gstatic.com, over https (pass Client() as
// google.IAPConfig.HTTPClient), and closes it with t.Cleanup. It serves
//
//	KeysURL()  the JWKS: ES256 P-256 keys with kid, alg, "use":"sig", crv, x, y
//
// with "Cache-Control: public, max-age=3600" (WithCacheControl; IAP's
// documentation names none). Assertion mints what IAP sends to audience
// ("/projects/NUMBER/global/backendServices/ID" or
// "/projects/NUMBER/apps/PROJECT_ID"). Options: WithNow, WithLifetime,
// WithCacheControl. t may be nil as for NewIssuer.
func IAP(t testing.TB, audience string, opts ...Option) *GoogleIAP {
	if t != nil {
		t.Helper()
	}
	cfg := newConfig(opts)
	p := &GoogleIAP{cfg: cfg, audience: audience}
	mux := http.NewServeMux()
	p.init(mux, true)
	var err error
	if p.ring, err = newKeyRing("iap.googleapis.com", cfg.now, []string{providers.ES256}); err != nil {
		fatal(t, err)
	}
	cache := cfg.cache("public, max-age=3600")
	p.handle(mux, "GET "+iapKeysPath, func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, publicJWKS(p.ring, false), cache)
	})
	p.begin(t)
	return p
}

// KeysURL returns the address of the key set (google.IAPConfig.KeysURL).
func (p *GoogleIAP) KeysURL() string { return p.URL() + iapKeysPath }

// KeysRequests returns how many requests KeysURL got, including those
// answered with an error by Fail.
func (p *GoogleIAP) KeysRequests() int { return p.requests("GET " + iapKeysPath) }

// Audience returns the "aud" of minted assertions.
func (p *GoogleIAP) Audience() string { return p.audience }

// Rotate publishes a new key and signs with it from now on; it returns the
// new kid.
func (p *GoogleIAP) Rotate() string { return p.ring.rotate() }

// Retire takes the key kid out of the key set; it reports whether there is
// such a key.
func (p *GoogleIAP) Retire(kid string) bool { return p.ring.retire(kid) }

// Assertion mints the JWT IAP puts in the x-goog-iap-jwt-assertion header:
// header {"alg":"ES256","typ":"JWT","kid"}; claims "iss"
// https://cloud.google.com/iap, "aud" the audience, "sub"
// "accounts.google.com:ID", "email" (plain, without the
// "accounts.google.com:" prefix of the unsigned headers), "hd"
// "example.test", "identity_source" "GOOGLE", "iat", "exp" 10 minutes
// later. Add "google": {"access_levels": [...]} when access levels apply.
// claims override as for Issuer.Token.
func (p *GoogleIAP) Assertion(claims map[string]any) string {
	return p.AssertionWithHeader(nil, claims)
}

// AssertionWithHeader is Assertion with header overrides, with the rules
// of Issuer.TokenWithHeader.
func (p *GoogleIAP) AssertionWithHeader(header, claims map[string]any) string {
	lifetime := 10 * time.Minute
	if p.cfg.lifetime > 0 {
		lifetime = p.cfg.lifetime
	}
	iat, exp := times(p.cfg.now, lifetime, claims)
	c := map[string]any{
		"iss": "https://cloud.google.com/iap", "aud": p.audience,
		"sub": "accounts.google.com:110248495921238986420", "email": "alice@example.test",
		"hd": "example.test", "identity_source": "GOOGLE", "iat": iat, "exp": exp,
	}
	kid, _ := header["kid"].(string)
	return mint(p.ring.find(kid), "JWT", header, c, claims)
}
