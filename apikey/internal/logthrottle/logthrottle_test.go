package logthrottle

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

type line struct {
	Msg      string `json:"msg"`
	Error    string `json:"error"`
	Repeated int    `json:"repeated"`
	Other    int    `json:"repeated_other"`
	Provider string `json:"provider"`
}

func lines(t *testing.T, b *bytes.Buffer) []line {
	t.Helper()
	var out []line
	for _, s := range strings.Split(strings.TrimSpace(b.String()), "\n") {
		if s == "" {
			continue
		}
		var l line
		if err := json.Unmarshal([]byte(s), &l); err != nil {
			t.Fatalf("log line %q: %v", s, err)
		}
		out = append(out, l)
	}
	return out
}

func TestLog(t *testing.T) {
	refused := errors.New("dial tcp 127.0.0.1:5432: connect: connection refused")
	timeout := errors.New("context deadline exceeded")
	type event struct {
		after time.Duration // since the previous event
		cause error
	}
	tests := []struct {
		name   string
		events []event
		want   []line
	}{
		{
			name:   "one failure is one line with its cause",
			events: []event{{0, refused}},
			want:   []line{{Msg: "store failed", Error: refused.Error()}},
		},
		{
			name:   "identical lines within the window are counted, then reported",
			events: []event{{0, refused}, {time.Second, refused}, {time.Second, refused}, {8 * time.Second, refused}},
			want:   []line{{Msg: "store failed", Error: refused.Error()}, {Msg: "store failed", Error: refused.Error(), Repeated: 2}},
		},
		{
			name:   "the window starts at the line written, not the last one left out",
			events: []event{{0, refused}, {9 * time.Second, refused}, {2 * time.Second, refused}},
			want:   []line{{Msg: "store failed", Error: refused.Error()}, {Msg: "store failed", Error: refused.Error(), Repeated: 1}},
		},
		{
			name: "causes differing in numbers only are one line",
			events: []event{{0, errors.New("read tcp 127.0.0.1:48148->127.0.0.1:5432: connection reset by peer")},
				{time.Second, errors.New("read tcp 127.0.0.1:50712->127.0.0.1:5432: connection reset by peer")},
				{10 * time.Second, errors.New("read tcp 127.0.0.1:3->127.0.0.1:5432: connection reset by peer")}},
			want: []line{{Msg: "store failed", Error: "read tcp 127.0.0.1:48148->127.0.0.1:5432: connection reset by peer"},
				{Msg: "store failed", Error: "read tcp 127.0.0.1:3->127.0.0.1:5432: connection reset by peer", Repeated: 1}},
		},
		{
			name:   "another cause is another line",
			events: []event{{0, refused}, {time.Second, timeout}, {time.Second, refused}},
			want:   []line{{Msg: "store failed", Error: refused.Error()}, {Msg: "store failed", Error: timeout.Error()}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			now := time.Unix(1_700_000_000, 0)
			l := New(slog.New(slog.NewJSONHandler(&b, nil)), 0, func() time.Time { return now })
			for _, e := range tt.events {
				now = now.Add(e.after)
				l.Log(context.Background(), slog.LevelWarn, "store failed", e.cause, slog.String("provider", "keys"))
			}
			got := lines(t, &b)
			if len(got) != len(tt.want) {
				t.Fatalf("wrote %d lines, want %d:\n%s", len(got), len(tt.want), b.String())
			}
			for i := range got {
				tt.want[i].Provider = "keys"
				if got[i] != tt.want[i] {
					t.Errorf("line %d = %+v, want %+v", i, got[i], tt.want[i])
				}
			}
		})
	}
}

// TestLogBounded: a long cause is cut, and many distinct causes cannot
// grow the memory without bound.
func TestLogBounded(t *testing.T) {
	var b bytes.Buffer
	l := New(slog.New(slog.NewJSONHandler(&b, nil)), time.Hour, nil)
	l.Log(context.Background(), slog.LevelWarn, "m", errors.New(strings.Repeat("é", 1000)))
	if got := lines(t, &b)[0].Error; len(got) > MaxCauseLength || !strings.HasSuffix(got, "…") {
		t.Errorf("cause of %d bytes written as %d bytes (%q…), want at most %d ending in …", 2000, len(got), got[:10], MaxCauseLength)
	}
	b.Reset()
	for i := range 10 * maxKinds {
		l.Log(context.Background(), slog.LevelWarn, "m", errors.New(strings.Repeat("x", i)))
	}
	if n := len(l.kinds); n > maxKinds {
		t.Errorf("remembers %d kinds, want at most %d", n, maxKinds)
	}
	if n := strings.Count(b.String(), "\n"); n > maxKinds {
		t.Errorf("%d distinct causes in one window wrote %d lines, want at most %d", 10*maxKinds, n, maxKinds)
	}
}

// TestLogOtherCounted: lines left out because too many kinds were
// remembered are counted on the next line written.
func TestLogOtherCounted(t *testing.T) {
	var b bytes.Buffer
	now := time.Unix(1_700_000_000, 0)
	l := New(slog.New(slog.NewJSONHandler(&b, nil)), 0, func() time.Time { return now })
	for i := range maxKinds + 5 {
		l.Log(context.Background(), slog.LevelWarn, "m", errors.New(strings.Repeat("x", i+1)))
	}
	now = now.Add(DefaultWindow)
	b.Reset()
	l.Log(context.Background(), slog.LevelWarn, "m", errors.New("new"))
	got := lines(t, &b)
	if len(got) != 1 || got[0].Other != 5 {
		t.Fatalf("after 5 lines over the bound: %+v, want one line with repeated_other 5", got)
	}
}

// TestLogConcurrent: under concurrent identical failures one line is
// written per window.
func TestLogConcurrent(t *testing.T) {
	var b safeBuffer
	l := New(slog.New(slog.NewJSONHandler(&b, nil)), time.Hour, nil)
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			for range 100 {
				l.Log(context.Background(), slog.LevelWarn, "m", errors.New("refused"))
			}
		})
	}
	wg.Wait()
	if n := strings.Count(b.String(), "\n"); n != 1 {
		t.Errorf("5000 identical failures wrote %d lines, want 1", n)
	}
}

func TestNilAndDisabled(t *testing.T) {
	var l *Logger
	l.Log(context.Background(), slog.LevelWarn, "m", errors.New("x")) // must not panic
	var b bytes.Buffer
	New(slog.New(slog.NewJSONHandler(&b, &slog.HandlerOptions{Level: slog.LevelError})), 0, nil).
		Log(context.Background(), slog.LevelWarn, "m", errors.New("x"))
	if b.Len() != 0 {
		t.Errorf("a Warn line below the handler's level was written: %q", b.String())
	}
}

type safeBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *safeBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *safeBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
