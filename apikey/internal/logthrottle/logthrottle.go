// Package logthrottle rate-limits repeated failure lines: the first line of
// a kind is written, identical ones in the following window are only
// counted, and the next one written after the window says how many were
// left out. It keeps the cause of a technical failure in the log without
// letting an outage write one line per request.
package logthrottle

import (
	"context"
	"log/slog"
	"sync"
	"time"
	"unicode/utf8"
)

// DefaultWindow is how long an identical line is held back after it was
// written.
const DefaultWindow = 10 * time.Second

// MaxCauseLength bounds the error text of one line, in bytes.
const MaxCauseLength = 512

// maxKinds bounds the distinct lines remembered, and so the lines written
// per window.
const maxKinds = 64

// Logger writes failure lines to an slog.Logger, at most one per window for
// each distinct message and cause. It is safe for concurrent use; a nil
// *Logger discards everything.
type Logger struct {
	logger *slog.Logger
	window time.Duration
	now    func() time.Time

	mu    sync.Mutex
	kinds map[kind]*state
	// other counts lines left out that no remembered kind counts: those
	// of a new kind while maxKinds are remembered, and those counted by a
	// kind forgotten before it was written again.
	other int
}

type kind struct {
	level slog.Level
	msg   string
	cause string
}

type state struct {
	written    time.Time // when the line was last written
	suppressed int       // identical lines left out since
}

// New returns a Logger writing to l with the given window (DefaultWindow
// when not positive) and clock (time.Now when nil).
func New(l *slog.Logger, window time.Duration, now func() time.Time) *Logger {
	if l == nil {
		l = slog.New(slog.DiscardHandler)
	}
	if window <= 0 {
		window = DefaultWindow
	}
	if now == nil {
		now = time.Now
	}
	return &Logger{logger: l, window: window, now: now, kinds: make(map[kind]*state)}
}

// Log writes msg at level with the cause's text, bounded to MaxCauseLength
// bytes, as "error" and attrs — unless an identical line was written less
// than a window ago, in which case it is only counted. Lines are
// identical when their level, message and cause match, with every run of
// digits in the cause taken as equal (an ephemeral port or an address
// does not make a new line); attrs do not count. A line written after
// identical ones were left out carries their number as "repeated"; lines
// left out because too many kinds were failing at once are counted as
// "repeated_other" on the next line written. The cause must not hold a
// credential: callers pass store and transport errors, never a key.
func (t *Logger) Log(ctx context.Context, level slog.Level, msg string, cause error, attrs ...slog.Attr) {
	if t == nil || !t.logger.Enabled(ctx, level) {
		return
	}
	text := ""
	if cause != nil {
		text = Truncate(cause.Error(), MaxCauseLength)
	}
	k := kind{level, msg, digitsFolded(text)}
	now := t.now()
	t.mu.Lock()
	s, ok := t.kinds[k]
	switch {
	case ok && now.Sub(s.written) < t.window:
		s.suppressed++
		t.mu.Unlock()
		return
	case !ok && len(t.kinds) >= maxKinds:
		t.evict(now)
		if len(t.kinds) >= maxKinds {
			t.other++
			t.mu.Unlock()
			return
		}
	}
	repeated := 0
	if ok {
		repeated = s.suppressed
		s.written, s.suppressed = now, 0
	} else {
		t.kinds[k] = &state{written: now}
	}
	other := t.other
	t.other = 0
	t.mu.Unlock()
	out := make([]slog.Attr, 0, len(attrs)+3)
	out = append(out, attrs...)
	if cause != nil {
		out = append(out, slog.String("error", text))
	}
	if repeated > 0 {
		out = append(out, slog.Int("repeated", repeated))
	}
	if other > 0 {
		out = append(out, slog.Int("repeated_other", other))
	}
	t.logger.LogAttrs(ctx, level, msg, out...)
}

// evict forgets the kinds whose window ended; what they had left out is
// counted in other.
func (t *Logger) evict(now time.Time) {
	for k, s := range t.kinds {
		if now.Sub(s.written) >= t.window {
			t.other += s.suppressed
			delete(t.kinds, k)
		}
	}
}

// digitsFolded returns s with every run of ASCII digits replaced by one
// '0'.
func digitsFolded(s string) string {
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= '0' && c <= '9' {
			if i > 0 && s[i-1] >= '0' && s[i-1] <= '9' {
				continue
			}
			c = '0'
		}
		b = append(b, c)
	}
	return string(b)
}

// Truncate returns s cut to at most n bytes on a rune boundary, marked with
// "…" when cut.
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
