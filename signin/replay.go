package signin

import (
	"sync"
	"time"
)

// usedStates remembers the states of finished callbacks until their login
// would have expired, so a replayed callback is refused even with the
// login cookie it came with.
type usedStates struct {
	mu   sync.Mutex
	seen map[string]time.Time // state → expiry
}

const maxUsedStates = 100_000

// use records state until expires; it reports false when state was used
// already.
func (u *usedStates) use(state string, now, expires time.Time) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	if _, ok := u.seen[state]; ok {
		return false
	}
	if len(u.seen) >= maxUsedStates {
		for s, exp := range u.seen {
			if !exp.After(now) {
				delete(u.seen, s)
			}
		}
	}
	if len(u.seen) >= maxUsedStates {
		// Full of live logins: forget one at random. The login cookie's
		// own expiry still bounds a replay of it.
		for s := range u.seen {
			delete(u.seen, s)
			break
		}
	}
	u.seen[state] = expires
	return true
}
