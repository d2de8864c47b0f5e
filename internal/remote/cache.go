package remote

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Backoff bounds after failed fetches: the first retry waits MinBackoff,
// each further failure doubles the wait up to MaxBackoff.
const (
	MinBackoff = time.Second
	MaxBackoff = time.Minute
)

// Options configures a Cache.
type Options struct {
	// Now is the clock (default time.Now). It decides freshness, cooldowns
	// and backoff; the fetch timeout runs on real time.
	Now func() time.Time
	// Timeout bounds one fetch (default DefaultTimeout). The fetch runs
	// detached from the cancellation of the request that started it.
	Timeout time.Duration
	// MaxStale is how long the last good value is served after it was
	// fetched while refreshes fail; 0 means forever.
	MaxStale time.Duration
	// OnError, if set, is called (outside any lock) with every failed
	// fetch's error.
	OnError func(error)
}

// Cache holds the last good value of one remote document and refreshes it:
// at most one fetch is in flight at any time (single-flight), a value whose
// freshness lifetime is over is still served while a background fetch
// replaces it, failed fetches are retried with exponential backoff, and the
// last good value is served until it is MaxStale old. It is safe for
// concurrent use and starts no goroutine except to run a fetch, which ends
// with the fetch.
type Cache[T any] struct {
	fetch    func(ctx context.Context) (T, time.Duration, error)
	now      func() time.Time
	timeout  time.Duration
	maxStale time.Duration
	onError  func(error)

	mu        sync.Mutex
	val       T
	have      bool
	fetchedAt time.Time
	refreshAt time.Time // zero: never
	lastStart time.Time
	retryAt   time.Time
	failures  int
	lastErr   error
	call      *call[T]
}

type call[T any] struct {
	done chan struct{}
	val  T
	err  error
}

// ErrBackoff is wrapped by Get's error while failed fetches are backed off.
var ErrBackoff = errors.New("previous fetch failed; backing off")

// New returns a Cache filled by fetch, which returns the value and its
// freshness lifetime (0 or less: fresh forever). Nothing is fetched until
// the first Get, Refresh or Prefetch.
func New[T any](fetch func(ctx context.Context) (T, time.Duration, error), o Options) *Cache[T] {
	c := &Cache[T]{fetch: fetch, now: o.Now, timeout: o.Timeout, maxStale: o.MaxStale, onError: o.OnError}
	if c.now == nil {
		c.now = time.Now
	}
	if c.timeout <= 0 {
		c.timeout = DefaultTimeout
	}
	return c
}

// Get returns the cached value while it is usable (younger than MaxStale),
// starting a background refresh when its freshness lifetime is over; it
// does not wait for that refresh. With no usable value it waits for a
// fetch (joining the one in flight, or starting one) until the fetch ends
// or ctx is done — except while failures are backed off, when it returns
// an error wrapping ErrBackoff at once.
func (c *Cache[T]) Get(ctx context.Context) (T, error) {
	c.mu.Lock()
	now := c.now()
	if c.have && (c.maxStale <= 0 || now.Sub(c.fetchedAt) < c.maxStale) {
		v := c.val
		if !c.refreshAt.IsZero() && !now.Before(c.refreshAt) && c.call == nil && !now.Before(c.retryAt) {
			c.startLocked(ctx)
		}
		c.mu.Unlock()
		return v, nil
	}
	cl := c.call
	if cl == nil {
		if now.Before(c.retryAt) {
			err := fmt.Errorf("%w (next attempt in %v): %w", ErrBackoff, c.retryAt.Sub(now).Round(time.Millisecond), c.lastErr)
			if c.have {
				err = fmt.Errorf("last good value older than %v: %w", c.maxStale, err)
			}
			c.mu.Unlock()
			var zero T
			return zero, err
		}
		cl = c.startLocked(ctx)
	}
	c.mu.Unlock()
	return c.wait(ctx, cl)
}

// Refresh fetches the document now unless a fetch started less than
// minInterval ago or failures are being backed off, in which case it
// returns at once with ok false and no error: a caller never waits on a
// cooldown. It joins a fetch in flight instead of starting another. ok is
// true when the fetch it waited for succeeded; err is that fetch's error,
// or the context's when ctx ended first.
func (c *Cache[T]) Refresh(ctx context.Context, minInterval time.Duration) (v T, ok bool, err error) {
	c.mu.Lock()
	cl := c.call
	if cl == nil {
		now := c.now()
		if now.Before(c.retryAt) || (!c.lastStart.IsZero() && now.Sub(c.lastStart) < minInterval) {
			c.mu.Unlock()
			return v, false, nil
		}
		cl = c.startLocked(ctx)
	}
	c.mu.Unlock()
	if v, err = c.wait(ctx, cl); err != nil {
		return v, false, err
	}
	return v, true, nil
}

// Prefetch fetches the document now, ignoring backoff (it still joins a
// fetch in flight), and waits for the result until ctx is done.
func (c *Cache[T]) Prefetch(ctx context.Context) error {
	c.mu.Lock()
	cl := c.call
	if cl == nil {
		cl = c.startLocked(ctx)
	}
	c.mu.Unlock()
	_, err := c.wait(ctx, cl)
	return err
}

// Peek returns the last good value, if any, without fetching.
func (c *Cache[T]) Peek() (T, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.val, c.have
}

func (c *Cache[T]) wait(ctx context.Context, cl *call[T]) (T, error) {
	select {
	case <-cl.done:
		return cl.val, cl.err
	case <-ctx.Done():
		var zero T
		return zero, fmt.Errorf("waiting for the fetch: %w", context.Cause(ctx))
	}
}

// startLocked starts a fetch; c.mu must be held. The fetch keeps ctx's
// values but not its cancellation, and has its own timeout.
func (c *Cache[T]) startLocked(ctx context.Context) *call[T] {
	cl := &call[T]{done: make(chan struct{})}
	c.call = cl
	c.lastStart = c.now()
	go c.run(context.WithoutCancel(ctx), cl)
	return cl
}

func (c *Cache[T]) run(ctx context.Context, cl *call[T]) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	v, ttl, err := c.safeFetch(ctx)
	cancel()

	c.mu.Lock()
	now := c.now()
	if err == nil {
		c.val, c.have = v, true
		c.fetchedAt = now
		c.refreshAt = time.Time{}
		if ttl > 0 {
			c.refreshAt = now.Add(ttl)
		}
		c.failures, c.retryAt, c.lastErr = 0, time.Time{}, nil
		cl.val = v
	} else {
		c.failures++
		c.retryAt = now.Add(backoff(c.failures))
		c.lastErr = err
		cl.err = err
	}
	c.call = nil
	c.mu.Unlock()
	close(cl.done)
	if err != nil && c.onError != nil {
		c.onError(err)
	}
}

// safeFetch turns a panic in fetch into an error: a bug in a parser must
// not take the process down from a background goroutine.
func (c *Cache[T]) safeFetch(ctx context.Context) (v T, ttl time.Duration, err error) {
	defer func() {
		if r := recover(); r != nil {
			var zero T
			v, ttl, err = zero, 0, errors.New("fetch panicked")
		}
	}()
	return c.fetch(ctx)
}

func backoff(failures int) time.Duration {
	d := MinBackoff
	for i := 1; i < failures && d < MaxBackoff; i++ {
		d *= 2
	}
	return min(d, MaxBackoff)
}
