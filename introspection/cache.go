package introspection

import (
	"crypto/sha256"
	"slices"
	"sync"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/providers"
)

// cache remembers active answers, keyed by the SHA-256 of the token (map
// keys compare all 32 bytes exactly), until the earlier of the answer's exp
// and the TTL; at most size entries are kept. Inactive answers and
// failures are never stored.
type cache struct {
	ttl  time.Duration
	size int

	mu      sync.RWMutex
	entries map[[sha256.Size]byte]entry
}

type entry struct {
	token   *providers.Token // never handed out: callers get copies (see share)
	expires time.Time
}

func newCache(size int, ttl time.Duration) *cache {
	return &cache{ttl: ttl, size: size, entries: make(map[[sha256.Size]byte]entry, min(size, 1024))}
}

// get returns the cached answer (see share), if one is cached and still
// fresh at now.
func (c *cache) get(key [sha256.Size]byte, now time.Time) (*providers.Token, bool) {
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
	return share(e.token), true
}

// put remembers t until the earlier of exp and now+TTL. A full cache drops
// its expired entries, then arbitrary ones down to 7/8 of its size.
func (c *cache) put(key [sha256.Size]byte, t *providers.Token, now, exp time.Time) {
	expires := exp
	if limit := now.Add(c.ttl); limit.Before(expires) {
		expires = limit
	}
	if !now.Before(expires) {
		return
	}
	e := entry{token: clone(t), expires: expires}
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

func (c *cache) len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.entries)
}

// clone returns a deep copy of t for the cache: the caller keeps t.
func clone(t *providers.Token) *providers.Token {
	cp := *t
	cp.Claims = authgate.AdoptObject(t.Claims).Map() // Map copies
	cp.Audience = slices.Clone(t.Audience)
	return &cp
}

// share returns what a hit hands out: the cached token's claims, which are
// read-only (a Token's Claims are never modified, and a principal reads
// them through an authgate.Object), with a struct and an audience of the
// caller's own, since a principal's Audience is the token's list.
func share(t *providers.Token) *providers.Token {
	cp := *t
	cp.Audience = slices.Clone(t.Audience)
	return &cp
}
