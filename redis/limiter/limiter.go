// Package limiter is a failed-attempt limiter for API keys kept in Redis,
// so that every replica of a service counts one client's failures against
// one budget: set it as apikey.Config.Limiter.
//
// It keeps the contract of the in-memory limiter (apikey.Config.
// FailureLimit): a client's weighted failed attempts are counted in a
// fixed window that starts with its first failure, and once they reach
// Limit its further attempts are refused until the window ends. Counting
// is atomic in Redis (one script per failure), and each client costs one
// key that expires with its window, so memory is bounded by the clients
// that failed within one window. A client is stored by a hash of its name,
// never the name itself (an address is personal data).
package limiter

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/authgate/authgate/apikey"
	"github.com/redis/go-redis/v9"
)

// Defaults and bounds of Config.
const (
	DefaultPrefix = "authgate:limit:"
	DefaultWindow = time.Minute
)

// Config configures a Limiter. Client and Limit are required; every other
// zero field takes the documented default.
type Config struct {
	// Client is the Redis connection (any go-redis client, a Cluster
	// included: each client is one key).
	Client redis.UniversalClient
	// Limit is how many weighted failed attempts a client may make in one
	// Window, as apikey.Config.FailureLimit; it must be positive.
	Limit int
	// Window is the window Limit counts in; default one minute, within
	// [1 s, 1 h].
	Window time.Duration
	// Prefix starts every key of the limiter; default "authgate:limit:".
	// Limiters with another prefix count apart.
	Prefix string
}

// Limiter is a failed-attempt limiter in Redis. It implements
// apikey.Limiter and is safe for concurrent use.
type Limiter struct {
	client redis.UniversalClient
	limit  int64
	window int64 // milliseconds
	prefix string
}

var _ apikey.Limiter = (*Limiter)(nil)

// failScript adds a failure and starts the window with the client's first
// one, atomically: a key never lives without its expiry.
var failScript = redis.NewScript(`
local n = redis.call('INCRBY', KEYS[1], ARGV[1])
if redis.call('PTTL', KEYS[1]) < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return n
`)

// New returns a Limiter for cfg. It validates cfg and does no I/O.
func New(cfg Config) (*Limiter, error) {
	if cfg.Client == nil {
		return nil, errors.New("limiter: nil Redis client")
	}
	if cfg.Limit <= 0 {
		return nil, errors.New("limiter: limit must be positive")
	}
	switch {
	case cfg.Window == 0:
		cfg.Window = DefaultWindow
	case cfg.Window < time.Second || cfg.Window > time.Hour:
		return nil, errors.New("limiter: window must be within [1s, 1h]")
	}
	if cfg.Prefix == "" {
		cfg.Prefix = DefaultPrefix
	}
	if len(cfg.Prefix) > 128 || strings.ContainsAny(cfg.Prefix, "\r\n") {
		return nil, errors.New("limiter: prefix must be at most 128 bytes on one line")
	}
	return &Limiter{client: cfg.Client, limit: int64(cfg.Limit), window: cfg.Window.Milliseconds(), prefix: cfg.Prefix}, nil
}

// Blocked reports whether client's failed attempts reached the limit in
// its current window; one GET. It returns Redis's error when it cannot
// tell (the apikey Authenticator then answers 503).
func (l *Limiter) Blocked(ctx context.Context, client string) (bool, error) {
	n, err := l.client.Get(ctx, l.key(client)).Int64()
	switch {
	case errors.Is(err, redis.Nil):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("limiter: read count: %w", err)
	}
	return n >= l.limit, nil
}

// Failed adds a failed attempt of the given weight to client's count,
// starting its window when it is the first; one script call. A weight
// below one counts as one. It returns Redis's error.
func (l *Limiter) Failed(ctx context.Context, client string, weight int) error {
	weight = max(weight, 1)
	err := failScript.Run(ctx, l.client, []string{l.key(client)}, strconv.Itoa(weight), strconv.FormatInt(l.window, 10)).Err()
	if err != nil {
		return fmt.Errorf("limiter: count failure: %w", err)
	}
	return nil
}

// Reset forgets client's failed attempts (after an operator unblocked it,
// say). It returns Redis's error.
func (l *Limiter) Reset(ctx context.Context, client string) error {
	if err := l.client.Del(ctx, l.key(client)).Err(); err != nil {
		return fmt.Errorf("limiter: reset: %w", err)
	}
	return nil
}

// key is the client's key: the prefix and 128 bits of SHA-256 of its name.
func (l *Limiter) key(client string) string {
	sum := sha256.Sum256([]byte(client))
	return l.prefix + hex.EncodeToString(sum[:16])
}
