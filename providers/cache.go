package providers

import (
	"hash/maphash"
	"maps"
	"runtime"
	"sync"
	"time"
	"weak"

	"github.com/authgate/authgate"
)

// Bounds of the verified-token cache.
const (
	// DefaultCacheTTL is how long a verified token is remembered when
	// VerifierConfig.CacheTTL is 0.
	DefaultCacheTTL = 30 * time.Second
	// MaxCacheTTL is the longest CacheTTL a verifier accepts.
	MaxCacheTTL = 5 * time.Minute
	// MaxCacheSize is the largest CacheSize a verifier accepts: 2^20
	// (1,048,576) entries. An entry holds the token's signature segment,
	// its decoded claims' JSON and its packed principal, about 0.9 KB for a
	// typical 800-byte RS256 access token (see docs/BENCHMARKS.md), so the
	// largest cache stays within about 1 GB.
	MaxCacheSize = 1 << 20
)

// Background sweep of expired entries.
const (
	// sweepInterval is how often the sweeper looks for expired entries.
	sweepInterval = time.Second
	// sweepBatch is the least number of entries one sweep examines; a
	// sweep examines at most max(sweepBatch, len/sweepShare), so a full
	// cache is swept within about sweepShare ticks.
	sweepBatch = 4096
	sweepShare = 64
	// rebuildBelow: once the live entries fall below 1/rebuildBelow of the
	// most the map held, the map is rebuilt, since a Go map never gives
	// back the memory of its deleted slots.
	rebuildBelow = 8
	minRebuild   = 1024
)

// tokenCache remembers tokens that passed every check, so a token
// presented again skips decoding and the signature check.
//
// An entry is found by a keyed 64-bit hash of the compact token's length
// and signature tail (hash/maphash, with a seed of this cache's own; see
// key), and a hit requires the entry's stored token to equal the presented
// one byte for byte: a hash collision is a miss, never someone else's
// entry. Entries live until the
// earlier of the token's expiry (with the leeway) and the TTL; at most size
// entries are kept. Only verified tokens are stored, never failures.
//
// What an entry holds is never modified after it is stored (see
// cacheEntry): the claims' JSON, the signature segment and the principal
// of the authenticator that verified the token, packed into one byte
// string, and a shared protected header. A hit unpacks a new principal
// from it (the request's own); the claims are decoded on their first read
// and then shared, read-only, by every hit.
//
// Expired entries are removed by a background sweeper, started by the
// first insertion; it holds only a weak pointer to the cache and ends when
// the cache becomes unreachable (a cleanup closes its channel), so a cache
// needs no Close.
type tokenCache struct {
	ttl  time.Duration
	size int
	seed maphash.Seed

	mu      sync.RWMutex
	entries map[uint64]*cacheEntry
	peak    int // the most entries since the map was last built

	start   sync.Once
	stopped chan struct{} // closed when the sweeper ends (tests)
}

func newTokenCache(size int, ttl time.Duration) *tokenCache {
	return &tokenCache{ttl: ttl, size: size, seed: maphash.MakeSeed(),
		entries: make(map[uint64]*cacheEntry, min(size, 1024)), stopped: make(chan struct{})}
}

// key is the map key of token: a keyed hash of its length and its last
// keyTail bytes, which are in the signature segment (random-looking bytes
// that differ between any two tokens). It needs no more: a hit compares
// the whole token, so tokens sharing a key are two misses, never a
// mix-up.
func (c *tokenCache) key(token string) uint64 {
	tail := token[max(0, len(token)-keyTail):]
	return maphash.String(c.seed, tail) ^ uint64(len(token))*0x9E3779B97F4A7C15
}

// keyTail is how many of a token's last bytes its cache key hashes.
const keyTail = 32

// get returns the entry of token, if one is cached and still fresh at now.
func (c *tokenCache) get(key uint64, token string, now time.Time) (*cacheEntry, bool) {
	c.mu.RLock()
	e, ok := c.entries[key]
	c.mu.RUnlock()
	if !ok || !e.matches(token) {
		return nil, false
	}
	if now.UnixNano() >= e.expires {
		c.mu.Lock()
		if c.entries[key] == e {
			delete(c.entries, key)
		}
		c.mu.Unlock()
		return nil, false
	}
	return e, true
}

// put remembers token, which verified as t with the protected header
// head, until the earlier of expires and now+TTL, with the principal p
// that owner maps it to (both nil for none), and returns its entry (nil
// when it is already stale). The entry keeps neither t nor p itself (a
// principal it cannot pack is copied; see newCacheEntry). A full cache
// drops its expired entries, then arbitrary ones down to 7/8 of its size,
// so the scan happens at most once every size/8 insertions. clock is the
// verifier's, for the sweeper.
func (c *tokenCache) put(key uint64, token string, t *Token, head *headerEntry, owner *TokenAuthenticator, p *authgate.Principal, now, expires time.Time, clock func() time.Time) *cacheEntry {
	if limit := now.Add(c.ttl); limit.Before(expires) {
		expires = limit
	}
	if !now.Before(expires) {
		return nil
	}
	c.start.Do(func() { startSweeper(c, clock) })
	// The entry keeps none of the caller's string, which may be part of a
	// larger one (a header with other credentials).
	e := newCacheEntry(token, t, head, owner, p, expires.UnixNano())
	if e == nil {
		return nil
	}
	nowNano := now.UnixNano()
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= c.size {
		for k, old := range c.entries {
			if nowNano >= old.expires {
				delete(c.entries, k)
			}
		}
		for k := range c.entries {
			if len(c.entries) < c.size-c.size/8 {
				break
			}
			delete(c.entries, k) // map order is random: a random eviction
		}
	}
	c.entries[key] = e
	c.peak = max(c.peak, len(c.entries))
	return e
}

// sweep removes expired entries among at most max(sweepBatch,
// len/sweepShare) of them, starting at a random place (map iteration order
// is random), and reports how many it removed. The scan runs under the
// read lock, so hits go on meanwhile; only the deletions take the write
// lock. Once few entries remain of the most the map held, the map is
// rebuilt so that its memory follows the live entries.
func (c *tokenCache) sweep(now time.Time) int {
	nowNano := now.UnixNano()
	var stale []uint64
	c.mu.RLock()
	budget := max(sweepBatch, len(c.entries)/sweepShare)
	for k, e := range c.entries {
		if budget--; budget < 0 {
			break
		}
		if nowNano >= e.expires {
			stale = append(stale, k)
		}
	}
	c.mu.RUnlock()
	c.mu.Lock()
	defer c.mu.Unlock()
	removed := 0
	for _, k := range stale {
		if e, ok := c.entries[k]; ok && nowNano >= e.expires {
			delete(c.entries, k)
			removed++
		}
	}
	if c.peak >= minRebuild && len(c.entries) < c.peak/rebuildBelow {
		c.entries = maps.Clone(c.entries)
		c.peak = len(c.entries)
	}
	return removed
}

// startSweeper runs c.sweep every sweepInterval until c is unreachable.
// The goroutine keeps only a weak pointer to c, and a cleanup attached to
// c stops it as soon as the collector frees c.
func startSweeper(c *tokenCache, clock func() time.Time) {
	done := make(chan struct{})
	runtime.AddCleanup(c, func(done chan struct{}) { close(done) }, done)
	w := weak.Make(c)
	stopped := c.stopped
	go func() {
		defer close(stopped)
		tick := time.NewTicker(sweepInterval)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
			}
			c := w.Value()
			if c == nil {
				return
			}
			c.sweep(clock())
		}
	}()
}

func (c *tokenCache) len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.entries)
}

// copyPrincipal returns a copy of the template p that shares nothing
// mutable with it: the struct is copied, and Audience, Roles, Scopes and
// Permissions are copied into one new backing array (each list capped at
// its length, so an append to one reallocates instead of overwriting the
// next). Claims and Header are read-only Objects and are shared; strings
// are immutable and shared. What a caller does to its copy — assign
// fields, write list elements, append, change what Claims hands out — can
// therefore never reach the template or another request's copy. User is
// not copied: a template has none.
//
// The principal and up to principalInline list elements are one
// allocation.
func copyPrincipal(p *authgate.Principal) *authgate.Principal {
	n := len(p.Audience) + len(p.Roles) + len(p.Scopes) + len(p.Permissions)
	b := new(principalWithLists)
	out, buf := &b.p, b.lists[:0:min(n, principalInline)]
	if n > principalInline {
		buf = make([]string, 0, n)
	}
	// Field by field: the copy is new and zero, and assigning the whole
	// struct would copy every word through the write barrier's bulk path.
	out.Provider, out.Method, out.Subject, out.Issuer = p.Provider, p.Method, p.Subject, p.Issuer
	out.Email, out.Name, out.Tenant = p.Email, p.Name, p.Tenant
	out.Claims, out.Header = p.Claims, p.Header
	out.CredentialID, out.TokenID = p.CredentialID, p.TokenID
	out.ExpiresAt, out.IssuedAt = p.ExpiresAt, p.IssuedAt
	out.Audience, buf = carve(p.Audience, buf)
	out.Roles, buf = carve(p.Roles, buf)
	out.Scopes, buf = carve(p.Scopes, buf)
	out.Permissions, _ = carve(p.Permissions, buf)
	return out
}

// principalInline is how many list elements a principal keeps in its own
// allocation (Mapping.Principal and copyPrincipal).
const principalInline = 8

type principalWithLists struct {
	p     authgate.Principal
	lists [principalInline]string
}

// carve copies src to the front of buf's free capacity and returns the
// copy (capacity equal to its length; nil for a nil src) and the rest.
func carve(src, buf []string) (list, rest []string) {
	if src == nil {
		return nil, buf
	}
	buf = append(buf, src...)
	return buf[:len(src):len(src)], buf[len(src):]
}
