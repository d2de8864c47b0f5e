package main

import (
	"context"
	"errors"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/internal/adapter"
)

// Log rate limiting: a flood of identical failures (a client replaying a
// token with an unknown kid, a store that is down) is one line per
// logWindow, then one line with the count of those left out.
const (
	logWindow = 10 * time.Second
	// maxLogKeys bounds the distinct lines tracked in one window; a line
	// beyond them is written as it is.
	maxLogKeys = 1024
	// maxCause bounds the cause of a technical failure in a log line.
	maxCause = 256
)

// dedupHandler writes the first of identical records and counts the
// others for logWindow; when the window is over the count goes out as one
// record with the same message and attributes plus "repeated" (how many
// were left out) and "since" (the time of the first). Records are
// identical when their level, message and attributes are, the "cause" and
// "err" attributes aside (those may vary with the moment of a failure).
// Attributes added with WithAttrs or WithGroup are passed through unlimited.
type dedupHandler struct {
	next   slog.Handler
	window time.Duration
	now    func() time.Time

	mu    sync.Mutex
	seen  map[string]*dedupEntry
	stop  chan struct{}
	close sync.Once
}

type dedupEntry struct {
	first      time.Time
	record     slog.Record
	suppressed int
}

// newDedupHandler wraps next. With now nil it uses time.Now and flushes
// expired counts every window from a goroutine that Close stops.
func newDedupHandler(next slog.Handler, window time.Duration, now func() time.Time) *dedupHandler {
	h := &dedupHandler{next: next, window: window, now: now, seen: map[string]*dedupEntry{}, stop: make(chan struct{})}
	if now == nil {
		h.now = time.Now
		go h.loop()
	}
	return h
}

func (h *dedupHandler) loop() {
	t := time.NewTicker(h.window)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			h.flush(false)
		case <-h.stop:
			return
		}
	}
}

// Close writes the counts still pending and stops the flushing goroutine.
func (h *dedupHandler) Close() {
	h.close.Do(func() { close(h.stop) })
	h.flush(true)
}

// Enabled implements slog.Handler.
func (h *dedupHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.next.Enabled(ctx, l)
}

// WithAttrs implements slog.Handler (without rate limiting).
func (h *dedupHandler) WithAttrs(as []slog.Attr) slog.Handler { return h.next.WithAttrs(as) }

// WithGroup implements slog.Handler (without rate limiting).
func (h *dedupHandler) WithGroup(name string) slog.Handler { return h.next.WithGroup(name) }

// Handle implements slog.Handler.
func (h *dedupHandler) Handle(ctx context.Context, r slog.Record) error {
	key := dedupKey(r)
	now := h.now()
	var summary *dedupEntry
	h.mu.Lock()
	e := h.seen[key]
	switch {
	case e != nil && now.Sub(e.first) < h.window:
		e.suppressed++
		h.mu.Unlock()
		return nil
	case e != nil:
		if e.suppressed > 0 {
			summary = e
		}
		delete(h.seen, key)
	}
	if len(h.seen) >= maxLogKeys {
		h.expireLocked(now, nil)
	}
	if len(h.seen) < maxLogKeys {
		h.seen[key] = &dedupEntry{first: now, record: r.Clone()}
	}
	h.mu.Unlock()
	if summary != nil {
		h.next.Handle(ctx, summary.summary(now))
	}
	return h.next.Handle(ctx, r)
}

// flush writes the counts of the windows that are over, or of all with
// all set, and forgets their lines.
func (h *dedupHandler) flush(all bool) {
	var out []*dedupEntry
	h.mu.Lock()
	now := h.now()
	if all {
		now = now.Add(h.window)
	}
	h.expireLocked(now, &out)
	h.mu.Unlock()
	for _, e := range out {
		h.next.Handle(context.Background(), e.summary(h.now()))
	}
}

// expireLocked forgets the entries whose window is over at now, adding
// those with a count to out (when out is nil, counts are dropped).
func (h *dedupHandler) expireLocked(now time.Time, out *[]*dedupEntry) {
	for k, e := range h.seen {
		if now.Sub(e.first) < h.window {
			continue
		}
		if e.suppressed > 0 && out != nil {
			*out = append(*out, e)
		}
		delete(h.seen, k)
	}
}

func (e *dedupEntry) summary(now time.Time) slog.Record {
	r := slog.NewRecord(now, e.record.Level, e.record.Message, 0)
	e.record.Attrs(func(a slog.Attr) bool {
		if a.Key != "cause" && a.Key != "err" && a.Key != "stack" {
			r.AddAttrs(a)
		}
		return true
	})
	r.AddAttrs(slog.Int("repeated", e.suppressed), slog.Time("since", e.first))
	return r
}

func dedupKey(r slog.Record) string {
	var b strings.Builder
	b.WriteString(r.Level.String())
	b.WriteByte(0)
	b.WriteString(r.Message)
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "cause" || a.Key == "err" || a.Key == "stack" {
			return true
		}
		b.WriteByte(0)
		b.WriteString(a.Key)
		b.WriteByte('=')
		b.WriteString(a.Value.String())
		return true
	})
	return b.String()
}

// tokenLike finds what could be a JWT or a credential-shaped run of
// characters in an error's text.
var tokenLike = regexp.MustCompile(`eyJ[\w-]*\.[\w-]*\.?[\w-]*|[A-Za-z0-9_\-+/=]{32,}`)

// causeOf is the bounded cause of a technical failure for a log line: the
// error's text, anything shaped like a token replaced by "[redacted]",
// control characters replaced by spaces, cut at maxCause bytes. Errors in
// authgate never hold credentials; this guards against a dependency's
// error that echoes one.
func causeOf(err error) string {
	s := tokenLike.ReplaceAllString(err.Error(), "[redacted]")
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r >= 0x80 && r <= 0x9f {
			return ' '
		}
		return r
	}, s)
	if len(s) > maxCause {
		cut := maxCause
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}

// isTechnical reports whether err is a technical failure (503): its cause
// is worth logging, unlike a rejection's.
// A recovered panic is left to adapter.Config.LogFailure, which logs its
// stack.
func isTechnical(err error) bool {
	var pe *adapter.PanicError
	return errors.Is(err, authgate.ErrUnavailable) && !errors.As(err, &pe)
}
