package denylist_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/redis/denylist"
	"github.com/authgate/authgate/redis/internal/redistest"
	"github.com/redis/go-redis/v9"
)

// percentiles formats p50/p90/p99/max of ds, which it sorts.
func percentiles(ds []time.Duration) string {
	slices.Sort(ds)
	at := func(q float64) time.Duration { return ds[min(len(ds)-1, int(q*float64(len(ds))))] }
	return fmt.Sprintf("n=%d p50=%v p90=%v p99=%v max=%v", len(ds), at(0.50), at(0.90), at(0.99), ds[len(ds)-1])
}

// TestPropagation: three replicas share one Redis; a jti or a subject
// denied on one is refused by the other two. Over 100 trials the time
// from the deny call to the refusal is reported, and none may exceed 1 s.
func TestPropagation(t *testing.T) {
	client := redistest.Client(t)
	prefix := redistest.Prefix(t)
	var lists [3]*denylist.List
	for i := range lists {
		// One connection pool per replica, as separate processes have.
		c := redis.NewClient(&redis.Options{Addr: client.Options().Addr})
		t.Cleanup(func() { c.Close() })
		lists[i] = replica(t, c, prefix, denylist.Config{})
	}
	ctx := context.Background()
	var delays []time.Duration
	for trial := range 100 {
		from := lists[trial%3]
		now := time.Now()
		p := authgate.Principal{Provider: "auth0", Subject: fmt.Sprintf("user-%d", trial), IssuedAt: now.Add(-time.Minute)}
		var deny func() error
		if trial%2 == 0 {
			p.TokenID = fmt.Sprintf("jti-%d", trial)
			deny = func() error { return from.DenyToken(ctx, p.TokenID, now.Add(time.Hour)) }
		} else {
			deny = func() error { return from.DenySubject(ctx, p.Provider, p.Subject, now, now.Add(time.Hour)) }
		}
		start := time.Now()
		if err := deny(); err != nil {
			t.Fatalf("trial %d: deny = %v", trial, err)
		}
		for i, l := range lists {
			if l == from {
				continue
			}
			if !waitFor(time.Second, func() bool { return errors.Is(l.Check(&p), authgate.ErrRevoked) }) {
				t.Fatalf("trial %d: replica %d still accepts after 1s: %v", trial, i, l.Check(&p))
			}
			delays = append(delays, time.Since(start))
		}
	}
	t.Logf("deny-to-refusal on the other replicas (jti and subject alternately): %s", percentiles(delays))
	if delays[len(delays)-1] > time.Second {
		t.Errorf("max propagation %v, want at most 1s", delays[len(delays)-1])
	}
}

// TestRedisKilled: Redis is killed under load and restarted. No replica
// ever accepts the denied token; a valid one is accepted or refused with
// 503, never 401, and with 503 once the grace has passed (fail closed),
// except on the fail-open replica; every replica recovers on its own once
// Redis is back (the time is reported).
func TestRedisKilled(t *testing.T) {
	srv := redistest.StartServer(t)
	const heartbeat, grace = 100 * time.Millisecond, 300 * time.Millisecond
	prefix := redistest.Prefix(t)
	type node struct {
		name string
		g    authgate.Authenticator
		open bool
		evs  *events
	}
	denied := &authgate.Principal{Provider: "auth0", Subject: "mallory", TokenID: "leaked", IssuedAt: time.Now()}
	valid := &authgate.Principal{Provider: "auth0", Subject: "alice", TokenID: "fine", IssuedAt: time.Now()}
	var nodes []node
	for i := range 4 {
		open := i == 3
		evs := &events{}
		l := replica(t, srv.Client(), prefix, denylist.Config{Heartbeat: heartbeat, Grace: grace, InsecureFailOpen: open, Observer: evs})
		if i == 0 {
			if err := l.DenyToken(context.Background(), denied.TokenID, time.Now().Add(time.Hour)); err != nil {
				t.Fatal(err)
			}
		}
		// The inner authenticator answers for the principal the request
		// names, as a provider would for a token.
		g := l.Guard(authgate.AuthenticatorFunc(func(r *http.Request) (*authgate.Principal, error) {
			if r.Header.Get("Who") == "denied" {
				cp := *denied
				return &cp, nil
			}
			cp := *valid
			return &cp, nil
		}))
		nodes = append(nodes, node{name: fmt.Sprintf("replica %d (fail-open %v)", i, open), g: g, open: open, evs: evs})
	}
	req := func(who string) *http.Request {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.Header.Set("Who", who)
		return r
	}
	for _, n := range nodes {
		if !waitFor(time.Second, func() bool { _, err := n.g.Authenticate(req("denied")); return errors.Is(err, authgate.ErrRevoked) }) {
			t.Fatalf("%s: the denied token is not refused before the outage", n.name)
		}
	}

	// Load: every replica is asked for both principals without pause,
	// and every answer is checked against the rules.
	var killedAt, restartedAt atomic.Int64 // Unix nanoseconds
	var stop atomic.Bool
	var wg sync.WaitGroup
	var mu sync.Mutex
	var violations []string
	var counts [4]struct{ ok, unavailable, revoked int }
	recovered := make([]time.Duration, len(nodes))
	for i, n := range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				_, errD := n.g.Authenticate(req("denied"))
				_, errV := n.g.Authenticate(req("valid"))
				now := time.Now().UnixNano()
				mu.Lock()
				switch {
				case errD == nil:
					violations = append(violations, n.name+": denied token accepted")
				case !errors.Is(errD, authgate.ErrRevoked) && !errors.Is(errD, authgate.ErrUnavailable):
					violations = append(violations, n.name+": denied token: "+errD.Error())
				}
				switch {
				case errV == nil:
					counts[i].ok++
					if k := killedAt.Load(); k != 0 && restartedAt.Load() == 0 && !n.open && now-k > int64(grace+2*heartbeat+50*time.Millisecond) {
						violations = append(violations, n.name+": valid token accepted past the grace while Redis was down")
					}
					if r := restartedAt.Load(); r != 0 && recovered[i] == 0 {
						recovered[i] = time.Duration(now - r)
					}
				case errors.Is(errV, authgate.ErrUnavailable):
					counts[i].unavailable++
				default:
					counts[i].revoked++
					violations = append(violations, n.name+": valid token refused with "+authgate.Reason(errV))
				}
				mu.Unlock()
				time.Sleep(time.Millisecond)
			}
		}()
	}
	time.Sleep(300 * time.Millisecond)
	srv.Kill()
	killedAt.Store(time.Now().UnixNano())
	time.Sleep(1500 * time.Millisecond)
	mu.Lock()
	before := counts
	mu.Unlock()
	// From here on answers count towards recovery; measured from the
	// moment redis-server is launched.
	restartedAt.Store(time.Now().UnixNano())
	srv.Start()
	if !waitFor(10*time.Second, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return !slices.Contains(recovered, 0)
	}) {
		t.Errorf("not every replica recovered within 10s: %v", recovered)
	}
	time.Sleep(100 * time.Millisecond)
	stop.Store(true)
	wg.Wait()

	for _, v := range violations[:min(len(violations), 10)] {
		t.Error(v)
	}
	for i, n := range nodes {
		t.Logf("%s: valid ok=%d unavailable=%d (%d of them before the restart); recovered %v after redis-server was launched",
			n.name, counts[i].ok, counts[i].unavailable, before[i].unavailable, recovered[i])
		if !n.open && before[i].unavailable == 0 {
			t.Errorf("%s: no 503 while Redis was down: the list did not fail closed", n.name)
		}
		if n.open && counts[i].unavailable != 0 {
			t.Errorf("%s: %d answers 503, want none with InsecureFailOpen", n.name, counts[i].unavailable)
		}
		if got := n.evs.outcomes(); len(got) < 3 || got[0] != authgate.OutcomeOK || !slices.Contains(got, authgate.OutcomeError) || got[len(got)-1] != authgate.OutcomeOK {
			t.Errorf("%s: subscription events %v, want ok, error…, ok", n.name, got)
		}
	}
}

// events records the outcomes of subscription events.
type events struct {
	mu  sync.Mutex
	got []authgate.Outcome
}

func (e *events) Observe(_ context.Context, ev authgate.Event) {
	if ev.Kind != authgate.EventSubscription {
		return
	}
	e.mu.Lock()
	e.got = append(e.got, ev.Outcome)
	e.mu.Unlock()
}

func (e *events) outcomes() []authgate.Outcome {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.got)
}

// warmList returns a loaded List holding 10 000 entries of each kind.
func warmList(b *testing.B) *denylist.List {
	client := redistest.Client(b)
	prefix := redistest.Prefix(b)
	ctx := context.Background()
	until := time.Now().Add(time.Hour)
	pipe := client.Pipeline()
	for i := range 10_000 {
		v := "0:" + itoa(until.UnixMilli())
		pipe.Set(ctx, prefix+"t:j"+itoa(int64(i)), v, time.Hour)
		pipe.Set(ctx, prefix+"k:k"+itoa(int64(i)), v, time.Hour)
		pipe.Set(ctx, prefix+"s:5:auth0:u"+itoa(int64(i)), itoa(time.Now().UnixMilli())+":"+itoa(until.UnixMilli()), time.Hour)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		keys, _ := client.Keys(ctx, prefix+"*").Result()
		for len(keys) > 0 {
			n := min(len(keys), 1000)
			client.Del(ctx, keys[:n]...)
			keys = keys[n:]
		}
	})
	l := replica(b, client, prefix, denylist.Config{})
	if p := (&authgate.Principal{Provider: "auth0", Subject: "u7", IssuedAt: time.Now().Add(-time.Hour)}); !errors.Is(l.Check(p), authgate.ErrRevoked) {
		b.Fatal("the entries were not loaded")
	}
	return l
}

// BenchmarkCheckWarm is the cost of the deny-list check of one principal
// with the copy loaded (10 000 entries of each kind) and the principal in
// none: no I/O, a clock read and three map lookups under a read lock.
func BenchmarkCheckWarm(b *testing.B) {
	l := warmList(b)
	p := must(bare.Authenticate(nil))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if err := l.Check(p); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCheckWarmParallel is BenchmarkCheckWarm from every core at once.
func BenchmarkCheckWarmParallel(b *testing.B) {
	l := warmList(b)
	p := must(bare.Authenticate(nil))
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := l.Check(p); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkGuardWarm is a request through Guard over an authenticator
// that returns a fresh principal (BenchmarkBare alone): the difference is
// what the deny-list adds to a request.
func BenchmarkGuardWarm(b *testing.B) {
	l := warmList(b)
	g := l.Guard(bare)
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := g.Authenticate(r); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBare is the inner authenticator of BenchmarkGuardWarm alone.
func BenchmarkBare(b *testing.B) {
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := bare.Authenticate(r); err != nil {
			b.Fatal(err)
		}
	}
}

var bare = authgate.AuthenticatorFunc(func(*http.Request) (*authgate.Principal, error) {
	return &authgate.Principal{Provider: "auth0", Subject: "u-other", TokenID: "j-other", CredentialID: "k-other", IssuedAt: time.Now()}, nil
})

func must(p *authgate.Principal, err error) *authgate.Principal {
	if err != nil {
		panic(err)
	}
	return p
}
