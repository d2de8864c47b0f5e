package providers

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"sync/atomic"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/internal/remote"
)

// Defaults and bounds of a RemoteKeySet (SECURITY.md#limits).
const (
	// DefaultRefreshInterval is how long a fetched key set stays fresh when
	// the answer carries no usable Cache-Control max-age.
	DefaultRefreshInterval = time.Hour
	// MinRefreshInterval and MaxRefreshInterval clamp Cache-Control
	// max-age: a key set is never refetched more often than every 5
	// minutes on schedule, and at least daily.
	MinRefreshInterval = 5 * time.Minute
	MaxRefreshInterval = 24 * time.Hour
	// DefaultCooldown is the least time between two fetches caused by
	// tokens naming an unknown kid.
	DefaultCooldown = time.Minute
	// DefaultMaxKeyAge is how long the last good keys keep verifying while
	// the endpoint fails.
	DefaultMaxKeyAge = 24 * time.Hour
	// DefaultFetchTimeout bounds one fetch, body included.
	DefaultFetchTimeout = remote.DefaultTimeout
	// DefaultMaxWait is the longest a lookup waits for key material,
	// discovery and key set together: well under one fetch timeout, so a
	// hanging key server costs a request 3 s, never 5 s + 5 s.
	DefaultMaxWait = 3 * time.Second
	// MaxMaxWait is the largest MaxWait accepted.
	MaxMaxWait = 30 * time.Second
	// MaxFetchBody is the largest key set or discovery document read (256
	// KiB); a larger one is a failed fetch.
	MaxFetchBody = remote.MaxBody
)

// RemoteKeySetConfig configures a RemoteKeySet. URL, or Issuer for
// discovery, and Algorithms are required.
type RemoteKeySetConfig struct {
	// Name names the provider in errors and logs (default "jwks").
	Name string
	// URL is the key set's address (a JWKS, or what Parse reads). It must
	// be https; plain http is accepted for loopback hosts (127.0.0.0/8,
	// ::1, localhost) only.
	URL string
	// Issuer, when URL is empty, is the OpenID Connect issuer whose
	// discovery document names the key set (jwks_uri): see Discover.
	// Discovery happens once, on first use, as the first step of the
	// first key fetch; a failed discovery is a failed fetch.
	Issuer string
	// HTTPClient sends the requests (default: http.DefaultTransport). It is
	// copied, never modified: the copy follows no redirects, keeps no
	// cookies and times out after FetchTimeout at most.
	HTTPClient *http.Client
	// Algorithms are the asymmetric algorithms keys may be bound to. A key
	// whose "alg" is not among them, or that has no "alg" and fits several
	// of them (an RSA key with RS256 and PS256 allowed), is skipped.
	Algorithms []string
	// Parse turns a fetched document into keys and a count of skipped
	// entries (default ParseJWKS; ParseX509CertMap reads Google's
	// certificate maps).
	Parse func(document []byte) (keys []Key, skipped int, err error)
	// RefreshInterval is the freshness lifetime of a key set whose answer
	// has no usable Cache-Control max-age (default DefaultRefreshInterval,
	// within [MinRefreshInterval, MaxRefreshInterval]).
	RefreshInterval time.Duration
	// Cooldown is the least time between two fetches caused by unknown kids
	// (default DefaultCooldown, within [1 s, 1 h]). Tokens with an unknown
	// kid that arrive during the cooldown are rejected at once. Scheduled
	// refreshes, the first fetch and Prefetch do not start a cooldown.
	Cooldown time.Duration
	// MaxKeyAge is how long the last good keys are used while refreshing
	// fails (default DefaultMaxKeyAge, within [5 min, 7 days]); after that
	// every token is refused with authgate.ErrUnavailable.
	MaxKeyAge time.Duration
	// FetchTimeout bounds one request to the key server (default
	// DefaultFetchTimeout, at most 30 s): the discovery document and the
	// key set each get that long. The fetch goes on in the background when
	// the lookup that started it stops waiting.
	FetchTimeout time.Duration
	// MaxWait bounds how long one lookup waits for key material, in real
	// time: for discovery and the key set together, and for a fetch that
	// another lookup started (default DefaultMaxWait, within (0,
	// MaxMaxWait]). A lookup that runs out of it fails with
	// authgate.ErrUnavailable.
	MaxWait time.Duration
	// Logger, if set, receives failed fetches with their cause (Warn, the
	// same failure at most once per 10 s with a count of the repeats),
	// recovery after failures (Info) and skipped keys (Debug). Nothing
	// logged contains key material or a token.
	Logger *slog.Logger
	// Now is the clock (default time.Now). It decides freshness, cooldown,
	// backoff and key age; timeouts, MaxWait and the background retry run
	// on real time.
	Now func() time.Time
	// Observer, if set, receives an authgate.EventKeyFetch for every fetch
	// (discovery and key set together are one fetch), whatever started it:
	// Provider is Name, Outcome authgate.OutcomeOK with Keys (the usable
	// keys the new set holds) or authgate.OutcomeError with Reason
	// "unavailable" (the cause goes to Logger only), and Duration the
	// fetch's real time. It is called on the fetch's goroutine with the
	// context of the lookup that started it, without its cancellation.
	Observer authgate.Observer
}

// RemoteKeySet is a KeySet backed by an HTTPS URL: the remote JWKS key
// manager. It is safe for concurrent use.
//
//   - The first lookup fetches the set (New does no I/O; Prefetch warms it
//     up); while no set was ever fetched, lookups fail with
//     authgate.ErrUnavailable, and failed fetches are retried with
//     exponential backoff (1 s doubling to 1 min), not on every request.
//   - While no usable set is held after a failed fetch (never fetched, or
//     older than MaxKeyAge), or after an unknown kid found the key server
//     failing, a background retry fetches every 1 to 5 s
//     (jittered) until a fetch succeeds, so keys are back within seconds of
//     the key server's return whatever the outage's length. It stops when
//     a fetch succeeds, or after some 6 minutes without a lookup.
//   - One fetch at a time (single-flight): concurrent lookups that need
//     keys wait for the fetch in flight, bounded by MaxWait and their own
//     context; the fetch itself is bounded by FetchTimeout.
//   - A set is fresh for its Cache-Control max-age clamped to [5 min, 24 h]
//     (RefreshInterval when absent, 0, no-store or no-cache). After that the
//     set keeps serving while one background fetch, detached from the
//     request that triggered it, replaces it: requests never wait for a
//     scheduled refresh.
//   - A token naming a kid the set does not hold triggers a fetch only if
//     no fetch triggered by an unknown kid started within Cooldown (and
//     failures are not being backed off); otherwise it gets an answer at
//     once — it never waits for a cooldown. The answer is "no key" (an
//     invalid signature) only when the last fetch succeeded; when the
//     fetch, or the last one, failed it is authgate.ErrUnavailable: the
//     key server could not be asked. A token without kid, or with a kid
//     the set holds (even if its signature is wrong), never triggers a
//     fetch. After such a failure the background retry below runs until a
//     fetch succeeds, so a kid published during an outage verifies within
//     seconds of the key server's return.
//   - While fetching fails (transport errors, non-200 answers, redirects,
//     bodies over 256 KiB, garbage, a set with no usable key) the last good
//     set keeps verifying until it is MaxKeyAge old; then lookups fail with
//     authgate.ErrUnavailable. An empty set after a good one counts as a
//     failure: the last good keys stay (pinned by the tests).
//   - A successful fetch replaces the whole set: keys removed from the
//     document stop verifying.
//   - Entries that are unusable (unknown kty, "use":"enc", key_ops without
//     verify, "oct" secrets, private members, weak keys, an alg outside
//     Algorithms) are skipped, never fatal.
type RemoteKeySet struct {
	name     string
	url      string
	issuer   string
	client   *http.Client
	allowed  []string
	parse    func([]byte) ([]Key, int, error)
	refresh  time.Duration
	cooldown time.Duration
	maxWait  time.Duration
	waited   error // the cause of a lookup that ran out of MaxWait
	logger   *slog.Logger
	failures *remote.FailureLog

	keys       *remote.Cache[*StaticKeySet]
	discovered atomic.Pointer[string] // the jwks_uri, once discovered
}

// NewRemoteKeySet validates cfg and returns a RemoteKeySet. It does no
// network I/O. It returns an error when neither URL nor Issuer is set, when
// a URL is not https (outside loopback), when Algorithms is empty or holds
// an HMAC or unknown algorithm, and for durations outside their bounds.
func NewRemoteKeySet(cfg RemoteKeySetConfig) (*RemoteKeySet, error) {
	name := cmp.Or(cfg.Name, "jwks")
	fail := func(format string, args ...any) (*RemoteKeySet, error) {
		return nil, fmt.Errorf("%s: "+format, append([]any{name}, args...)...)
	}
	s := &RemoteKeySet{
		name:     name,
		url:      cfg.URL,
		issuer:   cfg.Issuer,
		allowed:  slices.Clone(cfg.Algorithms),
		parse:    cfg.Parse,
		refresh:  cmp.Or(cfg.RefreshInterval, DefaultRefreshInterval),
		cooldown: cmp.Or(cfg.Cooldown, DefaultCooldown),
		maxWait:  cmp.Or(cfg.MaxWait, DefaultMaxWait),
		logger:   cfg.Logger,
	}
	switch {
	case cfg.URL != "":
		if _, err := remote.CheckURL(cfg.URL); err != nil {
			return fail("key set %w", err)
		}
	case cfg.Issuer != "":
		if _, err := remote.CheckURL(cfg.Issuer); err != nil {
			return fail("issuer %w", err)
		}
	default:
		return fail("a key set URL or an issuer to discover it from is required")
	}
	if len(s.allowed) == 0 {
		return fail("no algorithms allowed")
	}
	for _, a := range s.allowed {
		alg, ok := algorithms[a]
		switch {
		case !ok:
			return fail("unsupported algorithm %q", a)
		case alg.family == familyHMAC:
			return fail("%s needs a shared secret, which a published key set never holds", a)
		}
	}
	if s.parse == nil {
		s.parse = ParseJWKS
	}
	maxAge := cmp.Or(cfg.MaxKeyAge, DefaultMaxKeyAge)
	timeout := cmp.Or(cfg.FetchTimeout, DefaultFetchTimeout)
	switch {
	case s.refresh < MinRefreshInterval || s.refresh > MaxRefreshInterval:
		return fail("RefreshInterval %v outside [%v, %v]", s.refresh, MinRefreshInterval, MaxRefreshInterval)
	case s.cooldown < time.Second || s.cooldown > time.Hour:
		return fail("Cooldown %v outside [1s, 1h]", s.cooldown)
	case maxAge < 5*time.Minute || maxAge > 7*24*time.Hour:
		return fail("MaxKeyAge %v outside [5m, 168h]", maxAge)
	case timeout < 0 || timeout > 30*time.Second:
		return fail("FetchTimeout %v outside (0, 30s]", timeout)
	case s.maxWait < 0 || s.maxWait > MaxMaxWait:
		return fail("MaxWait %v outside (0, %v]", s.maxWait, MaxMaxWait)
	}
	s.client = remote.Client(cfg.HTTPClient, timeout)
	s.waited = fmt.Errorf("no key material within MaxWait (%v): %w", s.maxWait, context.DeadlineExceeded)
	s.failures = remote.NewFailureLog(cfg.Logger, "authgate: key set fetch", name, cfg.Now)
	fetchTimeout := timeout
	if s.url == "" {
		fetchTimeout = 2 * timeout // discovery, then the key set
	}
	opts := remote.Options[*StaticKeySet]{Now: cfg.Now, Timeout: fetchTimeout, MaxStale: maxAge, OnError: s.failures.Log}
	if cfg.Observer != nil {
		opts.Observe = observeFetch(cfg.Observer, authgate.EventKeyFetch, name, (*StaticKeySet).Len)
	}
	s.keys = remote.New(s.fetch, opts)
	return s, nil
}

// observeFetch returns the remote.Options.Observe that reports each fetch
// of provider to o as an Event of kind, with count(v) as Keys on success
// when count is not nil.
func observeFetch[T any](o authgate.Observer, kind authgate.EventKind, provider string, count func(T) int) func(context.Context, T, error, time.Duration) {
	return func(ctx context.Context, v T, err error, took time.Duration) {
		e := authgate.Event{Kind: kind, Provider: provider, Outcome: authgate.OutcomeOK, Duration: took}
		if err != nil {
			e.Outcome, e.Reason = authgate.OutcomeError, reasonUnavailable
		} else if count != nil {
			e.Keys = count(v)
		}
		o.Observe(ctx, e)
	}
}

// reasonUnavailable is the Reason of a failed fetch: every fetch failure
// makes the lookups that need it authgate.ErrUnavailable.
var reasonUnavailable = authgate.Reason(authgate.ErrUnavailable)

// VerificationKeys implements KeySet; see RemoteKeySet for when it fetches.
// It returns an error wrapping authgate.ErrUnavailable when no usable key
// set can be had (never fetched, failing, older than MaxKeyAge), when a
// kid the set does not hold cannot be looked up because fetching fails,
// and when MaxWait passes or ctx ends while waiting for a fetch.
func (s *RemoteKeySet) VerificationKeys(ctx context.Context, kid, alg string) ([]Key, error) {
	set, ok := s.keys.Cached(ctx)
	if ok && (kid == "" || set.byID[kid] != nil) {
		return set.VerificationKeys(ctx, kid, alg)
	}
	// From here on the lookup may wait: at most MaxWait in all.
	ctx, cancel := context.WithTimeoutCause(ctx, s.maxWait, s.waited)
	defer cancel()
	if !ok {
		var err error
		if set, err = s.keys.Get(ctx); err != nil {
			return nil, s.unavailable(err)
		}
		// The set was fetched while this lookup waited: a kid it does not
		// hold is unknown to the key server now, without a second fetch.
		return set.VerificationKeys(ctx, kid, alg)
	}
	fresh, ok, err := s.keys.Refresh(ctx, s.cooldown)
	if ok {
		return fresh.VerificationKeys(ctx, kid, alg)
	}
	// A background refresh may have replaced the set between Cached and
	// Refresh (and the kid may be in the new set).
	if cur, have := s.keys.Peek(); have && cur != set && cur.byID[kid] != nil {
		return cur.VerificationKeys(ctx, kid, alg)
	}
	if err != nil {
		// The key server could not be asked about this kid: the token
		// may well be valid.
		return nil, s.unavailable(fmt.Errorf("unknown key id not looked up: %w", err))
	}
	return nil, nil // unknown kid in a current set, or cooling down: no key
}

// Prefetch fetches the key set now (after discovery, when configured) and
// waits for it until ctx is done: call it at start-up to warm the cache and
// to see configuration errors early. It ignores the backoff of earlier
// failures but still shares a fetch in flight, and starts no unknown-kid
// cooldown. Its error wraps authgate.ErrUnavailable.
func (s *RemoteKeySet) Prefetch(ctx context.Context) error {
	if err := s.keys.Prefetch(ctx); err != nil {
		return s.unavailable(err)
	}
	return nil
}

// Ready reports, without any I/O, whether the key set can answer now:
// nil while it holds keys fetched less than MaxKeyAge ago; otherwise an
// error wrapping authgate.ErrUnavailable with the last fetch's failure
// (or saying none was fetched yet). It is what a readiness probe asks.
func (s *RemoteKeySet) Ready() error {
	ok, err := s.keys.Usable()
	switch {
	case ok:
		return nil
	case err != nil:
		return s.unavailable(fmt.Errorf("no usable keys: %w", err))
	}
	return s.unavailable(errNotFetched)
}

var errNotFetched = errors.New("no usable keys: none fetched yet")

// URL returns the key set's address: the configured one, the discovered
// one, or "" before discovery.
func (s *RemoteKeySet) URL() string {
	if s.url != "" {
		return s.url
	}
	if u := s.discovered.Load(); u != nil {
		return *u
	}
	return ""
}

// discover finds the key set's address in the issuer's discovery document
// and keeps it for the process.
func (s *RemoteKeySet) discover(ctx context.Context) (string, error) {
	md, err := discover(ctx, s.client, s.issuer)
	if err != nil {
		return "", err
	}
	if s.logger != nil {
		iss, _ := url.Parse(s.issuer)
		keys, _ := url.Parse(md.JWKSURI)
		if iss != nil && keys != nil && iss.Host != keys.Host {
			s.logger.Info("authgate: discovered key set on another host", "provider", s.name, "issuer", s.issuer, "jwks_uri", md.JWKSURI)
		}
	}
	s.discovered.Store(&md.JWKSURI)
	return md.JWKSURI, nil
}

// fetch discovers the key set's address when it is not known yet, then
// fetches, parses and binds the key set. The cache runs one at a time.
func (s *RemoteKeySet) fetch(ctx context.Context) (*StaticKeySet, time.Duration, error) {
	u := s.URL()
	if u == "" {
		var err error
		if u, err = s.discover(ctx); err != nil {
			return nil, 0, err
		}
	}
	body, header, err := remote.Get(ctx, s.client, u)
	if err != nil {
		return nil, 0, err
	}
	keys, skipped, err := s.parse(body)
	if err != nil {
		return nil, 0, fmt.Errorf("key set from %s: %w", u, err)
	}
	bound := make([]Key, 0, len(keys))
	for _, k := range keys {
		b, err := bindKey(k, s.allowed)
		if err != nil || b.secret != nil {
			skipped++
			continue
		}
		bound = append(bound, b)
	}
	if skipped > 0 && s.logger != nil {
		s.logger.Debug("authgate: key set entries skipped", "provider", s.name, "url", u, "skipped", skipped, "kept", len(bound))
	}
	if len(bound) == 0 {
		return nil, 0, fmt.Errorf("key set from %s has no usable key (%d skipped)", u, skipped)
	}
	s.failures.Recovered()
	return newStaticKeySet(bound), remote.MaxAge(header, s.refresh, MinRefreshInterval, MaxRefreshInterval), nil
}

func (s *RemoteKeySet) unavailable(err error) error {
	if errors.Is(err, authgate.ErrUnavailable) {
		return err
	}
	return &authgate.Error{Provider: s.name, Kind: authgate.ErrUnavailable, Err: err}
}
