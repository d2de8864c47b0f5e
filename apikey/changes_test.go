package apikey_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/apikey"
)

// feedStore is a memory store that is a ChangeFeed driven by the test:
// changed and state call every registered watcher, as a database's
// notifications would.
type feedStore struct {
	*apikey.MemoryStore
	lookups atomic.Int64
	// hold, when set, makes Lookup wait for it to be closed after reading
	// the record, so a test can change the key in between.
	hold atomic.Pointer[chan struct{}]

	mu       sync.Mutex
	watchers map[int]apikey.ChangeWatcher
	next     int
	watches  int // WatchChanges calls
	noFeed   bool
}

func newFeedStore() *feedStore {
	return &feedStore{MemoryStore: apikey.NewMemoryStore(), watchers: map[int]apikey.ChangeWatcher{}}
}

func (s *feedStore) Lookup(ctx context.Context, d apikey.Digest) (apikey.Record, error) {
	s.lookups.Add(1)
	r, err := s.MemoryStore.Lookup(ctx, d)
	if h := s.hold.Load(); h != nil {
		<-*h
	}
	return r, err
}

func (s *feedStore) WatchChanges(w apikey.ChangeWatcher) (func(), bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.watches++
	if s.noFeed {
		return nil, false
	}
	id := s.next
	s.next++
	s.watchers[id] = w
	return func() {
		s.mu.Lock()
		delete(s.watchers, id)
		s.mu.Unlock()
	}, true
}

func (s *feedStore) each(f func(apikey.ChangeWatcher)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, w := range s.watchers {
		f(w)
	}
}

func (s *feedStore) changed(ids ...string) {
	s.each(func(w apikey.ChangeWatcher) { w.KeysChanged(ids...) })
}

func (s *feedStore) state(up bool, err error) {
	s.each(func(w apikey.ChangeWatcher) { w.FeedState(up, err) })
}

func (s *feedStore) counts() (watches, watchers int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.watches, len(s.watchers)
}

// replica is an authenticator over a shared feedStore, with its own clock,
// log and observer.
type replica struct {
	auth  *apikey.Authenticator
	clock *clock
	logs  *syncBuffer
	obs   *recorder
}

func newReplica(t *testing.T, s apikey.Store, cfg apikey.Config) *replica {
	t.Helper()
	r := &replica{clock: newClock(), logs: &syncBuffer{}, obs: &recorder{}}
	cfg.Prefix = "sk_live"
	cfg.Name = "keys"
	cfg.Now = r.clock.Now
	cfg.Logger = slog.New(slog.NewJSONHandler(r.logs, nil))
	cfg.Observer = r.obs
	cfg.LastUsedInterval = -1
	a, err := apikey.New(s, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	r.auth = a
	return r
}

func (r *replica) status(key string) int {
	_, err := r.auth.Authenticate(withKey(key))
	return authgate.StatusCode(err)
}

func (r *replica) subscriptions() []authgate.Event {
	var out []authgate.Event
	for _, e := range r.obs.Events() {
		if e.Kind == authgate.EventSubscription {
			out = append(out, e)
		}
	}
	return out
}

// TestChangeFeedEvicts: a key revoked in the store behind a replica's back
// is served from its cache until the feed reports the change, and refused
// right after; the other keys stay cached. Without a feed it would be
// served for the whole CacheTTL.
func TestChangeFeedEvicts(t *testing.T) {
	ctx := context.Background()
	s := newFeedStore()
	issuer, other := newReplica(t, s, apikey.Config{}), newReplica(t, s, apikey.Config{})
	key, k := issue(t, issuer.auth, apikey.Key{Subject: "alice"})
	keep, _ := issue(t, issuer.auth, apikey.Key{Subject: "bob"})
	for _, p := range []string{key, keep} {
		if got := other.status(p); got != 200 {
			t.Fatalf("Authenticate(valid key) = %d, want 200", got)
		}
	}
	if err := s.Revoke(ctx, k.ID); err != nil {
		t.Fatal(err)
	}
	if got := other.status(key); got != 200 {
		t.Fatalf("Authenticate(revoked, not yet reported) = %d, want 200 from the cache", got)
	}
	before := s.lookups.Load()
	s.changed("key_unrelated", k.ID)
	if got := other.status(key); got != 401 {
		t.Fatalf("Authenticate(revoked and reported) = %d, want 401", got)
	}
	if got := other.status(keep); got != 200 {
		t.Fatalf("Authenticate(other key) = %d, want 200", got)
	}
	if n := s.lookups.Load() - before; n != 1 {
		t.Errorf("store lookups after the change = %d, want 1 (the changed key; the other one cached)", n)
	}
}

// TestChangeFeedAllChanged: a change with no ID empties the cache.
func TestChangeFeedAllChanged(t *testing.T) {
	s := newFeedStore()
	r := newReplica(t, s, apikey.Config{})
	var keys []string
	for range 3 {
		p, _ := issue(t, r.auth, apikey.Key{Subject: "alice"})
		keys = append(keys, p)
		r.status(p)
	}
	before := s.lookups.Load()
	for _, p := range keys {
		r.status(p)
	}
	if n := s.lookups.Load() - before; n != 0 {
		t.Fatalf("cached keys cost %d lookups, want 0", n)
	}
	s.changed()
	for _, p := range keys {
		if got := r.status(p); got != 200 {
			t.Fatalf("Authenticate = %d, want 200", got)
		}
	}
	if n := s.lookups.Load() - before; n != 3 {
		t.Errorf("lookups after a change of every key = %d, want 3", n)
	}
}

// TestChangeFeedDown: while the feed is down a cached key is served for
// CacheTTL after its lookup and not a nanosecond longer — exactly as
// without a feed; the loss and the return are logged (the loss with its
// cause, rate-limited) and observed; on its return the cache is emptied,
// since changes made meanwhile were missed.
func TestChangeFeedDown(t *testing.T) {
	ctx := context.Background()
	s := newFeedStore()
	const ttl = 5 * time.Second
	r := newReplica(t, s, apikey.Config{CacheTTL: ttl})
	key, k := issue(t, r.auth, apikey.Key{Subject: "alice"})
	r.status(validUnknownKey(t, "sk_live")) // a lookup: registers with the feed
	s.state(true, nil)
	r.status(key) // cached at t0
	lost := errors.New("change feed: connection reset by peer")
	for range 100 {
		s.state(false, lost)
	}
	if err := s.Revoke(ctx, k.ID); err != nil { // missed: the feed is down
		t.Fatal(err)
	}
	r.clock.Add(ttl - time.Nanosecond)
	if got := r.status(key); got != 200 {
		t.Fatalf("Authenticate(feed down, cached %v ago) = %d, want 200", ttl-time.Nanosecond, got)
	}
	r.clock.Add(time.Nanosecond)
	if got := r.status(key); got != 401 {
		t.Fatalf("Authenticate(feed down, cached CacheTTL ago, revoked) = %d, want 401", got)
	}

	// Back: everything cached before is dropped.
	keep, _ := issue(t, r.auth, apikey.Key{Subject: "bob"})
	r.status(keep)
	before := s.lookups.Load()
	s.state(true, nil)
	r.status(keep)
	if n := s.lookups.Load() - before; n != 1 {
		t.Errorf("lookups of a key cached before the feed came back = %d, want 1", n)
	}

	logs := r.logs.String()
	if n := strings.Count(logs, "change feed lost"); n != 1 {
		t.Errorf("100 losses in one instant logged %d lines, want 1:\n%s", n, logs)
	}
	for _, want := range []string{`"level":"WARN"`, "connection reset by peer", `"provider":"keys"`, `"level":"INFO","msg":"apikey: change feed up`} {
		if !strings.Contains(logs, want) {
			t.Errorf("logs lack %s:\n%s", want, logs)
		}
	}
	ev := r.subscriptions()
	if len(ev) != 102 {
		t.Fatalf("subscription events = %d, want 102 (up, 100 lost, up)", len(ev))
	}
	up := authgate.Event{Kind: authgate.EventSubscription, Provider: "keys", Outcome: authgate.OutcomeOK}
	down := authgate.Event{Kind: authgate.EventSubscription, Provider: "keys", Outcome: authgate.OutcomeError, Reason: "unavailable"}
	if ev[0] != up || ev[1] != down || ev[101] != up {
		t.Errorf("subscription events %v … %v, want up, lost …, up", ev[:2], ev[101])
	}
}

// TestChangeFeedRace: a lookup that read a key's record before a change
// was reported does not put the stale record back in the cache.
func TestChangeFeedRace(t *testing.T) {
	ctx := context.Background()
	s := newFeedStore()
	r := newReplica(t, s, apikey.Config{})
	key, k := issue(t, r.auth, apikey.Key{Subject: "alice"})
	hold := make(chan struct{})
	s.hold.Store(&hold)
	done := make(chan int)
	go func() { done <- r.status(key) }()
	for s.lookups.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	if err := s.Revoke(ctx, k.ID); err != nil {
		t.Fatal(err)
	}
	s.changed(k.ID)
	s.hold.Store(nil)
	close(hold)
	if got := <-done; got != 200 {
		t.Fatalf("Authenticate(read before the revocation) = %d, want 200", got)
	}
	if got := r.status(key); got != 401 {
		t.Fatalf("Authenticate(after the reported revocation) = %d, want 401: a stale record was cached", got)
	}
}

// TestChangeFeedWatch: New does not register with the feed; the first
// store lookup does, once; Close unregisters, and a closed authenticator
// never registers. A disabled cache, or a store whose feed says it has
// none, needs no watch and works as before.
func TestChangeFeedWatch(t *testing.T) {
	t.Run("lifecycle", func(t *testing.T) {
		s := newFeedStore()
		r := newReplica(t, s, apikey.Config{})
		if w, _ := s.counts(); w != 0 {
			t.Fatalf("WatchChanges calls after New = %d, want 0", w)
		}
		key, _ := issue(t, r.auth, apikey.Key{Subject: "alice"})
		for range 3 {
			r.status(key)
			r.status(validUnknownKey(t, "sk_live"))
		}
		if w, n := s.counts(); w != 1 || n != 1 {
			t.Fatalf("after lookups: %d calls, %d watchers; want 1, 1", w, n)
		}
		r.auth.Close()
		if _, n := s.counts(); n != 0 {
			t.Fatalf("watchers after Close = %d, want 0", n)
		}
	})
	t.Run("closed before use", func(t *testing.T) {
		s := newFeedStore()
		r := newReplica(t, s, apikey.Config{})
		key, _ := issue(t, r.auth, apikey.Key{Subject: "alice"})
		r.auth.Close()
		if got := r.status(key); got != 200 {
			t.Fatalf("Authenticate after Close = %d, want 200", got)
		}
		if w, _ := s.counts(); w != 0 {
			t.Fatalf("WatchChanges calls after Close = %d, want 0", w)
		}
	})
	for _, tt := range []struct {
		name string
		cfg  apikey.Config
		feed bool
	}{
		{"cache disabled", apikey.Config{CacheTTL: -1}, true},
		{"no feed", apikey.Config{}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := newFeedStore()
			s.noFeed = !tt.feed
			r := newReplica(t, s, tt.cfg)
			key, k := issue(t, r.auth, apikey.Key{Subject: "alice"})
			if got := r.status(key); got != 200 {
				t.Fatalf("Authenticate = %d, want 200", got)
			}
			if err := r.auth.Manager().Revoke(context.Background(), k.ID); err != nil {
				t.Fatal(err)
			}
			if got := r.status(key); got != 401 {
				t.Fatalf("Authenticate(revoked through the Manager) = %d, want 401", got)
			}
			w, _ := s.counts()
			if want := map[bool]int{true: 0, false: 1}[tt.feed]; w != want {
				t.Errorf("WatchChanges calls = %d, want %d", w, want)
			}
		})
	}
}

// TestChangeFeedConcurrent: changes reported while requests run (under
// -race) never break a request and never leave a reported key cached.
func TestChangeFeedConcurrent(t *testing.T) {
	ctx := context.Background()
	s := newFeedStore()
	r := newReplica(t, s, apikey.Config{})
	var keys []string
	var ids []string
	for range 8 {
		p, k := issue(t, r.auth, apikey.Key{Subject: "alice"})
		keys = append(keys, p)
		ids = append(ids, k.ID)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var bad atomic.Int64
	for i := range 4 {
		wg.Go(func() {
			for j := 0; ; j++ {
				select {
				case <-stop:
					return
				default:
				}
				if got := r.status(keys[(i+j)%len(keys)]); got != 200 && got != 401 {
					bad.Add(1)
				}
			}
		})
	}
	for i := range 200 {
		s.changed(ids[i%len(ids)])
		if i%50 == 0 {
			s.state(true, nil)
		}
	}
	if err := s.Revoke(ctx, ids[0]); err != nil {
		t.Fatal(err)
	}
	s.changed(ids[0])
	close(stop)
	wg.Wait()
	if n := bad.Load(); n > 0 {
		t.Errorf("%d requests neither 200 nor 401", n)
	}
	if got := r.status(keys[0]); got != 401 {
		t.Errorf("Authenticate(revoked and reported) = %d, want 401", got)
	}
}

func issue(t *testing.T, a *apikey.Authenticator, k apikey.Key) (string, apikey.Key) {
	t.Helper()
	p, key, err := a.Manager().Issue(context.Background(), k)
	if err != nil {
		t.Fatal(err)
	}
	return p, key
}
