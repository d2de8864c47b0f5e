package providers

import (
	"cmp"
	"fmt"
	"github.com/authgate/authgate"
	"slices"
	"time"
)

// Leeway bounds (RFC 7519 §4.1.4: "no more than a few minutes").
const (
	// DefaultLeeway is the clock skew tolerated when VerifierConfig.Leeway is 0.
	DefaultLeeway = 60 * time.Second
	// MaxLeeway is the largest leeway a verifier accepts.
	MaxLeeway = 5 * time.Minute
	// NoLeeway asks for exact time checks (exp must lie strictly after now).
	NoLeeway time.Duration = -1
)

// VerifierConfig configures a Verifier. The zero value is refused: an
// issuer, an audience, algorithms and keys must be given.
type VerifierConfig struct {
	// Name names the provider in errors ("static", "auth0", …).
	Name string
	// Issuer is the exact "iss" this verifier claims. Tokens of another
	// issuer are "not mine" (authgate.ErrUnrecognizedCredential), so a chain
	// can route them to the right provider.
	Issuer string
	// Issuers lists further exact "iss" values the verifier claims (Google
	// signs ID tokens as "https://accounts.google.com" and as
	// "accounts.google.com"). Token.Issuer is the token's own.
	Issuers []string
	// MatchIssuer, if set, also claims a token whose "iss" it returns true
	// for: an issuer template such as Entra ID's multi-tenant
	// "https://login.microsoftonline.com/{tenantid}/v2.0". It sees the
	// unverified iss, so it MUST be a cheap, exact test with no I/O, and
	// Validate MUST then check the issuer against the verified claims (the
	// template filled with the token's own tenant).
	MatchIssuer func(iss string) bool
	// Audience lists accepted "aud" values; a token is accepted when its aud
	// (string or array of strings) contains any of them.
	Audience []string
	// AuthorizedParties accepts a token whose aud names none of Audience when
	// its "azp" is one of these (Keycloak's client in "azp", "account" in
	// "aud").
	AuthorizedParties []string
	// InsecureSkipAudienceCheck MUST only be set when the issuer mints
	// tokens for this one API and nothing else: it accepts any "aud".
	InsecureSkipAudienceCheck bool
	// Algorithms is the explicit allow-list of JWS algorithms.
	Algorithms []string
	// Keys supplies the keys; see StaticKeySet and the remote key manager.
	Keys KeySet
	// Leeway is the clock skew tolerated for exp, nbf and iat: 0 means
	// DefaultLeeway (60 s), NoLeeway means none, at most MaxLeeway.
	Leeway time.Duration
	// TokenTypes lists the accepted "typ" header values, compared as media
	// types (RFC 7515 §4.1.9): without regard to ASCII case, and with
	// "application/" implied for a value that holds no "/" ("at+jwt" and
	// "application/at+jwt" are one type, "text/plain" and
	// "application/text/plain" two). Empty accepts an absent typ or "JWT";
	// RFC 9068 access tokens need {"at+jwt"}.
	TokenTypes []string
	// CriticalHeaders lists header parameters the caller processes itself and
	// that may therefore appear in "crit". Empty: any "crit" is rejected.
	CriticalHeaders []string
	// Claims are extra claim rules checked after the registered claims.
	Claims Claims
	// MaxTokenSize caps the compact token length (default
	// DefaultMaxTokenSize, at most MaxTokenSizeLimit).
	MaxTokenSize int
	// Validate, if set, runs last on a verified token; its error rejects the
	// token (an error without an authgate sentinel becomes ErrInvalidClaim).
	Validate func(*Token) error
	// Now is the clock (default time.Now).
	Now func() time.Time
	// CacheSize, when positive (at most MaxCacheSize), keeps up to that many
	// verified tokens, found by a keyed hash and matched by their exact
	// bytes, so a token presented again skips decoding and the signature
	// check (a hit costs a hash, a comparison and a copy of the claims). An
	// entry lives until the token expires (with the leeway) or CacheTTL
	// passes, whichever is first. Validate runs only when a token is
	// verified, not on a hit; a key removed from a remote set stops
	// verifying cached tokens only after CacheTTL. Failures are never cached.
	CacheSize int
	// Observer, if set, receives the cache's lookups (EventCacheLookup: a
	// hit, or a miss whose token then verified), never a token.
	Observer authgate.Observer
	// CacheTTL bounds the life of a cache entry (default DefaultCacheTTL, at
	// most MaxCacheTTL).
	CacheTTL time.Duration
}

var registeredHeaders = []string{"alg", "enc", "zip", "jku", "jwk", "kid", "x5u", "x5c", "x5t", "x5t#S256", "typ", "cty", "crit"}

// NewVerifier validates cfg and returns a Verifier. It returns an error,
// prefixed with cfg.Name, when the issuer, the audience (unless
// InsecureSkipAudienceCheck), the algorithms or the key set is missing,
// for an empty audience, authorized party or token type, an unsupported
// algorithm, a registered or "b64" critical header, a bound out of range
// (Leeway, MaxTokenSize, CacheSize, CacheTTL) and a claim rule that cannot
// be compiled.
func NewVerifier(cfg VerifierConfig) (*Verifier, error) {
	name := cmp.Or(cfg.Name, "jwt")
	fail := func(format string, args ...any) (*Verifier, error) {
		return nil, fmt.Errorf("%s: "+format, append([]any{name}, args...)...)
	}
	if cfg.Issuer == "" {
		return fail("an issuer is required")
	}
	if len(cfg.Audience) == 0 && len(cfg.AuthorizedParties) == 0 && !cfg.InsecureSkipAudienceCheck {
		return fail("an audience is required (or InsecureSkipAudienceCheck)")
	}
	if slices.Contains(cfg.Issuers, "") {
		return fail("empty issuer")
	}
	if slices.Contains(cfg.Audience, "") || slices.Contains(cfg.AuthorizedParties, "") {
		return fail("empty audience or authorized party")
	}
	if len(cfg.Algorithms) == 0 {
		return fail("no algorithms allowed")
	}
	if cfg.Keys == nil {
		return fail("no key set")
	}
	v := &Verifier{
		name:              name,
		issuer:            cfg.Issuer,
		issuers:           slices.Clone(cfg.Issuers),
		matchIssuer:       cfg.MatchIssuer,
		audience:          slices.Clone(cfg.Audience),
		authorizedParties: slices.Clone(cfg.AuthorizedParties),
		skipAudience:      cfg.InsecureSkipAudienceCheck,
		allowed:           make(map[string]*algorithm),
		keys:              cfg.Keys,
		critical:          slices.Clone(cfg.CriticalHeaders),
		maxSize:           cfg.MaxTokenSize,
		validate:          cfg.Validate,
		now:               cfg.Now,
		observer:          cfg.Observer,
	}
	for _, a := range cfg.Algorithms {
		alg, ok := algorithms[a]
		if !ok {
			return fail("unsupported algorithm %q", a)
		}
		v.allowed[a] = alg
	}
	switch {
	case cfg.Leeway == 0:
		v.leeway = DefaultLeeway
	case cfg.Leeway == NoLeeway:
		v.leeway = 0
	case cfg.Leeway < 0 || cfg.Leeway > MaxLeeway:
		return fail("leeway %v outside [0, %v]", cfg.Leeway, MaxLeeway)
	default:
		v.leeway = cfg.Leeway
	}
	for _, t := range cfg.TokenTypes {
		if t == "" {
			return fail("empty token type")
		}
		v.typeSet = append(v.typeSet, mediaType(t))
	}
	for _, c := range cfg.CriticalHeaders {
		if c == "" || slices.Contains(registeredHeaders, c) || c == "b64" {
			return fail("header %q cannot be declared critical", c)
		}
	}
	switch {
	case v.maxSize == 0:
		v.maxSize = DefaultMaxTokenSize
	case v.maxSize < 0 || v.maxSize > MaxTokenSizeLimit:
		return fail("MaxTokenSize outside (0, %d]", MaxTokenSizeLimit)
	}
	if v.now == nil {
		v.now = time.Now
	}
	switch {
	case cfg.CacheSize < 0 || cfg.CacheSize > MaxCacheSize:
		return fail("CacheSize %d outside [0, %d]", cfg.CacheSize, MaxCacheSize)
	case cfg.CacheTTL < 0 || cfg.CacheTTL > MaxCacheTTL:
		return fail("CacheTTL %v outside [0, %v]", cfg.CacheTTL, MaxCacheTTL)
	case cfg.CacheSize > 0:
		v.cache = newTokenCache(cfg.CacheSize, cmp.Or(cfg.CacheTTL, DefaultCacheTTL))
	}
	var err error
	if v.claims, err = cfg.Claims.compile(); err != nil {
		return fail("%w", err)
	}
	return v, nil
}
