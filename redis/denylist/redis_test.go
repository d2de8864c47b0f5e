package denylist_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/apikey"
	"github.com/authgate/authgate/authtest"
	"github.com/authgate/authgate/providers"
	"github.com/authgate/authgate/redis/denylist"
	"github.com/authgate/authgate/redis/internal/redistest"
	"github.com/authgate/authgate/static"
	"github.com/redis/go-redis/v9"
)

// replica returns a started List over client with prefix, loaded once.
func replica(t testing.TB, client redis.UniversalClient, prefix string, cfg denylist.Config) *denylist.List {
	t.Helper()
	cfg.Client, cfg.Prefix = client, prefix
	l, err := denylist.New(cfg)
	if err != nil {
		t.Fatalf("New = %v", err)
	}
	t.Cleanup(func() { l.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := l.Ready(ctx); err != nil {
		t.Fatalf("Ready = %v", err)
	}
	return l
}

// waitFor polls cond every millisecond for up to d and reports whether it
// became true.
func waitFor(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(time.Millisecond)
	}
}

// TestDenyReachesReplicas: an entry written through one replica is
// refused by another, and only what it names is refused.
func TestDenyReachesReplicas(t *testing.T) {
	client := redistest.Client(t)
	ctx := context.Background()
	now := time.Now()
	hour := now.Add(time.Hour)
	tests := []struct {
		name     string
		deny     func(l *denylist.List) error
		denied   []authgate.Principal
		accepted []authgate.Principal
	}{
		{
			name:     "jti",
			deny:     func(l *denylist.List) error { return l.DenyToken(ctx, "jti-1", hour) },
			denied:   []authgate.Principal{{Provider: "auth0", Subject: "alice", TokenID: "jti-1", IssuedAt: now}},
			accepted: []authgate.Principal{{Provider: "auth0", Subject: "alice", TokenID: "jti-2", IssuedAt: now}},
		},
		{
			name: "subject before",
			deny: func(l *denylist.List) error { return l.DenySubject(ctx, "auth0", "alice", now, hour) },
			denied: []authgate.Principal{
				{Provider: "auth0", Subject: "alice", TokenID: "a", IssuedAt: now.Add(-time.Minute)},
				{Provider: "auth0", Subject: "alice"},
			},
			accepted: []authgate.Principal{
				{Provider: "auth0", Subject: "alice", IssuedAt: now.Add(time.Second)},
				{Provider: "okta", Subject: "alice", IssuedAt: now.Add(-time.Minute)},
				{Provider: "auth0", Subject: "bob", IssuedAt: now.Add(-time.Minute)},
			},
		},
		{
			name:     "API key",
			deny:     func(l *denylist.List) error { return l.DenyKey(ctx, "key-7", hour) },
			denied:   []authgate.Principal{{Provider: "apikey", Subject: "svc", CredentialID: "key-7"}},
			accepted: []authgate.Principal{{Provider: "apikey", Subject: "svc", CredentialID: "key-8"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			prefix := redistest.Prefix(t)
			a := replica(t, client, prefix, denylist.Config{})
			b := replica(t, client, prefix, denylist.Config{})
			for _, p := range append(tt.denied, tt.accepted...) {
				if err := b.Check(&p); err != nil {
					t.Fatalf("Check(%+v) before the entry = %v, want nil", p, err)
				}
			}
			if err := tt.deny(a); err != nil {
				t.Fatalf("deny = %v", err)
			}
			for _, l := range []*denylist.List{a, b} {
				for _, p := range tt.denied {
					if !waitFor(time.Second, func() bool { return errors.Is(l.Check(&p), authgate.ErrRevoked) }) {
						t.Errorf("Check(%+v) = %v after 1s, want ErrRevoked", p, l.Check(&p))
					}
				}
				for _, p := range tt.accepted {
					if err := l.Check(&p); err != nil {
						t.Errorf("Check(%+v) = %v, want nil", p, err)
					}
				}
			}
			// A replica started later loads the entry.
			c := replica(t, client, prefix, denylist.Config{})
			for _, p := range tt.denied {
				if err := c.Check(&p); !errors.Is(err, authgate.ErrRevoked) {
					t.Errorf("late replica: Check(%+v) = %v, want ErrRevoked", p, err)
				}
			}
		})
	}
}

// TestEntryExpires: an entry is gone from Redis and from every replica
// once what it denies would have expired.
func TestEntryExpires(t *testing.T) {
	client := redistest.Client(t)
	prefix := redistest.Prefix(t)
	a := replica(t, client, prefix, denylist.Config{})
	b := replica(t, client, prefix, denylist.Config{})
	p := authgate.Principal{TokenID: "short"}
	if err := a.DenyToken(context.Background(), "short", time.Now().Add(300*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	if !waitFor(time.Second, func() bool { return errors.Is(b.Check(&p), authgate.ErrRevoked) }) {
		t.Fatal("entry never reached the replica")
	}
	if !waitFor(2*time.Second, func() bool { return b.Check(&p) == nil && a.Check(&p) == nil }) {
		t.Errorf("entry still denies after its end: %v", b.Check(&p))
	}
	// Redis expires a key once its time has passed (strictly), a
	// millisecond after the list stops counting it.
	var n int64
	var err error
	if !waitFor(100*time.Millisecond, func() bool {
		n, err = client.Exists(context.Background(), prefix+"t:short").Result()
		return err == nil && n == 0
	}) {
		t.Errorf("EXISTS = %d, %v; want the key expired by its TTL", n, err)
	}
}

// TestDenyInvalid: entries that cannot be written are refused before any
// I/O, and a past end writes nothing.
func TestDenyInvalid(t *testing.T) {
	client := redistest.Client(t)
	prefix := redistest.Prefix(t)
	l := replica(t, client, prefix, denylist.Config{})
	ctx := context.Background()
	hour := time.Now().Add(time.Hour)
	long := string(make([]byte, 2000))
	tests := []struct {
		name    string
		deny    func() error
		wantErr error
	}{
		{"empty jti", func() error { return l.DenyToken(ctx, "", hour) }, denylist.ErrInvalidEntry},
		{"long jti", func() error { return l.DenyToken(ctx, long, hour) }, denylist.ErrInvalidEntry},
		{"zero until", func() error { return l.DenyToken(ctx, "j", time.Time{}) }, denylist.ErrInvalidEntry},
		{"until too far", func() error { return l.DenyKey(ctx, "k", time.Now().Add(2*denylist.MaxTTL)) }, denylist.ErrInvalidEntry},
		{"zero before", func() error { return l.DenySubject(ctx, "p", "s", time.Time{}, hour) }, denylist.ErrInvalidEntry},
		{"empty subject", func() error { return l.DenySubject(ctx, "p", "", time.Now(), hour) }, denylist.ErrInvalidEntry},
		{"past until writes nothing", func() error { return l.DenyToken(ctx, "old", time.Now().Add(-time.Second)) }, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.deny()
			if tt.wantErr == nil && err != nil || tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("deny = %v, want %v", err, tt.wantErr)
			}
		})
	}
	keys, err := client.Keys(ctx, prefix+"*").Result()
	if err != nil || len(keys) != 0 {
		t.Errorf("keys written = %d (%v), want none", len(keys), err)
	}
}

// TestReloadAfterResubscribe: an entry whose message a replica missed
// while its subscription was down is loaded when it comes back.
func TestReloadAfterResubscribe(t *testing.T) {
	client := redistest.Client(t)
	prefix := redistest.Prefix(t)
	var mu sync.Mutex
	var outcomes []authgate.Outcome
	obs := authgate.ObserverFunc(func(_ context.Context, e authgate.Event) {
		if e.Kind == authgate.EventSubscription {
			mu.Lock()
			outcomes = append(outcomes, e.Outcome)
			mu.Unlock()
		}
	})
	l := replica(t, client, prefix, denylist.Config{Observer: obs})
	ctx := context.Background()
	// Written behind the list's back, with no message: only a full load
	// can find it.
	until := time.Now().Add(time.Hour).UnixMilli()
	if err := client.Set(ctx, prefix+"t:missed", "0:"+itoa(until), time.Hour).Err(); err != nil {
		t.Fatal(err)
	}
	p := authgate.Principal{TokenID: "missed"}
	if err := l.Check(&p); err != nil {
		t.Fatalf("Check before the reconnection = %v, want nil (the entry sent no message)", err)
	}
	if err := client.Do(ctx, "CLIENT", "KILL", "TYPE", "pubsub").Err(); err != nil {
		t.Fatal(err)
	}
	if !waitFor(3*time.Second, func() bool { return errors.Is(l.Check(&p), authgate.ErrRevoked) }) {
		t.Fatalf("Check after the reconnection = %v, want ErrRevoked", l.Check(&p))
	}
	mu.Lock()
	defer mu.Unlock()
	want := []authgate.Outcome{authgate.OutcomeOK, authgate.OutcomeError, authgate.OutcomeOK}
	if len(outcomes) < 3 || outcomes[0] != want[0] || outcomes[1] != want[1] || outcomes[len(outcomes)-1] != want[2] {
		t.Errorf("subscription events = %v, want %v", outcomes, want)
	}
}

// TestGuardCachedToken: a token served from the provider's cache of
// verified tokens is still checked, and denied once its jti is.
func TestGuardCachedToken(t *testing.T) {
	client := redistest.Client(t)
	prefix := redistest.Prefix(t)
	iss := authtest.NewIssuer(t)
	// Validate runs only when a token is verified, never on a cache hit:
	// it counts the verifications.
	var verified atomic.Int64
	validate := func(*providers.Token) error { verified.Add(1); return nil }
	a, err := static.New(static.Config{Keys: iss.Keys(), Issuer: iss.Issuer(), TokenOptions: providers.TokenOptions{
		Audience: []string{authtest.DefaultAudience}, Algorithms: []string{"RS256"}, CacheSize: 100, Validate: validate,
	}})
	if err != nil {
		t.Fatal(err)
	}
	l := replica(t, client, prefix, denylist.Config{})
	other := replica(t, client, prefix, denylist.Config{})
	g := l.Guard(a)
	if d, ok := g.(authgate.Describer); !ok || d.Describe().Name != a.Describe().Name {
		t.Errorf("Guard does not describe itself as the authenticator it wraps")
	}
	tok := iss.Token(map[string]any{"jti": "tok-1"})
	req := func() *http.Request {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.Header.Set("Authorization", "Bearer "+tok)
		return r
	}
	for i := range 2 {
		if _, err := g.Authenticate(req()); err != nil {
			t.Fatalf("Authenticate #%d = %v", i, err)
		}
	}
	if n := verified.Load(); n != 1 {
		t.Fatalf("token verified %d times in two requests, want 1: no cache hit, the test proves nothing", n)
	}
	if err := other.DenyToken(context.Background(), "tok-1", time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	var got error
	if !waitFor(time.Second, func() bool { _, got = g.Authenticate(req()); return got != nil }) {
		t.Fatal("a denied token served from the cache was accepted")
	}
	if !errors.Is(got, authgate.ErrRevoked) || authgate.Reason(got) != "revoked" {
		t.Errorf("Authenticate = %v (reason %q), want ErrRevoked, reason revoked", got, authgate.Reason(got))
	}
	var ae *authgate.Error
	if !errors.As(got, &ae) || ae.Provider != a.Describe().Name {
		t.Errorf("error %v does not name provider %q", got, a.Describe().Name)
	}
	w := httptest.NewRecorder()
	authgate.WriteError(w, got, "")
	if w.Code != http.StatusUnauthorized {
		t.Errorf("status = %d, want 401", w.Code)
	}
}

// TestGuardCachedAPIKey: the same for an API key the apikey cache serves,
// denied by its ID.
func TestGuardCachedAPIKey(t *testing.T) {
	client := redistest.Client(t)
	prefix := redistest.Prefix(t)
	store := apikey.NewMemoryStore()
	a, err := apikey.New(store, apikey.Config{Prefix: "sk_test", CacheTTL: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	plain, key, err := a.Manager().Issue(context.Background(), apikey.Key{Subject: "svc"})
	if err != nil {
		t.Fatal(err)
	}
	l := replica(t, client, prefix, denylist.Config{})
	g := l.Guard(a)
	req := func() *http.Request {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.Header.Set("X-API-Key", plain)
		return r
	}
	if _, err := g.Authenticate(req()); err != nil {
		t.Fatalf("Authenticate = %v", err)
	}
	if err := l.DenyKey(context.Background(), key.ID, time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	_, err = g.Authenticate(req())
	if !errors.Is(err, authgate.ErrRevoked) {
		t.Fatalf("Authenticate of a denied cached key = %v, want ErrRevoked", err)
	}
	var ae *authgate.Error
	if !errors.As(err, &ae) || len(ae.Schemes) != 1 || ae.Schemes[0] != a.Describe().Scheme {
		t.Errorf("error %v does not offer the ApiKey challenge", err)
	}
}

// TestNoRoundTrip: checks with the copy loaded send no command to Redis.
func TestNoRoundTrip(t *testing.T) {
	c := redis.NewClient(&redis.Options{Addr: redistest.Addr(t)})
	defer c.Close()
	var count redistest.Counter
	c.AddHook(&count)
	prefix := redistest.Prefix(t)
	l := replica(t, c, prefix, denylist.Config{})
	ctx := context.Background()
	for i := range 100 {
		if err := l.DenyToken(ctx, "j"+itoa(int64(i)), time.Now().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	g := l.Guard(authgate.AuthenticatorFunc(func(*http.Request) (*authgate.Principal, error) {
		return &authgate.Principal{Provider: "p", Subject: "s", TokenID: "other", IssuedAt: time.Now()}, nil
	}))
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	before := count.Commands()
	for range 10_000 {
		if _, err := g.Authenticate(r); err != nil {
			t.Fatal(err)
		}
	}
	if got := count.Commands() - before; got != 0 {
		t.Errorf("10 000 checks sent %d commands, want 0", got)
	}
	if before == 0 {
		t.Error("the hook counted nothing at all: the test proves nothing")
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// TestRemoveReachesReplicas: a mistaken entry removed through one replica
// stops refusing on every replica, and a replica started later does not
// load it.
func TestRemoveReachesReplicas(t *testing.T) {
	client := redistest.Client(t)
	ctx := context.Background()
	hour := time.Now().Add(time.Hour)
	before := time.Now()
	tests := []struct {
		name   string
		deny   func(l *denylist.List) error
		remove func(l *denylist.List) error
		p      authgate.Principal
	}{
		{"jti", func(l *denylist.List) error { return l.DenyToken(ctx, "oops", hour) },
			func(l *denylist.List) error { return l.RemoveToken(ctx, "oops") },
			authgate.Principal{TokenID: "oops"}},
		{"key", func(l *denylist.List) error { return l.DenyKey(ctx, "key-1", hour) },
			func(l *denylist.List) error { return l.RemoveKey(ctx, "key-1") },
			authgate.Principal{CredentialID: "key-1"}},
		{"subject", func(l *denylist.List) error { return l.DenySubject(ctx, "auth0", "alice", before, hour) },
			func(l *denylist.List) error { return l.RemoveSubject(ctx, "auth0", "alice") },
			authgate.Principal{Provider: "auth0", Subject: "alice", IssuedAt: before.Add(-time.Minute)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			prefix := redistest.Prefix(t)
			a := replica(t, client, prefix, denylist.Config{})
			b := replica(t, client, prefix, denylist.Config{})
			if err := tt.deny(a); err != nil {
				t.Fatal(err)
			}
			if !waitFor(time.Second, func() bool { return errors.Is(b.Check(&tt.p), authgate.ErrRevoked) }) {
				t.Fatal("the entry never reached the other replica")
			}
			if err := tt.remove(b); err != nil {
				t.Fatalf("remove = %v", err)
			}
			for i, l := range []*denylist.List{a, b} {
				if !waitFor(time.Second, func() bool { return l.Check(&tt.p) == nil }) {
					t.Errorf("replica %d: Check = %v 1s after the removal, want nil", i, l.Check(&tt.p))
				}
			}
			if err := replica(t, client, prefix, denylist.Config{}).Check(&tt.p); err != nil {
				t.Errorf("late replica: Check = %v, want nil", err)
			}
		})
	}
}
