package providers

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
	"unsafe"

	"github.com/authgate/authgate"
)

// Leeway bounds (RFC 7519 §4.1.4: "no more than a few minutes").
const (
	// DefaultLeeway is the clock skew tolerated when VerifierConfig.Leeway is 0.
	DefaultLeeway = 60 * time.Second
	// MaxLeeway is the largest leeway a verifier accepts.
	MaxLeeway = 5 * time.Minute
	// NoLeeway asks for exact time checks (exp must lie strictly after now).
	NoLeeway time.Duration = -1
	// maxKeyTrials caps the keys tried for a token without kid.
	maxKeyTrials = 5
	// maxNumericDate is 9999-12-31T23:59:59Z; larger dates are malformed.
	maxNumericDate = 253402300799
	// maxSubjectLength bounds "sub".
	maxSubjectLength = 255
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
	// types (case-insensitive, "application/" optional). Empty accepts an
	// absent typ or "JWT"; RFC 9068 access tokens need {"at+jwt"}.
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
	// verified tokens, keyed by their SHA-256, so a token presented again
	// skips decoding and the signature check (a hit costs a hash and a copy of the claims). An
	// entry lives until the token expires (with the leeway) or CacheTTL
	// passes, whichever is first. Validate runs only when a token is
	// verified, not on a hit; a key removed from a remote set stops
	// verifying cached tokens only after CacheTTL. Failures are never cached.
	CacheSize int
	// CacheTTL bounds the life of a cache entry (default DefaultCacheTTL, at
	// most MaxCacheTTL).
	CacheTTL time.Duration
}

// Verifier verifies compact JWS tokens (RFC 7515) carrying JWT claims (RFC
// 7519) against one configuration. It is immutable and safe for concurrent
// use.
type Verifier struct {
	name              string
	issuer            string
	audience          []string
	authorizedParties []string
	skipAudience      bool
	allowed           map[string]*algorithm
	keys              KeySet
	leeway            time.Duration
	typeSet           []string // normalized media types; nil = default
	critical          []string
	claims            compiledClaims
	maxSize           int
	validate          func(*Token) error
	now               func() time.Time
	cache             *tokenCache // nil: no cache
}

// Token is a verified token.
type Token struct {
	// Algorithm, KeyID and Type come from the protected header.
	Algorithm string
	KeyID     string
	Type      string
	// Header is the protected header; Claims the verified claim set.
	Header map[string]any
	Claims map[string]any
	// Registered claims, already validated.
	Issuer    string
	Subject   string
	Audience  []string
	ExpiresAt time.Time
	NotBefore time.Time
	IssuedAt  time.Time
}

var registeredHeaders = []string{"alg", "enc", "zip", "jku", "jwk", "kid", "x5u", "x5c", "x5t", "x5t#S256", "typ", "cty", "crit"}

// NewVerifier validates cfg and returns a Verifier.
func NewVerifier(cfg VerifierConfig) (*Verifier, error) {
	name := cmp(cfg.Name, "jwt")
	fail := func(format string, args ...any) (*Verifier, error) {
		return nil, fmt.Errorf("%s: "+format, append([]any{name}, args...)...)
	}
	if cfg.Issuer == "" {
		return fail("an issuer is required")
	}
	if len(cfg.Audience) == 0 && len(cfg.AuthorizedParties) == 0 && !cfg.InsecureSkipAudienceCheck {
		return fail("an audience is required (or InsecureSkipAudienceCheck)")
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
		audience:          slices.Clone(cfg.Audience),
		authorizedParties: slices.Clone(cfg.AuthorizedParties),
		skipAudience:      cfg.InsecureSkipAudienceCheck,
		allowed:           make(map[string]*algorithm),
		keys:              cfg.Keys,
		critical:          slices.Clone(cfg.CriticalHeaders),
		maxSize:           cfg.MaxTokenSize,
		validate:          cfg.Validate,
		now:               cfg.Now,
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
		v.cache = newTokenCache(cfg.CacheSize, cmpDuration(cfg.CacheTTL, DefaultCacheTTL))
	}
	var err error
	if v.claims, err = cfg.Claims.compile(); err != nil {
		return fail("%v", err)
	}
	return v, nil
}

// Issuer returns the issuer this verifier claims.
func (v *Verifier) Issuer() string { return v.issuer }

// Name returns the provider name used in errors.
func (v *Verifier) Name() string { return v.name }

func (v *Verifier) fail(kind, cause error) error {
	return &authgate.Error{Provider: v.name, Kind: kind, Err: cause}
}

// Verify verifies token and returns it, or an error classified by
// authgate's sentinels. The checks run cheapest first and stop at the first
// failure:
//
//  1. framing: size cap, exactly three non-empty segments, base64url
//     alphabet (no padding, CR or LF) — else ErrUnrecognizedCredential;
//  2. routing: the payload must be a strict JSON object whose "iss" is the
//     configured issuer — else ErrUnrecognizedCredential ("not mine",
//     decided with no key lookup and no signature check);
//  3. header: strict JSON, "alg" in the allow-list, typ, crit, and no
//     jku/x5u/jwk/x5c/enc/zip/b64 or nesting cty — else
//     ErrUnsupportedAlgorithm or ErrMalformedToken;
//  4. key: by kid and bound algorithm from the KeySet (ErrUnavailable when
//     it has none to give) — else ErrInvalidSignature;
//  5. signature — else ErrInvalidSignature (checked before any time claim,
//     so a forged expired token is never reported as merely expired);
//  6. claims: exp (required), nbf, iat, aud, sub, the claim rules and
//     Validate.
func (v *Verifier) Verify(ctx context.Context, token string) (*Token, error) {
	if v.cache == nil || len(token) > v.maxSize {
		return v.verify(ctx, token)
	}
	key := cacheKey(token)
	now := v.now()
	if t, ok := v.cache.get(key, now); ok {
		return t, nil
	}
	t, err := v.verify(ctx, token)
	if err == nil {
		v.cache.put(key, t, now, t.ExpiresAt.Add(v.leeway))
	}
	return t, err
}

func (v *Verifier) verify(ctx context.Context, token string) (*Token, error) {
	h, p, s, err := frame(token, v.maxSize)
	if err != nil {
		return nil, v.fail(authgate.ErrUnrecognizedCredential, err)
	}
	buf := make([]byte, strictBase64.DecodedLen(len(p))+strictBase64.DecodedLen(len(h))+strictBase64.DecodedLen(len(s)))
	payload, rest, err := decodeInto(buf, p)
	if err != nil {
		return nil, v.fail(authgate.ErrUnrecognizedCredential, err)
	}
	claims, err := parseObject(payload)
	if err != nil {
		return nil, v.fail(authgate.ErrUnrecognizedCredential, fmt.Errorf("claims: %w", err))
	}
	if iss, _ := claims["iss"].(string); iss != v.issuer {
		return nil, v.fail(authgate.ErrUnrecognizedCredential, errForeignIssuer)
	}

	// The token claims our issuer: from here on every failure is "mine,
	// and wrong".
	t := &Token{Claims: claims, Issuer: v.issuer}
	if err := v.verifySigned(ctx, t, token, h, s, rest); err != nil {
		return nil, err
	}
	if err := v.checkClaims(t); err != nil {
		return nil, err
	}
	return t, nil
}

var (
	errForeignIssuer = errors.New("token issuer is not the configured issuer")
	errHeaderKeyRef  = errors.New("header carries a key or key reference (jwk, jku, x5u, x5c)")
	errHeaderJWE     = errors.New("header marks an encrypted or compressed token")
	errHeaderNested  = errors.New("nested tokens are not supported")
	errHeaderB64     = errors.New("unencoded payloads (b64) are not supported")
	errHeaderType    = errors.New("token type not accepted")
	errHeaderCrit    = errors.New("critical header not understood or malformed")
	errHeaderAlg     = errors.New("algorithm not allowed")
)

// frame checks the compact framing without decoding: size, exactly two
// dots, no empty segment, the base64url alphabet only.
func frame(token string, maxSize int) (h, p, s string, err error) {
	if len(token) > maxSize {
		return "", "", "", errTokenSize
	}
	dot1, dot2 := -1, -1
	for i := 0; i < len(token); i++ {
		c := token[i]
		if c == '.' {
			switch {
			case dot1 < 0:
				dot1 = i
			case dot2 < 0:
				dot2 = i
			default:
				return "", "", "", errSegments
			}
		} else if !isBase64URL(c) {
			return "", "", "", errAlphabet
		}
	}
	if dot2 < 0 {
		return "", "", "", errSegments
	}
	h, p, s = token[:dot1], token[dot1+1:dot2], token[dot2+1:]
	if len(h) == 0 || len(p) == 0 || len(s) == 0 {
		return "", "", "", errEmptySegment
	}
	return h, p, s, nil
}

// decodeInto decodes seg into the front of buf and returns the decoded bytes
// and the rest of buf.
func decodeInto(buf []byte, seg string) (decoded, rest []byte, err error) {
	n, err := strictBase64.Decode(buf, unsafe.Slice(unsafe.StringData(seg), len(seg)))
	if err != nil {
		return nil, nil, errBase64
	}
	return buf[:n:n], buf[n:], nil
}

// verifySigned is the JWS layer of Verify (steps 3 to 5) for a framed
// token = h.<payload>.s: header size, header decoding and checks (which set
// t.Header, t.Algorithm, t.KeyID and t.Type), key selection and the
// signature over everything before the last dot. buf is free space for the
// decoded header and signature. The Wycheproof tests run it directly, since
// their payloads are not claim sets.
func (v *Verifier) verifySigned(ctx context.Context, t *Token, token, h, s string, buf []byte) error {
	if len(h) > maxHeaderSize*4/3+4 {
		return v.fail(authgate.ErrMalformedToken, errHeaderSize)
	}
	headerJSON, rest, err := decodeInto(buf, h)
	if err != nil {
		return v.fail(authgate.ErrMalformedToken, err)
	}
	if t.Header, err = parseObject(headerJSON); err != nil {
		return v.fail(authgate.ErrMalformedToken, fmt.Errorf("header: %w", err))
	}
	alg, err := v.checkHeader(t)
	if err != nil {
		return err
	}
	sig, _, err := decodeInto(rest, s)
	if err != nil {
		return v.fail(authgate.ErrMalformedToken, err)
	}
	return v.checkSignature(ctx, t, alg, token[:len(token)-len(s)-1], sig)
}

func (v *Verifier) checkHeader(t *Token) (*algorithm, error) {
	h := t.Header
	name, ok := h["alg"].(string)
	if !ok {
		return nil, v.fail(authgate.ErrMalformedToken, errors.New(`header "alg" missing or not a string`))
	}
	alg, ok := v.allowed[name]
	if !ok {
		return nil, v.fail(authgate.ErrUnsupportedAlgorithm, errHeaderAlg)
	}
	t.Algorithm = name
	if kid, present := h["kid"]; present {
		if t.KeyID, ok = kid.(string); !ok {
			return nil, v.fail(authgate.ErrMalformedToken, errors.New(`header "kid" is not a string`))
		}
	}
	for _, n := range [...]string{"jwk", "jku", "x5u", "x5c"} {
		if _, present := h[n]; present {
			return nil, v.fail(authgate.ErrUnsupportedAlgorithm, errHeaderKeyRef)
		}
	}
	for _, n := range [...]string{"enc", "zip"} {
		if _, present := h[n]; present {
			return nil, v.fail(authgate.ErrUnsupportedAlgorithm, errHeaderJWE)
		}
	}
	if _, present := h["b64"]; present {
		return nil, v.fail(authgate.ErrUnsupportedAlgorithm, errHeaderB64)
	}
	if cty, present := h["cty"]; present {
		s, ok := cty.(string)
		if !ok {
			return nil, v.fail(authgate.ErrMalformedToken, errors.New(`header "cty" is not a string`))
		}
		if mediaType(s) == "jwt" {
			return nil, v.fail(authgate.ErrUnsupportedAlgorithm, errHeaderNested)
		}
	}
	if typ, present := h["typ"]; present {
		if t.Type, ok = typ.(string); !ok {
			return nil, v.fail(authgate.ErrMalformedToken, errors.New(`header "typ" is not a string`))
		}
	}
	if !v.typeAllowed(t.Type) {
		return nil, v.fail(authgate.ErrInvalidCredentials, errHeaderType)
	}
	if crit, present := h["crit"]; present {
		if !v.critOK(h, crit) {
			return nil, v.fail(authgate.ErrUnsupportedAlgorithm, errHeaderCrit)
		}
	}
	return alg, nil
}

func (v *Verifier) typeAllowed(typ string) bool {
	if v.typeSet == nil {
		return typ == "" || mediaType(typ) == "jwt"
	}
	return typ != "" && slices.Contains(v.typeSet, mediaType(typ))
}

// mediaType normalizes a typ/cty value for comparison (RFC 7515 §4.1.9).
func mediaType(s string) string {
	s = strings.ToLower(s)
	return strings.TrimPrefix(s, "application/")
}

// critOK applies RFC 7515 §4.1.11: a non-empty array of distinct strings,
// none a registered name, each present in the header and understood.
func (v *Verifier) critOK(h map[string]any, crit any) bool {
	list, ok := crit.([]any)
	if !ok || len(list) == 0 {
		return false
	}
	for i, e := range list {
		name, ok := e.(string)
		if !ok || !slices.Contains(v.critical, name) || slices.Contains(list[:i], e) {
			return false
		}
		if _, present := h[name]; !present {
			return false
		}
	}
	return true
}

func (v *Verifier) checkSignature(ctx context.Context, t *Token, alg *algorithm, input string, sig []byte) error {
	keys, err := v.keys.VerificationKeys(ctx, t.KeyID, alg.name)
	if err != nil {
		if errors.Is(err, authgate.ErrUnavailable) || errors.Is(err, authgate.ErrInvalidCredentials) {
			return err
		}
		return v.fail(authgate.ErrUnavailable, err)
	}
	switch {
	case len(keys) == 0:
		return v.fail(authgate.ErrInvalidSignature, errNoKey)
	case t.KeyID != "" && len(keys) > 1:
		return v.fail(authgate.ErrInvalidSignature, errAmbiguousKey)
	case len(keys) > maxKeyTrials:
		return v.fail(authgate.ErrInvalidSignature, errTooManyTrials)
	}
	for i := range keys {
		k := &keys[i]
		if k.Algorithm == alg.name && verifySignature(k, alg, input, sig) {
			return nil
		}
	}
	return v.fail(authgate.ErrInvalidSignature, errBadSignature)
}

func (v *Verifier) checkClaims(t *Token) error {
	c := t.Claims
	now := v.now()
	var err error
	exp, hasExp, err := numericDate(c, "exp")
	if err != nil {
		return v.fail(authgate.ErrInvalidClaim, err)
	}
	if !hasExp {
		return v.fail(authgate.ErrMissingClaim, errors.New(`"exp" is required`))
	}
	nbf, hasNbf, err := numericDate(c, "nbf")
	if err != nil {
		return v.fail(authgate.ErrInvalidClaim, err)
	}
	iat, hasIat, err := numericDate(c, "iat")
	if err != nil {
		return v.fail(authgate.ErrInvalidClaim, err)
	}
	if (hasIat && iat.After(exp)) || (hasNbf && nbf.After(exp)) {
		return v.fail(authgate.ErrInvalidClaim, errors.New("iat or nbf after exp"))
	}
	if !now.Before(exp.Add(v.leeway)) {
		return v.fail(authgate.ErrTokenExpired, nil)
	}
	if hasNbf && now.Before(nbf.Add(-v.leeway)) {
		return v.fail(authgate.ErrTokenNotYetValid, errors.New(`"nbf" in the future`))
	}
	if hasIat && iat.After(now.Add(v.leeway)) {
		return v.fail(authgate.ErrTokenNotYetValid, errors.New(`"iat" in the future`))
	}
	t.ExpiresAt, t.NotBefore, t.IssuedAt = exp, nbf, iat

	if t.Audience, err = audience(c); err != nil {
		return v.fail(authgate.ErrInvalidAudience, err)
	}
	if !v.audienceOK(t) {
		return v.fail(authgate.ErrInvalidAudience, errors.New("audience not accepted"))
	}
	if t.Subject, err = subject(c); err != nil {
		return v.fail(authgate.ErrInvalidClaim, err)
	}
	if err := v.claims.check(c); err != nil {
		return &authgate.Error{Provider: v.name, Kind: err.kind, Err: err}
	}
	if v.validate != nil {
		if err := v.validate(t); err != nil {
			if errors.Is(err, authgate.ErrInvalidCredentials) || errors.Is(err, authgate.ErrUnavailable) {
				return err
			}
			return v.fail(authgate.ErrInvalidClaim, err)
		}
	}
	return nil
}

func (v *Verifier) audienceOK(t *Token) bool {
	if v.skipAudience {
		return true
	}
	for _, a := range t.Audience {
		if slices.Contains(v.audience, a) {
			return true
		}
	}
	if len(v.authorizedParties) > 0 {
		azp, _ := t.Claims["azp"].(string)
		return azp != "" && slices.Contains(v.authorizedParties, azp)
	}
	return false
}

// numericDate reads a NumericDate claim (RFC 7519 §2): a JSON number of
// seconds, fractions allowed, within [0, 9999-12-31]. Strings, booleans,
// null and out-of-range numbers are errors.
func numericDate(c map[string]any, name string) (time.Time, bool, error) {
	raw, present := c[name]
	if !present {
		return time.Time{}, false, nil
	}
	f, ok := raw.(float64)
	if !ok || math.IsNaN(f) || f < 0 || f > maxNumericDate {
		return time.Time{}, true, fmt.Errorf("%q is not a NumericDate in range", name)
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)), true, nil
}

// audience reads "aud": a non-empty string or a non-empty array of
// non-empty strings. Absent is an empty list.
func audience(c map[string]any) ([]string, error) {
	raw, present := c["aud"]
	if !present {
		return nil, nil
	}
	switch a := raw.(type) {
	case string:
		if a != "" {
			return []string{a}, nil
		}
	case []any:
		if len(a) == 0 {
			break
		}
		out := make([]string, len(a))
		for i, e := range a {
			s, ok := e.(string)
			if !ok || s == "" {
				return nil, errors.New(`"aud" has a non-string member`)
			}
			out[i] = s
		}
		return out, nil
	}
	return nil, errors.New(`"aud" is not a string or an array of strings`)
}

// subject reads "sub": required, a string of 1 to 255 characters without
// control characters.
func subject(c map[string]any) (string, error) {
	sub, ok := c["sub"].(string)
	if !ok || sub == "" || len(sub) > maxSubjectLength {
		return "", errors.New(`"sub" missing, empty, too long or not a string`)
	}
	for i := 0; i < len(sub); i++ {
		if b := sub[i]; b < 0x20 || b == 0x7f {
			return "", errors.New(`"sub" contains control characters`)
		}
	}
	return sub, nil
}

func cmpDuration(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

func cmp(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
