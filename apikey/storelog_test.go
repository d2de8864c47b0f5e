package apikey_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/apikey"
)

// TestStoreFailureLogged: a failing store's cause reaches the log at Warn,
// with the provider, once per 10 s however many requests fail, and the next
// line says how many were left out; the key never does.
func TestStoreFailureLogged(t *testing.T) {
	var logs syncBuffer
	logger := slog.New(slog.NewJSONHandler(&logs, nil))
	f := newFixture(t, apikey.Config{Name: "keys", Logger: logger, CacheTTL: -1, LastUsedInterval: -1})
	key, _ := f.issue(t, apikey.Key{})
	f.store.failLookup.Store(true)
	fail := func(n int) {
		t.Helper()
		for range n {
			if _, err := f.auth.Authenticate(withKey(key)); !errors.Is(err, authgate.ErrUnavailable) {
				t.Fatalf("Authenticate(store down) = %v, want ErrUnavailable", err)
			}
		}
	}
	fail(1000)
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	if len(lines) != 1 {
		t.Fatalf("1000 failures in one instant wrote %d lines, want 1:\n%s", len(lines), logs.String())
	}
	for _, want := range []string{`"level":"WARN"`, `"msg":"apikey: store lookup failed"`, `"provider":"keys"`, `connection refused`} {
		if !strings.Contains(lines[0], want) {
			t.Errorf("log line %s lacks %s", lines[0], want)
		}
	}
	f.clock.Add(9 * time.Second)
	fail(10)
	if n := strings.Count(logs.String(), "\n"); n != 1 {
		t.Fatalf("within 10 s of the first line: %d lines, want 1", n)
	}
	f.clock.Add(time.Second)
	fail(1)
	lines = strings.Split(strings.TrimSpace(logs.String()), "\n")
	if len(lines) != 2 || !strings.Contains(lines[1], `"repeated":1009`) {
		t.Fatalf("after 10 s: lines %q, want a second one with repeated 1009", lines)
	}
	if strings.Contains(logs.String(), strings.TrimPrefix(key, "sk_live_")[:20]) {
		t.Fatal("the log holds key material")
	}
}

// TestStoreFailureOfGoneClientNotLogged: a lookup cut short because the
// client went away is no store failure and writes no line.
func TestStoreFailureOfGoneClientNotLogged(t *testing.T) {
	var logs syncBuffer
	f := newFixture(t, apikey.Config{Logger: slog.New(slog.NewJSONHandler(&logs, nil)), CacheTTL: -1})
	key, _ := f.issue(t, apikey.Key{})
	f.store.slowLookup.Store(true)
	ctx, cancel := context.WithCancel(context.Background())
	r := withKey(key).WithContext(ctx)
	time.AfterFunc(10*time.Millisecond, cancel)
	if _, err := f.auth.Authenticate(r); !errors.Is(err, authgate.ErrUnavailable) {
		t.Fatalf("Authenticate(client gone) = %v, want ErrUnavailable", err)
	}
	if logs.String() != "" {
		t.Errorf("a cancelled request was logged as a store failure: %s", logs.String())
	}
	// The test can fail: the same lookup timing out is logged.
	f2 := newFixture(t, apikey.Config{Logger: slog.New(slog.NewJSONHandler(&logs, nil)), CacheTTL: -1, LookupTimeout: 10 * time.Millisecond})
	f2.store.slowLookup.Store(true)
	if _, err := f2.auth.Authenticate(withKey(key)); !errors.Is(err, authgate.ErrUnavailable) {
		t.Fatalf("Authenticate(lookup timeout) = %v, want ErrUnavailable", err)
	}
	if !strings.Contains(logs.String(), "context deadline exceeded") {
		t.Errorf("a lookup timeout was not logged with its cause: %q", logs.String())
	}
}

// TestDefaultClientIPSharesBudget: with the default ClientIP, two TCP
// connections from one address share one failure budget: reconnecting
// from a new port does not buy more attempts.
func TestDefaultClientIPSharesBudget(t *testing.T) {
	f := newFixture(t, apikey.Config{FailureLimit: 2, CacheTTL: -1})
	good, _ := f.issue(t, apikey.Key{})
	bad := flipChecksum(good)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, err := f.auth.Authenticate(r)
		w.WriteHeader(authgate.StatusCode(err))
	}))
	defer srv.Close()
	// Each request on its own connection, so each from its own port.
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	send := func(key string) int {
		req, _ := http.NewRequest("GET", srv.URL, nil)
		req.Header.Set("X-API-Key", key)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for range 2 {
		if s := send(bad); s != http.StatusUnauthorized {
			t.Fatalf("bad key = %d, want 401", s)
		}
	}
	if s := send(good); s != http.StatusTooManyRequests {
		t.Fatalf("good key on a new connection after the limit = %d, want 429", s)
	}
}

func TestRemoteIP(t *testing.T) {
	tests := []struct{ remote, want string }{
		{"192.0.2.1:1234", "192.0.2.1"},
		{"192.0.2.1:5678", "192.0.2.1"},
		{"[2001:db8::1]:443", "2001:db8::1"},
		{"192.0.2.1", "192.0.2.1"},
		{"@", "@"},
	}
	for _, tt := range tests {
		t.Run(tt.remote, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tt.remote
			if got := apikey.RemoteIP(r); got != tt.want {
				t.Errorf("RemoteIP(%q) = %q, want %q", tt.remote, got, tt.want)
			}
		})
	}
}

// syncBuffer is a bytes.Buffer safe for the background writer and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
