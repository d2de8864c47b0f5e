package sqlstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/authgate/authgate/apikey"
	"github.com/jackc/pgx/v5"
)

// notifyChannel is the channel the trigger of schema version 2 notifies
// on, with a JSON payload {"schema": …, "id": …} ("id" absent: every key).
const notifyChannel = "authgate_api_keys"

// Timing of the change feed. An idle listening connection is checked with
// a ping every feedHeartbeat, so that a server that hangs (or a network
// that drops the connection silently) is noticed within feedHeartbeat +
// feedPingTimeout; a lost connection is replaced at the retry intervals of
// a Lazy store (minRetry doubling to maxRetry, jittered).
const (
	feedHeartbeat   = 3 * time.Second
	feedPingTimeout = 2 * time.Second
)

var _ apikey.ChangeFeed = (*Store)(nil)

// WatchChanges implements apikey.ChangeFeed on PostgreSQL: the first call
// opens the store's listening connection — one per Store, outside the
// pool, to Config.ListenDSN (default DSN) — which LISTENs for the
// notifications the schema's triggers send whenever any client changes,
// revokes or deletes a key (a change of last_used_at alone notifies
// nobody). w hears of every changed key ID, and of the feed's state: up
// once the connection listens, lost with the cause when it fails, is cut
// or its server stops answering a ping within a few seconds. The
// connection is then replaced at jittered intervals growing to two seconds
// until Close. On SQLite, which one host uses, there is no feed: ok is
// false.
func (s *Store) WatchChanges(w apikey.ChangeWatcher) (stop func(), ok bool) {
	if s.feed == nil {
		return nil, false
	}
	return s.feed.watch(w), true
}

// feed is a Store's change feed: one listening connection, its state, and
// the watchers it reports to.
type feed struct {
	dsn            string
	connectTimeout time.Duration

	// mu serialises every call of a watcher, so that each hears the
	// feed's states in order and none is called after its stop returned.
	mu       sync.Mutex
	watchers map[int]apikey.ChangeWatcher
	next     int
	state    feedState
	cause    error // of the last loss
	started  bool
	closed   bool

	pid    atomic.Uint32 // backend of the current listening connection; 0 when none
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}
}

type feedState uint8

const (
	feedUnknown feedState = iota // not connected yet
	feedUp
	feedDown
)

func newFeed(dsn string, connectTimeout time.Duration) *feed {
	ctx, cancel := context.WithCancel(context.Background())
	return &feed{
		dsn: dsn, connectTimeout: connectTimeout,
		watchers: make(map[int]apikey.ChangeWatcher),
		ctx:      ctx, cancel: cancel, done: make(chan struct{}),
	}
}

// watch registers w, starts the listener on first use, and tells w the
// state the feed is in when it is known.
func (f *feed) watch(w apikey.ChangeWatcher) (stop func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	id := f.next
	f.next++
	f.watchers[id] = w
	if !f.started && !f.closed {
		f.started = true
		go f.run()
	}
	switch f.state {
	case feedUp:
		w.FeedState(true, nil)
	case feedDown:
		w.FeedState(false, f.cause)
	}
	return func() {
		f.mu.Lock()
		delete(f.watchers, id)
		f.mu.Unlock()
	}
}

// close stops the listener and waits for it.
func (f *feed) close() {
	f.mu.Lock()
	f.closed = true
	started := f.started
	f.mu.Unlock()
	f.cancel()
	if started {
		<-f.done
	}
}

func (f *feed) run() {
	defer close(f.done)
	backoff := minRetry
	for {
		err := f.session()
		f.pid.Store(0)
		if f.ctx.Err() != nil {
			return
		}
		if errors.Is(err, errListening) {
			// It listened, so the server was there: try again soon.
			backoff = minRetry
		}
		f.setState(feedDown, err)
		wait := backoff + rand.N(backoff/4+1)
		backoff = min(2*backoff, maxRetry)
		t := time.NewTimer(wait)
		select {
		case <-f.ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// errListening marks the error of a session that got as far as
// listening.
var errListening = errors.New("sqlstore: change feed lost")

// session connects, listens and delivers notifications until the
// connection fails or the store closes. It always returns an error.
func (f *feed) session() error {
	cfg, err := pgx.ParseConfig(f.dsn)
	if err != nil {
		return fmt.Errorf("sqlstore: change feed: %w", err)
	}
	ctx, cancel := context.WithTimeout(f.ctx, f.connectTimeout)
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		cancel()
		return fmt.Errorf("sqlstore: change feed: connect: %w", err)
	}
	defer func() {
		cctx, ccancel := context.WithTimeout(context.Background(), time.Second)
		conn.Close(cctx)
		ccancel()
	}()
	var schema *string
	err = conn.QueryRow(ctx, `SELECT current_schema()`).Scan(&schema)
	if err == nil {
		_, err = conn.Exec(ctx, `LISTEN `+notifyChannel)
	}
	cancel()
	if err != nil {
		return fmt.Errorf("sqlstore: change feed: listen: %w", err)
	}
	f.pid.Store(conn.PgConn().PID())
	// Only now, listening, is the feed up: whatever changed before this
	// point the watchers drop from their caches.
	f.setState(feedUp, nil)
	for {
		wctx, wcancel := context.WithTimeout(f.ctx, feedHeartbeat)
		n, err := conn.WaitForNotification(wctx)
		idle := errors.Is(wctx.Err(), context.DeadlineExceeded)
		wcancel()
		switch {
		case f.ctx.Err() != nil:
			return f.ctx.Err()
		case err == nil:
			f.deliver(n.Payload, schema)
			continue
		case !idle || conn.IsClosed():
			return fmt.Errorf("%w: %w", errListening, err)
		}
		pctx, pcancel := context.WithTimeout(f.ctx, feedPingTimeout)
		err = conn.Ping(pctx)
		pcancel()
		if err != nil && f.ctx.Err() == nil {
			return fmt.Errorf("%w: server did not answer a ping within %v: %w", errListening, feedPingTimeout, err)
		}
	}
}

// notice is a notification's payload.
type notice struct {
	Schema string  `json:"schema"`
	ID     *string `json:"id"`
}

// deliver reports one notification to every watcher: the changed key of
// this store's schema, or every key when it names none or cannot be read.
// Notices of tables in other schemas of the database are ignored.
func (f *feed) deliver(payload string, schema *string) {
	var n notice
	all := json.Unmarshal([]byte(payload), &n) != nil
	if !all && schema != nil && n.Schema != *schema {
		return
	}
	all = all || n.ID == nil
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, w := range f.watchers {
		if all {
			w.KeysChanged()
		} else {
			w.KeysChanged(*n.ID)
		}
	}
}

// setState records a change of state and reports it to every watcher;
// repeated losses are reported once.
func (f *feed) setState(st feedState, cause error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if st == feedDown {
		f.cause = cause
		if f.state == feedDown {
			return
		}
	}
	f.state = st
	for _, w := range f.watchers {
		w.FeedState(st == feedUp, cause)
	}
}
