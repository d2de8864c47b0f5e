package firebase

import (
	"cmp"
	"container/list"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/providers"
)

// Defaults and bounds of the revocation check.
const (
	// DefaultRevocationCacheTTL is how long a user record is trusted before
	// it is looked up again: the longest a revocation can go unnoticed.
	DefaultRevocationCacheTTL = 30 * time.Second
	// DefaultRevocationCacheSize is how many user records are cached.
	DefaultRevocationCacheSize = 10_000
	// DefaultRevocationTimeout bounds one user lookup.
	DefaultRevocationTimeout = 5 * time.Second
)

// User is what the revocation check needs of a Firebase user record.
type User struct {
	// Disabled refuses every token of the user.
	Disabled bool
	// TokensValidAfter refuses tokens issued, or signed in, before it (set
	// by revoking the user's refresh tokens, a password change, …); zero
	// refuses none. It is compared at millisecond precision, as Firebase
	// stores it.
	TokensValidAfter time.Time
}

// UserLookup fetches what the revocation check needs of a user. The
// adapter over firebase-admin-go's *auth.Client (and *auth.TenantClient)
// is in the nested module github.com/authgate/authgate/firebase/admin, so
// this package never imports the Admin SDK; a user store of your own, or a
// fake in tests, implements it directly.
//
// LookupUser returns an error wrapping ErrUserNotFound when the user does
// not exist; any other error means the lookup failed (authgate answers
// 503). A nil User with a nil error is a failed lookup too.
type UserLookup interface {
	LookupUser(ctx context.Context, uid string) (*User, error)
}

// ErrUserNotFound is returned (wrapped) by a UserLookup for a user that
// does not exist.
var ErrUserNotFound = errors.New("firebase: user not found")

// Revocation configures the check of verified tokens against the user
// record (firebase-admin-go's VerifyIDTokenAndCheckRevoked). It is on when
// Users is set.
//
// A token is rejected with authgate.ErrRevoked (401) when its user is
// disabled, when the user no longer exists, or when its "auth_time" or its
// "iat" lies before the user's tokens-valid-after time (set by
// RevokeRefreshTokens, a password change, …). firebase-admin-go compares
// "iat" only; firebase-admin-node compares "auth_time"; authgate rejects
// when either is older, which for every genuine token is the auth_time
// comparison. When the lookup fails (the Admin API is down or slow), the
// token is refused with authgate.ErrUnavailable (503): never accepted.
//
// Records are cached per uid for CacheTTL in a bounded LRU of CacheSize
// entries (a small cache of this package on the injected clock), so a
// revocation takes effect within CacheTTL; concurrent lookups of one uid
// share one call. Failed lookups are not cached. Only uids of tokens whose
// signature and claims already verified are ever looked up.
//
// Each lookup (not each cache hit, nor each caller sharing a lookup) is
// reported to FetchOptions.Observer as an authgate.EventStoreLookup:
// OutcomeHit when the user exists, OutcomeMiss when it does not, and
// OutcomeError with Reason "unavailable" when the lookup failed, with its
// duration; never the uid.
type Revocation struct {
	// Users looks user records up; nil turns the check off.
	Users UserLookup
	// CacheTTL is how long a looked-up record is used (default
	// DefaultRevocationCacheTTL, within [1 s, 1 h]).
	CacheTTL time.Duration
	// CacheSize bounds the cached records (default
	// DefaultRevocationCacheSize, within [1, 1 000 000]).
	CacheSize int
	// Timeout bounds one lookup (default DefaultRevocationTimeout, within
	// (0, 30 s]).
	Timeout time.Duration
}

func (r *Revocation) check() error {
	if r.Users == nil {
		if r.CacheTTL != 0 || r.CacheSize != 0 || r.Timeout != 0 {
			return errors.New("Revocation settings without Revocation.Users")
		}
		return nil
	}
	ttl := cmp.Or(r.CacheTTL, DefaultRevocationCacheTTL)
	size := r.CacheSize
	if size == 0 {
		size = DefaultRevocationCacheSize
	}
	timeout := cmp.Or(r.Timeout, DefaultRevocationTimeout)
	switch {
	case ttl < time.Second || ttl > time.Hour:
		return fmt.Errorf("Revocation.CacheTTL %v outside [1s, 1h]", ttl)
	case size < 1 || size > 1_000_000:
		return fmt.Errorf("Revocation.CacheSize %d outside [1, 1000000]", size)
	case timeout <= 0 || timeout > 30*time.Second:
		return fmt.Errorf("Revocation.Timeout %v outside (0, 30s]", timeout)
	}
	return nil
}

var (
	errUserDisabled = errors.New("user is disabled")
	errUserDeleted  = errors.New("user does not exist")
	errTokenRevoked = errors.New("token was issued before the user's tokens were revoked")
	errLookupFailed = errors.New("user lookup failed")
	errNoRecord     = errors.New("user lookup returned no record")
)

// userState is what the check needs of a user record.
type userState struct {
	missing          bool
	disabled         bool
	validAfterMillis int64
}

// revoker checks verified tokens against cached user records.
type revoker struct {
	name    string
	users   UserLookup
	timeout time.Duration
	now     func() time.Time
	logger  *slog.Logger
	cache   *lru
	flight  singleflight.Group
	obs     authgate.Observer // nil: no events
}

func newRevoker(name string, r Revocation, now func() time.Time, logger *slog.Logger, obs authgate.Observer) *revoker {
	if now == nil {
		now = time.Now
	}
	size := r.CacheSize
	if size == 0 {
		size = DefaultRevocationCacheSize
	}
	return &revoker{
		name:    name,
		users:   r.Users,
		timeout: cmp.Or(r.Timeout, DefaultRevocationTimeout),
		now:     now,
		logger:  logger,
		cache:   newLRU(size, cmp.Or(r.CacheTTL, DefaultRevocationCacheTTL)),
		obs:     obs,
	}
}

// checkToken is check for a verified token: the shared token path runs it
// on every request, cache hits included, so a cached token of a revoked or
// disabled user is refused as soon as the user's record says so.
func (v *revoker) checkToken(ctx context.Context, t *providers.Token) error {
	authTime, _, _ := numericDate(t.Claims, "auth_time") // checked by rules.validate
	return v.check(ctx, t.Subject, t.IssuedAt, authTime)
}

// check rejects a verified token of uid, issued at iat after an
// authentication at authTime, when the user's record says so.
func (v *revoker) check(ctx context.Context, uid string, iat, authTime time.Time) error {
	u, err := v.state(ctx, uid)
	if err != nil {
		return &authgate.Error{Provider: v.name, Kind: authgate.ErrUnavailable, Err: err}
	}
	switch {
	case u.missing:
		return &authgate.Error{Provider: v.name, Kind: authgate.ErrRevoked, Err: errUserDeleted}
	case u.disabled:
		return &authgate.Error{Provider: v.name, Kind: authgate.ErrRevoked, Err: errUserDisabled}
	case iat.UnixMilli() < u.validAfterMillis || authTime.UnixMilli() < u.validAfterMillis:
		return &authgate.Error{Provider: v.name, Kind: authgate.ErrRevoked, Err: errTokenRevoked}
	}
	return nil
}

// state returns uid's cached state or looks it up, one lookup per uid at a
// time. The lookup runs detached from ctx's cancellation with its own
// timeout, so a caller that gives up does not fail the others waiting.
func (v *revoker) state(ctx context.Context, uid string) (userState, error) {
	if u, ok := v.cache.get(uid, v.now()); ok {
		return u, nil
	}
	ch := v.flight.DoChan(uid, func() (any, error) {
		var start time.Time
		if v.obs != nil {
			start = time.Now()
		}
		detached := context.WithoutCancel(ctx)
		lctx, cancel := context.WithTimeout(detached, v.timeout)
		defer cancel()
		u, err := v.lookup(lctx, uid)
		if v.obs != nil {
			v.observe(detached, start, u, err)
		}
		if err != nil {
			return userState{}, err
		}
		v.cache.put(uid, u, v.now())
		return u, nil
	})
	select {
	case res := <-ch:
		if res.Err != nil {
			return userState{}, res.Err
		}
		return res.Val.(userState), nil
	case <-ctx.Done():
		return userState{}, fmt.Errorf("%w: %w", errLookupFailed, context.Cause(ctx))
	}
}

// observe reports a user lookup that began at start and ended with u and
// err; v.obs must be set.
func (v *revoker) observe(ctx context.Context, start time.Time, u userState, err error) {
	e := authgate.Event{Kind: authgate.EventStoreLookup, Provider: v.name, Outcome: authgate.OutcomeHit, Duration: time.Since(start)}
	switch {
	case err != nil:
		e.Outcome, e.Reason = authgate.OutcomeError, authgate.Reason(authgate.ErrUnavailable)
	case u.missing:
		e.Outcome = authgate.OutcomeMiss
	}
	v.obs.Observe(ctx, e)
}

func (v *revoker) lookup(ctx context.Context, uid string) (u userState, err error) {
	defer func() {
		if r := recover(); r != nil {
			u, err = userState{}, fmt.Errorf("%w: lookup panicked", errLookupFailed)
		}
	}()
	rec, err := v.users.LookupUser(ctx, uid)
	switch {
	case err != nil && errors.Is(err, ErrUserNotFound):
		return userState{missing: true}, nil
	case err != nil:
		// Only uids of verified tokens get here; lookup errors hold no
		// credentials.
		if v.logger != nil {
			v.logger.Warn("authgate: firebase user lookup failed", "provider", v.name, "err", err)
		}
		return userState{}, fmt.Errorf("%w: %w", errLookupFailed, err)
	case rec == nil:
		return userState{}, errNoRecord
	}
	u = userState{disabled: rec.Disabled}
	if !rec.TokensValidAfter.IsZero() {
		u.validAfterMillis = rec.TokensValidAfter.UnixMilli()
	}
	return u, nil
}

// lru is a bounded least-recently-used map with a time-to-live per entry,
// on an injected clock.
type lru struct {
	mu    sync.Mutex
	max   int
	ttl   time.Duration
	order *list.List // front: most recently used; values are *lruEntry
	items map[string]*list.Element
}

type lruEntry struct {
	key     string
	val     userState
	expires time.Time
}

func newLRU(max int, ttl time.Duration) *lru {
	return &lru{max: max, ttl: ttl, order: list.New(), items: make(map[string]*list.Element)}
}

func (c *lru) get(key string, now time.Time) (userState, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.items[key]
	if !ok {
		return userState{}, false
	}
	e := el.Value.(*lruEntry)
	if !now.Before(e.expires) {
		c.order.Remove(el)
		delete(c.items, key)
		return userState{}, false
	}
	c.order.MoveToFront(el)
	return e.val, true
}

func (c *lru) put(key string, val userState, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[key]; ok {
		e := el.Value.(*lruEntry)
		e.val, e.expires = val, now.Add(c.ttl)
		c.order.MoveToFront(el)
		return
	}
	c.items[key] = c.order.PushFront(&lruEntry{key: key, val: val, expires: now.Add(c.ttl)})
	for c.order.Len() > c.max {
		oldest := c.order.Back()
		c.order.Remove(oldest)
		delete(c.items, oldest.Value.(*lruEntry).key)
	}
}
