package apikey

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/textproto"
	"strings"
	"time"

	"github.com/authgate/authgate"
)

// Defaults and bounds of Config.
const (
	DefaultName             = "apikey"
	DefaultHeader           = "X-API-Key"
	DefaultCacheTTL         = 10 * time.Second
	MaxCacheTTL             = time.Minute
	DefaultCacheSize        = 10_000
	DefaultLastUsedInterval = time.Minute
	MinLastUsedInterval     = time.Second
	DefaultLookupTimeout    = 2 * time.Second
)

// Config configures an Authenticator. Prefix is required; every other zero
// field takes the documented default.
type Config struct {
	// Name is the provider name in principals, errors and logs; default
	// "apikey".
	Name string
	// Prefix is the key prefix this authenticator owns, such as "sk_live"
	// (see ValidatePrefix). Keys with another prefix are "not mine".
	Prefix string
	// Header is the request header carrying the key; default "X-API-Key".
	// "Authorization: ApiKey <key>" and "Authorization: Bearer <key>" (when
	// the value has this Prefix) are always read too.
	Header string
	// Pepper, when set, is a server-side secret of at least 32 bytes kept
	// outside the key store: digests become HMAC-SHA256(Pepper, key), so a
	// stolen database alone cannot even confirm a guessed key. Changing it
	// invalidates every key issued before. Issue keys with a Manager of the
	// same Config (Authenticator.Manager or NewManager), which hashes them
	// the same way.
	Pepper []byte
	// CacheTTL is how long a valid key is served from memory without asking
	// the store, and so the longest a key revoked behind the
	// authenticator's back keeps working. Default 10 s, at most one minute;
	// a negative value disables the cache.
	CacheTTL time.Duration
	// CacheSize bounds the number of cached keys; default 10 000.
	CacheSize int
	// LastUsedInterval is the least time between two last-use writes for
	// one key; default one minute, at least one second; a negative value
	// disables last-use tracking.
	LastUsedInterval time.Duration
	// LookupTimeout bounds one store lookup (and the request's own deadline
	// applies too); default 2 s. A lookup that times out is ErrUnavailable.
	LookupTimeout time.Duration
	// RequireExpiry rejects keys that have no expiry, and makes
	// Manager.Issue refuse to create them.
	RequireExpiry bool
	// FailureLimit, when positive, is how many failed attempts a client (see
	// ClientIP) may make in one FailureWindow; its further attempts in that
	// window are refused with authgate.ErrRateLimited (429) before any
	// checksum check or store lookup, whatever key they carry. A key with a
	// valid checksum that is unknown, revoked or expired counts twice (a
	// targeted guess that cost a lookup), a malformed or mistyped key once.
	// Zero disables the limit. Turn it on only with a ClientIP that tells
	// clients apart: behind a proxy every request comes from the proxy, and
	// one failing client would lock every other out.
	FailureLimit int
	// FailureWindow is the window FailureLimit counts in; default one
	// minute, within [1 s, 1 h].
	FailureWindow time.Duration
	// Limiter, when set, counts failed attempts in place of the in-memory
	// limiter, with its own limit and window, in a store every replica
	// shares (see Limiter; the redis/limiter module has one for Redis).
	// FailureLimit must then be zero. A Limiter that cannot answer fails
	// closed: the request is an authgate.ErrUnavailable (503).
	Limiter Limiter
	// ClientIP names the client of a request for FailureLimit; default
	// RemoteIP, the host of r.RemoteAddr without its port. Behind a reverse proxy, return the address the
	// proxy vouches for — never a header a client can set itself, or every
	// request can claim a fresh address.
	ClientIP func(r *http.Request) string
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Logger receives, at Warn, the cause of every store failure (a lookup
	// that failed or timed out, a background last-use write, a ChangeFeed
	// lost; its return at Info), never a key;
	// an identical line is written at most once per 10 s, the next one
	// saying how many were left out ("repeated"). Default: discard.
	Logger *slog.Logger
	// Observer, if set, receives, with Provider Name and the request's
	// context: an authgate.EventStoreLookup for every store lookup
	// (OutcomeHit when the store found the key, revoked or expired ones
	// included, OutcomeMiss when it did not, OutcomeError with Reason
	// "unavailable" when it failed or timed out, with the lookup's real
	// duration); an authgate.EventCacheLookup for every lookup in the cache
	// of valid keys (OutcomeHit or OutcomeMiss, with the entries held); and
	// an authgate.EventLimiterRefusal for every request the FailureLimit
	// refuses; and, over a store that is a ChangeFeed, an
	// authgate.EventSubscription when the feed is up (OutcomeOK) or lost
	// (OutcomeError, Reason "unavailable"). An event never holds the key,
	// its digest or its ID. A nil
	// Observer costs nothing: no clock is read and no event is built.
	Observer authgate.Observer
}

// withDefaults validates c and returns a copy with defaults filled in.
func (c Config) withDefaults() (Config, error) {
	if err := ValidatePrefix(c.Prefix); err != nil {
		return c, err
	}
	if c.Name == "" {
		c.Name = DefaultName
	}
	if c.Header == "" {
		c.Header = DefaultHeader
	}
	if !validHeaderName(c.Header) {
		return c, errors.New("apikey: header must be a valid HTTP field name other than Authorization")
	}
	if len(c.Pepper) > 0 && len(c.Pepper) < minPepperLen {
		return c, fmt.Errorf("apikey: pepper must be at least %d bytes", minPepperLen)
	}
	c.Pepper = append([]byte(nil), c.Pepper...)
	switch {
	case c.CacheTTL == 0:
		c.CacheTTL = DefaultCacheTTL
	case c.CacheTTL > MaxCacheTTL:
		return c, fmt.Errorf("apikey: cache TTL must be at most %v", MaxCacheTTL)
	}
	switch {
	case c.CacheSize == 0:
		c.CacheSize = DefaultCacheSize
	case c.CacheSize < 0:
		return c, errors.New("apikey: cache size must not be negative")
	}
	switch {
	case c.LastUsedInterval == 0:
		c.LastUsedInterval = DefaultLastUsedInterval
	case c.LastUsedInterval > 0 && c.LastUsedInterval < MinLastUsedInterval:
		return c, fmt.Errorf("apikey: last-used interval must be at least %v", MinLastUsedInterval)
	}
	switch {
	case c.LookupTimeout == 0:
		c.LookupTimeout = DefaultLookupTimeout
	case c.LookupTimeout < 0:
		return c, errors.New("apikey: lookup timeout must not be negative")
	}
	if c.FailureLimit < 0 {
		return c, errors.New("apikey: failure limit must not be negative")
	}
	switch {
	case c.FailureWindow == 0:
		c.FailureWindow = DefaultFailureWindow
	case c.FailureWindow < time.Second || c.FailureWindow > time.Hour:
		return c, errors.New("apikey: failure window must be within [1s, 1h]")
	}
	if c.ClientIP == nil {
		c.ClientIP = RemoteIP
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c, nil
}

// validHeaderName reports whether name is an RFC 9110 token and not a header
// the authenticator already reads or must not read.
func validHeaderName(name string) bool {
	if name == "" || len(name) > 64 {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	switch textproto.CanonicalMIMEHeaderKey(name) {
	case "Authorization", "Cookie", "Proxy-Authorization":
		return false
	}
	return true
}
