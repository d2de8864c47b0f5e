package providers

import (
	"context"
	"crypto/rsa"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"runtime"
	"strings"
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

func newCachedVerifier(t testing.TB, size int, ttl time.Duration) (*Verifier, *countingKeySet, *testClock, *rsa.PrivateKey) {
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

// newCachedAuthenticator is newCachedVerifier behind a TokenAuthenticator
// whose Check counts its calls.
func newCachedAuthenticator(t *testing.T, size int) (*TokenAuthenticator, *countingKeySet, *testClock, *rsa.PrivateKey, *atomic.Int32) {
	t.Helper()
	v, keys, clock, priv := newCachedVerifier(t, size, 0)
	a := NewTokenAuthenticator(v, Mapping{})
	checks := new(atomic.Int32)
	a.check = func(context.Context, *Token) error { checks.Add(1); return nil }
	return a, keys, clock, priv, checks
}

// scribble changes everything a handler or resolver can reach through p:
// its fields and lists, and every value its read-only Claims and Header
// hand out (copies, which it may change at will).
func scribble(p *authgate.Principal) {
	p.Subject, p.Issuer, p.Name = "admin", "evil", "x"
	p.Audience[0] = "other"
	p.Audience = append(p.Audience, "more")
	p.Roles[0] = "root"
	p.Roles = append(p.Roles, "superuser")
	p.Scopes[0] = "write:all"
	claims := p.Claims.Map()
	claims["sub"] = "admin"
	delete(claims, "exp")
	claims["roles"].([]any)[0] = "root"
	if roles, ok := p.Claims.Get("roles"); ok {
		roles.([]any)[0] = "root"
	}
	if nested, ok := p.Claims.Get("nested"); ok {
		nested.(map[string]any)["x"].([]any)[0] = "z"
		nested.(map[string]any)["new"] = true
	}
	if x, ok := p.Claim("nested.x"); ok {
		x.([]any)[0] = "zz"
	}
	for _, v := range p.Claims.All() {
		if l, ok := v.([]any); ok && len(l) > 0 {
			l[0] = "w"
		}
	}
	p.Header.Map()["alg"] = "none"
	p.Claims = authgate.NewObject(map[string]any{"sub": "admin"}) // its own field
	p.User = "someone"
}

func TestTokenCachePrincipalIsolation(t *testing.T) {
	a, keys, clock, priv, checks := newCachedAuthenticator(t, 100)
	ctx := context.Background()
	tok := jwttest.Token("RS256", "k1", priv, cachedClaims(clock.now().Unix()+60, map[string]any{"scope": "read write"}))
	uncached := NewTokenAuthenticator(mustVerifier(t, a.verifier, keys), Mapping{})
	want, err := uncached.Verify(ctx, tok)
	if err != nil {
		t.Fatal(err)
	}
	lookups := keys.lookups.Load()
	for i := range 4 { // a miss, then hits: each may be scribbled on
		p, err := a.Verify(ctx, tok)
		if err != nil {
			t.Fatalf("Verify #%d = %v", i, err)
		}
		if !equalPrincipals(p, want) {
			t.Fatalf("Verify #%d = %+v, want %+v", i, p, want)
		}
		// An append to one list must not overwrite the next one.
		p.Audience = append(p.Audience, "appended")
		if p.Roles[0] != "a" {
			t.Fatalf("Verify #%d: appending to Audience changed Roles to %v", i, p.Roles)
		}
		scribble(p)
	}
	if n := keys.lookups.Load() - lookups; n != 1 {
		t.Errorf("%d key lookups for 4 verifications, want 1 (then hits)", n)
	}
	if n := checks.Load(); n != 4 {
		t.Errorf("Check ran %d times for 4 verifications, want 4 (on every hit)", n)
	}
	// The verified token a hit shares is unchanged too.
	got, err := a.VerifyToken(ctx, tok)
	if err != nil || got.Subject != "u" || got.Claims["sub"] != "u" || got.Header["alg"] != "RS256" || got.Audience[0] != "api" {
		t.Fatalf("VerifyToken after scribbles = %+v, %v", got, err)
	}
}

// equalPrincipals reports whether a and b are equal field for field,
// Claims and Header by their members (a cache hit reads them from its
// entry, a miss from the token: the same members, held differently).
func equalPrincipals(a, b *authgate.Principal) bool {
	x, y := *a, *b
	if !x.Claims.Equal(y.Claims) || !x.Header.Equal(y.Header) {
		return false
	}
	x.Claims, x.Header, y.Claims, y.Header = authgate.Object{}, authgate.Object{}, authgate.Object{}, authgate.Object{}
	return reflect.DeepEqual(x, y)
}

// mustVerifier returns a verifier like v without a cache.
func mustVerifier(t *testing.T, v *Verifier, keys KeySet) *Verifier {
	t.Helper()
	u, err := NewVerifier(VerifierConfig{Issuer: v.issuer, Audience: v.audience, Algorithms: []string{RS256}, Keys: keys, Leeway: NoLeeway, Now: v.now})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestTokenCacheExactBytes(t *testing.T) {
	a, keys, clock, priv, _ := newCachedAuthenticator(t, 100)
	ctx := context.Background()
	tokA := jwttest.Token("RS256", "k1", priv, cachedClaims(clock.now().Unix()+60, map[string]any{"sub": "alice"}))
	other := jwttest.Key("RS256", "other").(*rsa.PrivateKey)
	forged := jwttest.Token("RS256", "k1", other, cachedClaims(clock.now().Unix()+60, map[string]any{"sub": "mallory"}))
	if _, err := a.Verify(ctx, tokA); err != nil {
		t.Fatal(err)
	}
	c := a.verifier.cache
	// Make alice's entry answer to the forged token's hash, as a hash
	// collision would: the forged token must still be verified, and fail.
	e, ok := c.get(c.key(tokA), tokA, clock.now())
	if !ok {
		t.Fatal("no entry for a verified token")
	}
	c.mu.Lock()
	c.entries[c.key(forged)] = e
	c.mu.Unlock()
	lookups := keys.lookups.Load()
	if p, err := a.Verify(ctx, forged); !errors.Is(err, authgate.ErrInvalidSignature) {
		t.Fatalf("Verify(forged token under a colliding hash) = %+v, %v, want ErrInvalidSignature", p, err)
	}
	if keys.lookups.Load() == lookups {
		t.Error("the forged token was not verified")
	}
	// The key hashes only the token's length and signature tail: a token
	// that shares both with a cached one (its payload changed, its
	// signature kept) has the same key, and must be verified, and fail.
	dot := strings.IndexByte(tokA, '.')
	sameKey := tokA[:dot+1] + strings.Map(func(r rune) rune {
		if r == 'A' {
			return 'B'
		}
		return r
	}, tokA[dot+1:strings.LastIndexByte(tokA, '.')]) + tokA[strings.LastIndexByte(tokA, '.'):]
	if sameKey == tokA || c.key(sameKey) != c.key(tokA) {
		t.Fatal("test token does not share the cached token's key")
	}
	if p, err := a.Verify(ctx, sameKey); err == nil {
		t.Fatalf("Verify(payload changed under the cached signature) = %+v, want an error", p)
	}
	// A prefix or an extension of a cached token is not a hit either.
	for _, tok := range []string{tokA[:len(tokA)-1], tokA + "A"} {
		if _, err := a.Verify(ctx, tok); err == nil {
			t.Errorf("Verify(altered token) = nil error")
		}
	}
}

func TestTokenCacheSweep(t *testing.T) {
	v, _, clock, priv := newCachedVerifier(t, 5000, time.Minute)
	ctx := context.Background()
	short := jwttest.Token("RS256", "k1", priv, cachedClaims(clock.now().Unix()+10, nil))
	long := jwttest.Token("RS256", "k1", priv, cachedClaims(clock.now().Unix()+120, nil))
	for _, tok := range []string{short, long} {
		if _, err := v.Verify(ctx, tok); err != nil {
			t.Fatal(err)
		}
	}
	c := v.cache
	if n := c.sweep(clock.now()); n != 0 || c.len() != 2 {
		t.Fatalf("sweep before expiry removed %d, %d left; want 0, 2", n, c.len())
	}
	clock.add(10 * time.Second)
	if n := c.sweep(clock.now()); n != 1 || c.len() != 1 {
		t.Fatalf("sweep at the short token's exp removed %d, %d left; want 1, 1", n, c.len())
	}
	// The background sweeper does the same without being asked (it ticks
	// every second of real time and reads the injected clock).
	clock.add(time.Minute)
	deadline := time.Now().Add(5 * time.Second)
	for c.len() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("background sweep left %d expired entries", c.len())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestTokenCacheSweepRebuildsMap(t *testing.T) {
	c := newTokenCache(10000, time.Minute)
	now := time.Unix(1_800_000_000, 0)
	tok := &Token{}
	for i := range 4000 {
		s, head := compactToken(string(rune('a'+i%26)) + time.Duration(i).String())
		c.put(c.key(s), s, tok, head, nil, nil, now, now.Add(time.Duration(1+i%100)*time.Second), func() time.Time { return now })
	}
	before := c.len()
	for c.sweep(now.Add(95*time.Second)) > 0 {
	}
	if c.len() >= before/rebuildBelow || c.peak != c.len() {
		t.Fatalf("after the sweep: %d entries, peak %d (from %d): the map was not rebuilt", c.len(), c.peak, before)
	}
}

func TestTokenCacheSweeperEnds(t *testing.T) {
	c := newTokenCache(10, time.Minute)
	now := time.Unix(1_800_000_000, 0)
	s, head := compactToken("t")
	c.put(c.key(s), s, &Token{}, head, nil, nil, now, now.Add(time.Minute), func() time.Time { return now })
	stopped := c.stopped
	c = nil // the cache is now unreachable
	_ = c
	deadline := time.Now().Add(10 * time.Second)
	for {
		runtime.GC()
		select {
		case <-stopped:
			return
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatal("the sweeper of an unreachable cache is still running")
		}
	}
}

// TestTokenCacheConcurrentPrincipals runs hits, misses, evictions, sweeps
// and handlers that scribble on their principals at once (run with -race):
// every principal must be what its token says.
func TestTokenCacheConcurrentPrincipals(t *testing.T) {
	a, _, clock, priv, _ := newCachedAuthenticator(t, 4)
	toks := make([]string, 8)
	for i := range toks {
		toks[i] = jwttest.Token("RS256", "k1", priv, cachedClaims(clock.now().Unix()+60, map[string]any{"sub": string(rune('a' + i))}))
	}
	var wg sync.WaitGroup
	for g := range 6 {
		wg.Go(func() {
			for i := range 40 {
				n := (g + i) % len(toks)
				p, err := a.Verify(context.Background(), toks[n])
				if err != nil || p.Subject != string(rune('a'+n)) || p.Claims.Map()["sub"] != p.Subject || p.Roles[0] != "a" ||
					p.Claims.Map()["nested"].(map[string]any)["x"].([]any)[0] != "y" {
					t.Errorf("Verify = %+v, %v", p, err)
					return
				}
				p.Scopes = []string{"x"}
				scribble(p)
			}
		})
	}
	wg.Go(func() {
		for range 20 {
			a.verifier.cache.sweep(clock.now())
		}
	})
	wg.Wait()
}

// BenchmarkCacheEntryMemory reports the heap each cache entry costs:
// 100,000 distinct tokens of the static benchmark's shape (iss, sub, two
// audiences, exp, iat, jti, azp, scope; header alg, kid, typ), decoded as
// Verify decodes them and stored with the principal a miss packs into
// the entry, then the live heap after a collection divided by the entries.
// The signature segments are distinct bytes of each algorithm's length:
// the cache never checks them again, so no signing is needed to fill it.
//
//	go test -run '^$' -bench CacheEntryMemory -benchtime 1x ./providers/
func BenchmarkCacheEntryMemory(b *testing.B) {
	const entries = 100_000
	for _, tc := range []struct {
		alg    string
		sigLen int
	}{{RS256, 256}, {ES256, 64}, {HS256, 32}} {
		b.Run("alg="+tc.alg, func(b *testing.B) {
			set, _ := NewStaticKeySet([]Key{SecretKey(make([]byte, 32))}, []string{HS256})
			now := time.Unix(1_800_000_000, 0)
			v, err := NewVerifier(VerifierConfig{Issuer: "https://issuer.test/", Audience: []string{"https://api.test"}, Algorithms: []string{HS256}, Keys: set, Now: func() time.Time { return now }, CacheSize: MaxCacheSize})
			if err != nil {
				b.Fatal(err)
			}
			a := NewTokenAuthenticator(v, Mapping{})
			header := b64(`{"alg":"` + tc.alg + `","kid":"k1","typ":"JWT"}`)
			sigBytes := make([]byte, tc.sigLen)
			sig := b64(string(sigBytes))
			var perEntry, readEntry float64
			for b.Loop() {
				runtime.GC()
				var before, after, read runtime.MemStats
				runtime.ReadMemStats(&before)
				for i := range entries {
					payload := fmt.Sprintf(`{"iss":"https://issuer.test/","sub":"auth0|5f7c8ec7c33c6c004bbafe82","aud":["https://api.test","https://issuer.test/userinfo"],"exp":%d,"iat":%d,"jti":"6c0e7a1d-6a5f-4a0b-9a41-%012d","azp":"VvQ8kZ3m1y2xJ4pL","scope":"openid profile email read:articles write:articles"}`, now.Unix()+3600, now.Unix(), i)
					binary.BigEndian.PutUint64(sigBytes[tc.sigLen-8:], uint64(i)*0x9E3779B97F4A7C15) // distinct, like real signatures
					sig := b64(string(sigBytes))
					token := header + "." + b64(payload) + "." + sig
					tok, h, _, buf, err := v.route(token, false)
					if err != nil {
						b.Fatal(err)
					}
					// As verifySigned does: the first token's header is
					// decoded and remembered, the others share it.
					if known := v.headers.lookup(header); known != nil {
						known.apply(tok)
					} else if _, err := v.decodeHeader(tok, h, buf); err != nil {
						b.Fatal(err)
					} else {
						v.headers.add(h, tok, nil) // the algorithm is not used here
					}
					if err := v.checkClaims(tok); err != nil {
						b.Fatal(err)
					}
					// As verifyCached does on a miss: the principal is built
					// and packed into the entry.
					v.cache.put(v.cache.key(token), token, tok, v.headers.lookup(header), a, a.Principal(tok), now, tok.ExpiresAt, v.now)
				}
				runtime.GC()
				runtime.ReadMemStats(&after)
				if n := v.cache.len(); n != entries {
					b.Fatalf("cache holds %d entries, want %d", n, entries)
				}
				perEntry = float64(after.HeapAlloc-before.HeapAlloc) / entries
				// Once something has read every entry's claims, they are
				// decoded and kept with the entries.
				v.cache.mu.RLock()
				for _, e := range v.cache.entries {
					e.claims.Members()
				}
				v.cache.mu.RUnlock()
				runtime.GC()
				runtime.ReadMemStats(&read)
				readEntry = float64(read.HeapAlloc-before.HeapAlloc) / entries
			}
			b.ReportMetric(perEntry, "B/entry")
			b.ReportMetric(readEntry, "B/entry-claims-read")
			b.ReportMetric(float64(len(header)+1+len(b64(`{"iss":"https://issuer.test/","sub":"auth0|5f7c8ec7c33c6c004bbafe82","aud":["https://api.test","https://issuer.test/userinfo"],"exp":1800003600,"iat":1800000000,"jti":"6c0e7a1d-6a5f-4a0b-9a41-000000000000","azp":"VvQ8kZ3m1y2xJ4pL","scope":"openid profile email read:articles write:articles"}`))+1+len(sig)), "token-bytes")
		})
	}
}

// compactToken returns a compact JWS of header {} whose payload and
// signature segments encode s, and its header entry: what the cache
// stores, for tests of the cache alone.
func compactToken(s string) (string, *headerEntry) {
	h := b64(`{}`)
	return h + "." + b64(s) + "." + b64(s), &headerEntry{segment: h, header: map[string]any{}}
}

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// TestAuthenticateBearerCharacters: Authenticate leaves the check of a
// bearer token's characters to the point after the cache lookup, so it
// must answer every header value exactly as BearerToken then Verify
// would, whether the token is cached or not: the same 400 for a value
// that is not a b64token (a changed character of a cached token included),
// named after the provider, and a verification error, never a 400, for a
// b64token that is not a valid JWT.
func TestAuthenticateBearerCharacters(t *testing.T) {
	cached, _, clock, cachedKey, _ := newCachedAuthenticator(t, 100)
	v, _, _, uncachedKey := newCachedVerifier(t, 0, 0)
	uncached := NewTokenAuthenticator(v, Mapping{})
	unsigned := NewTokenAuthenticator(v, Mapping{})
	unsigned.unsigned = true
	for _, tc := range []struct {
		name string
		a    *TokenAuthenticator
		tok  string
	}{
		{"cached", cached, jwttest.Token("RS256", "k1", cachedKey, cachedClaims(clock.now().Unix()+60, nil))},
		{"uncached", uncached, jwttest.Token("RS256", "k1", uncachedKey, cachedClaims(clock.now().Unix()+60, nil))},
		{"unsigned", unsigned, jwttest.B64([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + jwttest.B64(jwttest.JSON(cachedClaims(clock.now().Unix()+60, nil))) + "."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tok := tc.tok
			values := []string{tok, tok + "==", tok + "=", "=" + tok, "abc~def", "a+b/c", "a.b.c=", "é", ","}
			for _, c := range []string{",", "!", "\"", "\x7f", "\x00", "é", "=", "~", "+", "/", "%", "\\"} {
				for _, i := range []int{0, len(tok) / 3, len(tok) / 2, len(tok) - 1} {
					values = append(values, tok[:i]+c+tok[i+1:])
				}
				values = append(values, tok+c)
			}
			for round := range 2 { // the second once tok has been cached
				for _, value := range values {
					r := httptest.NewRequest(http.MethodGet, "/", nil)
					r.Header.Set("Authorization", "Bearer "+value)
					_, want := BearerToken(r)
					p, err := tc.a.Authenticate(r)
					if want != nil {
						var e *authgate.Error
						if !errors.Is(err, authgate.ErrMalformedRequest) || !errors.Is(err, errBearerCharset) || !errors.As(err, &e) || e.Provider != tc.a.mapping.Provider {
							t.Errorf("round %d: Authenticate(Bearer %.30q…) = %v, want BearerToken's %v from provider %q", round, value, err, want, tc.a.mapping.Provider)
						}
						continue
					}
					switch {
					case value == tok && err != nil:
						t.Errorf("round %d: Authenticate(the token) = %v, want a principal", round, err)
					case value != tok && err == nil:
						t.Errorf("round %d: Authenticate(Bearer %.30q…) = %+v, want an error", round, value, p)
					case errors.Is(err, authgate.ErrMalformedRequest):
						t.Errorf("round %d: Authenticate(Bearer %.30q…) = %v, a 400 for a b64token", round, value, err)
					}
				}
			}
		})
	}
}
