package sqlstore_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/apikey"
	"github.com/authgate/authgate/apikey/sqlstore"
)

// propagationBound is the longest a change may take to reach every
// replica's cache while the feed is up.
const propagationBound = time.Second

// feedEvents is an observer that follows the change feed's state and
// counts cache hits.
type feedEvents struct {
	mu        sync.Mutex
	up        bool
	ups       int
	downs     int
	cacheHits int
	upAt      time.Time     // of the last time the feed came up
	changed   chan struct{} // closed and replaced at every state change
}

func newFeedEvents() *feedEvents { return &feedEvents{changed: make(chan struct{})} }

func (f *feedEvents) Observe(_ context.Context, e authgate.Event) {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case e.Kind == authgate.EventCacheLookup && e.Outcome == authgate.OutcomeHit:
		f.cacheHits++
	case e.Kind == authgate.EventSubscription:
		if e.Outcome == authgate.OutcomeOK {
			f.up = true
			f.ups++
			f.upAt = time.Now()
		} else {
			f.up = false
			f.downs++
		}
		close(f.changed)
		f.changed = make(chan struct{})
	}
}

// state returns whether the feed is up, how often it came up and was
// lost, and a channel closed at the next change.
func (f *feedEvents) state() (up bool, ups, downs int, next <-chan struct{}) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.up, f.ups, f.downs, f.changed
}

func (f *feedEvents) lastUp() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.upAt
}

func (f *feedEvents) hits() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.cacheHits
}

// waitFor waits until the feed is up (or down, with up false) and returns
// how long it took; it fails the test after timeout.
func (f *feedEvents) waitFor(t testing.TB, up bool, timeout time.Duration) time.Duration {
	t.Helper()
	t0 := time.Now()
	deadline := time.After(timeout)
	for {
		is, _, _, next := f.state()
		if is == up {
			return time.Since(t0)
		}
		select {
		case <-next:
		case <-deadline:
			t.Fatalf("change feed not %s within %v", map[bool]string{true: "up", false: "lost"}[up], timeout)
		}
	}
}

// feedReplica is one replica: its own Store (pool and listening
// connection) and Authenticator over a shared database.
type feedReplica struct {
	store *sqlstore.Store
	auth  *apikey.Authenticator
	feed  *feedEvents
	logs  *syncBuffer
}

func openReplica(t testing.TB, cfg sqlstore.Config, acfg apikey.Config) *feedReplica {
	t.Helper()
	r := &feedReplica{feed: newFeedEvents(), logs: &syncBuffer{}}
	logger := slog.New(slog.NewJSONHandler(r.logs, nil))
	cfg.Logger = logger
	s, err := sqlstore.OpenConfig(context.Background(), cfg)
	if err != nil {
		t.Fatalf("OpenConfig = %v", err)
	}
	r.store = s
	acfg.Prefix, acfg.Name, acfg.Logger, acfg.Observer = "sk_live", "db", logger, r.feed
	if acfg.LastUsedInterval == 0 {
		acfg.LastUsedInterval = -1
	}
	a, err := apikey.New(s, acfg)
	if err != nil {
		t.Fatal(err)
	}
	r.auth = a
	t.Cleanup(func() { a.Close(); s.Close() })
	return r
}

// start makes the replica watch the feed (its first store lookup does)
// and waits until it is up.
func (r *feedReplica) start(t testing.TB) {
	t.Helper()
	r.auth.Authenticate(keyRequest(validUnknownKey(t)))
	r.feed.waitFor(t, true, 10*time.Second)
}

func (r *feedReplica) status(key string) int {
	_, err := r.auth.Authenticate(keyRequest(key))
	return authgate.StatusCode(err)
}

// refusedAfter polls the replica until key is refused (401) and returns
// how long that took from t0, or fails after timeout.
func (r *feedReplica) refusedAfter(key string, t0 time.Time, timeout time.Duration) (time.Duration, error) {
	for {
		switch code := r.status(key); code {
		case 401:
			return time.Since(t0), nil
		case 200:
		default:
			return 0, fmt.Errorf("Authenticate(key being revoked) = %d, want 200 then 401", code)
		}
		if d := time.Since(t0); d > timeout {
			return d, fmt.Errorf("key still accepted %v after its revocation", d)
		}
		time.Sleep(200 * time.Microsecond)
	}
}

// openAdmin opens a plain database/sql connection to dsn, as psql would
// be: changes made through it reach replicas only through the triggers.
func openAdmin(t testing.TB, dsn string) *sql.DB {
	t.Helper()
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// distribution is a set of measured durations.
type distribution []time.Duration

// quantile returns the q-quantile (nearest rank).
func (d distribution) quantile(q float64) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	i := int(math.Ceil(q*float64(len(s)))) - 1
	return s[max(i, 0)]
}

func (d distribution) String() string {
	return fmt.Sprintf("n=%d p50=%v p90=%v p99=%v max=%v", len(d),
		d.quantile(0.5).Round(10*time.Microsecond), d.quantile(0.9).Round(10*time.Microsecond),
		d.quantile(0.99).Round(10*time.Microsecond), d.quantile(1).Round(10*time.Microsecond))
}

// TestPostgresRevocationPropagates: three replicas (three Stores, three
// Authenticators) over one database, with the default 10 s cache. A key
// revoked through one replica's Manager, or by plain SQL as psql would,
// is refused by the other two within a second — 100 trials each way, the
// distribution logged. Without the change feed the cached key would be
// served for its 10 s TTL.
func TestPostgresRevocationPropagates(t *testing.T) {
	ctx := context.Background()
	dsn := postgresDSN(t)
	var replicas []*feedReplica
	for range 3 {
		r := openReplica(t, sqlstore.Config{DSN: dsn}, apikey.Config{})
		r.start(t)
		replicas = append(replicas, r)
	}
	admin := openAdmin(t, dsn)
	const trials = 100
	for _, how := range []string{"manager", "sql"} {
		t.Run(how, func(t *testing.T) {
			var d distribution
			for i := range trials {
				key, k, err := replicas[0].auth.Manager().Issue(ctx, apikey.Key{Subject: fmt.Sprintf("trial-%d", i)})
				if err != nil {
					t.Fatal(err)
				}
				for _, r := range replicas[1:] {
					if got := r.status(key); got != 200 {
						t.Fatalf("Authenticate(fresh key) = %d, want 200", got)
					}
				}
				t0 := time.Now()
				if how == "manager" {
					err = replicas[0].auth.Manager().Revoke(ctx, k.ID)
				} else {
					_, err = admin.ExecContext(ctx, `UPDATE authgate_api_keys SET revoked_at = now() WHERE id = $1`, k.ID)
				}
				if err != nil {
					t.Fatal(err)
				}
				var (
					wg   sync.WaitGroup
					mu   sync.Mutex
					errs []error
				)
				for _, r := range replicas[1:] {
					wg.Go(func() {
						took, err := r.refusedAfter(key, t0, 3*propagationBound)
						mu.Lock()
						defer mu.Unlock()
						if err != nil {
							errs = append(errs, err)
							return
						}
						d = append(d, took)
					})
				}
				wg.Wait()
				if len(errs) > 0 {
					t.Fatalf("trial %d: %v", i, errs)
				}
			}
			t.Logf("revocation through %s, refused on 2 other replicas, %d trials: %v", how, trials, d)
			if m := d.quantile(1); m > propagationBound {
				t.Errorf("slowest propagation %v, want at most %v (%v)", m, propagationBound, d)
			}
		})
	}
}

// TestPostgresChangesNotified: every change by plain SQL that matters to
// a cache reaches another replica's cache at once — an earlier expiry,
// new roles, a deleted row, an emptied table — while a last-use write does
// not evict, and neither does a change of a key in another schema of the
// same database with the same ID.
func TestPostgresChangesNotified(t *testing.T) {
	ctx := context.Background()
	dsn := postgresDSN(t)
	r := openReplica(t, sqlstore.Config{DSN: dsn}, apikey.Config{})
	r.start(t)
	admin := openAdmin(t, dsn)
	otherDSN := postgresDSN(t)
	other := openReplica(t, sqlstore.Config{DSN: otherDSN}, apikey.Config{})
	otherAdmin := openAdmin(t, otherDSN)

	issue := func(t *testing.T, id string, roles ...string) string {
		t.Helper()
		key, _, err := r.auth.Manager().Issue(ctx, apikey.Key{ID: id, Subject: "alice", Roles: roles})
		if err != nil {
			t.Fatal(err)
		}
		if got := r.status(key); got != 200 {
			t.Fatalf("Authenticate(fresh key) = %d, want 200", got)
		}
		return key
	}
	// waitRefused waits for key to be refused within the bound.
	waitRefused := func(t *testing.T, key string) {
		t.Helper()
		took, err := r.refusedAfter(key, time.Now(), propagationBound)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("refused after %v", took)
	}
	// stillCached checks, after the bound, that key is a cache hit.
	stillCached := func(t *testing.T, key string) {
		t.Helper()
		time.Sleep(propagationBound)
		before := r.feed.hits()
		if got := r.status(key); got != 200 {
			t.Fatalf("Authenticate = %d, want 200", got)
		}
		if r.feed.hits() != before+1 {
			t.Fatalf("Authenticate was no cache hit: the key was evicted")
		}
	}

	t.Run("expiry", func(t *testing.T) {
		key := issue(t, "k-expiry")
		if _, err := admin.ExecContext(ctx, `UPDATE authgate_api_keys SET expires_at = now() - interval '1 second' WHERE id = 'k-expiry'`); err != nil {
			t.Fatal(err)
		}
		waitRefused(t, key)
	})
	t.Run("roles", func(t *testing.T) {
		key := issue(t, "k-roles", "reader")
		if _, err := admin.ExecContext(ctx, `UPDATE authgate_api_keys SET roles = '["admin"]' WHERE id = 'k-roles'`); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(propagationBound)
		for {
			p, err := r.auth.Authenticate(keyRequest(key))
			if err != nil {
				t.Fatal(err)
			}
			if p.HasRole("admin") && !p.HasRole("reader") {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("roles %v %v after the change, want [admin]", p.Roles, propagationBound)
			}
			time.Sleep(time.Millisecond)
		}
	})
	t.Run("deleted", func(t *testing.T) {
		key := issue(t, "k-deleted")
		if _, err := admin.ExecContext(ctx, `DELETE FROM authgate_api_keys WHERE id = 'k-deleted'`); err != nil {
			t.Fatal(err)
		}
		waitRefused(t, key)
	})
	t.Run("last use is no change", func(t *testing.T) {
		key := issue(t, "k-used")
		if _, err := admin.ExecContext(ctx, `UPDATE authgate_api_keys SET last_used_at = now() WHERE id = 'k-used'`); err != nil {
			t.Fatal(err)
		}
		stillCached(t, key)
	})
	t.Run("other schema", func(t *testing.T) {
		key := issue(t, "k-shared")
		if _, _, err := other.auth.Manager().Issue(ctx, apikey.Key{ID: "k-shared", Subject: "bob"}); err != nil {
			t.Fatal(err)
		}
		if _, err := otherAdmin.ExecContext(ctx, `UPDATE authgate_api_keys SET revoked_at = now() WHERE id = 'k-shared'`); err != nil {
			t.Fatal(err)
		}
		stillCached(t, key)
	})
	t.Run("truncated", func(t *testing.T) {
		key := issue(t, "k-truncated")
		if _, err := admin.ExecContext(ctx, `TRUNCATE authgate_api_keys`); err != nil {
			t.Fatal(err)
		}
		waitRefused(t, key)
	})
}

// TestPostgresFeedMigrationRerun: the change-feed step of the schema can
// run again (a version row lost, two releases racing) and the feed still
// works.
func TestPostgresFeedMigrationRerun(t *testing.T) {
	ctx := context.Background()
	dsn := postgresDSN(t)
	s := openReplica(t, sqlstore.Config{DSN: dsn}, apikey.Config{})
	admin := openAdmin(t, dsn)
	if _, err := admin.ExecContext(ctx, `DELETE FROM authgate_schema_migrations WHERE version = 2`); err != nil {
		t.Fatal(err)
	}
	r := openReplica(t, sqlstore.Config{DSN: dsn}, apikey.Config{})
	var triggers int
	if err := admin.QueryRowContext(ctx, `SELECT count(*) FROM pg_trigger WHERE tgrelid = 'authgate_api_keys'::regclass AND NOT tgisinternal`).Scan(&triggers); err != nil || triggers != 3 {
		t.Fatalf("triggers after the step ran twice = %d, %v; want 3", triggers, err)
	}
	r.start(t)
	key, k, err := s.auth.Manager().Issue(ctx, apikey.Key{Subject: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	r.status(key)
	if err := s.auth.Manager().Revoke(ctx, k.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := r.refusedAfter(key, time.Now(), propagationBound); err != nil {
		t.Fatal(err)
	}
}

// TestSQLiteHasNoFeed: a SQLite store says it has no change feed, and its
// authenticator still caches and revokes as before.
func TestSQLiteHasNoFeed(t *testing.T) {
	lite, _ := openSQLite(t)
	if stop, ok := lite.WatchChanges(nil); ok || stop != nil {
		t.Fatalf("SQLite WatchChanges = %v, %v; want nil, false", stop != nil, ok)
	}
	rec := &feedEvents{changed: make(chan struct{})}
	a, err := apikey.New(lite, apikey.Config{Prefix: "sk_live", Observer: rec, LastUsedInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	key, k, err := a.Manager().Issue(context.Background(), apikey.Key{Subject: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := a.Authenticate(keyRequest(key)); err != nil {
			t.Fatalf("Authenticate(valid key) = %v", err)
		}
	}
	if rec.hits() != 1 {
		t.Errorf("cache hits = %d, want 1", rec.hits())
	}
	if err := a.Manager().Revoke(context.Background(), k.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Authenticate(keyRequest(key)); !errors.Is(err, authgate.ErrRevoked) {
		t.Fatalf("Authenticate(revoked key) = %v, want ErrRevoked", err)
	}
	if _, ups, downs, _ := rec.state(); ups+downs != 0 {
		t.Errorf("subscription events on SQLite: %d up, %d lost; want none", ups, downs)
	}
}

// TestPostgresFeedLost: the listening connection cut by
// pg_terminate_backend is lost, said so in the log and to the observer,
// and back on its own within a second, after which revocations propagate
// again. Kept down (its server unreachable through ListenDSN), a key
// revoked meanwhile is served from the cache for exactly its CacheTTL, not
// longer, while lookups still work; when the server is reachable again the
// feed recovers by itself.
func TestPostgresFeedLost(t *testing.T) {
	ctx := context.Background()
	dsn := postgresDSN(t)
	admin := openAdmin(t, dsn)
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	relay := newRelay(t, u.Host)
	lu := *u
	lu.Host = relay.addr
	const ttl = 2 * time.Second
	r := openReplica(t, sqlstore.Config{DSN: dsn, ListenDSN: lu.String()}, apikey.Config{CacheTTL: ttl})
	r.start(t)

	t.Run("terminated", func(t *testing.T) {
		pid := sqlstore.ListenerPID(r.store)
		if pid == 0 {
			t.Fatal("no listening connection")
		}
		_, ups, _, _ := r.feed.state()
		var ok bool
		if err := admin.QueryRowContext(ctx, `SELECT pg_terminate_backend($1)`, int(pid)).Scan(&ok); err != nil || !ok {
			t.Fatalf("pg_terminate_backend(%d) = %v, %v", pid, ok, err)
		}
		t0 := time.Now()
		r.feed.waitFor(t, false, 5*time.Second)
		for {
			up, n, _, next := r.feed.state()
			if up && n > ups {
				break
			}
			select {
			case <-next:
			case <-time.After(5 * time.Second):
				t.Fatal("change feed not back 5 s after its connection was cut")
			}
		}
		back := time.Since(t0)
		t.Logf("feed back %v after pg_terminate_backend", back)
		if back > time.Second {
			t.Errorf("feed back after %v, want within 1 s", back)
		}
		if p := sqlstore.ListenerPID(r.store); p == pid || p == 0 {
			t.Errorf("listening backend %d after reconnection, want a new one (was %d)", p, pid)
		}
		key, k, err := r.auth.Manager().Issue(ctx, apikey.Key{Subject: "alice"})
		if err != nil {
			t.Fatal(err)
		}
		r.status(key)
		if _, err := admin.ExecContext(ctx, `UPDATE authgate_api_keys SET revoked_at = now() WHERE id = $1`, k.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := r.refusedAfter(key, time.Now(), propagationBound); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("kept down", func(t *testing.T) {
		key, k, err := r.auth.Manager().Issue(ctx, apikey.Key{Subject: "bob"})
		if err != nil {
			t.Fatal(err)
		}
		relay.stop()
		r.feed.waitFor(t, false, 10*time.Second)
		cachedAt := time.Now()
		if got := r.status(key); got != 200 { // looked up and cached now
			t.Fatalf("Authenticate(valid key, feed down) = %d, want 200", got)
		}
		if _, err := admin.ExecContext(ctx, `UPDATE authgate_api_keys SET revoked_at = now() WHERE id = $1`, k.ID); err != nil {
			t.Fatal(err)
		}
		took, err := r.refusedAfter(key, cachedAt, ttl+time.Second)
		if err != nil {
			t.Fatalf("feed down: %v", err)
		}
		t.Logf("feed down: revoked key refused %v after it was cached (CacheTTL %v)", took, ttl)
		if took < ttl-100*time.Millisecond {
			t.Errorf("refused after %v: the feed was down, so only the TTL (%v) should have ended it", took, ttl)
		}
		if up, _, _, _ := r.feed.state(); up {
			t.Fatal("feed up while its server is unreachable")
		}

		relay.start()
		t0 := time.Now()
		r.feed.waitFor(t, true, 10*time.Second)
		t.Logf("feed back %v after its server became reachable", time.Since(t0))
		key2, k2, err := r.auth.Manager().Issue(ctx, apikey.Key{Subject: "carol"})
		if err != nil {
			t.Fatal(err)
		}
		r.status(key2)
		if _, err := admin.ExecContext(ctx, `UPDATE authgate_api_keys SET revoked_at = now() WHERE id = $1`, k2.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := r.refusedAfter(key2, time.Now(), propagationBound); err != nil {
			t.Fatal(err)
		}
	})

	logs := r.logs.String()
	for _, want := range []string{`"level":"WARN","msg":"apikey: change feed lost`, `"level":"INFO","msg":"apikey: change feed up`, "terminating connection due to administrator command"} {
		if !strings.Contains(logs, want) {
			t.Errorf("logs lack %s:\n%s", want, logs)
		}
	}
}

// relay is a TCP relay on a fixed loopback port that can be stopped
// (every connection cut, new ones refused) and started again.
type relay struct {
	t      testing.TB
	addr   string
	target string

	mu    sync.Mutex
	ln    net.Listener
	conns []net.Conn
	wg    sync.WaitGroup
}

func newRelay(t testing.TB, target string) *relay {
	r := &relay{t: t, addr: fmt.Sprintf("127.0.0.1:%d", closedPort(t)), target: target}
	r.start()
	t.Cleanup(r.stop)
	return r
}

func (r *relay) start() {
	ln, err := net.Listen("tcp", r.addr)
	if err != nil {
		r.t.Fatalf("relay: %v", err)
	}
	r.mu.Lock()
	r.ln = ln
	r.mu.Unlock()
	r.wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", r.target)
			if err != nil {
				c.Close()
				continue
			}
			r.mu.Lock()
			r.conns = append(r.conns, c, up)
			r.mu.Unlock()
			r.wg.Go(func() { io.Copy(up, c); up.Close() })
			r.wg.Go(func() { io.Copy(c, up); c.Close() })
		}
	})
}

func (r *relay) stop() {
	r.mu.Lock()
	if r.ln != nil {
		r.ln.Close()
		r.ln = nil
	}
	for _, c := range r.conns {
		c.Close()
	}
	r.conns = nil
	r.mu.Unlock()
	r.wg.Wait()
}
