package apikey

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/authgate/authgate/apikey/internal/logthrottle"
)

// maxPending bounds the keys waiting for a last-use write.
const maxPending = 100_000

// flushTimeout bounds one background or final last-use write.
const flushTimeout = 5 * time.Second

// usageRecorder coalesces last-use times and writes them in batches: at
// most one write per key per interval, by a goroutine started on first use.
type usageRecorder struct {
	store    Store
	interval time.Duration
	now      func() time.Time
	logger   *logthrottle.Logger

	mu      sync.Mutex
	pending map[string]time.Time // key ID → latest use not yet written
	written map[string]time.Time // key ID → when it was last written
	closed  bool

	start     sync.Once
	stop      chan struct{}
	done      chan struct{}
	started   bool
	closeOnce sync.Once
	closeErr  error
}

func newUsageRecorder(store Store, interval time.Duration, now func() time.Time, logger *logthrottle.Logger) *usageRecorder {
	return &usageRecorder{
		store: store, interval: interval, now: now, logger: logger,
		pending: make(map[string]time.Time),
		written: make(map[string]time.Time),
		stop:    make(chan struct{}),
		done:    make(chan struct{}),
	}
}

// mark records a use of key id at at. It never blocks on the store.
func (u *usageRecorder) mark(id string, at time.Time) {
	u.mu.Lock()
	if u.closed {
		u.mu.Unlock()
		return
	}
	if prev, ok := u.pending[id]; ok {
		if at.After(prev) {
			u.pending[id] = at
		}
	} else if len(u.pending) < maxPending {
		u.pending[id] = at
	}
	u.mu.Unlock()
	u.start.Do(u.launch)
}

func (u *usageRecorder) launch() {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.closed {
		return
	}
	u.started = true
	go u.loop()
}

func (u *usageRecorder) loop() {
	defer close(u.done)
	t := time.NewTicker(u.interval / 2)
	defer t.Stop()
	for {
		select {
		case <-u.stop:
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(context.Background(), flushTimeout)
			_ = u.flush(ctx, false)
			cancel()
		}
	}
}

// flush writes the pending uses that are due (all of them when final) in
// one batch. A failed batch is queued again and logged; it never reaches a
// request.
func (u *usageRecorder) flush(ctx context.Context, final bool) error {
	u.mu.Lock()
	now := u.now()
	var batch []Usage
	for id, at := range u.pending {
		if w, ok := u.written[id]; ok && !final && now.Sub(w) < u.interval {
			continue
		}
		batch = append(batch, Usage{ID: id, At: at})
		delete(u.pending, id)
		u.written[id] = now
	}
	for id, w := range u.written {
		if now.Sub(w) >= u.interval {
			delete(u.written, id)
		}
	}
	u.mu.Unlock()
	if len(batch) == 0 {
		return nil
	}
	err := u.store.MarkUsed(ctx, batch)
	if err == nil {
		return nil
	}
	u.logger.Log(ctx, slog.LevelWarn, "apikey: recording last use failed", err, slog.Int("keys", len(batch)))
	u.mu.Lock()
	for _, b := range batch {
		if _, ok := u.pending[b.ID]; !ok && len(u.pending) < maxPending {
			u.pending[b.ID] = b.At
		}
	}
	u.mu.Unlock()
	return err
}

// close stops the background writer and writes everything pending.
func (u *usageRecorder) close() error {
	u.closeOnce.Do(func() {
		u.mu.Lock()
		u.closed = true
		started := u.started
		u.mu.Unlock()
		if started {
			close(u.stop)
			<-u.done
		}
		ctx, cancel := context.WithTimeout(context.Background(), flushTimeout)
		defer cancel()
		u.closeErr = u.flush(ctx, true)
	})
	return u.closeErr
}
