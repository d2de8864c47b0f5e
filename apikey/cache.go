package apikey

import (
	"sync"
	"time"

	"github.com/authgate/authgate"
)

// entry is a cached valid key: what a principal is built from.
type entry struct {
	id, subject, tenant  string
	roles, scopes        []string // owned by the entry, never handed out
	createdAt, expiresAt time.Time
	cachedUntil          time.Time
}

func newEntry(k Key, now time.Time, ttl time.Duration) *entry {
	until := now.Add(ttl)
	if !k.ExpiresAt.IsZero() && k.ExpiresAt.Before(until) {
		until = k.ExpiresAt
	}
	return &entry{
		id: k.ID, subject: k.Subject, tenant: k.Tenant,
		roles: cloneStrings(k.Roles), scopes: cloneStrings(k.Scopes),
		createdAt: k.CreatedAt, expiresAt: k.ExpiresAt,
		cachedUntil: until,
	}
}

// principal builds a fresh principal: two allocations at most, the
// principal and one backing array for roles and scopes, capacity-limited so
// that appending to one never writes into the other.
func (e *entry) principal(provider string) *authgate.Principal {
	p := &authgate.Principal{
		Provider:     provider,
		Method:       "apikey",
		Subject:      e.subject,
		Tenant:       e.tenant,
		CredentialID: e.id,
		ExpiresAt:    e.expiresAt,
		IssuedAt:     e.createdAt,
	}
	nr, ns := len(e.roles), len(e.scopes)
	if nr+ns > 0 {
		buf := make([]string, nr+ns)
		copy(buf, e.roles)
		copy(buf[nr:], e.scopes)
		if nr > 0 {
			p.Roles = buf[:nr:nr]
		}
		if ns > 0 {
			p.Scopes = buf[nr:]
		}
	}
	return p
}

// cache is a bounded map of valid keys by digest with a TTL per entry.
type cache struct {
	mu  sync.RWMutex
	m   map[Digest]*entry
	max int
	// gen counts evictions by ID (revocations) and purges, so that a
	// lookup that raced with one does not put the changed key back.
	gen uint64
}

func newCache(max int) *cache {
	return &cache{m: make(map[Digest]*entry), max: max}
}

// get returns the entry for d when it is still fresh at now, and the
// number of entries held.
func (c *cache) get(d Digest, now time.Time) (e *entry, size int, ok bool) {
	c.mu.RLock()
	e, size = c.m[d], len(c.m)
	c.mu.RUnlock()
	if e == nil || !now.Before(e.cachedUntil) {
		return nil, size, false
	}
	return e, size, true
}

// generation returns the eviction generation to pass to put.
func (c *cache) generation() uint64 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.gen
}

// put stores e unless an eviction by ID happened since generation gen was
// read, first dropping stale entries and then, when still full, one
// arbitrary entry.
func (c *cache) put(d Digest, e *entry, now time.Time, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen != gen {
		return
	}
	if _, ok := c.m[d]; !ok && len(c.m) >= c.max {
		for k, v := range c.m {
			if !now.Before(v.cachedUntil) {
				delete(c.m, k)
			}
		}
		for k := range c.m {
			if len(c.m) < c.max {
				break
			}
			delete(c.m, k)
		}
	}
	c.m[d] = e
}

func (c *cache) delete(d Digest) {
	c.mu.Lock()
	delete(c.m, d)
	c.mu.Unlock()
}

// evictID drops every entry of the key with that ID.
func (c *cache) evictID(id string) {
	c.evictIDs([]string{id})
}

// evictIDs drops every entry of the keys with those IDs, in one pass.
func (c *cache) evictIDs(ids []string) {
	c.mu.Lock()
	c.gen++
	for k, v := range c.m {
		for _, id := range ids {
			if v.id == id {
				delete(c.m, k)
				break
			}
		}
	}
	c.mu.Unlock()
}

// purge drops every entry, and a lookup that raced with it does not put
// its key back.
func (c *cache) purge() {
	c.mu.Lock()
	c.gen++
	clear(c.m)
	c.mu.Unlock()
}
