package apikey

import (
	"net"
	"net/http"
	"sync"
	"time"
)

// Bounds of the failed-attempt limiter.
const (
	// DefaultFailureWindow is Config.FailureWindow's default.
	DefaultFailureWindow = time.Minute
	// maxLimitedClients bounds the clients the limiter remembers.
	maxLimitedClients = 100_000
)

// Weights of a failed attempt: a key with a valid checksum that the store
// does not know (or that is revoked or expired) is a targeted guess and
// cost a lookup, so it counts more than a typo.
const (
	weightBadFormat = 1
	weightLookedUp  = 2
)

// failureLimiter counts failed attempts per client in fixed windows and
// refuses a client whose count reached the limit until its window ends.
// It is bounded in memory: when full it forgets ended windows first, then
// arbitrary clients (which can only make it more lenient, never refuse a
// client that made no failed attempt).
type failureLimiter struct {
	limit  int
	window time.Duration

	mu      sync.Mutex
	clients map[string]*failureWindow
}

type failureWindow struct {
	start time.Time
	count int
}

func newFailureLimiter(limit int, window time.Duration) *failureLimiter {
	return &failureLimiter{limit: limit, window: window, clients: make(map[string]*failureWindow)}
}

// blocked reports whether client has used up its failures in the current
// window.
func (l *failureLimiter) blocked(client string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	w, ok := l.clients[client]
	if !ok {
		return false
	}
	if !now.Before(w.start.Add(l.window)) {
		delete(l.clients, client)
		return false
	}
	return w.count >= l.limit
}

// fail records a failed attempt of the given weight.
func (l *failureLimiter) fail(client string, weight int, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	w, ok := l.clients[client]
	if ok && !now.Before(w.start.Add(l.window)) {
		ok = false
	}
	if !ok {
		if len(l.clients) >= maxLimitedClients {
			l.evict(now)
		}
		w = &failureWindow{start: now}
		l.clients[client] = w
	}
	w.count += weight
}

func (l *failureLimiter) evict(now time.Time) {
	for c, w := range l.clients {
		if !now.Before(w.start.Add(l.window)) {
			delete(l.clients, c)
		}
	}
	for c := range l.clients {
		if len(l.clients) < maxLimitedClients-maxLimitedClients/8 {
			return
		}
		delete(l.clients, c)
	}
}

// RemoteIP is the default Config.ClientIP: the host of r.RemoteAddr without
// its port, so that every connection from one address shares one budget
// (r.RemoteAddr itself when it has no port). A custom ClientIP that reads
// a header the proxy sets should fall back to it when the header is
// absent, never to r.RemoteAddr with its port: a client could otherwise
// reconnect from a fresh port for a fresh budget.
func RemoteIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
