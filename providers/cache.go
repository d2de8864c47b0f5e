package providers

import (
	"crypto/sha256"
	"maps"
	"sync"
	"time"

	"github.com/authgate/authgate/internal/bytesconv"
)

// Bounds of the verified-token cache.
const (
	// DefaultCacheTTL is how long a verified token is remembered when
	// VerifierConfig.CacheTTL is 0.
	DefaultCacheTTL = 30 * time.Second
	// MaxCacheTTL is the longest CacheTTL a verifier accepts.
	MaxCacheTTL = 5 * time.Minute
	// MaxCacheSize is the largest CacheSize a verifier accepts.
	MaxCacheSize = 1 << 20
)

// tokenCache remembers tokens that passed every check, keyed by the SHA-256
// of the compact token, so a token presented again skips decoding and the
// signature check. Entries live until the earlier of the token's expiry
// (with the leeway) and the TTL; at most size entries are kept. Only
// verified tokens are stored, never failures.
type tokenCache struct {
	ttl  time.Duration
	size int

	mu      sync.RWMutex
	entries map[[sha256.Size]byte]cacheEntry
}

type cacheEntry struct {
	token   *Token // never handed out: callers get deep copies
	expires time.Time
}

func newTokenCache(size int, ttl time.Duration) *tokenCache {
	return &tokenCache{ttl: ttl, size: size, entries: make(map[[sha256.Size]byte]cacheEntry, min(size, 1024))}
}

func cacheKey(token string) [sha256.Size]byte {
	return sha256.Sum256(bytesconv.Bytes(token))
}

// get returns a copy of the cached token, if one is cached and still fresh
// at now.
func (c *tokenCache) get(key [sha256.Size]byte, now time.Time) (*Token, bool) {
	c.mu.RLock()
	e, ok := c.entries[key]
	c.mu.RUnlock()
	if !ok {
		return nil, false
	}
	if !now.Before(e.expires) {
		c.mu.Lock()
		if cur, ok := c.entries[key]; ok && cur.expires.Equal(e.expires) {
			delete(c.entries, key)
		}
		c.mu.Unlock()
		return nil, false
	}
	return e.token.clone(), true
}

// put remembers t until the earlier of expires and now+TTL. A full cache
// drops its expired entries, then arbitrary ones down to 7/8 of its size, so
// the scan happens at most once every size/8 insertions.
func (c *tokenCache) put(key [sha256.Size]byte, t *Token, now, expires time.Time) {
	if limit := now.Add(c.ttl); limit.Before(expires) {
		expires = limit
	}
	if !now.Before(expires) {
		return
	}
	e := cacheEntry{token: t.clone(), expires: expires}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= c.size {
		for k, old := range c.entries {
			if !now.Before(old.expires) {
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
}

func (c *tokenCache) len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.entries)
}

// clone returns a deep copy of t, so that no caller can change what
// another request (or the cache) sees.
func (t *Token) clone() *Token {
	cp := *t
	cp.Header = cloneObject(t.Header)
	cp.Claims = cloneObject(t.Claims)
	if t.Audience != nil {
		cp.Audience = append([]string(nil), t.Audience...)
	}
	return &cp
}

func cloneObject(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	out := maps.Clone(m)
	for k, v := range out {
		out[k] = cloneValue(v)
	}
	return out
}

func cloneValue(v any) any {
	switch x := v.(type) {
	case map[string]any:
		return cloneObject(x)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = cloneValue(e)
		}
		return out
	}
	return v // strings, numbers, booleans and nil are immutable
}
