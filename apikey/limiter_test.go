package apikey_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/apikey"
)

// fakeLimiter is a shared limiter in memory that records what it is told
// and can fail on demand.
type fakeLimiter struct {
	mu          sync.Mutex
	limit       int
	counts      map[string]int
	weights     []int
	failBlocked error
	failFailed  error
	deadline    bool // every call saw a deadline
}

func newFakeLimiter(limit int) *fakeLimiter {
	return &fakeLimiter{limit: limit, counts: map[string]int{}, deadline: true}
}

func (l *fakeLimiter) Blocked(ctx context.Context, client string) (bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := ctx.Deadline(); !ok {
		l.deadline = false
	}
	if l.failBlocked != nil {
		return false, l.failBlocked
	}
	return l.counts[client] >= l.limit, nil
}

func (l *fakeLimiter) Failed(ctx context.Context, client string, weight int) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := ctx.Deadline(); !ok {
		l.deadline = false
	}
	if l.failFailed != nil {
		return l.failFailed
	}
	l.weights = append(l.weights, weight)
	l.counts[client] += weight
	return nil
}

// TestSharedLimiter: with Config.Limiter set, failed attempts are counted
// there with the in-memory limiter's weights, a blocked client is refused
// with 429 before its key is looked at, and a limiter that cannot answer
// fails closed.
func TestSharedLimiter(t *testing.T) {
	errDown := errors.New("limiter down: connection refused")
	tests := []struct {
		name        string
		failBlocked error
		failFailed  error
		key         func(t *testing.T, f *fixture) string
		attempts    int
		wantErr     error // of the last attempt
		wantWeights []int
		wantLookups int64
		wantLog     bool
	}{
		{
			name:        "mistyped keys count once each until blocked",
			key:         func(t *testing.T, f *fixture) string { return "sk_live_" + strings.Repeat("A", 40) },
			attempts:    5,
			wantErr:     authgate.ErrRateLimited,
			wantWeights: []int{1, 1, 1, 1},
		},
		{
			name:        "looked-up unknown keys count twice",
			key:         func(t *testing.T, f *fixture) string { return validUnknownKey(t, "sk_live") },
			attempts:    3,
			wantErr:     authgate.ErrRateLimited,
			wantWeights: []int{2, 2},
			wantLookups: 2,
		},
		{
			name:        "a valid key counts nothing",
			key:         func(t *testing.T, f *fixture) string { k, _ := f.issue(t, apikey.Key{}); return k },
			attempts:    6,
			wantErr:     nil,
			wantWeights: nil,
			wantLookups: 1,
		},
		{
			name:        "Blocked failing is 503, key not looked up",
			failBlocked: errDown,
			key:         func(t *testing.T, f *fixture) string { k, _ := f.issue(t, apikey.Key{}); return k },
			attempts:    1,
			wantErr:     authgate.ErrUnavailable,
			wantLookups: 0,
			wantLog:     true,
		},
		{
			name:        "Failed failing keeps the 401 and is logged",
			failFailed:  errDown,
			key:         func(t *testing.T, f *fixture) string { return validUnknownKey(t, "sk_live") },
			attempts:    1,
			wantErr:     authgate.ErrInvalidCredentials,
			wantLookups: 1,
			wantLog:     true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newFakeLimiter(4)
			l.failBlocked, l.failFailed = tt.failBlocked, tt.failFailed
			var logs bytes.Buffer
			f := newFixture(t, apikey.Config{Limiter: l, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
			key := tt.key(t, f)
			var err error
			for range tt.attempts {
				_, err = f.auth.Authenticate(withKey(key))
			}
			if tt.wantErr == nil && err != nil || tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Fatalf("Authenticate (attempt %d) = %v, want %v", tt.attempts, err, tt.wantErr)
			}
			l.mu.Lock()
			defer l.mu.Unlock()
			if !slices.Equal(l.weights, tt.wantWeights) {
				t.Errorf("weights = %v, want %v", l.weights, tt.wantWeights)
			}
			if !l.deadline {
				t.Error("a limiter call had no deadline")
			}
			if got := f.store.lookups.Load(); got != tt.wantLookups {
				t.Errorf("store lookups = %d, want %d", got, tt.wantLookups)
			}
			if got := strings.Contains(logs.String(), "limiter failed"); got != tt.wantLog {
				t.Errorf("logged a limiter failure = %v, want %v; log: %s", got, tt.wantLog, logs.String())
			}
			if strings.Contains(logs.String(), key) {
				t.Error("the log holds the key")
			}
		})
	}
}

// TestSharedLimiterConfig: the shared and the in-memory limiter are
// exclusive, so that one limit is never silently left unenforced.
func TestSharedLimiterConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  apikey.Config
		ok   bool
	}{
		{"shared alone", apikey.Config{Limiter: newFakeLimiter(1)}, true},
		{"in-memory alone", apikey.Config{FailureLimit: 3}, true},
		{"both", apikey.Config{Limiter: newFakeLimiter(1), FailureLimit: 3}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.cfg.Prefix = "sk_live"
			_, err := apikey.New(apikey.NewMemoryStore(), tt.cfg)
			if (err == nil) != tt.ok {
				t.Errorf("New = %v, want ok=%v", err, tt.ok)
			}
		})
	}
}

// TestSharedLimiterTimeout: a limiter that hangs is cut off by
// LookupTimeout and the request fails closed.
func TestSharedLimiterTimeout(t *testing.T) {
	f := newFixture(t, apikey.Config{Limiter: hangingLimiter{}, LookupTimeout: 20 * time.Millisecond})
	key, _ := f.issue(t, apikey.Key{})
	start := time.Now()
	_, err := f.auth.Authenticate(withKey(key))
	if !errors.Is(err, authgate.ErrUnavailable) {
		t.Fatalf("Authenticate = %v, want ErrUnavailable", err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("Authenticate took %v, want about the 20ms lookup timeout", took)
	}
}

type hangingLimiter struct{}

func (hangingLimiter) Blocked(ctx context.Context, _ string) (bool, error) {
	<-ctx.Done()
	return false, ctx.Err()
}

func (hangingLimiter) Failed(ctx context.Context, _ string, _ int) error {
	<-ctx.Done()
	return ctx.Err()
}
