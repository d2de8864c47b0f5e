package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/authgate/authgate/apikey"
	"github.com/authgate/authgate/internal/jwttest"
)

// logLines decodes JSON log lines.
func logLines(t *testing.T, out string) []map[string]any {
	t.Helper()
	var lines []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if l == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line %q: %v", l, err)
		}
		lines = append(lines, m)
	}
	return lines
}

// count returns the lines with msg whose attributes hold want.
func count(lines []map[string]any, msg string, want map[string]any) []map[string]any {
	var out []map[string]any
	for _, l := range lines {
		if l["msg"] != msg {
			continue
		}
		ok := true
		for k, v := range want {
			if fmt.Sprint(l[k]) != fmt.Sprint(v) {
				ok = false
			}
		}
		if ok {
			out = append(out, l)
		}
	}
	return out
}

func TestDedupHandler(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var buf lockedBuffer
	h := newDedupHandler(slog.NewJSONHandler(&buf, nil), logWindow, func() time.Time { return now })
	l := slog.New(h)
	const msg = "authgate: authentication failed"
	for i := range 500 {
		l.Info(msg, "reason", "invalid_signature", "provider", "corp", "method", "GET")
		if i%100 == 0 {
			l.Warn(msg, "reason", "unavailable", "provider", "keys", "method", "GET", "cause", fmt.Sprintf("attempt %d refused", i))
		}
	}
	l.Info(msg, "reason", "expired", "provider", "corp", "method", "GET")
	lines := logLines(t, buf.String())
	if len(lines) != 3 {
		t.Fatalf("first window: %d lines, want 3 (one per provider and reason):\n%s", len(lines), buf.String())
	}
	if got := count(lines, msg, map[string]any{"reason": "unavailable", "cause": "attempt 0 refused"}); len(got) != 1 {
		t.Errorf("the first technical failure's cause is not logged:\n%s", buf.String())
	}

	// The next identical line after the window: the count, then the line.
	now = now.Add(logWindow)
	l.Info(msg, "reason", "invalid_signature", "provider", "corp", "method", "GET")
	lines = logLines(t, buf.String())
	rep := count(lines, msg, map[string]any{"reason": "invalid_signature", "repeated": 499})
	if len(rep) != 1 || len(count(lines, msg, map[string]any{"reason": "invalid_signature"})) != 3 {
		t.Errorf("after the window: want one count of 499 and the line again:\n%s", buf.String())
	}
	// Close writes the counts still pending: the unavailable line's.
	h.Close()
	lines = logLines(t, buf.String())
	if got := count(lines, msg, map[string]any{"reason": "unavailable", "repeated": 4}); len(got) != 1 || got[0]["level"] != "WARN" || got[0]["cause"] != nil {
		t.Errorf("Close: want the unavailable count of 4 at WARN without a cause:\n%s", buf.String())
	}
	if got := count(lines, msg, map[string]any{"reason": "expired"}); len(got) != 1 {
		t.Errorf("a line seen once is written once:\n%s", buf.String())
	}
}

// TestDedupHandlerBounded: past maxLogKeys distinct lines in a window,
// lines are written as they are (nothing is lost, memory stays bounded).
func TestDedupHandlerBounded(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var buf lockedBuffer
	h := newDedupHandler(slog.NewJSONHandler(&buf, nil), logWindow, func() time.Time { return now })
	l := slog.New(h)
	for i := range maxLogKeys + 10 {
		l.Info("m", "i", i)
		l.Info("m", "i", i)
	}
	if got, want := len(logLines(t, buf.String())), maxLogKeys+20; got != want {
		t.Errorf("%d lines, want %d", got, want)
	}
	if len(h.seen) > maxLogKeys {
		t.Errorf("%d lines tracked, want at most %d", len(h.seen), maxLogKeys)
	}
}

// TestServeLogFlood: a flood of forged tokens and of API keys while the
// store is down is one line per provider and reason, with a count when
// the generation closes; the store failure's cause is logged, bounded; no
// credential reaches the log.
func TestServeLogFlood(t *testing.T) {
	gf := newGateway(t, serveConfig)
	key := gf.issue(t, apikey.Key{Subject: "bot"})
	forged := jwttest.Token("RS256", "k1", jwttest.Key("RS256", "attacker"), map[string]any{"iss": testIssuer, "aud": testAudience, "sub": "admin", "tenant": "acme", "exp": time.Now().Add(time.Hour).Unix()})
	unknownKid := jwttest.Token("RS256", "rotated", jwttest.Key("RS256", "attacker"), map[string]any{"iss": testIssuer, "aud": testAudience, "sub": "admin", "tenant": "acme", "exp": time.Now().Add(time.Hour).Unix()})
	gf.g.byName["keys"].store.Close()
	const n = 200
	for range n {
		for _, h := range [][]string{{"Authorization", "Bearer " + forged}, {"Authorization", "Bearer " + unknownKid}, {"X-API-Key", key}} {
			gf.verify(t, "GET", "/verify", append(h, "X-Original-URI", "/orders/1")...)
		}
	}
	gf.srv.Config.Handler.(*handler).cur.Load().dedup.Close()
	out := gf.logs.String()
	lines := logLines(t, out)
	const msg = "authgate: authentication failed"
	failures := count(lines, msg, nil)
	// signature (forged and unknown kid alike), unavailable: each
	// once, and once more with its count.
	if len(failures) != 4 {
		t.Errorf("%d failure lines for %d failures, want 4:\n%s", len(failures), 3*n, out)
	}
	if got := count(lines, msg, map[string]any{"reason": "signature", "provider": "local", "repeated": 2*n - 1}); len(got) != 1 {
		t.Errorf("no count of %d invalid signatures:\n%s", 2*n-1, out)
	}
	down := count(lines, msg, map[string]any{"reason": "unavailable", "provider": "keys"})
	if len(down) != 2 {
		t.Fatalf("store failures: %d lines, want 2:\n%s", len(down), out)
	}
	cause, _ := down[0]["cause"].(string)
	if !strings.Contains(cause, "database is closed") || len(cause) > maxCause+len("…") {
		t.Errorf("cause = %q, want the store's error, at most %d bytes", cause, maxCause)
	}
	assertNoCredentials(t, "serve log", out, key)
}

func TestCauseOf(t *testing.T) {
	tok := jwttest.Token("RS256", "", jwttest.Key("RS256", "cmd"), map[string]any{"sub": "x"})
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"plain", errors.New("sqlstore: lookup: dial tcp 127.0.0.1:5432: connect: connection refused"), "sqlstore: lookup: dial tcp 127.0.0.1:5432: connect: connection refused"},
		{"a token echoed by a dependency", fmt.Errorf("upstream said: bad token %s", tok), "upstream said: bad token [redacted]"},
		{"control characters", errors.New("line\r\nbreak"), "line  break"},
		{"long", errors.New(strings.Repeat("é", maxCause)), strings.Repeat("é", maxCause/2) + "…"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := causeOf(tt.err); got != tt.want {
				t.Errorf("causeOf() = %q, want %q", got, tt.want)
			}
		})
	}
}
