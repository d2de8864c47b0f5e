package remote

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"
)

// Backoff bounds after failed fetches: the first retry waits MinBackoff,
// each further failure doubles the wait up to MaxBackoff.
const (
	MinBackoff = time.Second
	MaxBackoff = time.Minute
)

// Background retry bounds while no usable value is held: the first retry
// comes 1–2 s after the failure, the next 2–3 s, then every 4–5 s (each
// delay jittered by up to MinRetry), so that a document comes back within
// MaxRetry of its server's return whatever the outage's length.
const (
	MinRetry = time.Second
	MaxRetry = 5 * time.Second
)

// retryIdle is how many background retries in a row may pass without a
// lookup before the retry stops (some 6 minutes): a Cache nobody asks is
// left alone, and the next lookup starts the retry again.
const retryIdle = 120

// Options configures a Cache of T.
type Options[T any] struct {
	// Now is the clock (default time.Now). It decides freshness, cooldowns
	// and backoff; the fetch timeout and the background retry's waits run
	// on real time.
	Now func() time.Time
	// Timeout bounds one fetch (default DefaultTimeout). The fetch runs
	// detached from the cancellation of the request that started it.
	Timeout time.Duration
	// MaxStale is how long the last good value is served after it was
	// fetched while refreshes fail; 0 means forever.
	MaxStale time.Duration
	// OnError, if set, is called (outside any lock, and before the
	// lookups waiting for the fetch are released) with every failed
	// fetch's error.
	OnError func(error)
	// After replaces time.After for the background retry's waits (tests).
	After func(time.Duration) <-chan time.Time
	// Observe, if set, is called after every fetch (outside any lock, and
	// before the lookups waiting for it are released) with the context the
	// fetch ran with, minus its cancellation and timeout, what it returned
	// and how long it took in real time. Without it no clock is read.
	Observe func(ctx context.Context, v T, err error, took time.Duration)
}

// Cache holds the last good value of one remote document and refreshes it:
// at most one fetch is in flight at any time (single-flight), a value whose
// freshness lifetime is over is still served while a background fetch
// replaces it, failed fetches are retried with exponential backoff, and the
// last good value is served until it is MaxStale old. While no usable value
// is held after a failure, or Refresh is refused because the last fetch
// failed, a background retry fetches every MinRetry to MaxRetry (jittered)
// until one succeeds, without waiting for lookups to come. It is safe for
// concurrent use and starts no goroutine except to run a fetch, which ends
// with the fetch, and that retry, which ends when a fetch succeeds or
// nobody has asked for the value in retryIdle retries.
type Cache[T any] struct {
	fetch    func(ctx context.Context) (T, time.Duration, error)
	now      func() time.Time
	after    func(time.Duration) <-chan time.Time
	timeout  time.Duration
	maxStale time.Duration
	onError  func(error)
	observe  func(context.Context, T, error, time.Duration)

	mu          sync.Mutex
	val         T
	have        bool
	fetchedAt   time.Time
	refreshAt   time.Time // zero: never
	lastRefresh time.Time // start of the last fetch Refresh started
	retryAt     time.Time
	failures    int
	lastErr     error
	call        *call[T]
	retryStop   chan struct{} // non-nil while the background retry runs
	asked       bool          // a lookup came since the retry's last attempt
}

type call[T any] struct {
	done chan struct{}
	val  T
	err  error
}

// ErrBackoff is wrapped by the error of Get and Refresh while failed
// fetches are backed off.
var ErrBackoff = errors.New("previous fetch failed; backing off")

// New returns a Cache filled by fetch, which returns the value and its
// freshness lifetime (0 or less: fresh forever). Nothing is fetched until
// the first Get, Refresh or Prefetch.
func New[T any](fetch func(ctx context.Context) (T, time.Duration, error), o Options[T]) *Cache[T] {
	c := &Cache[T]{fetch: fetch, now: o.Now, after: o.After, timeout: o.Timeout, maxStale: o.MaxStale, onError: o.OnError, observe: o.Observe}
	if c.now == nil {
		c.now = time.Now
	}
	if c.after == nil {
		c.after = time.After
	}
	if c.timeout <= 0 {
		c.timeout = DefaultTimeout
	}
	return c
}

// Cached returns the cached value while it is usable (younger than
// MaxStale), starting a background refresh when its freshness lifetime is
// over. It never waits: ok is false when no usable value is held.
func (c *Cache[T]) Cached(ctx context.Context) (v T, ok bool) {
	c.mu.Lock()
	v, ok = c.cachedLocked(ctx, c.now())
	c.mu.Unlock()
	return v, ok
}

// Usable reports whether a usable value (younger than MaxStale) is held,
// and the error of the last fetch when it failed (nil before any fetch
// and after a success). It does no I/O and starts nothing.
func (c *Cache[T]) Usable() (ok bool, lastErr error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.usableLocked(c.now()), c.lastErr
}

func (c *Cache[T]) cachedLocked(ctx context.Context, now time.Time) (T, bool) {
	if !c.usableLocked(now) {
		var zero T
		return zero, false
	}
	if !c.refreshAt.IsZero() && !now.Before(c.refreshAt) && c.call == nil && !now.Before(c.retryAt) {
		c.startLocked(ctx)
	}
	return c.val, true
}

func (c *Cache[T]) usableLocked(now time.Time) bool {
	return c.have && (c.maxStale <= 0 || now.Sub(c.fetchedAt) < c.maxStale)
}

// Get returns the cached value while it is usable, like Cached. With no
// usable value it waits for a fetch (joining the one in flight, or
// starting one) until the fetch ends or ctx is done — except while
// failures are backed off, when it returns an error wrapping ErrBackoff at
// once.
func (c *Cache[T]) Get(ctx context.Context) (T, error) {
	c.mu.Lock()
	now := c.now()
	if v, ok := c.cachedLocked(ctx, now); ok {
		c.mu.Unlock()
		return v, nil
	}
	c.asked = true
	cl := c.call
	if cl == nil {
		if now.Before(c.retryAt) {
			c.retryLocked()
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

// Refresh fetches the document now unless a fetch Refresh started began
// less than minInterval ago or failures are being backed off; scheduled
// refreshes and Prefetch do not count against minInterval. It joins a
// fetch in flight instead of starting another. ok is true when the fetch
// it waited for succeeded; err is that fetch's error, or the context's
// when ctx ended first. When it does not fetch it returns at once — a
// caller never waits on a cooldown — with ok false and: no error when the
// last fetch succeeded (the value held is current), an error wrapping
// ErrBackoff and the last failure when it failed, and then the background
// retry runs until a fetch succeeds.
func (c *Cache[T]) Refresh(ctx context.Context, minInterval time.Duration) (v T, ok bool, err error) {
	c.mu.Lock()
	c.asked = true
	cl := c.call
	if cl == nil {
		now := c.now()
		switch {
		case now.Before(c.retryAt):
			err = fmt.Errorf("%w (next attempt in %v): %w", ErrBackoff, c.retryAt.Sub(now).Round(time.Millisecond), c.lastErr)
		case !c.lastRefresh.IsZero() && now.Sub(c.lastRefresh) < minInterval:
			if c.failures > 0 {
				err = fmt.Errorf("%w (cooling down for %v): %w", ErrBackoff, (minInterval - now.Sub(c.lastRefresh)).Round(time.Millisecond), c.lastErr)
			}
		default:
			cl = c.startLocked(ctx)
			c.lastRefresh = now
		}
		if cl == nil {
			if err != nil {
				// Someone needs a fresh value and the last fetch failed:
				// retry in the background until one succeeds.
				c.retryLocked()
			}
			c.mu.Unlock()
			return v, false, err
		}
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
	c.asked = true
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
	go c.run(context.WithoutCancel(ctx), cl)
	return cl
}

func (c *Cache[T]) run(ctx context.Context, cl *call[T]) {
	var start time.Time
	if c.observe != nil {
		start = time.Now()
	}
	fctx, cancel := context.WithTimeout(ctx, c.timeout)
	v, ttl, err := c.safeFetch(fctx)
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
		c.stopRetryLocked()
	} else {
		c.failures++
		c.retryAt = now.Add(backoff(c.failures))
		c.lastErr = err
		cl.err = err
		if !c.usableLocked(now) {
			c.retryLocked()
		}
	}
	c.call = nil
	c.mu.Unlock()
	if c.observe != nil {
		c.observe(ctx, v, err, time.Since(start))
	}
	// Reported before the waiters are released, so that a caller who saw
	// the failure also sees it logged.
	if err != nil && c.onError != nil {
		c.onError(err)
	}
	close(cl.done)
}

// retryLocked starts the background retry unless it runs; c.mu must be
// held.
func (c *Cache[T]) retryLocked() {
	if c.retryStop != nil {
		return
	}
	stop := make(chan struct{})
	c.retryStop = stop
	c.asked = true
	go c.retry(stop)
}

// stopRetryLocked ends the background retry, if it runs; c.mu must be held.
func (c *Cache[T]) stopRetryLocked() {
	if c.retryStop != nil {
		close(c.retryStop)
		c.retryStop = nil
	}
}

// retry fetches after jittered delays until a fetch succeeds (stop is
// closed) or nobody asked for the value during retryIdle attempts. It
// never starts a fetch while another is in flight: it waits for that one.
func (c *Cache[T]) retry(stop chan struct{}) {
	idle := 0
	for attempt := 1; ; attempt++ {
		select {
		case <-stop:
			return
		case <-c.after(retryDelay(attempt)):
		}
		c.mu.Lock()
		if c.retryStop != stop {
			c.mu.Unlock()
			return
		}
		if c.asked {
			idle = 0
		} else {
			idle++
		}
		c.asked = false
		if (c.have && c.failures == 0) || idle >= retryIdle {
			c.stopRetryLocked()
			c.mu.Unlock()
			return
		}
		cl := c.call
		if cl == nil {
			cl = c.startLocked(context.Background())
		}
		c.mu.Unlock()
		<-cl.done // bounded by the fetch timeout
	}
}

// retryDelay is the wait before background retry attempt n (from 1):
// 1–2 s, 2–3 s, then 4–5 s.
func retryDelay(n int) time.Duration {
	d := MaxRetry - MinRetry
	if n < 3 {
		d = min(d, MinRetry<<(n-1))
	}
	return d + rand.N(MinRetry)
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
