package remote

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestMaxAge(t *testing.T) {
	const def, lo, hi = time.Hour, 5 * time.Minute, 24 * time.Hour
	tests := []struct {
		header []string
		want   time.Duration
	}{
		{nil, def},
		{[]string{"max-age=0"}, def},
		{[]string{"max-age=-5"}, def},
		{[]string{"max-age=1"}, lo},
		{[]string{"MAX-AGE=600"}, 10 * time.Minute},
		{[]string{`max-age="600"`}, 10 * time.Minute},
		{[]string{"public", "max-age=3600"}, time.Hour},
		{[]string{"max-age=600, no-store"}, def},
		{[]string{"max-age=999999999"}, hi},
		{[]string{"max-age=18446744073709551616"}, hi},
	}
	for _, tc := range tests {
		h := http.Header{"Cache-Control": tc.header}
		if got := MaxAge(h, def, lo, hi); got != tc.want {
			t.Errorf("MaxAge(%q) = %v, want %v", tc.header, got, tc.want)
		}
	}
}

func TestCheckURL(t *testing.T) {
	for raw, ok := range map[string]bool{
		"https://a.example/x": true, "http://127.0.0.1/x": true, "http://127.200.0.1:9/x": true,
		"http://[::1]/x": true, "http://LOCALHOST:8080": true,
		"http://a.example/x": false, "http://10.0.0.1/": false, "http://[::2]/": false, "ftp://a.example/": false,
		"https://user@a.example/": false, "https://a.example/#f": false, "https:///x": false, "//a.example/": false,
		"http://localhost.evil.example/": false,
	} {
		if _, err := CheckURL(raw); (err == nil) != ok {
			t.Errorf("CheckURL(%q) = %v, want ok %v", raw, err, ok)
		}
	}
}

func TestBackoff(t *testing.T) {
	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second, 32 * time.Second, time.Minute, time.Minute}
	for i, w := range want {
		if got := backoff(i + 1); got != w {
			t.Errorf("backoff(%d) = %v, want %v", i+1, got, w)
		}
	}
}

func TestCachePanicFailsClosed(t *testing.T) {
	c := New(func(context.Context) (int, time.Duration, error) { panic("parser bug") }, Options[int]{})
	if _, err := c.Get(context.Background()); err == nil {
		t.Fatal("Get after a panicking fetch = nil error")
	}
	if _, err := c.Get(context.Background()); !errors.Is(err, ErrBackoff) {
		t.Fatalf("second Get = %v, want ErrBackoff", err)
	}
}

// testClock is a fake clock whose After advances it: the background
// retry's waits pass at once, in simulated time.
type testClock struct {
	mu     sync.Mutex
	t      time.Time
	waits  []time.Duration
	paused chan struct{} // when non-nil, After blocks until it is closed
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func (c *testClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	c.waits = append(c.waits, d)
	paused := c.paused
	c.mu.Unlock()
	ch := make(chan time.Time, 1)
	go func() {
		if paused != nil {
			<-paused
		}
		c.Advance(d)
		ch <- c.Now()
	}()
	return ch
}

func (c *testClock) Waits() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.waits...)
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// fakeServer is a fetch function that fails while down, counting fetches
// and the most that ran at once.
type fakeServer struct {
	mu            sync.Mutex
	down          func(now time.Time) bool
	now           func() time.Time
	fetches       int
	running, most int
	hold          time.Duration
}

func (s *fakeServer) fetch(context.Context) (int, time.Duration, error) {
	s.mu.Lock()
	s.fetches++
	s.running++
	s.most = max(s.most, s.running)
	n, down := s.fetches, s.down(s.now())
	s.mu.Unlock()
	time.Sleep(s.hold)
	s.mu.Lock()
	s.running--
	s.mu.Unlock()
	if down {
		return 0, 0, errors.New("connection refused")
	}
	return n, time.Hour, nil
}

func (s *fakeServer) stats() (fetches, most int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fetches, s.most
}

func retrying[T any](c *Cache[T]) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.retryStop != nil
}

// TestCacheRecoveryAfterColdOutage simulates cold outages of every length
// up to 10 minutes: with nothing asking after the first failure, the value
// is back within MaxRetry of the server's return (the request-driven
// backoff alone took up to a minute).
func TestCacheRecoveryAfterColdOutage(t *testing.T) {
	for _, outage := range []time.Duration{time.Second, 10 * time.Second, 125 * time.Second, 10 * time.Minute} {
		t.Run(outage.String(), func(t *testing.T) {
			clk := &testClock{t: time.Unix(1_800_000_000, 0)}
			start := clk.Now()
			srv := &fakeServer{now: clk.Now, down: func(now time.Time) bool { return now.Sub(start) < outage }}
			c := New(srv.fetch, Options[int]{Now: clk.Now, After: clk.After, MaxStale: time.Hour})
			if _, err := c.Get(context.Background()); err == nil {
				t.Fatal("Get during the outage = nil error")
			}
			// Lookups keep coming, as traffic would; each fails at once
			// while the retry (in simulated time) fetches.
			waitFor(t, "recovery", func() bool { _, err := c.Get(context.Background()); return err == nil })
			waitFor(t, "the retry to stop", func() bool { return !retrying(c) })
			c.mu.Lock()
			back := c.fetchedAt.Sub(start) - outage
			c.mu.Unlock()
			if back < 0 || back > MaxRetry {
				t.Fatalf("value back %v after the server's return, want within %v", back, MaxRetry)
			}
			for i, d := range clk.Waits() {
				if d < MinRetry || d >= MaxRetry {
					t.Fatalf("retry wait %d = %v, want within [%v, %v)", i, d, MinRetry, MaxRetry)
				}
			}
			if _, most := srv.stats(); most != 1 {
				t.Fatalf("fetches at once = %d, want 1", most)
			}
		})
	}
}

// TestCacheRetryOneFetchAtATime: lookups, Prefetch and the retry together
// never run two fetches at once.
func TestCacheRetryOneFetchAtATime(t *testing.T) {
	clk := &testClock{t: time.Unix(1_800_000_000, 0)}
	start := clk.Now()
	srv := &fakeServer{now: clk.Now, hold: 2 * time.Millisecond, down: func(now time.Time) bool { return now.Sub(start) < time.Minute }}
	c := New(srv.fetch, Options[int]{Now: clk.Now, After: clk.After})
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 50 {
				c.Get(context.Background())
				c.Prefetch(context.Background())
				c.Refresh(context.Background(), time.Second)
			}
		})
	}
	wg.Wait()
	waitFor(t, "recovery", func() bool { _, ok := c.Cached(context.Background()); return ok })
	if _, most := srv.stats(); most != 1 {
		t.Fatalf("fetches at once = %d, want 1", most)
	}
}

// TestCacheRetryStops: the retry runs only while no usable value is held
// and someone asks; it does not start for a failed refresh of a usable
// value.
func TestCacheRetryStops(t *testing.T) {
	t.Run("usable value", func(t *testing.T) {
		clk := &testClock{t: time.Unix(1_800_000_000, 0)}
		down := false
		var mu sync.Mutex
		c := New(func(context.Context) (int, time.Duration, error) {
			mu.Lock()
			defer mu.Unlock()
			if down {
				return 0, 0, errors.New("down")
			}
			return 1, time.Hour, nil
		}, Options[int]{Now: clk.Now, After: clk.After, MaxStale: 24 * time.Hour})
		if err := c.Prefetch(context.Background()); err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		down = true
		mu.Unlock()
		if err := c.Prefetch(context.Background()); err == nil {
			t.Fatal("Prefetch while down = nil error")
		}
		if retrying(c) || len(clk.Waits()) != 0 {
			t.Fatal("retry started while a usable value is held")
		}
	})
	t.Run("nobody asks", func(t *testing.T) {
		clk := &testClock{t: time.Unix(1_800_000_000, 0)}
		c := New(func(context.Context) (int, time.Duration, error) { return 0, 0, errors.New("down") }, Options[int]{Now: clk.Now, After: clk.After})
		c.Get(context.Background())
		waitFor(t, "the idle retry to stop", func() bool { return !retrying(c) })
		if n := len(clk.Waits()); n != retryIdle+1 {
			t.Fatalf("retries without a lookup = %d, want %d", n, retryIdle+1)
		}
		c.Get(context.Background()) // backed off, but restarts the retry
		if !retrying(c) {
			t.Fatal("a lookup after the idle stop did not restart the retry")
		}
	})
}

// TestCacheRefreshCooldown: only Refresh's own fetches start its cooldown;
// while it cools down, ok is false with no error after a good fetch and an
// ErrBackoff error after a failed one.
func TestCacheRefreshCooldown(t *testing.T) {
	clk := &testClock{t: time.Unix(1_800_000_000, 0), paused: make(chan struct{})}
	defer close(clk.paused)
	fail := false
	var mu sync.Mutex
	fetches := 0
	c := New(func(context.Context) (int, time.Duration, error) {
		mu.Lock()
		defer mu.Unlock()
		fetches++
		if fail {
			return 0, 0, errors.New("down")
		}
		return fetches, time.Minute, nil
	}, Options[int]{Now: clk.Now, After: clk.After})
	ctx := context.Background()
	if err := c.Prefetch(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Get(ctx); err != nil {
		t.Fatal(err)
	}
	if v, ok, err := c.Refresh(ctx, time.Hour); !ok || err != nil || v != 2 {
		t.Fatalf("Refresh after Prefetch = %v, %v, %v, want 2, true, nil (Prefetch starts no cooldown)", v, ok, err)
	}
	if _, ok, err := c.Refresh(ctx, time.Hour); ok || err != nil {
		t.Fatalf("Refresh in the cooldown = %v, %v, want false, nil", ok, err)
	}
	clk.Advance(2 * time.Minute)
	c.Get(ctx) // scheduled refresh
	waitFor(t, "the scheduled refresh", func() bool { mu.Lock(); defer mu.Unlock(); return fetches == 3 })
	if _, ok, err := c.Refresh(ctx, time.Hour); ok || err != nil {
		t.Fatalf("Refresh after a scheduled refresh, in its own cooldown = %v, %v, want false, nil", ok, err)
	}
	mu.Lock()
	fail = true
	mu.Unlock()
	c.Prefetch(ctx)
	if _, ok, err := c.Refresh(ctx, time.Hour); ok || !errors.Is(err, ErrBackoff) {
		t.Fatalf("Refresh after a failed fetch = %v, %v, want false, ErrBackoff", ok, err)
	}
	clk.Advance(10 * time.Second) // past the backoff, still in the cooldown
	if _, ok, err := c.Refresh(ctx, time.Hour); ok || !errors.Is(err, ErrBackoff) {
		t.Fatalf("Refresh cooling down after a failed fetch = %v, %v, want false, ErrBackoff", ok, err)
	}
}

func TestFailureLog(t *testing.T) {
	var buf bytes.Buffer
	now := time.Unix(1_800_000_000, 0)
	l := NewFailureLog(slog.New(slog.NewTextHandler(&buf, nil)), "fetch", "p", func() time.Time { return now })
	steps := []struct {
		err     string
		advance time.Duration
		want    string // the line written, "" for none
	}{
		{"refused", 0, "level=WARN msg=\"fetch failed\" provider=p err=refused\n"},
		{"refused", time.Second, ""},
		{"refused", 8 * time.Second, ""},
		{"refused", time.Second, "level=WARN msg=\"fetch failed\" provider=p err=refused repeated=2\n"},
		{"refused", time.Second, ""},
		{"status 500", 0, "level=WARN msg=\"fetch failed\" provider=p err=\"status 500\" previous_repeated=1\n"},
		{"", 0, "level=INFO msg=\"fetch recovered\" provider=p\n"},
		{"", 0, ""},
		{"refused", 0, "level=WARN msg=\"fetch failed\" provider=p err=refused\n"},
	}
	for i, s := range steps {
		now = now.Add(s.advance)
		buf.Reset()
		if s.err == "" {
			l.Recovered()
		} else {
			l.Log(errors.New(s.err))
		}
		got := buf.String()
		if j := strings.Index(got, "level="); j > 0 {
			got = got[j:]
		}
		if got != s.want {
			t.Errorf("step %d: logged %q, want %q", i, got, s.want)
		}
	}
	var nilLog *FailureLog
	nilLog.Log(errors.New("x")) // no panic
	nilLog.Recovered()
}

func TestTruncate(t *testing.T) {
	for _, tc := range []struct {
		in   string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"exactly10!", 10, "exactly10!"},
		{"0123456789abc", 10, "0123456…"},
		{"ééééé", 7, "éé…"},
	} {
		if got := Truncate(tc.in, tc.n); got != tc.want || len(got) > tc.n {
			t.Errorf("Truncate(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
		}
	}
}
