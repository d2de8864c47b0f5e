package signin

import (
	"cmp"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/authgate/authgate/providers"
)

// Lifetime defaults and bounds.
const (
	// DefaultAbsoluteLifetime is how long a session lives after sign-in
	// when Config.AbsoluteLifetime is 0.
	DefaultAbsoluteLifetime = 12 * time.Hour
	// MaxAbsoluteLifetime is the longest absolute lifetime accepted.
	MaxAbsoluteLifetime = 30 * 24 * time.Hour
	// DefaultIdleLifetime is how long a session lives without activity
	// when Config.IdleLifetime is 0.
	DefaultIdleLifetime = time.Hour
	// LoginLifetime bounds the time between Login and Callback.
	LoginLifetime = 10 * time.Minute
	// RefreshBefore is how long before its expiry an access token is
	// refreshed.
	RefreshBefore = time.Minute
	// MaxCookieSize is the largest Set-Cookie value (name, value and
	// attributes) the handler sends; browsers keep at most 4096 bytes.
	MaxCookieSize = 4000
	// DefaultMaxSessions bounds the default in-memory Store.
	DefaultMaxSessions = 100_000
)

// Config configures a Handler. Issuer, ClientID, RedirectURL and Keys are
// required; the zero value of every other field is the safe default.
type Config struct {
	// Issuer is the exact issuer URL of the OpenID provider: https, or
	// plain http for loopback hosts only. Its discovery document must name
	// the same issuer. For the presets' identity providers:
	// auth0.Issuer(domain), keycloak.Issuer(base, realm, false),
	// okta.Issuer(domain, "default"), cognito.Issuer(poolID),
	// "https://login.microsoftonline.com/<tenant ID>/v2.0" (Entra ID, one
	// tenant) and "https://accounts.google.com" (whose ID tokens may also
	// name "accounts.google.com", which is accepted for that issuer).
	Issuer string
	// ClientID is the OAuth client registered at the provider; ID tokens
	// must name it in "aud".
	ClientID string
	// ClientSecret authenticates the client at the token endpoint; empty
	// for a public client (PKCE still protects the code).
	ClientSecret string
	// RedirectURL is the absolute URL of the Callback handler, as
	// registered at the provider. Its scheme decides the cookies' Secure
	// attribute: https sets it; plain http is accepted for loopback hosts
	// only, for development and tests.
	RedirectURL string
	// Scopes are requested besides "openid", which is always asked for
	// (default: "profile", "email").
	Scopes []string
	// Keys seal the cookies (AES-256-GCM), newest first: the first seals,
	// every one opens. To rotate, put a new key first; remove an old one
	// once the sessions it sealed have expired (AbsoluteLifetime).
	Keys []Key
	// Store keeps sessions and their tokens on the server (default: an
	// in-memory store of DefaultMaxSessions sessions, which is per process:
	// give replicas a shared Store). The cookie then holds only the
	// session's ID and times.
	Store Store
	// SealTokens keeps a session entirely in its cookie (claims, tokens)
	// when the sealed cookie fits MaxCookieSize; a larger one goes to the
	// Store. A session held in a cookie cannot be ended on the server: a
	// copied cookie stays valid until its lifetimes run out.
	SealTokens bool
	// AbsoluteLifetime bounds a session from sign-in (default
	// DefaultAbsoluteLifetime, at most MaxAbsoluteLifetime).
	AbsoluteLifetime time.Duration
	// IdleLifetime ends a session unused for that long (default
	// DefaultIdleLifetime, at most AbsoluteLifetime). Activity counts only
	// where Handler.Renew (or Middleware) runs.
	IdleLifetime time.Duration
	// MaxAge, if positive, asks the provider to authenticate the user
	// again when their last authentication is older ("max_age") and
	// requires the ID token's "auth_time" within it (with the leeway).
	MaxAge time.Duration
	// LoginPath is where Handler.RedirectToLogin sends browsers, the path
	// the Login handler is mounted at (default "/login").
	LoginPath string
	// AfterLogin is the same-origin path a browser lands on after sign-in
	// when the login named no valid "next" (default "/").
	AfterLogin string
	// AfterLogout is where Logout sends the browser: a same-origin path
	// (default "/"), or, with RP-initiated logout, the absolute URL the
	// provider returns to ("post_logout_redirect_uri", registered at the
	// provider).
	AfterLogout string
	// CookieName names the session cookie (default "__Host-authgate" over
	// https, "authgate" on loopback http); the login cookie is the same
	// name with "-login".
	CookieName string
	// CookieDomain, if set, makes the cookies domain cookies, sent to
	// every subdomain too (default: host-only). Every host under it MUST
	// be trusted with the user's session.
	CookieDomain string
	// Realm is the realm of WWW-Authenticate challenges (default "api").
	Realm string
	// OnError renders a failed Login, Callback or Logout (default: a plain
	// text page with the status of authgate.StatusCode and a safe
	// message). err is an *authgate.Error.
	OnError func(w http.ResponseWriter, r *http.Request, err error)

	// TokenOptions apply to the ID token as to an access token of the oidc
	// provider: Name (default "signin"), Algorithms (default RS256;
	// asymmetric only), Leeway, Claims, RolesClaim, TenantClaim, Validate,
	// Now and Logger. The audience is always the ClientID: Audience,
	// AuthorizedParties and CacheSize must stay empty.
	providers.TokenOptions
	// FetchOptions tune discovery and the key set, and HTTPClient also
	// sends the code exchange and refreshes: whatever client is given, the
	// copy used follows no redirects, sends no cookies, times out, reads at
	// most 256 KiB per answer and talks to https (or loopback http) only.
	providers.FetchOptions
}

// Handler runs sign-in with one OpenID provider: the Login, Callback and
// Logout handlers, the session Authenticator, Renew and Token. Build one
// with New. It is safe for concurrent use.
type Handler struct {
	cfg       Config // copied, defaults applied
	name      string
	client    *http.Client
	seal      *sealer
	store     Store
	now       func() time.Time
	logger    *slog.Logger
	secure    bool
	cookie    string // session cookie name
	loginName string // login cookie name
	mapping   providers.Mapping
	leeway    time.Duration
	scopes    []string
	issuers   []string // accepted "iss" values

	disc    discovery
	used    usedStates
	session *Authenticator
}

// New validates cfg and returns its Handler. It does no network I/O:
// discovery runs on the first login. It returns an error for a missing or
// non-https issuer or redirect URL, a missing client ID, missing or bad
// keys, an HMAC or unknown algorithm, lifetimes out of bounds, a login,
// landing or logout path that is not a same-origin path, a cookie name or
// domain that cookies cannot carry, an audience set in TokenOptions, and
// claim rules that cannot be checked.
func New(cfg Config) (*Handler, error) {
	name := cmp.Or(cfg.Name, "signin")
	fail := func(format string, args ...any) (*Handler, error) {
		return nil, fmt.Errorf("signin: "+format, args...)
	}
	if cfg.Issuer == "" {
		return fail("an issuer is required (Issuer)")
	}
	if _, err := providers.CheckURL(cfg.Issuer); err != nil {
		return fail("issuer %w", err)
	}
	if cfg.ClientID == "" {
		return fail("a client ID is required (ClientID)")
	}
	if len(cfg.Audience) > 0 || len(cfg.AuthorizedParties) > 0 {
		return fail("the ID token's audience is the client ID: leave Audience and AuthorizedParties empty")
	}
	if cfg.CacheSize != 0 {
		return fail("ID tokens are verified once: leave CacheSize empty")
	}
	redirect, err := url.Parse(cfg.RedirectURL)
	switch {
	case cfg.RedirectURL == "":
		return fail("a redirect URL is required (RedirectURL)")
	case err != nil || redirect.Host == "" || redirect.Fragment != "" || redirect.User != nil:
		return fail("RedirectURL must be an absolute URL without user information or fragment")
	case redirect.Scheme == "https":
	case redirect.Scheme == "http" && isLoopback(redirect.Hostname()):
	default:
		return fail("RedirectURL must be https (plain http for loopback hosts only)")
	}
	for _, alg := range cfg.Algorithms {
		if strings.HasPrefix(alg, "HS") {
			return fail("algorithm %q: ID tokens are verified with the provider's published keys, never a shared secret", alg)
		}
	}
	seal, err := newSealer(cfg.Keys)
	if err != nil {
		return fail("%w", err)
	}

	cfg.Keys = nil // the sealer holds them
	cfg.Scopes = slices.Clone(cfg.Scopes)
	cfg.AbsoluteLifetime = cmp.Or(cfg.AbsoluteLifetime, DefaultAbsoluteLifetime)
	cfg.IdleLifetime = cmp.Or(cfg.IdleLifetime, DefaultIdleLifetime)
	switch {
	case cfg.AbsoluteLifetime < time.Minute || cfg.AbsoluteLifetime > MaxAbsoluteLifetime:
		return fail("AbsoluteLifetime %v outside [1m, %v]", cfg.AbsoluteLifetime, MaxAbsoluteLifetime)
	case cfg.IdleLifetime < time.Minute || cfg.IdleLifetime > cfg.AbsoluteLifetime:
		return fail("IdleLifetime %v outside [1m, AbsoluteLifetime]", cfg.IdleLifetime)
	case cfg.MaxAge < 0:
		return fail("negative MaxAge")
	}
	cfg.LoginPath = cmp.Or(cfg.LoginPath, "/login")
	cfg.AfterLogin = cmp.Or(cfg.AfterLogin, "/")
	cfg.AfterLogout = cmp.Or(cfg.AfterLogout, "/")
	if _, ok := SafeRedirect(cfg.LoginPath); !ok {
		return fail("LoginPath must be a same-origin path")
	}
	if _, ok := SafeRedirect(cfg.AfterLogin); !ok {
		return fail("AfterLogin must be a same-origin path")
	}
	if _, ok := SafeRedirect(cfg.AfterLogout); !ok {
		if _, err := providers.CheckURL(cfg.AfterLogout); err != nil {
			return fail("AfterLogout must be a same-origin path or an https URL")
		}
	}
	secure := redirect.Scheme == "https"
	if cfg.CookieName == "" {
		cfg.CookieName = "authgate"
		if secure && cfg.CookieDomain == "" {
			cfg.CookieName = "__Host-authgate"
		}
	}
	if !validCookieName(cfg.CookieName) {
		return fail("CookieName %q is not a cookie name", cfg.CookieName)
	}
	if strings.HasPrefix(cfg.CookieName, "__Host-") && (!secure || cfg.CookieDomain != "") {
		return fail("a __Host- cookie needs an https RedirectURL and no CookieDomain")
	}
	if cfg.CookieDomain != "" && !validCookieName(strings.ReplaceAll(cfg.CookieDomain, ".", "")) {
		return fail("CookieDomain %q is not a domain", cfg.CookieDomain)
	}
	cfg.Realm = cmp.Or(cfg.Realm, "api")

	logger := cfg.Logger
	if logger == nil {
		logger = slog.Default()
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	h := &Handler{
		name:      name,
		client:    guardedClient(cfg.HTTPClient),
		seal:      seal,
		store:     cfg.Store,
		now:       now,
		logger:    logger,
		secure:    secure,
		cookie:    cfg.CookieName,
		loginName: cfg.CookieName + "-login",
		mapping: providers.Mapping{
			Provider:    name,
			Method:      "session",
			RolesClaim:  cfg.RolesClaim,
			TenantClaim: cfg.TenantClaim,
		},
		scopes:  scopes(cfg.Scopes),
		issuers: issuers(cfg.Issuer),
		used:    usedStates{seen: map[string]time.Time{}},
	}
	if h.store == nil {
		h.store = NewMemoryStore(DefaultMaxSessions, now)
	}
	cfg.HTTPClient = h.client
	h.cfg = cfg

	// Build the ID token verifier once now, over the issuer as a stand-in
	// key set address, so that every option is validated eagerly; the real
	// one is built after discovery with the same options.
	v, err := h.newVerifier(cfg.Issuer)
	if err != nil {
		return nil, err
	}
	h.leeway = v.Verifier().Leeway()
	h.session = &Authenticator{h: h}
	h.disc.h = h
	return h, nil
}

// newVerifier returns authgate's verifier of the issuer's ID tokens, with
// the keys at jwksURL.
func (h *Handler) newVerifier(jwksURL string) (*providers.TokenAuthenticator, error) {
	opts := h.cfg.TokenOptions
	opts.Name = h.name
	opts.Audience = []string{h.cfg.ClientID}
	if len(opts.Algorithms) == 0 {
		opts.Algorithms = []string{providers.RS256}
	}
	return providers.Preset{
		Package: "signin",
		Issuer:  h.cfg.Issuer,
		Issuers: h.issuers[1:],
		JWKSURL: jwksURL,
		Method:  "session",
	}.New(opts, h.cfg.FetchOptions)
}

// scopes returns "openid" followed by the configured scopes (default
// profile and email), without duplicates.
func scopes(configured []string) []string {
	if len(configured) == 0 {
		configured = []string{"profile", "email"}
	}
	out := []string{"openid"}
	for _, s := range configured {
		if s != "" && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// issuers returns the "iss" values accepted for issuer: itself, and for
// Google its scheme-less spelling (OpenID Connect Core §15.6.2 notes
// Google's ID tokens may carry either).
func issuers(issuer string) []string {
	if issuer == "https://accounts.google.com" {
		return []string{issuer, "accounts.google.com"}
	}
	return []string{issuer}
}

// validCookieName reports whether s is a non-empty RFC 6265 token.
func validCookieName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, c := range []byte(s) {
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`()<>@,;:\"/[]?={}`, c) >= 0 {
			return false
		}
	}
	return true
}

// isLoopback reports whether host is localhost or a loopback address, as
// providers.CheckURL decides for plain http.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
