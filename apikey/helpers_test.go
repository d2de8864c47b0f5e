package apikey_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authgate/authgate/apikey"
)

// clock is an injectable clock safe for concurrent use.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// countingStore wraps a store, counts calls, and can fail on demand.
type countingStore struct {
	apikey.Store
	lookups, marks atomic.Int64
	marked         sync.Map // key ID → struct{}
	failLookup     atomic.Bool
	failMark       atomic.Bool
	slowLookup     atomic.Bool
	// wrongRecord makes Lookup return a record with another digest.
	wrongRecord atomic.Bool
}

var errStoreDown = errors.New("store down: connection refused")

func (s *countingStore) Lookup(ctx context.Context, d apikey.Digest) (apikey.Record, error) {
	s.lookups.Add(1)
	if s.slowLookup.Load() {
		<-ctx.Done()
		return apikey.Record{}, ctx.Err()
	}
	if s.failLookup.Load() {
		return apikey.Record{}, errStoreDown
	}
	r, err := s.Store.Lookup(ctx, d)
	if err == nil && s.wrongRecord.Load() {
		r.Digest[0] ^= 1
	}
	return r, err
}

func (s *countingStore) MarkUsed(ctx context.Context, used []apikey.Usage) error {
	s.marks.Add(1)
	if s.failMark.Load() {
		return errStoreDown
	}
	for _, u := range used {
		s.marked.Store(u.ID, struct{}{})
	}
	return s.Store.MarkUsed(ctx, used)
}

// fixture is an authenticator over a counting memory store with an
// injected clock.
type fixture struct {
	store *countingStore
	clock *clock
	auth  *apikey.Authenticator
}

func newFixture(t testing.TB, cfg apikey.Config) *fixture {
	t.Helper()
	f := &fixture{store: &countingStore{Store: apikey.NewMemoryStore()}, clock: newClock()}
	if cfg.Prefix == "" {
		cfg.Prefix = "sk_live"
	}
	if cfg.Now == nil {
		cfg.Now = f.clock.Now
	}
	a, err := apikey.New(f.store, cfg)
	if err != nil {
		t.Fatalf("New = %v", err)
	}
	t.Cleanup(func() { a.Close() })
	f.auth = a
	return f
}

func (f *fixture) issue(t testing.TB, k apikey.Key) (string, apikey.Key) {
	t.Helper()
	if k.Subject == "" {
		k.Subject = "alice"
	}
	p, key, err := f.auth.Manager().Issue(context.Background(), k)
	if err != nil {
		t.Fatalf("Issue = %v", err)
	}
	return p, key
}

func withKey(key string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "/orders", nil)
	r.Header.Set("X-API-Key", key)
	return r
}

func timeDuration(n int64) time.Duration { return time.Duration(n) }

// validUnknownKey returns a well-formed key with a valid checksum that no
// fixture store holds.
func validUnknownKey(t testing.TB, prefix string) string {
	t.Helper()
	m, err := apikey.NewManager(apikey.NewMemoryStore(), apikey.Config{Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	p, _, err := m.Issue(context.Background(), apikey.Key{Subject: "nobody"})
	if err != nil {
		t.Fatal(err)
	}
	return p
}
