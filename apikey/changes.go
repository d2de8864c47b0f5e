package apikey

import (
	"context"
	"log/slog"
	"sync"

	"github.com/authgate/authgate"
)

// ChangeFeed is an optional interface of a Store that tells its users,
// soon after the fact, which keys changed in it — revoked, expired early,
// given other roles, deleted — whoever changed them: another replica, an
// administration tool, a person with psql. An Authenticator over such a
// store drops a changed key from its cache when it hears of the change
// instead of serving it until Config.CacheTTL ends, so a key revoked on one
// replica stops working on every replica within the feed's delay. No
// request ever waits on the feed or polls it.
//
// The cache lifetime does not depend on the feed: while the feed is down
// (or before it is first up) a cached key is still served for at most
// Config.CacheTTL after it was looked up, exactly as without a feed.
//
// Package apikey/sqlstore implements it on PostgreSQL with LISTEN/NOTIFY.
type ChangeFeed interface {
	// WatchChanges registers w to hear of changes and of the feed's state
	// until stop is called; once stop has returned, w is called no more.
	// The feed may start its background work (a connection) on the first
	// call. ok is false when this store has no feed after all (SQLite
	// behind the same type): then w is never called and stop is nil.
	WatchChanges(w ChangeWatcher) (stop func(), ok bool)
}

// ChangeWatcher hears from a ChangeFeed. Its methods are called one at a
// time from the feed's own goroutine (or from WatchChanges itself, for the
// state the feed is in when w registers), must return quickly, and must
// not call WatchChanges or stop.
type ChangeWatcher interface {
	// KeysChanged reports that the stored records of the keys with these
	// IDs changed. With no ID, any key may have changed (a table emptied,
	// a notice that could not be read).
	KeysChanged(ids ...string)
	// FeedState reports that the feed is up (err nil) or lost (err its
	// cause, which never holds a credential). Up means that every change
	// after this call will be reported; changes before it may have been
	// missed, so a watcher treats what it cached before as possibly stale.
	FeedState(up bool, err error)
}

// Log messages of the change feed; the "lost" line carries the cause.
const (
	msgFeedUp   = "apikey: change feed up: changed keys leave the cache at once"
	msgFeedLost = "apikey: change feed lost: cached keys are served for at most the cache TTL until it is back"
)

// feedWatch is an Authenticator's ChangeWatcher: it evicts changed keys
// from the cache and reports the feed's state. It registers with the feed
// on the first store lookup, not in New, which does no I/O.
type feedWatch struct {
	a    *Authenticator
	feed ChangeFeed

	once   sync.Once
	mu     sync.Mutex
	stop   func()
	closed bool
}

var _ ChangeWatcher = (*feedWatch)(nil)

func newFeedWatch(a *Authenticator, feed ChangeFeed) *feedWatch {
	return &feedWatch{a: a, feed: feed}
}

// start registers with the feed, once, unless closed.
func (w *feedWatch) start() {
	w.once.Do(func() {
		w.mu.Lock()
		defer w.mu.Unlock()
		if w.closed {
			return
		}
		if stop, ok := w.feed.WatchChanges(w); ok {
			w.stop = stop
		}
	})
}

// close unregisters from the feed; the watcher never registers after it.
func (w *feedWatch) close() {
	w.mu.Lock()
	w.closed = true
	stop := w.stop
	w.stop = nil
	w.mu.Unlock()
	if stop != nil {
		stop()
	}
}

// KeysChanged drops the keys from the cache; with no ID, every key.
func (w *feedWatch) KeysChanged(ids ...string) {
	if len(ids) == 0 {
		w.a.cache.purge()
		return
	}
	w.a.cache.evictIDs(ids)
}

// FeedState drops every cached key when the feed comes up (changes made
// while it was down were missed), and says so in the log and to the
// observer. Identical lines are rate-limited by the store logger.
func (w *feedWatch) FeedState(up bool, err error) {
	ctx := context.Background()
	a := w.a
	if up {
		a.cache.purge()
		a.storeLog.Log(ctx, slog.LevelInfo, msgFeedUp, nil, slog.String("provider", a.name))
		if a.observer != nil {
			a.observe(ctx, authgate.EventSubscription, authgate.OutcomeOK, "", 0, 0)
		}
		return
	}
	a.storeLog.Log(ctx, slog.LevelWarn, msgFeedLost, err, slog.String("provider", a.name))
	if a.observer != nil {
		a.observe(ctx, authgate.EventSubscription, authgate.OutcomeError, reasonUnavailable, 0, 0)
	}
}
