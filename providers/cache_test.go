package providers

import (
	"context"
	"crypto/rsa"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/internal/jwttest"
)

// countingKeySet counts key lookups: a cache hit must make none.
type countingKeySet struct {
	KeySet
	lookups atomic.Int32
}

func (c *countingKeySet) VerificationKeys(ctx context.Context, kid, alg string) ([]Key, error) {
	c.lookups.Add(1)
	return c.KeySet.VerificationKeys(ctx, kid, alg)
}

type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newCachedVerifier(t *testing.T, size int, ttl time.Duration) (*Verifier, *countingKeySet, *testClock, *rsa.PrivateKey) {
	t.Helper()
	priv := jwttest.Key("RS256", "").(*rsa.PrivateKey)
	k := PublicKey(&priv.PublicKey)
	k.ID = "k1"
	set, err := NewStaticKeySet([]Key{k}, []string{RS256})
	if err != nil {
		t.Fatal(err)
	}
	keys := &countingKeySet{KeySet: set}
	clock := &testClock{t: time.Unix(1_800_000_000, 0)}
	v, err := NewVerifier(VerifierConfig{
		Issuer: "https://i.test/", Audience: []string{"api"}, Algorithms: []string{RS256}, Keys: keys,
		Leeway: NoLeeway, Now: clock.now, CacheSize: size, CacheTTL: ttl,
	})
	if err != nil {
		t.Fatal(err)
	}
	return v, keys, clock, priv
}

func cachedClaims(exp int64, extra map[string]any) map[string]any {
	c := map[string]any{"iss": "https://i.test/", "aud": "api", "sub": "u", "exp": exp,
		"roles": []any{"a"}, "nested": map[string]any{"x": []any{"y"}}}
	for k, v := range extra {
		c[k] = v
	}
	return c
}

func TestTokenCache(t *testing.T) {
	v, keys, clock, priv := newCachedVerifier(t, 100, 30*time.Second)
	ctx := context.Background()
	exp := clock.now().Unix() + 45
	tok := jwttest.Token("RS256", "k1", priv, cachedClaims(exp, nil))

	first, err := v.Verify(ctx, tok)
	if err != nil || keys.lookups.Load() != 1 {
		t.Fatalf("first Verify = %v, lookups %d", err, keys.lookups.Load())
	}
	// Callers may scribble on what they get: the next hit is unchanged.
	first.Claims["sub"] = "admin"
	first.Claims["roles"].([]any)[0] = "root"
	first.Claims["nested"].(map[string]any)["x"] = "z"
	first.Audience[0] = "other"

	second, err := v.Verify(ctx, tok)
	if err != nil || keys.lookups.Load() != 1 {
		t.Fatalf("second Verify = %v, lookups %d (want a hit)", err, keys.lookups.Load())
	}
	if second.Claims["sub"] != "u" || second.Claims["roles"].([]any)[0] != "a" ||
		second.Claims["nested"].(map[string]any)["x"].([]any)[0] != "y" || second.Audience[0] != "api" || second.Subject != "u" {
		t.Fatalf("cached token was changed through a returned copy: %+v", second)
	}

	// The TTL (30 s) ends the entry before the token expires (45 s).
	clock.add(31 * time.Second)
	if _, err := v.Verify(ctx, tok); err != nil || keys.lookups.Load() != 2 {
		t.Fatalf("after TTL: Verify = %v, lookups %d (want a fresh verification)", err, keys.lookups.Load())
	}
	// The token's expiry ends the entry before the TTL does.
	clock.add(14 * time.Second) // exactly exp, no leeway
	if _, err := v.Verify(ctx, tok); !errors.Is(err, authgate.ErrTokenExpired) {
		t.Fatalf("at exp: Verify = %v, want ErrTokenExpired", err)
	}
}

func TestTokenCacheNeverCachesFailures(t *testing.T) {
	v, keys, clock, _ := newCachedVerifier(t, 100, 0)
	ctx := context.Background()
	other := jwttest.Key("RS256", "other").(*rsa.PrivateKey)
	bad := jwttest.Token("RS256", "k1", other, cachedClaims(clock.now().Unix()+60, nil))
	for i := 1; i <= 3; i++ {
		if _, err := v.Verify(ctx, bad); !errors.Is(err, authgate.ErrInvalidSignature) || keys.lookups.Load() != int32(i) {
			t.Fatalf("attempt %d: Verify = %v, lookups %d", i, err, keys.lookups.Load())
		}
	}
	if v.cache.len() != 0 {
		t.Fatalf("cache holds %d entries after failures", v.cache.len())
	}
}

func TestTokenCacheBounded(t *testing.T) {
	v, _, clock, priv := newCachedVerifier(t, 10, 0)
	ctx := context.Background()
	for i := range 50 {
		tok := jwttest.Token("RS256", "k1", priv, cachedClaims(clock.now().Unix()+60, map[string]any{"n": i}))
		if _, err := v.Verify(ctx, tok); err != nil {
			t.Fatal(err)
		}
		if n := v.cache.len(); n > 10 {
			t.Fatalf("cache holds %d entries, bound is 10", n)
		}
	}
}

func TestTokenCacheConcurrent(t *testing.T) {
	v, keys, clock, priv := newCachedVerifier(t, 4, 0)
	toks := make([]string, 8)
	for i := range toks {
		toks[i] = jwttest.Token("RS256", "k1", priv, cachedClaims(clock.now().Unix()+60, map[string]any{"sub": string(rune('a' + i))}))
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 50 {
				n := (g + i) % len(toks)
				tk, err := v.Verify(context.Background(), toks[n])
				if err != nil || tk.Subject != string(rune('a'+n)) {
					t.Errorf("Verify = %v, %v", tk, err)
					return
				}
				tk.Claims["sub"] = "x"
			}
		})
	}
	wg.Wait()
	if keys.lookups.Load() >= 400 {
		t.Errorf("no cache hits: %d lookups for 400 verifications", keys.lookups.Load())
	}
}

func TestTokenCacheConfig(t *testing.T) {
	set, _ := NewStaticKeySet([]Key{SecretKey(make([]byte, 32))}, []string{HS256})
	for _, tt := range []struct {
		size int
		ttl  time.Duration
		ok   bool
	}{{0, 0, true}, {10, 0, true}, {10, MaxCacheTTL, true}, {-1, 0, false}, {10, MaxCacheTTL + time.Second, false}, {10, -time.Second, false}, {MaxCacheSize, 0, true}, {MaxCacheSize + 1, 0, false}} {
		_, err := NewVerifier(VerifierConfig{Issuer: "i", Audience: []string{"a"}, Algorithms: []string{HS256}, Keys: set, CacheSize: tt.size, CacheTTL: tt.ttl})
		if (err == nil) != tt.ok {
			t.Errorf("CacheSize %d CacheTTL %v: NewVerifier = %v, want ok=%v", tt.size, tt.ttl, err, tt.ok)
		}
	}
}
