// Package denylist is a deny-list shared by every replica of a service
// through Redis: it refuses one token by its jti, every token of a subject
// issued before a time ("log this user out everywhere"), and one API key by
// its ID, before those credentials would expire on their own.
//
// Each entry is a Redis key whose TTL ends when what it denies would have
// expired, so the list cleans itself. Every replica keeps a copy of the
// list in memory, loaded in full when it subscribes to the list's channel
// and kept current by the messages published with every new entry: a check
// costs no round trip, and a new entry reaches every replica within
// milliseconds. [List.Guard] puts the check behind any authenticator, run
// on every request, so a provider's cache of verified tokens can never
// serve a denied one.
//
// When Redis cannot be reached the copy may miss new entries. By default
// the list then fails closed: once the copy has not been confirmed current
// for Config.Grace, every request it guards is authgate.ErrUnavailable
// (503). Config.InsecureFailOpen keeps serving the last known list instead.
//
// Redis holds no token: only jtis, subjects, provider names and key IDs,
// which are identifiers, not secrets. Errors and log lines never hold them.
// Entries must outlive a restart of Redis for the list to keep its
// promise: run it with persistence (appendonly yes).
package denylist

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/authgate/authgate"
	"github.com/redis/go-redis/v9"
)

// Defaults and bounds of Config.
const (
	DefaultName      = "denylist"
	DefaultPrefix    = "authgate:deny:"
	DefaultHeartbeat = time.Second
	DefaultGrace     = 3 * time.Second
	// MaxTTL bounds how long one entry may live.
	MaxTTL = 366 * 24 * time.Hour
	// maxIDLen bounds a jti, subject, provider or key ID.
	maxIDLen = 1024
)

// Config configures a List. Client is required; every other zero field
// takes the documented default.
type Config struct {
	// Client is the Redis connection (a *redis.Client, or a failover
	// client for Sentinel). A Redis Cluster is not supported: the list
	// scans its keys on one node.
	Client redis.UniversalClient
	// Name is the provider name of the list's events and log lines;
	// default "denylist".
	Name string
	// Prefix starts every key of the list and the name of its channel
	// ("<Prefix>events"); default "authgate:deny:". Lists with another
	// prefix are independent. It must not contain glob characters.
	Prefix string
	// Heartbeat is how long the subscription may stay silent before it is
	// pinged, and how long a ping may wait for its answer before the
	// connection counts as lost; default one second, within [10 ms, 1 min].
	Heartbeat time.Duration
	// Grace is how long the in-memory copy is trusted after it was last
	// confirmed current (by a message or a ping's answer on the
	// subscription); past it, checks fail with authgate.ErrUnavailable
	// unless InsecureFailOpen is set. Default 3 s; at least twice
	// Heartbeat, at most 10 min. It bounds how late a replica whose
	// connection broke may learn of a new entry.
	Grace time.Duration
	// InsecureFailOpen, when true, keeps checking against the last known
	// list while Redis cannot be reached, for as long as it takes, instead
	// of refusing requests after Grace. Entries added meanwhile are NOT
	// seen until the subscription is back: a token denied during an outage
	// keeps working on every replica that lost its connection. Set it only
	// where availability MUST win over revocation.
	InsecureFailOpen bool
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Logger receives, at Warn, why the subscription was lost or could not
	// be established, and at Info its return; an identical line is written
	// at most once per 10 s, the next one saying how many were left out.
	// Default: discard.
	Logger *slog.Logger
	// Observer, if set, receives an authgate.EventSubscription with
	// Provider Name each time the subscription is established and the list
	// loaded (OutcomeOK, with the time the load took), and each time it is
	// lost or cannot be established after having been up or at the first
	// try (OutcomeError, Reason "unavailable").
	Observer authgate.Observer
}

// List is a deny-list shared through Redis. It is safe for concurrent use.
// Its in-memory copy is kept current by a background goroutine that
// [List.Start] (or the first [List.Guard]) starts and [List.Close] stops.
type List struct {
	client    redis.UniversalClient
	name      string
	prefix    string
	channel   string
	heartbeat time.Duration
	grace     int64 // nanoseconds
	failOpen  bool
	now       func() time.Time
	log       *throttledLog
	observer  authgate.Observer

	// confirmed is when the copy was last known current (Unix
	// nanoseconds of now()); 0 before the first load.
	confirmed atomic.Int64

	mu       sync.RWMutex
	tokens   map[string]int64     // jti → until (Unix ms)
	keys     map[string]int64     // key ID → until
	subjects map[subjectKey]entry // provider and subject → before, until

	swept time.Time // last sweep; touched by the run goroutine only

	startOnce sync.Once
	cancel    context.CancelFunc
	done      chan struct{}
	ready     chan struct{} // closed after the first load
	readyOnce sync.Once
}

type subjectKey struct{ provider, subject string }

// entry is one deny entry: what it denies was issued before before (for
// a subject; zero otherwise), and it ends at until. Both are Unix ms.
type entry struct{ before, until int64 }

// Errors of the checks. They never hold the jti, subject or key ID.
var (
	errDenied = errors.New("denylist: credential denied")
	errStale  = errors.New("denylist: deny-list not confirmed current within its grace")
)

// New returns a List for cfg. It validates cfg, does no I/O and starts no
// goroutine: call Start, or Guard, to start following the list.
func New(cfg Config) (*List, error) {
	if cfg.Client == nil {
		return nil, errors.New("denylist: nil Redis client")
	}
	if _, ok := cfg.Client.(*redis.ClusterClient); ok {
		return nil, errors.New("denylist: Redis Cluster is not supported")
	}
	if cfg.Name == "" {
		cfg.Name = DefaultName
	}
	if cfg.Prefix == "" {
		cfg.Prefix = DefaultPrefix
	}
	if strings.ContainsAny(cfg.Prefix, "*?[]\\") || len(cfg.Prefix) > 128 {
		return nil, errors.New("denylist: prefix must be at most 128 bytes without glob characters")
	}
	switch {
	case cfg.Heartbeat == 0:
		cfg.Heartbeat = DefaultHeartbeat
	case cfg.Heartbeat < 10*time.Millisecond || cfg.Heartbeat > time.Minute:
		return nil, errors.New("denylist: heartbeat must be within [10ms, 1m]")
	}
	switch {
	case cfg.Grace == 0:
		cfg.Grace = max(DefaultGrace, 2*cfg.Heartbeat)
	case cfg.Grace < 2*cfg.Heartbeat || cfg.Grace > 10*time.Minute:
		return nil, errors.New("denylist: grace must be at least twice the heartbeat and at most 10m")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &List{
		client:    cfg.Client,
		name:      cfg.Name,
		prefix:    cfg.Prefix,
		channel:   cfg.Prefix + "events",
		heartbeat: cfg.Heartbeat,
		grace:     int64(cfg.Grace),
		failOpen:  cfg.InsecureFailOpen,
		now:       cfg.Now,
		log:       newThrottledLog(cfg.Logger, cfg.Now),
		observer:  cfg.Observer,
		tokens:    map[string]int64{},
		keys:      map[string]int64{},
		subjects:  map[subjectKey]entry{},
		ready:     make(chan struct{}),
	}, nil
}

// Guard decorates a with the deny-list check, run after a authenticated a
// request, on every request (a cached credential included): a denied
// credential is authgate.ErrRevoked (401, reason "revoked"), and a list
// not confirmed current within Config.Grace is authgate.ErrUnavailable
// (503) unless Config.InsecureFailOpen is set. Errors name the provider
// that authenticated the request. The result describes itself as a does.
// Guard starts the list (see Start); it panics if a is nil, as
// authgate.Check does.
func (l *List) Guard(a authgate.Authenticator) authgate.Authenticator {
	var schemes []string
	if d, ok := a.(authgate.Describer); ok && d.Describe().Scheme != "" {
		schemes = []string{d.Describe().Scheme}
	}
	g := authgate.Check(a, func(_ *http.Request, p *authgate.Principal) error {
		switch err := l.Check(p); {
		case errors.Is(err, errDenied):
			return &authgate.Error{Kind: authgate.ErrRevoked, Code: "invalid_token", Schemes: schemes, Err: errDenied}
		case err != nil:
			return &authgate.Error{Kind: authgate.ErrUnavailable, Schemes: schemes, Err: errStale}
		}
		return nil
	})
	l.Start()
	return g
}

// Check reports whether p is denied: nil when it is not, an error wrapping
// authgate.ErrRevoked when its TokenID, its CredentialID, or its Provider
// and Subject with an IssuedAt before the subject's entry (or no IssuedAt
// at all) are denied, and one wrapping authgate.ErrUnavailable when the
// in-memory copy was not confirmed current within Config.Grace (unless
// Config.InsecureFailOpen is set). It does no I/O; p must not be nil.
func (l *List) Check(p *authgate.Principal) error {
	now := l.now()
	if !l.failOpen && now.UnixNano()-l.confirmed.Load() > l.grace {
		return fmt.Errorf("%w: %w", authgate.ErrUnavailable, errStale)
	}
	if l.denied(p, now.UnixMilli()) {
		return fmt.Errorf("%w: %w", authgate.ErrRevoked, errDenied)
	}
	return nil
}

func (l *List) denied(p *authgate.Principal, nowMs int64) bool {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if p.TokenID != "" {
		if until, ok := l.tokens[p.TokenID]; ok && nowMs < until {
			return true
		}
	}
	if p.CredentialID != "" {
		if until, ok := l.keys[p.CredentialID]; ok && nowMs < until {
			return true
		}
	}
	if len(l.subjects) > 0 {
		if e, ok := l.subjects[subjectKey{p.Provider, p.Subject}]; ok && nowMs < e.until {
			// A credential without an issue time cannot prove it came
			// after the entry: deny it.
			if p.IssuedAt.IsZero() || p.IssuedAt.UnixMilli() < e.before {
				return true
			}
		}
	}
	return false
}

// Fresh reports whether the in-memory copy was confirmed current within
// Config.Grace: false before the first load and while Redis is out of
// reach for longer than that. Checks fail closed when it is false, unless
// Config.InsecureFailOpen is set.
func (l *List) Fresh() bool {
	return l.now().UnixNano()-l.confirmed.Load() <= l.grace
}
