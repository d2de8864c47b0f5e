package authtest

import (
	"crypto/sha1"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/authgate/authgate/providers"
)

// EntraConsumersTenant is the tenant of personal Microsoft accounts in
// Entra ID.
const EntraConsumersTenant = "9188040d-6c67-4c5b-b112-36a304b66dad"

// entraV1Base is the base of v1.0 issuers in Entra's global cloud.
const entraV1Base = "https://sts.windows.net"

// EntraAuthority is a stand-in for the Microsoft identity platform's
// authority (login.microsoftonline.com): the discovery documents and key
// sets of every tenant, and the minting of v1.0 and v2.0 access tokens as
// Entra ID issues them to an API. Make one with Entra. Its methods are
// safe for concurrent use.
//
// The shapes follow Microsoft's documentation: "Access token claims
// reference" (https://learn.microsoft.com/entra/identity-platform/access-token-claims-reference)
// and "Access tokens in the Microsoft identity platform"
// (https://learn.microsoft.com/entra/identity-platform/access-tokens),
// which shows the keys of the tenant-independent key set with their
// "issuer" members and the {tenantid} issuer template of the
// organizations and common discovery documents.
type EntraAuthority struct {
	server
	cfg       config
	tenant    string
	api       string // the API's application ID: "aud" of v2.0 tokens
	client    string
	user, sp  string // object IDs of the user and of the client's service principal
	sub       string
	shared    *keyRing // keys shared by the work and school tenants
	consumers *keyRing // keys of the personal-account tenant
}

// Entra starts a stand-in for Entra ID's authority on 127.0.0.1 (plain
// http; WithTLS for https) and closes it with t.Cleanup. Its URL() is the
// authority (entra.Config.Authority). For TENANT a tenant ID,
// "organizations", "common" or "consumers" it serves
//
//	/TENANT/v2.0/.well-known/openid-configuration  v2.0 discovery: "issuer" AUTHORITY/TID/v2.0, or the
//	                                               template AUTHORITY/{tenantid}/v2.0 for organizations, common
//	/TENANT/discovery/v2.0/keys                    v2.0 keys, each with its "issuer" (the tenant's, the
//	                                               template, or the personal-account tenant's under common)
//	/TENANT/.well-known/openid-configuration       v1.0 discovery: "issuer" https://sts.windows.net/TID/
//	/TENANT/discovery/keys                         v1.0 keys: the same keys, without "issuer"
//
// with "Cache-Control: max-age=86400, private" (a day: Microsoft advises
// checking for new keys every 24 hours; WithCacheControl). Keys are RS256,
// with x5c and x5t, a kid equal to x5t and no "alg", as Entra publishes
// them; a tenant named by anything else (a domain name) is a 400.
//
// Token mints v2.0 delegated access tokens, AppToken v2.0 app-only ones,
// V1Token and V1AppToken the v1.0 shapes; every token is of TenantID()
// unless its claims give another "tid" (the issuer follows it). Options:
// WithNow, WithLifetime (default 75 minutes, Entra's average),
// WithAudience (default: Audience() for v2.0, AppIDURI() for v1.0),
// WithClientID (default a random GUID), WithCacheControl, WithTLS. t may
// be nil as for NewIssuer.
func Entra(t testing.TB, opts ...Option) *EntraAuthority {
	if t != nil {
		t.Helper()
	}
	cfg := newConfig(opts)
	e := &EntraAuthority{
		cfg: cfg, tenant: randomUUID(), api: randomUUID(), client: cfg.clientID,
		user: randomUUID(), sp: randomUUID(), sub: randomID(32),
	}
	if e.client == DefaultClientID {
		e.client = randomUUID()
	}
	if cfg.lifetime <= 0 {
		e.cfg.lifetime = 75 * time.Minute
	}
	var err error
	if e.shared, err = newKeyRing("accounts.accesscontrol.windows.net", cfg.now, []string{providers.RS256}); err != nil {
		fatal(t, err)
	}
	if e.consumers, err = newKeyRing("Live ID STS Signing Public Key", cfg.now, []string{providers.RS256}); err != nil {
		fatal(t, err)
	}
	thumbprintKIDs(e.shared)
	thumbprintKIDs(e.consumers)
	mux := http.NewServeMux()
	e.init(mux, cfg.tls)
	cache := cfg.cache("max-age=86400, private")
	for _, v1 := range []bool{false, true} {
		disc, keys := "GET /{tenant}/v2.0/.well-known/openid-configuration", "GET /{tenant}/discovery/v2.0/keys"
		if v1 {
			disc, keys = "GET /{tenant}/.well-known/openid-configuration", "GET /{tenant}/discovery/keys"
		}
		e.handle(mux, disc, func(w http.ResponseWriter, r *http.Request) {
			if tenant, ok := e.tenantOf(w, r); ok {
				writeJSON(w, e.discovery(tenant, v1), cache)
			}
		})
		e.handle(mux, keys, func(w http.ResponseWriter, r *http.Request) {
			if tenant, ok := e.tenantOf(w, r); ok {
				writeJSON(w, e.jwks(tenant, v1), cache)
			}
		})
	}
	e.begin(t)
	return e
}

// thumbprintKIDs makes every key's kid its x5t, as Entra does, and
// returns the signing key's.
func thumbprintKIDs(r *keyRing) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, k := range r.keys {
		sum := sha1.Sum(k.certDER)
		k.kid = b64(sum[:])
	}
	return r.signer.kid
}

// tenantOf reads the tenant segment of the request, answering 400 for one
// Entra would not resolve here.
func (e *EntraAuthority) tenantOf(w http.ResponseWriter, r *http.Request) (string, bool) {
	tenant := r.PathValue("tenant")
	switch {
	case tenant == "organizations" || tenant == "common":
	case tenant == "consumers":
		tenant = EntraConsumersTenant
	case len(tenant) != 36 || strings.Count(tenant, "-") != 4:
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		w.Write([]byte(`{"error":"invalid_tenant","error_description":"authtest: tenant not found"}`))
		return "", false
	}
	return tenant, true
}

func (e *EntraAuthority) discovery(tenant string, v1 bool) map[string]any {
	a := e.URL() + "/" + tenant
	issuerTenant := tenant
	if tenant == "organizations" || tenant == "common" {
		issuerTenant = "{tenantid}"
	}
	doc := map[string]any{
		"issuer":                                e.Issuer(issuerTenant),
		"jwks_uri":                              a + "/discovery/v2.0/keys",
		"authorization_endpoint":                a + "/oauth2/v2.0/authorize",
		"token_endpoint":                        a + "/oauth2/v2.0/token",
		"device_authorization_endpoint":         a + "/oauth2/v2.0/devicecode",
		"end_session_endpoint":                  a + "/oauth2/v2.0/logout",
		"userinfo_endpoint":                     "https://graph.microsoft.com/oidc/userinfo",
		"token_endpoint_auth_methods_supported": []string{"client_secret_post", "private_key_jwt", "client_secret_basic"},
		"response_modes_supported":              []string{"query", "fragment", "form_post"},
		"response_types_supported":              []string{"code", "id_token", "code id_token", "id_token token"},
		"subject_types_supported":               []string{"pairwise"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"scopes_supported":                      []string{"openid", "profile", "email", "offline_access"},
		"claims_supported":                      []string{"sub", "iss", "aud", "exp", "iat", "auth_time", "acr", "nonce", "preferred_username", "name", "tid", "ver", "at_hash", "c_hash", "email"},
		"request_uri_parameter_supported":       false,
		"http_logout_supported":                 true,
		"frontchannel_logout_supported":         true,
		"kerberos_endpoint":                     a + "/kerberos",
		"tenant_region_scope":                   nil,
		"cloud_instance_name":                   "microsoftonline.com",
		"cloud_graph_host_name":                 "graph.windows.net",
		"msgraph_host":                          "graph.microsoft.com",
		"rbac_url":                              "https://pas.windows.net",
	}
	if v1 {
		doc["issuer"] = e.V1Issuer(issuerTenant)
		doc["jwks_uri"] = a + "/discovery/keys"
		doc["authorization_endpoint"] = a + "/oauth2/authorize"
		doc["token_endpoint"] = a + "/oauth2/token"
		doc["device_authorization_endpoint"] = a + "/oauth2/devicecode"
		doc["end_session_endpoint"] = a + "/oauth2/logout"
		doc["userinfo_endpoint"] = a + "/openid/userinfo"
	}
	return doc
}

// jwks returns a tenant's key set: v2.0 keys carry the issuer they sign
// for, v1.0 keys none.
func (e *EntraAuthority) jwks(tenant string, v1 bool) map[string]any {
	keys := []map[string]any{}
	add := func(r *keyRing, issuer string) {
		for _, k := range r.published() {
			m := k.jwk("sig", true, false)
			delete(m, "alg")
			if !v1 {
				m["issuer"] = issuer
			}
			keys = append(keys, m)
		}
	}
	switch tenant {
	case EntraConsumersTenant:
		add(e.consumers, e.Issuer(EntraConsumersTenant))
	case "organizations":
		add(e.shared, e.Issuer("{tenantid}"))
	case "common":
		add(e.shared, e.Issuer("{tenantid}"))
		if !v1 {
			add(e.consumers, e.Issuer(EntraConsumersTenant))
		}
	default:
		add(e.shared, e.Issuer(tenant))
	}
	return map[string]any{"keys": keys}
}

// TenantID returns the tenant of minted tokens unless their claims give
// another "tid".
func (e *EntraAuthority) TenantID() string { return e.tenant }

// Issuer returns the v2.0 issuer of a tenant, URL()/TENANT/v2.0
// ("{tenantid}" gives the template).
func (e *EntraAuthority) Issuer(tenant string) string { return e.URL() + "/" + tenant + "/v2.0" }

// V1Issuer returns the v1.0 issuer of a tenant,
// https://sts.windows.net/TENANT/ (global cloud).
func (e *EntraAuthority) V1Issuer(tenant string) string { return entraV1Base + "/" + tenant + "/" }

// Audience returns the API's application (client) ID, the "aud" of v2.0
// tokens (WithAudience overrides it).
func (e *EntraAuthority) Audience() string { return e.api }

// AppIDURI returns the API's Application ID URI, "api://" + Audience(),
// the "aud" of v1.0 tokens (WithAudience overrides it).
func (e *EntraAuthority) AppIDURI() string { return "api://" + e.api }

// ClientID returns the calling application's ID: "azp" of v2.0 tokens,
// "appid" of v1.0 ones.
func (e *EntraAuthority) ClientID() string { return e.client }

// UserObjectID returns the "oid" of the user of delegated tokens.
func (e *EntraAuthority) UserObjectID() string { return e.user }

// AppObjectID returns the "oid" (and "sub") of app-only tokens: the
// client's service principal.
func (e *EntraAuthority) AppObjectID() string { return e.sp }

// Subject returns the "sub" of delegated tokens, pairwise per API.
func (e *EntraAuthority) Subject() string { return e.sub }

// KeyID returns the kid of the key that signs work and school tenants'
// tokens.
func (e *EntraAuthority) KeyID() string { return e.shared.find("").kid }

// ConsumersKeyID returns the kid of the key that signs personal-account
// tokens: published under common and consumers, bound to the
// personal-account tenant's issuer.
func (e *EntraAuthority) ConsumersKeyID() string { return e.consumers.find("").kid }

// Rotate publishes a new work and school key and signs with it from now
// on; the previous key stays published until Retire. It returns the new
// kid.
func (e *EntraAuthority) Rotate() string {
	e.shared.rotate()
	return thumbprintKIDs(e.shared)
}

// Retire takes the key kid out of every key set; it reports whether the
// authority has such a key.
func (e *EntraAuthority) Retire(kid string) bool {
	return e.shared.retire(kid) || e.consumers.retire(kid)
}

// KeysRequests returns how many requests the key sets (v1.0 and v2.0, of
// every tenant) got, including those answered with an error by Fail.
func (e *EntraAuthority) KeysRequests() int {
	return e.requests("GET /{tenant}/discovery/v2.0/keys") + e.requests("GET /{tenant}/discovery/keys")
}

// DiscoveryRequests returns how many requests the discovery documents
// got.
func (e *EntraAuthority) DiscoveryRequests() int {
	return e.requests("GET /{tenant}/v2.0/.well-known/openid-configuration") +
		e.requests("GET /{tenant}/.well-known/openid-configuration")
}

// Token mints a v2.0 access token delegated by a user: header
// {"typ":"JWT","alg":"RS256","kid"}; claims "aud" Audience(), "iss"
// Issuer(tid), "iat", "nbf", "exp", "aio", "azp" ClientID(), "azpacr"
// "0", "name", "oid" UserObjectID(), "preferred_username", "rh", "scp"
// "access_as_user" (space-separated), "sub" Subject(), "tid", "uti",
// "ver" "2.0". Add "roles" for the user's app roles. claims override as
// for Issuer.Token; a "tid" moves "iss" with it, and personal-account
// tokens (tid EntraConsumersTenant) are signed with the consumers key.
func (e *EntraAuthority) Token(claims map[string]any) string {
	return e.TokenWithHeader(nil, claims)
}

// TokenWithHeader is Token with header overrides, as
// Issuer.TokenWithHeader; a "kid" of either key set selects its key.
func (e *EntraAuthority) TokenWithHeader(header, claims map[string]any) string {
	c := e.common(claims, false)
	c["azp"], c["azpacr"] = e.client, "0"
	c["name"], c["preferred_username"] = "Megan Bowen", "meganb@contoso.example"
	c["oid"], c["sub"], c["scp"] = e.user, e.sub, "access_as_user"
	return e.mint(header, c, claims)
}

// AppToken mints a v2.0 app-only access token (client credentials): no
// "scp", "roles" the application permissions granted
// (["Tasks.Read.All"]), "sub" and "oid" AppObjectID(), "azp" ClientID(),
// "azpacr" "1", and no user claims. Entra adds "idtyp":"app" only when
// the API registration asks for that optional claim: pass it in claims.
func (e *EntraAuthority) AppToken(claims map[string]any) string {
	c := e.common(claims, false)
	c["azp"], c["azpacr"] = e.client, "1"
	c["oid"], c["sub"], c["roles"] = e.sp, e.sp, []string{"Tasks.Read.All"}
	return e.mint(nil, c, claims)
}

// V1Token mints a v1.0 delegated access token: header
// {"typ":"JWT","alg":"RS256","x5t","kid"} (x5t equal to kid); claims
// "aud" AppIDURI(), "iss" V1Issuer(tid), "iat", "nbf", "exp", "acr" "1",
// "aio", "amr" ["pwd"], "appid" ClientID(), "appidacr" "0",
// "family_name", "given_name", "ipaddr", "name", "oid", "rh", "scp"
// "user_impersonation", "sub", "tid", "unique_name", "upn", "uti", "ver"
// "1.0".
func (e *EntraAuthority) V1Token(claims map[string]any) string {
	c := e.common(claims, true)
	c["acr"], c["amr"], c["appid"], c["appidacr"] = "1", []string{"pwd"}, e.client, "0"
	c["family_name"], c["given_name"], c["name"] = "Bowen", "Megan", "Megan Bowen"
	c["unique_name"], c["upn"], c["ipaddr"] = "meganb@contoso.example", "meganb@contoso.example", "192.0.2.10"
	c["oid"], c["sub"], c["scp"] = e.user, e.sub, "user_impersonation"
	return e.mint(map[string]any{"x5t": nil}, c, claims)
}

// V1AppToken mints a v1.0 app-only access token: "appid" ClientID(),
// "appidacr" "1", "idp" the v1.0 issuer, "oid" and "sub" AppObjectID(),
// "roles", no "scp"; header and the other claims as V1Token's.
func (e *EntraAuthority) V1AppToken(claims map[string]any) string {
	c := e.common(claims, true)
	c["appid"], c["appidacr"], c["idp"] = e.client, "1", c["iss"]
	c["oid"], c["sub"], c["roles"] = e.sp, e.sp, []string{"Tasks.Read.All"}
	return e.mint(map[string]any{"x5t": nil}, c, claims)
}

// common returns the claims every access token has.
func (e *EntraAuthority) common(over map[string]any, v1 bool) map[string]any {
	iat, exp := times(e.cfg.now, e.cfg.lifetime, over)
	tid := e.tenant
	if s, ok := over["tid"].(string); ok {
		tid = s
	}
	c := map[string]any{
		"aud": audience(e.cfg.audience, e.api), "iss": e.Issuer(tid), "tid": tid,
		"iat": iat, "nbf": iat, "exp": exp, "ver": "2.0",
		"aio": randomID(48), "rh": "0." + randomID(40) + ".", "uti": randomID(16),
	}
	if v1 {
		c["aud"], c["iss"], c["ver"] = audience(e.cfg.audience, e.AppIDURI()), e.V1Issuer(tid), "1.0"
	}
	return c
}

// mint signs a token with the key its header's kid names, or with the
// signing key of its tenant; a nil "x5t" in header means "x5t" = kid.
func (e *EntraAuthority) mint(header, defaults, over map[string]any) string {
	kid, _ := header["kid"].(string)
	ring := e.shared
	if defaults["tid"] == EntraConsumersTenant {
		ring = e.consumers
	}
	k := ring.find("")
	for _, r := range []*keyRing{e.shared, e.consumers} {
		if c := r.find(kid); kid != "" && c.kid == kid {
			k = c
		}
	}
	h := map[string]any{}
	for name, v := range header {
		if name == "x5t" && v == nil {
			v = k.kid
		}
		h[name] = v
	}
	return mint(k, "JWT", h, defaults, over)
}
