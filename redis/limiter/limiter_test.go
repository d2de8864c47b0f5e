package limiter_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/apikey"
	"github.com/authgate/authgate/redis/internal/redistest"
	"github.com/authgate/authgate/redis/limiter"
	"github.com/redis/go-redis/v9"
)

func TestNewConfig(t *testing.T) {
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	defer c.Close()
	tests := []struct {
		name string
		cfg  limiter.Config
		ok   bool
	}{
		{"defaults", limiter.Config{Client: c, Limit: 5}, true},
		{"no client", limiter.Config{Limit: 5}, false},
		{"no limit", limiter.Config{Client: c}, false},
		{"negative limit", limiter.Config{Client: c, Limit: -1}, false},
		{"window too short", limiter.Config{Client: c, Limit: 5, Window: 500 * time.Millisecond}, false},
		{"window too long", limiter.Config{Client: c, Limit: 5, Window: 2 * time.Hour}, false},
		{"prefix with newline", limiter.Config{Client: c, Limit: 5, Prefix: "a\nb"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := limiter.New(tt.cfg)
			if (err == nil) != tt.ok {
				t.Errorf("New = %v, want ok=%v", err, tt.ok)
			}
		})
	}
}

// TestUnreachable: a Redis that cannot be reached is an error from
// Blocked, which the apikey Authenticator turns into a 503 without looking
// the key up.
func TestUnreachable(t *testing.T) {
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialTimeout: 100 * time.Millisecond})
	defer c.Close()
	l, err := limiter.New(limiter.Config{Client: c, Limit: 5})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Blocked(context.Background(), "10.0.0.1"); err == nil {
		t.Fatal("Blocked with Redis unreachable = nil error")
	}
	a, err := apikey.New(apikey.NewMemoryStore(), apikey.Config{Prefix: "sk_test", Limiter: l})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	plain, _, err := a.Manager().Issue(context.Background(), apikey.Key{Subject: "svc"})
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set("X-API-Key", plain)
	if _, err := a.Authenticate(r); !errors.Is(err, authgate.ErrUnavailable) {
		t.Errorf("Authenticate with the limiter down = %v, want ErrUnavailable", err)
	}
}

// TestContract: the in-memory limiter's contract, in Redis: weighted
// failures up to the limit, per client, in a window that starts with the
// first failure, one key per client that expires with its window and does
// not hold the client's name.
func TestContract(t *testing.T) {
	client := redistest.Client(t)
	prefix := redistest.Prefix(t)
	l, err := limiter.New(limiter.Config{Client: client, Limit: 4, Window: time.Second, Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	blocked := func(c string) bool {
		t.Helper()
		b, err := l.Blocked(ctx, c)
		if err != nil {
			t.Fatalf("Blocked = %v", err)
		}
		return b
	}
	fail := func(c string, w int) {
		t.Helper()
		if err := l.Failed(ctx, c, w); err != nil {
			t.Fatalf("Failed = %v", err)
		}
	}
	const a, b = "192.0.2.1", "192.0.2.2"
	if blocked(a) {
		t.Fatal("a fresh client is blocked")
	}
	fail(a, 2)
	fail(a, 1)
	if blocked(a) {
		t.Fatal("blocked at 3 of 4")
	}
	fail(a, 1)
	if !blocked(a) {
		t.Fatal("not blocked at 4 of 4")
	}
	if blocked(b) {
		t.Fatal("another client shares the budget")
	}
	keys, err := client.Keys(ctx, prefix+"*").Result()
	if err != nil || len(keys) != 1 {
		t.Fatalf("keys = %v, %v; want one for the one client that failed", keys, err)
	}
	if strings.Contains(keys[0], a) {
		t.Errorf("key %q holds the client's address", keys[0])
	}
	ttl, err := client.PTTL(ctx, keys[0]).Result()
	if err != nil || ttl <= 0 || ttl > time.Second {
		t.Errorf("PTTL = %v, %v; want within (0, 1s]", ttl, err)
	}
	time.Sleep(1100 * time.Millisecond)
	if blocked(a) {
		t.Error("still blocked after the window")
	}
	if n, _ := client.Exists(ctx, keys[0]).Result(); n != 0 {
		t.Error("the client's key outlived its window")
	}
	fail(b, 4)
	if err := l.Reset(ctx, b); err != nil || blocked(b) {
		t.Errorf("Reset = %v, blocked after = %v; want nil, false", err, blocked(b))
	}
}

// TestSharedBudget: several clients attack three replicas at once with
// keys that have a valid checksum but are unknown (weight 2 each). With
// the shared limiter every client gets one budget across the replicas
// (plus the attempts in flight when it ran out); with the in-memory
// limiter of each replica, about three. The counts are reported.
func TestSharedBudget(t *testing.T) {
	client := redistest.Client(t)
	const (
		limit      = 10 // weighted: 5 attempts of weight 2
		replicas   = 3
		clients    = 5
		perClient  = 4 // concurrent attackers per client, spread over the replicas
		perAttempt = 15
	)
	run := func(t *testing.T, shared bool) (admitted []int) {
		store := apikey.NewMemoryStore()
		prefix := redistest.Prefix(t)
		var auths []*apikey.Authenticator
		for range replicas {
			cfg := apikey.Config{Prefix: "sk_test"}
			if shared {
				l, err := limiter.New(limiter.Config{Client: client, Limit: limit, Window: time.Minute, Prefix: prefix})
				if err != nil {
					t.Fatal(err)
				}
				cfg.Limiter = l
			} else {
				cfg.FailureLimit, cfg.FailureWindow = limit, time.Minute
			}
			a, err := apikey.New(store, cfg)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { a.Close() })
			auths = append(auths, a)
		}
		guess := validUnknownKey(t)
		admitted = make([]int, clients)
		var mu sync.Mutex
		var wg sync.WaitGroup
		for c := range clients {
			for g := range perClient {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := range perAttempt {
						a := auths[(g+i)%replicas]
						r := httptest.NewRequest(http.MethodGet, "/", nil)
						r.RemoteAddr = fmt.Sprintf("198.51.100.%d:%d", c+1, 40000+g)
						r.Header.Set("X-API-Key", guess)
						_, err := a.Authenticate(r)
						switch {
						case errors.Is(err, authgate.ErrRateLimited):
						case errors.Is(err, authgate.ErrInvalidCredentials):
							mu.Lock()
							admitted[c]++
							mu.Unlock()
						default:
							t.Errorf("Authenticate = %v, want 401 or 429", err)
						}
					}
				}()
			}
		}
		wg.Wait()
		return admitted
	}
	budget := limit / 2 // attempts of weight 2
	sharedCounts := run(t, true)
	localCounts := run(t, false)
	t.Logf("guesses that reached the store per client (budget %d, %d in flight per client, %d replicas): shared limiter %v, in-memory limiters %v",
		budget, perClient, replicas, sharedCounts, localCounts)
	for c, n := range sharedCounts {
		// An attempt in flight when the budget ran out was admitted before
		// it did: at most perClient-1 beyond the budget.
		if n < budget || n > budget+perClient-1 {
			t.Errorf("client %d: %d guesses reached the store with the shared limiter, want within [%d, %d]", c, n, budget, budget+perClient-1)
		}
	}
}

// validUnknownKey returns a well-formed key with a valid checksum that no
// store holds.
func validUnknownKey(t *testing.T) string {
	t.Helper()
	m, err := apikey.NewManager(apikey.NewMemoryStore(), apikey.Config{Prefix: "sk_test"})
	if err != nil {
		t.Fatal(err)
	}
	p, _, err := m.Issue(context.Background(), apikey.Key{Subject: "nobody"})
	if err != nil {
		t.Fatal(err)
	}
	return p
}
