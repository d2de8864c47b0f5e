// Package introspection authenticates opaque bearer tokens by asking the
// authorization server that issued them (OAuth 2.0 Token Introspection, RFC
// 7662): Okta's org authorization server, Ory Hydra, Keycloak's lightweight
// tokens, oidc-provider and most gateways answer it.
//
// Authenticate posts the token, with token_type_hint, to the configured
// endpoint, authenticating authgate as a client with client_secret_basic or
// client_secret_post. An inactive token ("active": false) is a 401. An
// active answer is then checked like a JWT's claims — "iss" must be the
// configured issuer, "exp" is required and "nbf", "iat" honoured with the
// same leeway rules, "aud" (or the "client_id" the token was issued to) must
// be accepted, the claim rules and Validate apply — and mapped to the
// principal as providers.Mapping maps a JWT, so "scope", roles and tenant
// map as they do for JWTs. An answer that is not a strict JSON object with
// a boolean "active", a status other than 200, a redirect, a body over
// MaxResponseSize, a timeout or an unreachable endpoint is
// authgate.ErrUnavailable (503): never 401, never allowed.
//
// Which tokens are this provider's: a token in the compact JWS shape (three
// base64url segments) is introspected only when its unverified "iss" is the
// configured issuer (Okta's org-server tokens are such JWTs); a JWT of any
// other issuer, or of none, is "not mine" (authgate.ErrUnrecognizedCredential)
// and costs no request, so it chains with JWT providers. Every other bearer
// value is opaque and is this provider's: it claims every bearer token that
// the JWT providers before it in a chain.Any did not, so put it last.
//
// With CacheSize set, active answers are remembered, keyed by the SHA-256
// of the token, until the token's "exp" or CacheTTL, whichever comes first;
// inactive answers and failures are never cached. A token revoked at the
// server is therefore refused at the latest CacheTTL after its revocation.
//
// Authenticators are immutable and safe for concurrent use. New does no
// network I/O.
package introspection

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/providers"
)

// Defaults and bounds.
const (
	// DefaultTimeout bounds one introspection call when Config.Timeout is 0.
	DefaultTimeout = 5 * time.Second
	// MaxTimeout is the longest Config.Timeout accepted.
	MaxTimeout = 30 * time.Second
	// MaxResponseSize caps the introspection response body (64 KiB).
	MaxResponseSize = 64 << 10
	// DefaultTokenTypeHint is the token_type_hint sent when
	// Config.TokenTypeHint is empty.
	DefaultTokenTypeHint = "access_token"
)

// AuthMethod is how authgate authenticates itself to the introspection
// endpoint (RFC 6749 §2.3.1, the token_endpoint_auth_method names of RFC
// 7591).
type AuthMethod string

// The client authentication methods.
const (
	// ClientSecretBasic sends the client ID and secret in an
	// "Authorization: Basic" header, each form-urlencoded first as RFC 6749
	// §2.3.1 requires. It is the default.
	ClientSecretBasic AuthMethod = "client_secret_basic"
	// ClientSecretPost sends them as client_id and client_secret form
	// parameters.
	ClientSecretPost AuthMethod = "client_secret_post"
)

// Secret is a client secret: configuration, never shown. Printing it with
// the fmt verbs or logging it with log/slog gives "[redacted]".
type Secret string

// String returns "[redacted]".
func (Secret) String() string { return "[redacted]" }

// GoString returns "[redacted]", for %#v.
func (Secret) GoString() string { return "[redacted]" }

// LogValue returns "[redacted]", for log/slog.
func (Secret) LogValue() slog.Value { return slog.StringValue("[redacted]") }

// Config configures an Authenticator. Issuer, Endpoint, ClientID,
// ClientSecret and an audience (Audience or AuthorizedParties) are
// required.
type Config struct {
	// Issuer is the authorization server's issuer identifier. Every active
	// answer must carry it in "iss"; a JWT whose unverified "iss" is Issuer
	// is introspected as well.
	Issuer string
	// Endpoint is the introspection endpoint (the server metadata's
	// "introspection_endpoint"): https, or plain http for loopback hosts.
	Endpoint string
	// ClientID and ClientSecret identify this API to the endpoint: the
	// credentials of the client (resource server) registered for it. The
	// secret is sent to Endpoint only, and never appears in an error or a
	// log line.
	ClientID     string
	ClientSecret Secret
	// AuthMethod is ClientSecretBasic (the default) or ClientSecretPost.
	AuthMethod AuthMethod
	// TokenTypeHint is sent as token_type_hint (default "access_token").
	TokenTypeHint string
	// HTTPClient sends the requests (default: http.DefaultTransport). It is
	// copied: the copy follows no redirects, sends no cookies and times out
	// after Timeout.
	HTTPClient *http.Client
	// Timeout bounds one call, body included (default DefaultTimeout, at
	// most MaxTimeout).
	Timeout time.Duration
	// TokenOptions are the options every token provider shares, read for an
	// introspection answer instead of a JWT's claims:
	//
	//   - Audience lists accepted "aud" values; AuthorizedParties accepts an
	//     answer whose "aud" names none of them when its "client_id" (the
	//     client the token was issued to, RFC 7662 §2.2) is one of these.
	//   - TokenTypes lists the accepted "token_type" values, compared
	//     without regard to case (default {"Bearer"}). The member is
	//     required: refresh tokens and sender-constrained (DPoP) tokens are
	//     refused, and so is every answer with a "cnf" member, whose
	//     proof of possession authgate cannot check, or a "token_use" other
	//     than "access_token".
	//   - Leeway, Claims, RolesClaim, TenantClaim, Validate, Now, Name and
	//     Logger mean what they mean for JWTs; CacheSize and CacheTTL bound
	//     the cache of active answers (a hit skips the call; Validate does
	//     not run again).
	//   - Algorithms must be empty: nothing is signed.
	providers.TokenOptions
}

// Authenticator authenticates bearer tokens by introspection. Make one
// with New; it is immutable and safe for concurrent use.
type Authenticator struct {
	name, prefix string
	issuer       string
	endpoint     string
	clientID     string
	secret       Secret
	method       AuthMethod
	hint         string
	client       *http.Client
	audience     []string
	parties      []string
	types        []string
	leeway       time.Duration
	claims       func(map[string]any) error
	validate     func(*providers.Token) error
	now          func() time.Time
	mapping      providers.Mapping
	cache        *cache // nil: no cache
	logger       *slog.Logger

	logMu     sync.Mutex
	lastLogAt time.Time
}

// New validates cfg and returns an Authenticator. It does no network I/O.
// It returns an error, prefixed "introspection: ", for a missing issuer,
// endpoint, client ID or secret, an endpoint that is not https (plain http
// is allowed for loopback hosts), an unknown AuthMethod, no audience, any
// Algorithms, an empty token type, a timeout, leeway or cache bound out of
// range, and claim rules that cannot be checked.
func New(cfg Config) (*Authenticator, error) {
	name := cmp.Or(cfg.Name, "introspection")
	prefix := "introspection"
	if name != prefix {
		prefix += ": " + name
	}
	fail := func(format string, args ...any) (*Authenticator, error) {
		return nil, fmt.Errorf("%s: "+format, append([]any{prefix}, args...)...)
	}
	switch {
	case cfg.Issuer == "":
		return fail("an issuer is required")
	case cfg.Endpoint == "":
		return fail("an introspection endpoint is required")
	case cfg.ClientID == "" || cfg.ClientSecret == "":
		return fail("a client ID and a client secret are required")
	case len(cfg.Audience) == 0 && len(cfg.AuthorizedParties) == 0:
		return fail("an audience is required (Audience, or AuthorizedParties for client_id)")
	case slices.Contains(cfg.Audience, "") || slices.Contains(cfg.AuthorizedParties, ""):
		return fail("empty audience or authorized party")
	case len(cfg.Algorithms) > 0:
		return fail("Algorithms do not apply: introspected tokens are not verified locally")
	case cfg.Timeout < 0 || cfg.Timeout > MaxTimeout:
		return fail("timeout %v outside [0, %v]", cfg.Timeout, MaxTimeout)
	case cfg.CacheSize < 0 || cfg.CacheSize > providers.MaxCacheSize:
		return fail("CacheSize %d outside [0, %d]", cfg.CacheSize, providers.MaxCacheSize)
	case cfg.CacheTTL < 0 || cfg.CacheTTL > providers.MaxCacheTTL:
		return fail("CacheTTL %v outside [0, %v]", cfg.CacheTTL, providers.MaxCacheTTL)
	}
	if _, err := providers.CheckURL(cfg.Endpoint); err != nil {
		return fail("endpoint %w", err)
	}
	method := cmp.Or(cfg.AuthMethod, ClientSecretBasic)
	if method != ClientSecretBasic && method != ClientSecretPost {
		return fail("unknown client authentication method %q", string(method))
	}
	types := slices.Clone(cfg.TokenTypes)
	if len(types) == 0 {
		types = []string{"Bearer"}
	}
	if slices.Contains(types, "") {
		return fail("empty token type")
	}
	var leeway time.Duration
	switch {
	case cfg.Leeway == 0:
		leeway = providers.DefaultLeeway
	case cfg.Leeway == providers.NoLeeway:
	case cfg.Leeway < 0 || cfg.Leeway > providers.MaxLeeway:
		return fail("leeway %v outside [0, %v]", cfg.Leeway, providers.MaxLeeway)
	default:
		leeway = cfg.Leeway
	}
	claims, err := cfg.Claims.Compile()
	if err != nil {
		return fail("%w", err)
	}
	a := &Authenticator{
		name:     name,
		prefix:   prefix,
		issuer:   cfg.Issuer,
		endpoint: cfg.Endpoint,
		clientID: cfg.ClientID,
		secret:   cfg.ClientSecret,
		method:   method,
		hint:     cmp.Or(cfg.TokenTypeHint, DefaultTokenTypeHint),
		client:   providers.GuardedClient(cfg.HTTPClient, cmp.Or(cfg.Timeout, DefaultTimeout)),
		audience: slices.Clone(cfg.Audience),
		parties:  slices.Clone(cfg.AuthorizedParties),
		types:    types,
		leeway:   leeway,
		claims:   claims,
		validate: cfg.Validate,
		now:      cfg.Now,
		logger:   cmp.Or(cfg.Logger, slog.Default()),
		mapping: providers.Mapping{
			Provider:    name,
			Method:      "introspection",
			RolesClaim:  cfg.RolesClaim,
			TenantClaim: cfg.TenantClaim,
		},
	}
	if a.now == nil {
		a.now = time.Now
	}
	if cfg.CacheSize > 0 {
		a.cache = newCache(cfg.CacheSize, cmp.Or(cfg.CacheTTL, providers.DefaultCacheTTL))
	}
	return a, nil
}

// Authenticate reads the bearer token and introspects it. No bearer
// credential, or a JWT of another issuer, is "not mine"
// (authgate.ErrNoCredentials, authgate.ErrUnrecognizedCredential) and costs
// no request; an ambiguous header is authgate.ErrMalformedRequest; see
// Verify for the rest.
func (a *Authenticator) Authenticate(r *http.Request) (*authgate.Principal, error) {
	token, err := providers.BearerToken(r)
	if err != nil {
		var e *authgate.Error
		if errors.As(err, &e) && e.Provider == "" {
			e.Provider = a.name
		}
		return nil, err
	}
	return a.Verify(r.Context(), token)
}

// Verify introspects a token outside HTTP and returns its principal, or an
// error wrapping one of authgate's sentinels: ErrUnrecognizedCredential (a
// JWT of another issuer), ErrUnavailable (the endpoint failed, timed out
// or answered something that is not an introspection response),
// ErrInvalidCredentials (an inactive token), ErrInvalidIssuer,
// ErrTokenExpired, ErrTokenNotYetValid, ErrInvalidAudience,
// ErrMissingClaim, ErrInvalidClaim.
func (a *Authenticator) Verify(ctx context.Context, token string) (*authgate.Principal, error) {
	t, err := a.VerifyToken(ctx, token)
	if err != nil {
		return nil, err
	}
	return a.Principal(t), nil
}

// VerifyToken is Verify without the mapping: it returns the checked answer
// as a token whose Claims are the members of the introspection response
// and whose Header is nil. The token may be shared with the cache: read
// it, never modify it.
func (a *Authenticator) VerifyToken(ctx context.Context, token string) (*providers.Token, error) {
	if err := a.route(token); err != nil {
		return nil, err
	}
	var key [sha256.Size]byte
	start := a.now()
	if a.cache != nil {
		key = sha256.Sum256([]byte(token))
		if t, ok := a.cache.get(key, start); ok {
			return t, nil
		}
	}
	claims, err := a.introspect(ctx, token)
	if err != nil {
		return nil, err
	}
	t, err := a.check(claims)
	if err != nil {
		return nil, err
	}
	if a.cache != nil {
		// Remembered from the time the call started: never past exp.
		a.cache.put(key, t, start, t.ExpiresAt)
	}
	return t, nil
}

// Principal maps a checked answer to the principal: providers.Mapping's
// rules (subject, issuer, audience, email, name, tenant, roles, "scope" →
// Scopes, "permissions"), Method "introspection", and "username" as the
// name when the answer has no "name".
func (a *Authenticator) Principal(t *providers.Token) *authgate.Principal {
	p := a.mapping.Principal(t)
	if p.Name == "" {
		p.Name, _ = t.Claims["username"].(string)
	}
	return p
}

// Describe tells chains what the authenticator accepts: bearer tokens, with
// no issuer listed, because it claims every opaque token; a chain.Any
// therefore wants it last.
func (a *Authenticator) Describe() authgate.Description {
	return authgate.Description{Name: a.name, Scheme: "Bearer"}
}

// Name returns the provider's name.
func (a *Authenticator) Name() string { return a.name }

// errForeignJWT is the cause of "not mine" for a JWT of another issuer.
var errForeignJWT = errors.New("a JWT of another issuer")

// route decides whether token is this provider's without any I/O: a token
// in compact JWS shape is when its unverified "iss" is the issuer, every
// other token is.
func (a *Authenticator) route(token string) error {
	if token == "" || len(token) > providers.MaxBearerLength {
		return &authgate.Error{Provider: a.name, Kind: authgate.ErrUnrecognizedCredential, Err: errors.New("empty or oversized token")}
	}
	if !jwsShaped(token) {
		return nil
	}
	if iss, ok := providers.PeekIssuer(token); ok && iss == a.issuer {
		return nil
	}
	return &authgate.Error{Provider: a.name, Kind: authgate.ErrUnrecognizedCredential, Err: errForeignJWT}
}

// jwsShaped reports whether token looks like a compact JWS: three
// base64url segments separated by dots, the first two non-empty (an
// unsecured JWT has an empty third), the first decoding to a JSON object.
// An opaque token that merely holds two dots is not one.
func jwsShaped(token string) bool {
	h, rest, ok := strings.Cut(token, ".")
	if !ok || h == "" || strings.Count(rest, ".") != 1 || strings.HasPrefix(rest, ".") {
		return false
	}
	header, err := base64.RawURLEncoding.Strict().DecodeString(h)
	if err != nil || len(header) == 0 || header[0] != '{' || !json.Valid(header) {
		return false
	}
	for i := 0; i < len(rest); i++ {
		c := rest[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}
