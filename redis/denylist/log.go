package denylist

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// logWindow is the least time between two identical log lines.
const logWindow = 10 * time.Second

// throttledLog writes a line at most once per logWindow for one message
// and cause; the next line written says how many were left out.
type throttledLog struct {
	l   *slog.Logger
	now func() time.Time

	mu   sync.Mutex
	last map[string]logState // message and cause → state
}

type logState struct {
	at      time.Time
	skipped int
}

func newThrottledLog(l *slog.Logger, now func() time.Time) *throttledLog {
	return &throttledLog{l: l, now: now, last: map[string]logState{}}
}

// log writes msg at level with cause (which may be nil) and attrs, unless
// the same msg and cause were written less than logWindow ago.
func (t *throttledLog) log(ctx context.Context, level slog.Level, msg string, cause error, attrs ...slog.Attr) {
	if !t.l.Enabled(ctx, level) {
		return
	}
	key := msg
	if cause != nil {
		key += "\x00" + cause.Error()
	}
	now := t.now()
	t.mu.Lock()
	s, ok := t.last[key]
	if ok && now.Sub(s.at) < logWindow {
		s.skipped++
		t.last[key] = s
		t.mu.Unlock()
		return
	}
	if len(t.last) >= 64 {
		clear(t.last) // causes vary little; never let them grow
	}
	t.last[key] = logState{at: now}
	t.mu.Unlock()
	if cause != nil {
		attrs = append(attrs, slog.String("error", cause.Error()))
	}
	if s.skipped > 0 {
		attrs = append(attrs, slog.Int("repeated", s.skipped))
	}
	t.l.LogAttrs(ctx, level, msg, attrs...)
}
