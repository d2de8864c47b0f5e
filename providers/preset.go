package providers

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"time"

	"github.com/authgate/authgate"
)

// TokenOptions are the options every JWT provider shares. Each provider's
// Config embeds them, so a field means the same thing in static, oidc,
// auth0, keycloak, firebase and a provider of your own; the provider adds
// only what is its own (Auth0's domain, Keycloak's realm).
type TokenOptions struct {
	// Name names the provider in principals, errors and logs (default: the
	// provider's package name).
	Name string
	// Audience lists accepted "aud" values; a token is accepted when its
	// aud (a string or an array) contains any of them.
	Audience []string
	// AuthorizedParties accepts a token whose aud names none of Audience
	// when its "azp" is one of these.
	AuthorizedParties []string
	// Algorithms is the explicit allow-list of JWS algorithms (default: the
	// provider's, RS256 for the remote providers).
	Algorithms []string
	// TokenTypes lists accepted "typ" headers, compared as media types
	// (default: the provider's; absent or "JWT" for most).
	TokenTypes []string
	// Leeway is the clock skew tolerated for exp, nbf, iat (and auth_time):
	// 0 means DefaultLeeway (60 s), NoLeeway none, at most MaxLeeway.
	Leeway time.Duration
	// Claims are extra claim rules, checked after the registered claims.
	Claims Claims
	// RolesClaim is the dotted path of the roles claim (default: the
	// provider's, "roles" for most).
	RolesClaim string
	// TenantClaim is the dotted path of the tenant claim (default "tenant").
	TenantClaim string
	// Validate, if set, runs last on every verified token; its error
	// rejects the token. It is not run again on a cache hit: put checks
	// whose answer changes over time in an authgate.Check decorator.
	Validate func(*Token) error
	// Now is the clock (default time.Now).
	Now func() time.Time
	// CacheSize, when positive (at most MaxCacheSize), keeps up to that
	// many verified tokens so a token presented again skips the signature
	// check. What a hit means: the token's bytes verified before and have
	// not expired; everything that depends on the token alone (signature,
	// registered claims, claim rules, Validate) is not checked again, while
	// every check whose answer can change (Keycloak's tokens-not-before,
	// Firebase revocation) runs on every request, hit or not. Failures are
	// never cached.
	CacheSize int
	// CacheTTL bounds the life of a cached token (default DefaultCacheTTL,
	// at most MaxCacheTTL).
	CacheTTL time.Duration
	// Logger receives what an operator should see: failed fetches,
	// skipped keys, insecure modes. Nil means slog.Default(); to silence
	// it, pass a logger over slog.DiscardHandler. Nothing logged contains
	// a token or key material.
	Logger *slog.Logger
}

// FetchOptions tune how a remote provider fetches its keys and documents;
// zero values mean the defaults of RemoteKeySetConfig.
type FetchOptions struct {
	// HTTPClient sends the requests (default: http.DefaultTransport). It is
	// copied: the copy follows no redirects, sends no cookies and times out
	// after 5 s.
	HTTPClient *http.Client
	// Cooldown is the least time between two fetches caused by unknown
	// kids (default DefaultCooldown, within [1 s, 1 h]).
	Cooldown time.Duration
	// MaxKeyAge is how long the last good keys (and documents) are used
	// while refreshing fails (default DefaultMaxKeyAge).
	MaxKeyAge time.Duration
	// RefreshInterval is the freshness lifetime of a key set whose answer
	// carries no usable Cache-Control max-age (default
	// DefaultRefreshInterval).
	RefreshInterval time.Duration
	// MaxWait bounds how long a request waits for key material, discovery
	// and keys together, including a fetch another request started
	// (default DefaultMaxWait); then it gets authgate.ErrUnavailable while
	// the fetch goes on in the background.
	MaxWait time.Duration
	// Observer, if set, receives an authgate.EventKeyFetch for every fetch
	// of the provider's keys (see RemoteKeySetConfig.Observer). A nil
	// Observer costs nothing.
	Observer authgate.Observer
}

// Preset is what a provider package knows about its identity provider: the
// issuer, where the keys are, its defaults and its hooks. Preset.New joins
// it with the user's TokenOptions into the one request path every JWT
// provider shares, the way x/oauth2's provider packages are endpoints over
// one core. Write one to add a provider of your own.
type Preset struct {
	// Package prefixes construction errors ("auth0") and is the default
	// Name.
	Package string
	// Issuer is the exact "iss" of the provider's tokens; Issuers lists
	// further exact ones, and MatchIssuer an issuer template (see
	// VerifierConfig).
	Issuer      string
	Issuers     []string
	MatchIssuer func(iss string) bool

	// The keys: Keys (held in memory), or a remote set at JWKSURL, or,
	// with Discovery, the jwks_uri of Issuer's OpenID discovery document.
	Keys      KeySet
	JWKSURL   string
	Discovery bool
	// ParseKeys reads the remote key document (default ParseJWKS).
	ParseKeys func(document []byte) (keys []Key, skipped int, err error)
	// WrapKeys, if set, wraps the key set the verifier uses (for example
	// to require a kid).
	WrapKeys func(KeySet) KeySet

	// Algorithms and TokenTypes are the defaults when TokenOptions leaves
	// them empty; RolesClaim likewise.
	Algorithms []string
	TokenTypes []string
	RolesClaim string
	// Audience and AuthorizedParties are added to what TokenOptions lists
	// (Keycloak's client ID when no audience is configured).
	Audience          []string
	AuthorizedParties []string
	// Method fills Principal.Method (default "jwt").
	Method string
	// CheckAudience, if set, replaces the "aud" check: it decides whether
	// a verified token is meant for this API (Cognito's access tokens name
	// the app client in "client_id" and carry no "aud"). It runs on
	// verification, like the signature; an audience in TokenOptions is then
	// optional.
	CheckAudience func(*Token) error
	// RefuseIssuers lists issuers whose tokens the provider claims but
	// never verifies: such a token is refused with
	// authgate.ErrInvalidIssuer and RefuseReason, before any key lookup, so
	// it is "mine, and wrong" rather than "not mine" and costs no network
	// I/O (Okta's org authorization server, whose tokens are not meant to
	// be validated locally). Describe lists them with the issuers.
	RefuseIssuers []string
	RefuseReason  error
	// Credential reads the token from the request (default BearerToken;
	// Cloud IAP sends its assertion in a header of its own). Its
	// authgate.ErrNoCredentials means "not mine".
	Credential func(*http.Request) (string, error)
	// Scheme is the challenge Describe names (default "Bearer"): with a
	// Credential of its own, the header it reads, as in `IAP
	// header="X-Goog-IAP-JWT-Assertion"`, so a chain knows where the
	// credential travels.
	Scheme string

	// Validate runs on every verified token before TokenOptions.Validate:
	// the provider's own rules that depend on the token alone (Keycloak's
	// "typ": "Bearer", Firebase's auth_time). Like signature checks, it is
	// not run again on a cache hit.
	Validate func(*Token) error
	// Check runs after every verification and on every cache hit: the
	// provider's checks whose answer can change while a token is valid
	// (revocation, tokens-not-before). Its error rejects the token; an
	// error without an authgate sentinel is ErrInvalidCredentials.
	Check func(ctx context.Context, t *Token) error
	// Principal, if set, completes the principal that the common mapping
	// built (Keycloak's client roles).
	Principal func(t *Token, p *authgate.Principal)
	// Prefetch lists what Authenticator.Prefetch warms up besides the keys
	// (Keycloak's realm document).
	Prefetch []func(ctx context.Context) error
	// Ready lists what Authenticator.Ready checks besides the keys,
	// without I/O: one entry per Prefetch entry that fetches remote state
	// (Keycloak's realm document's RemoteDocument.Ready).
	Ready []func() error
	// InsecureUnsigned verifies tokens without their signature
	// (Verifier.InsecureVerifyUnsigned). It MUST only be set for a local
	// emulator.
	InsecureUnsigned bool
}

// New validates the preset and opts, and returns the provider's
// authenticator. It does no network I/O. Its errors start with
// p.Package, followed by the name when opts.Name sets one.
func (p Preset) New(opts TokenOptions, fetch FetchOptions) (*TokenAuthenticator, error) {
	pkg := cmp.Or(p.Package, "jwt")
	name := cmp.Or(opts.Name, pkg)
	prefix := pkg // "oidc: ", or "oidc: corp: " under a custom name
	if name != pkg {
		prefix += ": " + name
	}
	fail := func(err error) (*TokenAuthenticator, error) {
		return nil, fmt.Errorf("%s: %w", prefix, err)
	}
	if p.Issuer == "" {
		return fail(errors.New("an issuer is required"))
	}
	audience := append(slices.Clone(opts.Audience), p.Audience...)
	parties := append(slices.Clone(opts.AuthorizedParties), p.AuthorizedParties...)
	if len(audience) == 0 && len(parties) == 0 && p.CheckAudience == nil {
		return fail(errors.New("an audience is required (Audience, or AuthorizedParties)"))
	}
	algs := slices.Clone(opts.Algorithms)
	if len(algs) == 0 {
		algs = slices.Clone(p.Algorithms)
	}
	if len(algs) == 0 {
		return fail(errors.New("no algorithms allowed (Algorithms)"))
	}
	types := slices.Clone(opts.TokenTypes)
	if len(types) == 0 {
		types = slices.Clone(p.TokenTypes)
	}
	for _, iss := range p.RefuseIssuers {
		if iss == "" || iss == p.Issuer || slices.Contains(p.Issuers, iss) {
			return fail(fmt.Errorf("refused issuer %q is empty or also accepted", iss))
		}
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.Default()
	}

	a := &TokenAuthenticator{
		check:    p.Check,
		extend:   p.Principal,
		prefetch: slices.Clone(p.Prefetch),
		ready:    slices.Clone(p.Ready),
		extract:  p.Credential,
		scheme:   p.Scheme,
		unsigned: p.InsecureUnsigned,
		refuse:   slices.Clone(p.RefuseIssuers),
		reason:   cmp.Or(p.RefuseReason, errRefusedIssuer),
		mapping: Mapping{
			Provider:    name,
			Method:      p.Method,
			RolesClaim:  cmp.Or(opts.RolesClaim, p.RolesClaim),
			TenantClaim: opts.TenantClaim,
		},
	}
	keys := p.Keys
	if keys == nil && (p.JWKSURL != "" || p.Discovery) {
		rcfg := RemoteKeySetConfig{
			Name:            name,
			URL:             p.JWKSURL,
			HTTPClient:      fetch.HTTPClient,
			Algorithms:      algs,
			Parse:           p.ParseKeys,
			RefreshInterval: fetch.RefreshInterval,
			Cooldown:        fetch.Cooldown,
			MaxKeyAge:       fetch.MaxKeyAge,
			MaxWait:         fetch.MaxWait,
			Observer:        fetch.Observer,
			Logger:          logger,
			Now:             opts.Now,
		}
		if p.JWKSURL == "" {
			rcfg.Issuer = p.Issuer
		}
		remote, err := NewRemoteKeySet(rcfg)
		if err != nil {
			return fail(unprefix(err, name))
		}
		keys, a.keys = remote, remote
	}
	if keys == nil {
		return fail(errors.New("no keys"))
	}
	if p.WrapKeys != nil {
		keys = p.WrapKeys(keys)
	}
	validate := chainValidate(p.CheckAudience, p.Validate, opts.Validate)
	v, err := NewVerifier(VerifierConfig{
		Name:        name,
		Issuer:      p.Issuer,
		Issuers:     slices.Clone(p.Issuers),
		MatchIssuer: p.MatchIssuer,
		Audience:    audience,
		// CheckAudience decides instead, in Validate.
		InsecureSkipAudienceCheck: p.CheckAudience != nil && len(audience) == 0 && len(parties) == 0,
		AuthorizedParties:         parties,
		Algorithms:                algs,
		Keys:                      keys,
		Leeway:                    opts.Leeway,
		TokenTypes:                types,
		Claims:                    opts.Claims,
		Validate:                  validate,
		Now:                       opts.Now,
		CacheSize:                 opts.CacheSize,
		CacheTTL:                  opts.CacheTTL,
		Observer:                  fetch.Observer,
	})
	if err != nil {
		return fail(unprefix(err, name))
	}
	a.verifier = v
	return a, nil
}

var errRefusedIssuer = errors.New("tokens of this issuer are not accepted")

// unprefix drops the "name: " that NewVerifier and NewRemoteKeySet put
// before their messages, so that Preset.New prefixes its errors once.
func unprefix(err error, name string) error {
	msg := err.Error()
	if len(msg) > len(name)+2 && msg[:len(name)+2] == name+": " {
		return errors.New(msg[len(name)+2:])
	}
	return err
}

// chainValidate runs the non-nil checks in order, stopping at the first
// error.
func chainValidate(checks ...func(*Token) error) func(*Token) error {
	var fs []func(*Token) error
	for _, f := range checks {
		if f != nil {
			fs = append(fs, f)
		}
	}
	switch len(fs) {
	case 0:
		return nil
	case 1:
		return fs[0]
	}
	return func(t *Token) error {
		for _, f := range fs {
			if err := f(t); err != nil {
				return err
			}
		}
		return nil
	}
}

// ParseClaimSet decodes data, which must hold one JSON object, under the
// strict rules the verifier applies to a token's claims (no duplicate or
// case-variant member names, valid UTF-8, numbers that fit a float64,
// bounded depth and size), for providers whose claims come from elsewhere
// than a JWT, such as an RFC 7662 introspection response. Values decode as
// encoding/json decodes into an any. The result may share memory with
// data: never modify data while the result is in use. Its error names
// neither the input nor any value in it.
func ParseClaimSet(data []byte) (map[string]any, error) { return parseObject(data) }

// Compile validates the rules as NewVerifier does and returns a check of a
// claim set against them, for claims that do not come from a JWT (an RFC
// 7662 introspection response). The check's error is an *authgate.Error
// wrapping authgate.ErrMissingClaim or authgate.ErrInvalidClaim that names
// the claim, never its value; empty rules accept every claim set.
func (cs Claims) Compile() (func(claims map[string]any) error, error) {
	compiled, err := cs.compile()
	if err != nil {
		return nil, err
	}
	return func(claims map[string]any) error {
		if e := compiled.check(claims); e != nil {
			return &authgate.Error{Kind: e.kind, Err: e}
		}
		return nil
	}, nil
}
