package providers

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/internal/strictjson"
)

// The verifier is split by layer: config.go validates the configuration,
// jws.go frames and decodes a token, header.go checks its protected header,
// signature.go selects the key and checks the signature, registered.go
// checks the registered claims, and unsigned.go reuses all but the
// signature for emulator tokens.

// Verifier verifies compact JWS tokens (RFC 7515) carrying JWT claims (RFC
// 7519) against one configuration. It is immutable and safe for concurrent
// use.
type Verifier struct {
	name              string
	issuer            string
	issuers           []string          // further exact issuers
	matchIssuer       func(string) bool // nil: exact issuers only
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
	observer          authgate.Observer
	headers           headerCache
}

// Token is a verified token.
type Token struct {
	// Algorithm, KeyID and Type come from the protected header.
	Algorithm string
	KeyID     string
	Type      string
	// Header is the protected header; Claims the verified claim set.
	// Both are read-only: a token's Header is shared with every token of
	// the same protected header, and a cached token's maps with every
	// request that presents it (Verifier.Verify returns a copy of its
	// own).
	Header map[string]any
	Claims map[string]any
	// Registered claims, already validated.
	Issuer    string
	Subject   string
	Audience  []string
	ExpiresAt time.Time
	NotBefore time.Time
	IssuedAt  time.Time

	// audience is where Verify keeps Audience when it has at most two
	// members, saving the token an allocation.
	audience [2]string
	// seen is which of the claims Mapping.Principal reads Claims had
	// when Verify decoded it.
	seen claimsSeen
}

// Issuer returns the issuer this verifier claims.
func (v *Verifier) Issuer() string { return v.issuer }

// Issuers returns every exact issuer the verifier claims: Issuer first,
// then VerifierConfig.Issuers.
func (v *Verifier) Issuers() []string { return append([]string{v.issuer}, v.issuers...) }

// claims reports whether the verifier claims tokens of iss.
func (v *Verifier) claimsIssuer(iss string) bool {
	if iss == v.issuer {
		return true
	}
	for _, s := range v.issuers {
		if iss == s {
			return true
		}
	}
	return v.matchIssuer != nil && iss != "" && v.matchIssuer(iss)
}

// Name returns the provider name used in errors.
func (v *Verifier) Name() string { return v.name }

// Leeway returns the clock skew the verifier tolerates for exp, nbf and
// iat: DefaultLeeway when VerifierConfig.Leeway was 0, zero for NoLeeway,
// the configured value otherwise. A provider checking a time claim of its
// own (Firebase's auth_time) applies the same leeway.
func (v *Verifier) Leeway() time.Duration { return v.leeway }

func (v *Verifier) fail(kind, cause error) error {
	return &authgate.Error{Provider: v.name, Kind: kind, Err: cause}
}

var errForeignIssuer = errors.New("token issuer is not the configured issuer")

// Verify verifies token and returns it, or an error classified by
// authgate's sentinels. The checks run cheapest first and stop at the first
// failure:
//
//  1. framing: size cap, exactly three non-empty segments, base64url
//     alphabet (no padding, CR or LF) — else ErrUnrecognizedCredential;
//  2. routing: the payload must be a strict JSON object whose "iss" is a
//     configured issuer (or matches MatchIssuer) — else ErrUnrecognizedCredential ("not mine",
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
	t, _, e, err := v.verifyCached(ctx, token, nil, false)
	switch {
	case err != nil:
		return nil, err
	case t == nil:
		// A cache hit: the entry is shared by every hit, and a caller of
		// Verify may modify what it gets, so it gets a token of its own,
		// decoded again from the entry.
		if t, ok := e.freshToken(); ok {
			return t, nil
		}
		return v.verify(ctx, token)
	}
	// The header may be the one every token of this protected header
	// shares (headerCache).
	t.Header = authgate.AdoptObject(t.Header).Map() // a deep copy
	return t, nil
}

// verifyCached is Verify without the copy. On a cache hit it returns only
// the entry (a nil token and principal): the entry is shared by every hit
// and must never be modified. Otherwise the token is the caller's own,
// verified now, with its entry when it was cached; with a non-nil a, p is
// the principal a maps the token to (the caller's own too), which the
// entry keeps packed for a's later hits. With bearer set (and a non-nil)
// a token the cache does not hold has its characters checked first
// (TokenAuthenticator.bearerChars).
func (v *Verifier) verifyCached(ctx context.Context, token string, a *TokenAuthenticator, bearer bool) (t *Token, p *authgate.Principal, e *cacheEntry, err error) {
	// A token over the size cap is never cached: verify refuses it.
	cached := v.cache != nil && len(token) <= v.maxSize
	var key uint64
	var now time.Time
	if cached {
		key, now = v.cache.key(token), v.now()
		if e, ok := v.cache.get(key, token, now); ok {
			v.observeCache(ctx, authgate.OutcomeHit)
			return nil, nil, e, nil
		}
	}
	if bearer {
		if err := a.bearerChars(token); err != nil {
			return nil, nil, nil, err
		}
	}
	t, err = v.verify(ctx, token)
	if err != nil || !cached {
		return t, nil, nil, err // failures are never cached, nor counted as misses
	}
	v.observeCache(ctx, authgate.OutcomeMiss)
	if a != nil {
		p = a.Principal(t)
	}
	h := token[:strings.IndexByte(token, '.')]
	head := v.headers.lookup(h)
	if head == nil {
		// A header the verifier does not remember (more distinct headers
		// than it keeps): the entry keeps one of its own.
		head = &headerEntry{segment: strings.Clone(h), header: t.Header, algorithm: t.Algorithm, kid: t.KeyID, ty: t.Type}
	}
	e = v.cache.put(key, token, t, head, a, p, now, t.ExpiresAt.Add(v.leeway), v.now)
	return t, p, e, nil
}

func (v *Verifier) verify(ctx context.Context, token string) (*Token, error) {
	var reg registeredClaims
	t, _, err := v.verifyInto(ctx, nil, token, &reg)
	return t, err
}

// verifyInto is verify into st, when not nil, as routeInto: the claims
// are then checked and picked into reg but not kept, and payload is their
// JSON.
func (v *Verifier) verifyInto(ctx context.Context, st *tokenStorage, token string, reg *registeredClaims) (t *Token, payload []byte, err error) {
	t, h, s, buf, payload, err := v.routeInto(st, token, false, reg)
	if err != nil {
		return nil, nil, err
	}
	// The token claims our issuer: from here on every failure is "mine,
	// and wrong".
	if err := v.verifySigned(ctx, t, reg.tenant(), token, h, s, buf); err != nil {
		return nil, nil, err
	}
	if err := v.checkRegistered(t, reg); err != nil {
		return nil, nil, err
	}
	return t, payload, nil
}

// route is steps 1 and 2 of Verify, shared with InsecureVerifyUnsigned:
// framing (an empty signature segment is allowed only when unsigned), the
// payload decoded into a buffer sized for all three segments, strict JSON
// and the issuer. It returns the token with its claims, the header and
// signature segments and the rest of the buffer, free for decoding the
// header, with scratchSize bytes to spare for the signature check. Every
// error is ErrUnrecognizedCredential.
func (v *Verifier) route(token string, unsigned bool) (t *Token, h, s string, buf []byte, err error) {
	t, h, s, buf, _, err = v.routeInto(nil, token, unsigned, nil)
	return t, h, s, buf, err
}

// routeInto is route that also fills reg (when not nil) with the
// registered claims of the claim set, picked while it decodes, and
// returns the claims' JSON (payload). With st (and reg) not nil it works
// in st: the claims are checked and picked but not kept, so t.Claims is
// nil. With a nil st the token is new (newToken), made only once the
// payload has decoded.
func (v *Verifier) routeInto(st *tokenStorage, token string, unsigned bool, reg *registeredClaims) (t *Token, h, s string, buf, payload []byte, err error) {
	h, p, s, err := split(token, v.maxSize)
	if err == nil && s == "" && !unsigned {
		err = errEmptySegment
	}
	if err != nil {
		return nil, "", "", nil, nil, v.fail(authgate.ErrUnrecognizedCredential, err)
	}
	buf = make([]byte, strictBase64.DecodedLen(len(p))+v.spareRoom(h, unsigned))
	payload, buf, err = decodePayload(buf, token, p)
	if err != nil {
		return nil, "", "", nil, nil, v.fail(authgate.ErrUnrecognizedCredential, err)
	}
	var arena *strictjson.Arena
	if st != nil {
		t, arena = &st.tok, &st.arena
	} else {
		t, arena = newToken()
	}
	var claims map[string]any
	var iss string
	switch {
	case st != nil:
		err = strictjson.ValidateObjectFunc(payload, arena, reg.pick)
		iss, _ = reg.iss.(string)
	case reg != nil:
		claims, err = strictjson.ParseObjectFunc(payload, arena, reg.pick)
		iss, _ = reg.iss.(string)
	default:
		claims, err = strictjson.ParseObjectIn(payload, arena)
		iss, _ = claims["iss"].(string)
	}
	if err != nil {
		return nil, "", "", nil, nil, v.fail(authgate.ErrUnrecognizedCredential, fmt.Errorf("claims: %w", err))
	}
	if !v.claimsIssuer(iss) {
		return nil, "", "", nil, nil, v.fail(authgate.ErrUnrecognizedCredential, errForeignIssuer)
	}
	t.Claims, t.Issuer = claims, iss
	if claims != nil && reg != nil {
		t.seen = claimsSeen{claims: claims, n: uint32(len(claims)), present: reg.mapped}
	}
	return t, h, s, buf, payload, nil
}

// spareRoom is the room route leaves in the decode buffer after the
// payload: for the header and scratchSize bytes of scratch, or, for a
// signed token whose header segment headerCache knows (verifySigned will
// not decode it), the scratch its algorithm needs. Every byte counts: the
// buffer is allocated per verification, and the collector's pace follows
// the bytes allocated. Should the entry be gone when verifySigned looks,
// decodeHeader makes room of its own.
func (v *Verifier) spareRoom(h string, unsigned bool) int {
	if !unsigned {
		if e := v.headers.lookup(h); e != nil {
			return scratchFor(e.alg)
		}
	}
	return strictBase64.DecodedLen(len(h)) + scratchSize
}

// tokenStorage is a Token with the arena its claims are boxed from.
type tokenStorage struct {
	tok   Token
	arena strictjson.Arena
}

// newToken returns a new Token and the arena for its claims, in one
// allocation: the arena lives exactly as long as the token's claims,
// which point into it. (The decode buffer stays an allocation of its
// own: without pointers, it costs the collector nothing to scan, and a
// block holding both would be over 512 bytes, where the allocator's
// bookkeeping costs more.)
func newToken() (*Token, *strictjson.Arena) {
	s := new(tokenStorage)
	return &s.tok, &s.arena
}

// observeCache reports a lookup of the verified-token cache: a hit, or a
// miss whose token then verified (a token another provider owns is no
// miss of this cache).
func (v *Verifier) observeCache(ctx context.Context, outcome authgate.Outcome) {
	if v.observer != nil {
		v.observer.Observe(ctx, authgate.Event{Kind: authgate.EventCacheLookup, Provider: v.name, Outcome: outcome, Size: v.cache.len()})
	}
}
