package authtest

import (
	"crypto/x509"
	"encoding/base64"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authgate/authgate/providers"
)

// KeycloakRealm is an Issuer in the shape of one Keycloak realm: its
// endpoints, its key set and its tokens, with every method of Issuer and
// Keycloak's own. Make one with Keycloak.
type KeycloakRealm struct {
	*realmIssuer
	realm        string
	baseURL      string
	realmPattern string
	refreshKey   *key
	notBefore    atomic.Int64
}

// realmIssuer lets KeycloakRealm embed an Issuer under a name that does
// not hide the Issuer method.
type realmIssuer = Issuer

// Keycloak starts a Keycloak stand-in serving one realm on 127.0.0.1
// (plain http; WithTLS for https) and closes it with t.Cleanup. Its issuer
// is BaseURL()+"/realms/"+realm (WithPath("/auth") for the legacy prefix)
// and it serves Keycloak's paths and shapes:
//
//	/realms/REALM                                    {"realm", "public_key" (one-line base64 DER, no kid),
//	                                                  "token-service", "account-service", "tokens-not-before"}
//	/realms/REALM/.well-known/openid-configuration   discovery
//	/realms/REALM/protocol/openid-connect/certs      JWKS with x5c, x5t, x5t#S256, "Cache-Control: no-cache",
//	                                                  and an RSA-OAEP "use":"enc" key verifiers must skip
//
// Token mints access tokens: header {"alg":"RS256","typ":"JWT","kid"};
// claims "iss", "sub" (a user UUID), "aud" "account" (WithAudience for an
// audience mapper), "typ" "Bearer", "azp" the client (WithClientID), "sid",
// "acr", "allowed-origins", "realm_access.roles", "resource_access" (the
// account client's roles), "scope", "email_verified",
// "preferred_username", lifetime 300 s and no "nbf". Override
// "resource_access" to give the API's client roles. t may be nil as for
// NewIssuer.
func Keycloak(t testing.TB, realm string, opts ...Option) *KeycloakRealm {
	if t != nil {
		t.Helper()
	}
	cfg := newConfig(opts)
	i := &Issuer{shape: shapeKeycloak, cfg: cfg, subject: randomUUID(), lifetime: 300 * time.Second}
	k := &KeycloakRealm{realmIssuer: i, realm: realm}
	mux := http.NewServeMux()
	url := i.init(mux, cfg.tls)
	k.baseURL = url + strings.TrimSuffix(cfg.path, "/")
	i.issuer = k.baseURL + "/realms/" + realm
	i.base = i.issuer
	i.jwksURL = i.issuer + "/protocol/openid-connect/certs"
	prefix := strings.TrimSuffix(cfg.path, "/") + "/realms/" + realm
	i.discoveryPattern = "GET " + prefix + "/.well-known/openid-configuration"
	i.jwksPattern = "GET " + prefix + "/protocol/openid-connect/certs"
	k.realmPattern = "GET " + prefix

	enc, err := newKey("RSA-OAEP", realm, cfg.now())
	if err != nil {
		fatal(t, err)
	}
	i.extraKeys = []map[string]any{enc.jwk("enc", true, true)}
	if k.refreshKey, err = newKey(providers.HS512, realm, cfg.now()); err != nil {
		fatal(t, err)
	}
	i.handle(mux, k.realmPattern, func(w http.ResponseWriter, _ *http.Request) {
		doc := map[string]any{
			"realm":             realm,
			"token-service":     i.issuer + "/protocol/openid-connect",
			"account-service":   i.issuer + "/account",
			"tokens-not-before": k.notBefore.Load(),
		}
		if pk := k.publicKey(); pk != "" {
			doc["public_key"] = pk
		}
		writeJSON(w, doc, "")
	})
	i.setup(t, mux, realm)
	return k
}

// publicKey returns the realm's "public_key": the active RSA signing key
// as base64 DER SubjectPublicKeyInfo, or "" when the realm has none.
func (k *KeycloakRealm) publicKey() string {
	for _, key := range k.ring.published() {
		if key.secret == nil && (strings.HasPrefix(key.alg, "RS") || strings.HasPrefix(key.alg, "PS")) {
			der, err := x509.MarshalPKIXPublicKey(key.signer.Public())
			if err != nil {
				return ""
			}
			return base64.StdEncoding.EncodeToString(der)
		}
	}
	return ""
}

// Realm returns the realm's name.
func (k *KeycloakRealm) Realm() string { return k.realm }

// BaseURL returns the server's address as keycloak.Config.BaseURL wants it
// (URL() plus the WithPath prefix).
func (k *KeycloakRealm) BaseURL() string { return k.baseURL }

// RealmRequests returns how many requests GET /realms/REALM got (the
// public_key and tokens-not-before source), including those answered with
// an error by Fail.
func (k *KeycloakRealm) RealmRequests() int { return k.requests(k.realmPattern) }

// SetTokensNotBefore sets the realm's "tokens-not-before", as Keycloak's
// "Revoke all" or "Push revocation" do: tokens issued before t are
// revoked. The zero time resets it to 0.
func (k *KeycloakRealm) SetTokensNotBefore(t time.Time) {
	if t.IsZero() {
		k.notBefore.Store(0)
		return
	}
	k.notBefore.Store(t.Unix())
}

// Token mints a Keycloak access token (see Keycloak); claims override as
// for Issuer.Token.
func (k *KeycloakRealm) Token(claims map[string]any) string {
	return k.TokenWithHeader(nil, claims)
}

// TokenWithHeader is Token with header overrides, as
// Issuer.TokenWithHeader.
func (k *KeycloakRealm) TokenWithHeader(header, claims map[string]any) string {
	kid, _ := header["kid"].(string)
	return mint(k.ring.find(kid), "JWT", header, k.accessClaims(claims), claims)
}

func (k *KeycloakRealm) accessClaims(over map[string]any) map[string]any {
	c := k.realmIssuer.accessClaims(over)
	aud := any("account")
	if len(k.cfg.audience) > 0 {
		aud = append(append([]string{}, k.cfg.audience...), "account")
	}
	c["aud"] = aud
	c["jti"] = randomUUID()
	c["typ"] = "Bearer"
	c["azp"] = k.cfg.clientID
	c["sid"] = randomUUID()
	c["acr"] = "1"
	c["allowed-origins"] = []string{"http://localhost:3000"}
	c["realm_access"] = map[string]any{"roles": []string{"offline_access", "uma_authorization", "default-roles-" + k.realm}}
	c["resource_access"] = map[string]any{"account": map[string]any{"roles": []string{"manage-account", "manage-account-links", "view-profile"}}}
	c["scope"] = "openid profile email"
	c["email_verified"] = false
	c["preferred_username"] = "alice"
	return c
}

// IDToken mints a Keycloak ID token of the same user: signed like access
// tokens, with "typ" "ID", "aud" and "azp" the client, "auth_time", "sid",
// "acr", "at_hash" and the profile claims. An API must refuse it as a
// bearer token.
func (k *KeycloakRealm) IDToken(claims map[string]any) string {
	iat, exp := times(k.cfg.now, k.lifetime, claims)
	c := map[string]any{
		"iss": k.issuer, "sub": k.subject, "aud": k.cfg.clientID, "azp": k.cfg.clientID,
		"iat": iat, "exp": exp, "auth_time": iat, "jti": randomUUID(), "typ": "ID",
		"sid": randomUUID(), "acr": "1", "at_hash": randomID(16),
		"email_verified": false, "preferred_username": "alice",
	}
	return mint(k.ring.find(""), "JWT", nil, c, claims)
}

// RefreshToken mints a Keycloak refresh token: HS512 with the realm's
// secret (never published), "typ" "Refresh", "aud" the issuer, lifetime
// 30 minutes. An API must refuse it as a bearer token.
func (k *KeycloakRealm) RefreshToken(claims map[string]any) string {
	iat, exp := times(k.cfg.now, 30*time.Minute, claims)
	c := map[string]any{
		"iss": k.issuer, "sub": k.subject, "aud": k.issuer, "azp": k.cfg.clientID,
		"iat": iat, "exp": exp, "jti": randomUUID(), "typ": "Refresh",
		"sid": randomUUID(), "scope": "openid profile email",
	}
	return mint(k.refreshKey, "JWT", nil, c, claims)
}

// ServiceAccountToken mints the access token of clientID's service
// account (client credentials grant): "sub" the service user's UUID,
// "preferred_username" "service-account-<clientID>", "azp" and
// "client_id" clientID, and no "sid".
func (k *KeycloakRealm) ServiceAccountToken(clientID string, claims map[string]any) string {
	c := k.accessClaims(claims)
	c["sub"] = randomUUID()
	c["azp"] = clientID
	c["client_id"] = clientID
	c["preferred_username"] = "service-account-" + clientID
	c["clientHost"] = "127.0.0.1"
	c["clientAddress"] = "127.0.0.1"
	c["scope"] = "profile email"
	delete(c, "sid")
	return mint(k.ring.find(""), "JWT", nil, c, claims)
}
