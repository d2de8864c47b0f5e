package denylist

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// TestThrottledLog: an identical line is written at most once per
// window, the next one saying how many were left out.
func TestThrottledLog(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	var buf bytes.Buffer
	l := newThrottledLog(slog.New(slog.NewTextHandler(&buf, nil)), func() time.Time { return now })
	cause := errors.New("dial tcp 127.0.0.1:6379: connect: connection refused")
	for range 100 {
		l.log(context.Background(), slog.LevelWarn, "denylist: subscription lost", cause)
		now = now.Add(10 * time.Millisecond)
	}
	l.log(context.Background(), slog.LevelWarn, "denylist: subscription lost", errors.New("another cause"))
	now = now.Add(logWindow)
	l.log(context.Background(), slog.LevelWarn, "denylist: subscription lost", cause)
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("wrote %d lines, want 3:\n%s", len(lines), buf.String())
	}
	if !strings.Contains(lines[0], "connection refused") || strings.Contains(lines[0], "repeated") {
		t.Errorf("first line = %q, want the cause and no count", lines[0])
	}
	if !strings.Contains(lines[1], "another cause") {
		t.Errorf("second line = %q, want the other cause", lines[1])
	}
	if !strings.Contains(lines[2], "repeated=99") {
		t.Errorf("last line = %q, want repeated=99", lines[2])
	}
}
