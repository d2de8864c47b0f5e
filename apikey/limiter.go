package apikey

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/authgate/authgate"
)

// Limiter is a failed-attempt limiter kept outside the process (in Redis,
// say), so that every replica of a service counts against one budget per
// client instead of each its own. Set it as Config.Limiter; without it the
// Authenticator uses its in-memory limiter (Config.FailureLimit).
//
// The Authenticator calls Blocked before it looks at a request's key, and
// Failed after an attempt failed, with weight 1 for a malformed or mistyped
// key and 2 for a key with a valid checksum that the store does not know or
// that is revoked or expired. A Limiter refuses a client whose weighted
// failures reached its limit until its window ends, as the in-memory one
// does. The contexts carry Config.LookupTimeout. Implementations must be
// safe for concurrent use.
//
// A Limiter that cannot answer fails closed: an error from Blocked makes
// the request an authgate.ErrUnavailable (503), its key not looked at. An
// error from Failed is logged (Config.Logger) and the request keeps its
// 401: the attempt has already been answered, and a client cannot make
// another while Blocked keeps failing.
type Limiter interface {
	// Blocked reports whether client has used up its failed attempts in
	// its current window, or the error that kept the limiter from knowing.
	Blocked(ctx context.Context, client string) (bool, error)
	// Failed records a failed attempt of client with the given weight (1
	// or 2), and returns the error that kept it from being recorded.
	Failed(ctx context.Context, client string, weight int) error
}

var errLimiterUnavailable = errors.New("apikey: failed-attempt limiter unavailable")

// useLimiter sets up the failed-attempt limiter of cfg on a: the shared
// one when cfg.Limiter is set, the in-memory one when cfg.FailureLimit is
// positive. Both at once is an error: the shared limiter has its own
// limit, and two budgets would leave one of them unenforced unnoticed.
func (a *Authenticator) useLimiter(cfg Config) error {
	switch {
	case cfg.Limiter != nil && cfg.FailureLimit > 0:
		return errors.New("apikey: failure limit and limiter are exclusive: set the limit on the limiter")
	case cfg.Limiter != nil:
		a.shared = cfg.Limiter
		a.clientIP = cfg.ClientIP
	case cfg.FailureLimit > 0:
		a.limiter = newFailureLimiter(cfg.FailureLimit, cfg.FailureWindow)
		a.clientIP = cfg.ClientIP
	}
	return nil
}

// limited reports whether a limits failed attempts at all.
func (a *Authenticator) limited() bool { return a.limiter != nil || a.shared != nil }

// blocked reports whether client is refused by the limiter, or returns the
// ErrUnavailable error of a shared limiter that could not answer.
func (a *Authenticator) blocked(ctx context.Context, client string, now time.Time) (bool, error) {
	if a.shared == nil {
		return a.limiter.blocked(client, now), nil
	}
	lctx, cancel := context.WithTimeout(ctx, a.lookupTimeout)
	blocked, err := a.shared.Blocked(lctx, client)
	cancel()
	if err != nil {
		if ctx.Err() == nil {
			a.storeLog.Log(ctx, slog.LevelWarn, "apikey: failed-attempt limiter failed", err, slog.String("provider", a.name))
		}
		return false, a.fail(authgate.ErrUnavailable, fmt.Errorf("%w: %w", errLimiterUnavailable, err))
	}
	return blocked, nil
}

// failed counts a failed attempt of client, when a limiter is on.
func (a *Authenticator) failed(ctx context.Context, client string, weight int, now time.Time) {
	switch {
	case a.shared != nil:
		lctx, cancel := context.WithTimeout(ctx, a.lookupTimeout)
		err := a.shared.Failed(lctx, client, weight)
		cancel()
		if err != nil && ctx.Err() == nil {
			a.storeLog.Log(ctx, slog.LevelWarn, "apikey: failed-attempt limiter failed", err, slog.String("provider", a.name))
		}
	case a.limiter != nil:
		a.limiter.fail(client, weight, now)
	}
}
