package remote

import (
	"log/slog"
	"sync"
	"time"
	"unicode/utf8"
)

// Failure log bounds: a logged cause is cut to MaxLogCause bytes, and the
// same failure is written at most once per LogEvery.
const (
	MaxLogCause = 512
	LogEvery    = 10 * time.Second
)

// FailureLog writes the failed fetches of one provider to a logger at
// Warn, each with its cause (cut to MaxLogCause bytes). A failure identical
// to the last one written less than LogEvery ago is counted instead of
// written; the next line carries the count as "repeated" (or, when the
// failure changed, as "previous_repeated"). Recovered writes one Info line
// after failures. The zero value and a nil *FailureLog log nothing. It is
// safe for concurrent use.
type FailureLog struct {
	logger   *slog.Logger
	what     string
	provider string
	now      func() time.Time

	mu       sync.Mutex
	last     string // cause of the last line written; "" after recovery
	lastAt   time.Time
	repeated int
}

// NewFailureLog returns a FailureLog writing what+" failed" and what+"
// recovered" lines for provider to logger (nil: log nothing), rate-limited
// on the clock now (nil: time.Now).
func NewFailureLog(logger *slog.Logger, what, provider string, now func() time.Time) *FailureLog {
	if now == nil {
		now = time.Now
	}
	return &FailureLog{logger: logger, what: what, provider: provider, now: now}
}

// Log records one failed fetch.
func (l *FailureLog) Log(err error) {
	if l == nil || l.logger == nil || err == nil {
		return
	}
	cause := Truncate(err.Error(), MaxLogCause)
	l.mu.Lock()
	now := l.now()
	if cause == l.last && now.Sub(l.lastAt) < LogEvery {
		l.repeated++
		l.mu.Unlock()
		return
	}
	// The line is written under the lock, so that a failure counted as a
	// repeat of it is never seen before it (lines are rare: at most one
	// per cause and LogEvery).
	defer l.mu.Unlock()
	same, n := cause == l.last, l.repeated
	l.last, l.lastAt, l.repeated = cause, now, 0
	attrs := []any{"provider", l.provider, "err", cause}
	switch {
	case n > 0 && same:
		attrs = append(attrs, "repeated", n)
	case n > 0:
		attrs = append(attrs, "previous_repeated", n)
	}
	l.logger.Warn(l.what+" failed", attrs...)
}

// Recovered records a successful fetch: after failures it writes one Info
// line, with the count of failures not written since the last line.
func (l *FailureLog) Recovered() {
	if l == nil || l.logger == nil {
		return
	}
	l.mu.Lock()
	if l.last == "" {
		l.mu.Unlock()
		return
	}
	defer l.mu.Unlock()
	n := l.repeated
	l.last, l.lastAt, l.repeated = "", time.Time{}, 0
	attrs := []any{"provider", l.provider}
	if n > 0 {
		attrs = append(attrs, "previous_repeated", n)
	}
	l.logger.Info(l.what+" recovered", attrs...)
}

// Truncate cuts s to at most n bytes on a rune boundary, marking the cut
// with "…".
func Truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n - len("…")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
