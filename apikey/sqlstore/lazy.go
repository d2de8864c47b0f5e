package sqlstore

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/authgate/authgate/apikey/internal/logthrottle"
)

// ErrNotReady is wrapped by every operation of a store opened with
// Config.Lazy until it has reached its database and migrated the schema.
// The error wraps the cause of the last attempt too.
var ErrNotReady = errors.New("sqlstore: database not ready")

// Retry intervals of a Lazy store that has not connected yet: the first
// retry after minRetry, doubling to maxRetry, each jittered by up to a
// quarter; a use of the store brings the next attempt forward, but never
// to less than kickRetry after the previous one ended.
const (
	minRetry  = 100 * time.Millisecond
	maxRetry  = 2 * time.Second
	kickRetry = 250 * time.Millisecond
)

// connector connects a Lazy store in the background: it retries until
// the database answers and the schema is migrated, then stops.
type connector struct {
	s       *Store
	timeout time.Duration
	log     *logthrottle.Logger
	info    *slog.Logger

	connected atomic.Bool
	last      atomic.Pointer[notReadyError] // cause of the last failed attempt

	kick   chan struct{} // a use of the store: try again soon
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}
	once   sync.Once
}

func newConnector(s *Store, cfg Config, first error) *connector {
	ctx, cancel := context.WithCancel(context.Background())
	c := &connector{
		s: s, timeout: cfg.ConnectTimeout,
		log:  logthrottle.New(cfg.Logger, logthrottle.DefaultWindow, nil),
		info: cfg.Logger,
		kick: make(chan struct{}, 1),
		ctx:  ctx, cancel: cancel,
		done: make(chan struct{}),
	}
	c.failed(first)
	go c.run()
	return c
}

// ready returns nil once connected, or the last attempt's error, asking
// for an early attempt.
func (c *connector) ready() error {
	if c.connected.Load() {
		return nil
	}
	select {
	case c.kick <- struct{}{}:
	default:
	}
	if err := c.last.Load(); err != nil && !c.connected.Load() {
		return err
	}
	return nil
}

func (c *connector) run() {
	defer close(c.done)
	backoff := minRetry
	for {
		wait := backoff + rand.N(backoff/4+1)
		backoff = min(2*backoff, maxRetry)
		start := time.Now()
		t := time.NewTimer(wait)
		select {
		case <-c.ctx.Done():
			t.Stop()
			return
		case <-t.C:
		case <-c.kick:
			t.Stop()
			// Brought forward by a use, but not to less than kickRetry.
			if d := kickRetry - time.Since(start); d > 0 {
				select {
				case <-c.ctx.Done():
					return
				case <-time.After(d):
				}
			}
		}
		err := c.s.connect(c.ctx, c.timeout)
		if c.ctx.Err() != nil {
			return
		}
		if err == nil {
			c.connected.Store(true)
			c.info.LogAttrs(c.ctx, slog.LevelInfo, "sqlstore: connected to the database, schema ready",
				slog.String("dialect", c.s.d.name))
			return
		}
		c.failed(err)
	}
}

// failed records err as the cause of not being ready and logs it.
func (c *connector) failed(err error) {
	c.last.Store(&notReadyError{cause: err})
	level := slog.LevelWarn
	if errors.Is(err, ErrSchemaTooNew) {
		level = slog.LevelError
	}
	c.log.Log(c.ctx, level, "sqlstore: cannot reach the database; retrying", err, slog.String("dialect", c.s.d.name))
}

// close stops the attempts and waits for the one in flight.
func (c *connector) close() {
	c.once.Do(func() {
		c.cancel()
		<-c.done
	})
}

// notReadyError is ErrNotReady with the cause of the last attempt.
type notReadyError struct{ cause error }

func (e *notReadyError) Error() string {
	return ErrNotReady.Error() + ": " + strings.TrimPrefix(e.cause.Error(), "sqlstore: ")
}

func (e *notReadyError) Unwrap() []error { return []error{ErrNotReady, e.cause} }
