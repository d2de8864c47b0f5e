package authtest

import (
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/authgate/authgate/providers"
)

// CognitoUserPool is a stand-in for one Amazon Cognito user pool: its key
// set, its discovery document, and its access and ID tokens. Make one with
// Cognito. Its methods are safe for concurrent use.
//
// The shapes follow AWS's "Understanding the access token", "Understanding
// the identity (ID) token" and "Verifying JSON web tokens" pages of the
// Amazon Cognito Developer Guide
// (https://docs.aws.amazon.com/cognito/latest/developerguide/amazon-cognito-user-pools-using-the-access-token.html,
// …-using-the-id-token.html, …-using-tokens-verifying-a-jwt.html).
type CognitoUserPool struct {
	server
	cfg      config
	poolID   string
	issuer   string
	subject  string
	access   *keyRing // signs access tokens
	id       *keyRing // signs ID tokens: Cognito uses another key
	jwksPath string
}

// Cognito starts a stand-in for the user pool userPoolID
// ("us-east-1_AbCdEfGhI") on 127.0.0.1, plain http (WithTLS for https), and
// closes it with t.Cleanup. URL() stands for
// https://cognito-idp.REGION.amazonaws.com (cognito.Config.BaseURL), so
// the issuer is URL()+"/"+userPoolID, and it serves
//
//	/POOL/.well-known/jwks.json            two RS256 keys, {"alg","e","kid","kty","n","use":"sig"}
//	/POOL/.well-known/openid-configuration discovery
//
// Cognito's quirks are kept: the header is {"kid","alg":"RS256"} with no
// "typ"; kids are standard (not URL-safe) base64 of 32 bytes, "=" included;
// access and ID tokens are signed by two different keys; an access token
// has no "aud" but "client_id" and "token_use":"access"; an ID token has
// "aud" the app client and "token_use":"id". Tokens live one hour
// (WithLifetime); the app client is WithClientID (default
// DefaultClientID). Add "cognito:groups" in the claims for a user in
// groups. t may be nil as for NewIssuer.
func Cognito(t testing.TB, userPoolID string, opts ...Option) *CognitoUserPool {
	if t != nil {
		t.Helper()
	}
	cfg := newConfig(opts)
	p := &CognitoUserPool{cfg: cfg, poolID: userPoolID, subject: randomUUID()}
	mux := http.NewServeMux()
	p.issuer = p.init(mux, cfg.tls) + "/" + userPoolID
	var err error
	if p.access, err = cognitoKeys(cfg); err != nil {
		fatal(t, err)
	}
	if p.id, err = cognitoKeys(cfg); err != nil {
		fatal(t, err)
	}
	p.jwksPath = "/" + userPoolID + "/.well-known/jwks.json"
	p.handle(mux, "GET "+p.jwksPath, func(w http.ResponseWriter, _ *http.Request) {
		keys := []map[string]any{}
		for _, r := range []*keyRing{p.id, p.access} {
			for _, k := range r.published() {
				keys = append(keys, k.jwk("sig", false, false))
			}
		}
		writeJSON(w, map[string]any{"keys": keys}, cfg.cache(""))
	})
	p.handle(mux, "GET /"+userPoolID+"/.well-known/openid-configuration", func(w http.ResponseWriter, _ *http.Request) {
		region, _, _ := strings.Cut(userPoolID, "_")
		domain := "https://authtest.auth." + region + ".amazoncognito.com" // the hosted UI's domain
		writeJSON(w, map[string]any{
			"issuer":                                p.issuer,
			"jwks_uri":                              p.JWKSURL(),
			"authorization_endpoint":                domain + "/oauth2/authorize",
			"token_endpoint":                        domain + "/oauth2/token",
			"userinfo_endpoint":                     domain + "/oauth2/userInfo",
			"end_session_endpoint":                  domain + "/logout",
			"response_types_supported":              []string{"code", "token"},
			"scopes_supported":                      []string{"openid", "email", "phone", "profile"},
			"subject_types_supported":               []string{"public"},
			"id_token_signing_alg_values_supported": []string{providers.RS256},
			"token_endpoint_auth_methods_supported": []string{"client_secret_basic", "client_secret_post"},
		}, "")
	})
	p.begin(t)
	return p
}

// cognitoKeys generates one RS256 key with a kid in Cognito's shape.
func cognitoKeys(cfg config) (*keyRing, error) {
	r, err := newKeyRing("cognito-idp", cfg.now, []string{providers.RS256})
	if err != nil {
		return nil, err
	}
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	r.keys[0].kid = base64.StdEncoding.EncodeToString(b)
	return r, nil
}

// UserPoolID returns the pool's ID.
func (p *CognitoUserPool) UserPoolID() string { return p.poolID }

// Issuer returns the tokens' "iss", URL()+"/"+UserPoolID().
func (p *CognitoUserPool) Issuer() string { return p.issuer }

// BaseURL returns what cognito.Config.BaseURL must be to verify this
// pool's tokens: URL().
func (p *CognitoUserPool) BaseURL() string { return p.URL() }

// JWKSURL returns the address of the pool's key set.
func (p *CognitoUserPool) JWKSURL() string { return p.URL() + p.jwksPath }

// JWKSRequests returns how many requests the key set got, including those
// answered with an error by Fail.
func (p *CognitoUserPool) JWKSRequests() int { return p.requests("GET " + p.jwksPath) }

// ClientID returns the app client of minted tokens.
func (p *CognitoUserPool) ClientID() string { return p.cfg.clientID }

// Subject returns the default "sub" of user tokens, a UUID.
func (p *CognitoUserPool) Subject() string { return p.subject }

// AccessToken mints the access token of a user who signed in through the
// app client: "sub", "iss", "client_id", "origin_jti", "event_id",
// "token_use":"access", "scope" "openid profile email", "auth_time",
// "iat", "exp", "jti", "username" "alice" and "version" 2, and no "aud".
// claims override as for Issuer.Token.
func (p *CognitoUserPool) AccessToken(claims map[string]any) string {
	c := p.common(claims)
	c["client_id"] = p.cfg.clientID
	c["origin_jti"] = randomUUID()
	c["event_id"] = randomUUID()
	c["token_use"] = "access"
	c["scope"] = "openid profile email"
	c["username"] = "alice"
	c["version"] = 2
	return mint(p.access.find(""), "", cognitoHeader, c, claims)
}

// IDToken mints the ID token of the same user: "sub", "iss", "aud" the app
// client, "cognito:username" "alice", "email", "email_verified",
// "origin_jti", "event_id", "token_use":"id", "auth_time", "iat", "exp"
// and "jti", signed by the pool's other key. claims override as for
// Issuer.Token.
func (p *CognitoUserPool) IDToken(claims map[string]any) string {
	c := p.common(claims)
	c["aud"] = p.cfg.clientID
	c["cognito:username"] = "alice"
	c["email"] = "alice@example.test"
	c["email_verified"] = true
	c["origin_jti"] = randomUUID()
	c["event_id"] = randomUUID()
	c["token_use"] = "id"
	return mint(p.id.find(""), "", cognitoHeader, c, claims)
}

// ClientCredentialsToken mints the access token of a machine client
// (client credentials grant): "sub" and "client_id" the app client,
// "token_use":"access", a custom scope "api.example.test/read", "version"
// 2, and no "username", "aud" or "cognito:groups".
func (p *CognitoUserPool) ClientCredentialsToken(claims map[string]any) string {
	c := p.common(claims)
	c["sub"] = p.cfg.clientID
	c["client_id"] = p.cfg.clientID
	c["token_use"] = "access"
	c["scope"] = "api.example.test/read"
	c["version"] = 2
	return mint(p.access.find(""), "", cognitoHeader, c, claims)
}

// cognitoHeader drops the "typ" mint puts in: Cognito sends kid and alg
// only.
var cognitoHeader = map[string]any{"typ": nil}

func (p *CognitoUserPool) common(over map[string]any) map[string]any {
	lifetime := time.Hour
	if p.cfg.lifetime > 0 {
		lifetime = p.cfg.lifetime
	}
	iat, exp := times(p.cfg.now, lifetime, over)
	return map[string]any{"sub": p.subject, "iss": p.issuer, "auth_time": iat, "iat": iat, "exp": exp, "jti": randomUUID()}
}
