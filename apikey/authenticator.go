package apikey

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/textproto"
	"strings"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/apikey/internal/logthrottle"
)

// Authenticator authenticates requests by API key against a Store. It is
// safe for concurrent use. Call Close when done with it, so the last uses
// still pending are written.
type Authenticator struct {
	store         Store
	name          string
	prefix        string // "sk_live"
	prefixSep     string // "sk_live_"
	header        string // canonical form, for map access
	scheme        string // `ApiKey header="X-API-Key"`
	schemes       []string
	hasher        *hasher
	now           func() time.Time
	cacheTTL      time.Duration
	cache         *cache // nil when disabled
	usage         *usageRecorder
	lookupTimeout time.Duration
	requireExpiry bool
	limiter       *failureLimiter // nil when disabled or shared
	shared        Limiter         // Config.Limiter; nil when not set
	clientIP      func(*http.Request) string
	keys          *Manager // shares hasher with a, evicts from a's cache
	storeLog      *logthrottle.Logger
	observer      authgate.Observer // nil: no events
	feed          *feedWatch        // nil: no ChangeFeed or no cache
}

var _ authgate.Describer = (*Authenticator)(nil)

// invalidDescription is the one client-visible text of every 401 rejection
// of a key this authenticator owns, whatever the reason.
const invalidDescription = "Invalid API key"

// Internal causes, for logs. None contains the key.
var (
	errBadFormat  = errors.New("apikey: bad key length, character or checksum")
	errUnknownKey = errors.New("apikey: unknown key")
	errRevokedKey = errors.New("apikey: key revoked")
	errExpiredKey = errors.New("apikey: key expired")
	errNoExpiry   = errors.New("apikey: key has no expiry and one is required")
	errTwoSources = errors.New("apikey: key sent in two places")
	errRepeated   = errors.New("apikey: header repeated")
	errEmptyKey   = errors.New("apikey: empty key")
	errTooLong    = errors.New("apikey: key longer than 256 bytes")
	errBadChar    = errors.New("apikey: key contains whitespace, control, '%' or non-ASCII bytes")
	errOtherKind  = errors.New("apikey: credential of another kind or prefix")
	errTooMany    = errors.New("apikey: too many failed attempts from this client")
)

// New returns an Authenticator for the keys in store with cfg.Prefix. It
// validates cfg (an error names the bad field, wrapping ErrInvalidPrefix for
// a bad prefix), does no I/O and starts no goroutine: the last-use writer
// starts with the first authenticated request and, when store is a
// ChangeFeed and the cache is on, the watch of its changes with the first
// store lookup.
func New(store Store, cfg Config) (*Authenticator, error) {
	if store == nil {
		return nil, errors.New("apikey: nil store")
	}
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	scheme := `ApiKey header="` + cfg.Header + `"`
	a := &Authenticator{
		store:         store,
		name:          cfg.Name,
		prefix:        cfg.Prefix,
		prefixSep:     cfg.Prefix + "_",
		header:        textproto.CanonicalMIMEHeaderKey(cfg.Header),
		scheme:        scheme,
		schemes:       []string{scheme},
		hasher:        newHasher(cfg.Pepper),
		now:           cfg.Now,
		cacheTTL:      cfg.CacheTTL,
		lookupTimeout: cfg.LookupTimeout,
		requireExpiry: cfg.RequireExpiry,
		storeLog:      logthrottle.New(cfg.Logger, logthrottle.DefaultWindow, cfg.Now),
		observer:      cfg.Observer,
	}
	if cfg.CacheTTL > 0 {
		a.cache = newCache(cfg.CacheSize)
	}
	if err := a.useLimiter(cfg); err != nil {
		return nil, err
	}
	a.keys = newManager(store, cfg, a.hasher)
	if a.cache != nil {
		a.keys.evict = a.cache.evictID
		if f, ok := store.(ChangeFeed); ok {
			a.feed = newFeedWatch(a, f)
		}
	}
	if cfg.LastUsedInterval > 0 {
		a.usage = newUsageRecorder(store, cfg.LastUsedInterval, cfg.Now, a.storeLog)
	}
	return a, nil
}

// Describe reports the provider name, the `ApiKey header="…"` challenge and
// the key prefix it claims.
func (a *Authenticator) Describe() authgate.Description {
	return authgate.Description{Name: a.name, Scheme: a.scheme, APIKeyPrefix: a.prefix}
}

// Authenticate reads the request's API key and returns its principal. The
// error is an *authgate.Error whose Kind says what happened (see the package
// documentation): ErrNoCredentials or ErrUnrecognizedCredential (not
// mine), ErrMalformedRequest (400), a kind wrapping ErrInvalidCredentials
// (401, the same description for every reason) or ErrUnavailable (503).
func (a *Authenticator) Authenticate(r *http.Request) (*authgate.Principal, error) {
	key, err := a.extract(r)
	if err != nil {
		return nil, err
	}
	if err := guard(key); err != nil {
		return nil, a.fail(authgate.ErrMalformedRequest, err)
	}
	prefix, body, ok := splitPrefix(key)
	if !ok || prefix != a.prefix {
		return nil, a.fail(authgate.ErrUnrecognizedCredential, errOtherKind)
	}
	now := a.now()
	client := ""
	if a.limited() {
		client = a.clientIP(r)
		blocked, err := a.blocked(r.Context(), client, now)
		if err != nil {
			return nil, err
		}
		if blocked {
			if a.observer != nil {
				a.observe(r.Context(), authgate.EventLimiterRefusal, authgate.OutcomeDenied, reasonRateLimited, 0, 0)
			}
			return nil, a.fail(authgate.ErrRateLimited, errTooMany)
		}
	}
	if !validBody(body) {
		a.failed(r.Context(), client, weightBadFormat, now)
		return nil, a.reject(authgate.ErrMalformedToken, errBadFormat)
	}
	d := a.hasher.digest(key)
	if a.cache != nil {
		e, size, ok := a.cache.get(d, now)
		if a.observer != nil {
			outcome := authgate.OutcomeMiss
			if ok {
				outcome = authgate.OutcomeHit
			}
			a.observe(r.Context(), authgate.EventCacheLookup, outcome, "", 0, size)
		}
		if ok {
			if !e.expiresAt.IsZero() && !now.Before(e.expiresAt) {
				a.cache.delete(d)
				return nil, a.reject(authgate.ErrTokenExpired, errExpiredKey)
			}
			a.markUsed(e.id, now)
			return e.principal(a.name), nil
		}
	}
	p, err := a.lookup(r.Context(), d, now)
	if err != nil && errors.Is(err, authgate.ErrInvalidCredentials) {
		a.failed(r.Context(), client, weightLookedUp, now)
	}
	return p, err
}

// lookup asks the store for the key with digest d and caches it when valid.
func (a *Authenticator) lookup(ctx context.Context, d Digest, now time.Time) (*authgate.Principal, error) {
	var gen uint64
	if a.cache != nil {
		if a.feed != nil {
			a.feed.start()
		}
		gen = a.cache.generation()
	}
	var start time.Time
	if a.observer != nil {
		start = time.Now()
	}
	lctx, cancel := context.WithTimeout(ctx, a.lookupTimeout)
	rec, err := a.store.Lookup(lctx, d)
	cancel()
	if a.observer != nil {
		outcome, reason := authgate.OutcomeHit, ""
		switch {
		case errors.Is(err, ErrNotFound):
			outcome = authgate.OutcomeMiss
		case err != nil:
			outcome, reason = authgate.OutcomeError, reasonUnavailable
		case subtle.ConstantTimeCompare(rec.Digest[:], d[:]) != 1:
			outcome = authgate.OutcomeMiss // another key's record: not found
		}
		a.observe(ctx, authgate.EventStoreLookup, outcome, reason, time.Since(start), 0)
	}
	switch {
	case errors.Is(err, ErrNotFound):
		return nil, a.reject(authgate.ErrInvalidCredentials, errUnknownKey)
	case err != nil:
		if ctx.Err() == nil {
			// The store's fault, not a client that went away: operators
			// need the cause ("connection refused"), which the 503 and the
			// request's log line do not carry.
			a.storeLog.Log(ctx, slog.LevelWarn, "apikey: store lookup failed", err, slog.String("provider", a.name))
		}
		return nil, a.fail(authgate.ErrUnavailable, fmt.Errorf("apikey: store lookup: %w", err))
	case subtle.ConstantTimeCompare(rec.Digest[:], d[:]) != 1:
		// A store that returned another key's record: never trust it.
		return nil, a.reject(authgate.ErrInvalidCredentials, errUnknownKey)
	case !rec.RevokedAt.IsZero():
		return nil, a.reject(authgate.ErrRevoked, errRevokedKey)
	case !rec.ExpiresAt.IsZero() && !now.Before(rec.ExpiresAt):
		return nil, a.reject(authgate.ErrTokenExpired, errExpiredKey)
	case a.requireExpiry && rec.ExpiresAt.IsZero():
		return nil, a.reject(authgate.ErrInvalidCredentials, errNoExpiry)
	}
	e := newEntry(rec.Key, now, a.cacheTTL)
	if a.cache != nil {
		a.cache.put(d, e, now, gen)
	}
	a.markUsed(e.id, now)
	return e.principal(a.name), nil
}

// The reasons of the events that have one.
var (
	reasonUnavailable = authgate.Reason(authgate.ErrUnavailable)
	reasonRateLimited = authgate.Reason(authgate.ErrRateLimited)
)

// observe reports one event of this authenticator; a.observer must be set.
// Nothing of the request but ctx goes in: never the key, its digest or its
// ID.
func (a *Authenticator) observe(ctx context.Context, kind authgate.EventKind, outcome authgate.Outcome, reason string, took time.Duration, size int) {
	a.observer.Observe(ctx, authgate.Event{Kind: kind, Provider: a.name, Outcome: outcome, Reason: reason, Duration: took, Size: size})
}

func (a *Authenticator) markUsed(id string, now time.Time) {
	if a.usage != nil {
		a.usage.mark(id, now)
	}
}

// extract finds the one place the key was sent. Query and form parameters
// are never read.
func (a *Authenticator) extract(r *http.Request) (string, error) {
	hv := r.Header[a.header]
	av := r.Header["Authorization"]
	if len(hv) > 1 || len(av) > 1 {
		return "", a.fail(authgate.ErrMalformedRequest, errRepeated)
	}
	if len(hv) == 1 {
		if len(av) == 1 {
			// RFC 6750 §2: one method only. An Authorization header of any
			// scheme beside the key header is ambiguous, never "either may
			// pass".
			return "", a.fail(authgate.ErrMalformedRequest, errTwoSources)
		}
		return hv[0], nil
	}
	if len(av) == 0 {
		return "", a.fail(authgate.ErrNoCredentials, nil)
	}
	scheme, value, _ := strings.Cut(av[0], " ")
	switch {
	case strings.EqualFold(scheme, "ApiKey"):
		return value, nil
	case strings.EqualFold(scheme, "Bearer") && a.ownsBearer(value):
		return value, nil
	case strings.EqualFold(scheme, "Bearer"):
		// A bearer credential of another kind (a JWT): present, not ours.
		return "", a.fail(authgate.ErrUnrecognizedCredential, errOtherKind)
	}
	// Another auth-scheme (Basic, Digest, …) is no credential of any kind
	// this package knows: RFC 6750 §3.1 wants a bare challenge for it.
	return "", a.fail(authgate.ErrNoCredentials, nil)
}

// ownsBearer reports whether a bearer value carries exactly this
// authenticator's prefix, so it is an API key and not a JWT.
func (a *Authenticator) ownsBearer(v string) bool {
	return strings.HasPrefix(v, a.prefixSep) && strings.IndexByte(v[len(a.prefixSep):], '_') < 0
}

// guard rejects, before any hashing, values no key can be: empty, longer
// than MaxKeyLength, or holding bytes outside '!'..'~' or a '%'.
func guard(v string) error {
	switch {
	case v == "":
		return errEmptyKey
	case len(v) > MaxKeyLength:
		return errTooLong
	}
	for i := 0; i < len(v); i++ {
		if c := v[i]; c <= ' ' || c > '~' || c == '%' {
			return errBadChar
		}
	}
	return nil
}

// reject is the one 401 for a key this authenticator owns: same code, same
// description, same challenge whatever kind says.
func (a *Authenticator) reject(kind, cause error) error {
	return &authgate.Error{
		Provider: a.name, Kind: kind, Code: "invalid_token",
		Description: invalidDescription, Schemes: a.schemes, Err: cause,
	}
}

func (a *Authenticator) fail(kind, cause error) error {
	return &authgate.Error{Provider: a.name, Kind: kind, Schemes: a.schemes, Err: cause}
}

// Manager returns the Manager of this authenticator's store and Config: the
// keys it issues are hashed exactly as Authenticate looks them up, and the
// keys it revokes stop working here at once (other instances sharing the
// store stop within Config.CacheTTL, or as soon as they hear of it when the
// store is a ChangeFeed).
func (a *Authenticator) Manager() *Manager { return a.keys }

// Flush writes the pending last-use times that are due: a key written less
// than Config.LastUsedInterval ago waits. The background writer calls it
// periodically; it returns the store's error.
func (a *Authenticator) Flush(ctx context.Context) error {
	if a.usage == nil {
		return nil
	}
	return a.usage.flush(ctx, false)
}

// Close stops watching the store's ChangeFeed, stops the background
// last-use writer and writes every pending last use, due or not. It does
// not close the store. Requests authenticated after Close still work but
// their use is no longer recorded, and keys changed behind the
// authenticator's back leave its cache only when their Config.CacheTTL
// ends. Close returns the store's error from that final write; calling it
// again returns the same result.
func (a *Authenticator) Close() error {
	if a.feed != nil {
		a.feed.close()
	}
	if a.usage == nil {
		return nil
	}
	return a.usage.close()
}
