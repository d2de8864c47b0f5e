package firebase_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/firebase"
)

func withUsers(users firebase.UserLookup, edit func(*firebase.Revocation)) func(*firebase.Config) {
	return func(c *firebase.Config) {
		c.Revocation = firebase.Revocation{Users: users}
		if edit != nil {
			edit(&c.Revocation)
		}
	}
}

func TestRevocation(t *testing.T) {
	now := t0
	iat := now.Add(-time.Minute)          // claims(): iat
	authTime := now.Add(-2 * time.Minute) // claims(): auth_time
	tests := []struct {
		name       string
		user       func(*firebase.User) // nil: the user does not exist
		lookupErr  error
		wantErr    error
		wantStatus int
	}{
		{name: "valid user", user: func(*firebase.User) {}},
		{name: "revoked before sign-in", user: func(u *firebase.User) { u.TokensValidAfter = authTime.Add(-time.Hour) }},
		{name: "revoked at auth_time", user: func(u *firebase.User) { u.TokensValidAfter = authTime }},
		{name: "revoked after iat", user: func(u *firebase.User) { u.TokensValidAfter = iat.Add(time.Second) },
			wantErr: authgate.ErrRevoked, wantStatus: http.StatusUnauthorized},
		{name: "revoked between auth_time and iat", user: func(u *firebase.User) { u.TokensValidAfter = authTime.Add(time.Second) },
			wantErr: authgate.ErrRevoked, wantStatus: http.StatusUnauthorized},
		{name: "disabled", user: func(u *firebase.User) { u.Disabled = true }, wantErr: authgate.ErrRevoked, wantStatus: http.StatusUnauthorized},
		{name: "deleted", wantErr: authgate.ErrRevoked, wantStatus: http.StatusUnauthorized},
		{name: "lookup fails", user: func(*firebase.User) {}, lookupErr: errBackend, wantErr: authgate.ErrUnavailable, wantStatus: http.StatusServiceUnavailable},
		{name: "lookup fails with not-found wrapped", lookupErr: fmt.Errorf("lookup: %w", firebase.ErrUserNotFound), wantErr: authgate.ErrRevoked, wantStatus: http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			users := newFakeUsers()
			if tt.user != nil {
				users.set(uid, tt.user)
			}
			users.err = tt.lookupErr
			e := newEnv(t, withUsers(users, nil))
			p, err := e.auth.Verify(t.Context(), idToken(claims(now)))
			if tt.wantErr == nil {
				if err != nil || p == nil {
					t.Fatalf("Verify() = %v, want success", err)
				}
			} else {
				if !errors.Is(err, tt.wantErr) || p != nil {
					t.Fatalf("Verify() = %v, %v; want %v", p, err, tt.wantErr)
				}
				if got := authgate.StatusCode(err); got != tt.wantStatus {
					t.Fatalf("StatusCode(%v) = %d, want %d", err, got, tt.wantStatus)
				}
			}
			if n := users.calls.Load(); n != 1 {
				t.Fatalf("GetUser called %d times, want 1", n)
			}
		})
	}
}

// TestRevocationOnlyForVerifiedTokens: a token that fails verification is
// never looked up.
func TestRevocationOnlyForVerifiedTokens(t *testing.T) {
	users := newFakeUsers(uid)
	e := newEnv(t, withUsers(users, nil))
	for _, tok := range []string{
		tamper(idToken(claims(t0))),
		idToken(claims(t0, expired(t0, time.Hour))),
		idToken(claims(t0, set("aud", otherProj))),
	} {
		if _, err := e.auth.Verify(t.Context(), tok); err == nil {
			t.Fatal("Verify(bad token) succeeded")
		}
	}
	if n := users.calls.Load(); n != 0 {
		t.Fatalf("GetUser called %d times for rejected tokens, want 0", n)
	}
}

func TestRevocationCache(t *testing.T) {
	users := newFakeUsers("a", "b", "c")
	e := newEnv(t, withUsers(users, func(r *firebase.Revocation) { r.CacheTTL = time.Minute; r.CacheSize = 2 }))
	verify := func(step, sub string, wantErr error) {
		t.Helper()
		_, err := e.auth.Verify(t.Context(), idToken(claims(e.clock.Now(), set("sub", sub))))
		if !errors.Is(err, wantErr) || (wantErr == nil) != (err == nil) {
			t.Fatalf("%s: Verify(%s) = %v, want %v", step, sub, err, wantErr)
		}
	}
	calls := func(step string, want int64) {
		t.Helper()
		if got := users.calls.Load(); got != want {
			t.Fatalf("%s: GetUser called %d times, want %d", step, got, want)
		}
	}

	verify("first", "a", nil)
	verify("cached", "a", nil)
	calls("cached", 1)

	// Revoked in Firebase: the cached record is used until the TTL ends.
	users.set("a", func(u *firebase.User) { u.Disabled = true })
	e.clock.Add(30 * time.Second)
	verify("within TTL", "a", nil)
	calls("within TTL", 1)
	e.clock.Add(31 * time.Second)
	verify("after TTL", "a", authgate.ErrRevoked)
	calls("after TTL", 2)
	verify("revocation cached", "a", authgate.ErrRevoked)
	calls("revocation cached", 2)

	// Bounded: with room for two records, a third evicts the least
	// recently used.
	verify("b", "b", nil) // cache: b, a
	verify("c", "c", nil) // cache: c, b (a evicted)
	calls("b and c", 4)
	verify("b again", "b", nil)
	calls("b again", 4)
	verify("a again", "a", authgate.ErrRevoked) // cache: a, b (c evicted)
	calls("a again", 5)
	verify("c again", "c", nil)
	calls("c again", 6)

	// Failures are not cached.
	users.mu.Lock()
	users.err = errBackend
	users.mu.Unlock()
	e.clock.Add(2 * time.Minute)
	verify("backend down", "b", authgate.ErrUnavailable)
	verify("backend still down", "b", authgate.ErrUnavailable)
	calls("backend down", 8)
}

func TestRevocationSingleFlight(t *testing.T) {
	users := newFakeUsers(uid)
	users.block = make(chan struct{})
	e := newEnv(t, withUsers(users, nil))
	if err := e.auth.Prefetch(t.Context()); err != nil {
		t.Fatal(err)
	}
	tok := idToken(claims(t0))
	const n = 20
	errs := make(chan error, n)
	var started sync.WaitGroup
	started.Add(n)
	for range n {
		go func() {
			started.Done()
			_, err := e.auth.Verify(context.Background(), tok)
			errs <- err
		}()
	}
	started.Wait()
	waitFor(t, "the first lookup", func() bool { return users.calls.Load() >= 1 })
	time.Sleep(20 * time.Millisecond) // let the others reach the lookup
	close(users.block)
	for range n {
		if err := <-errs; err != nil {
			t.Fatalf("Verify() = %v", err)
		}
	}
	if got := users.calls.Load(); got != 1 {
		t.Fatalf("%d concurrent verifications made %d lookups, want 1", n, got)
	}
}

// TestRevocationCallerGivesUp: a request whose context ends while the
// lookup hangs gets 503 at once; the lookup itself goes on for the others.
func TestRevocationCallerGivesUp(t *testing.T) {
	users := newFakeUsers(uid)
	users.block = make(chan struct{})
	e := newEnv(t, withUsers(users, nil))
	if err := e.auth.Prefetch(t.Context()); err != nil {
		t.Fatal(err)
	}
	tok := idToken(claims(t0))
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		_, err := e.auth.Verify(ctx, tok)
		done <- err
	}()
	waitFor(t, "the lookup", func() bool { return users.calls.Load() == 1 })
	cancel()
	if err := <-done; !errors.Is(err, authgate.ErrUnavailable) {
		t.Fatalf("Verify() after cancel = %v, want ErrUnavailable", err)
	}
	close(users.block)
	if _, err := e.auth.Verify(t.Context(), tok); err != nil {
		t.Fatalf("Verify() after the lookup finished = %v", err)
	}
	if got := users.calls.Load(); got != 1 {
		t.Fatalf("GetUser called %d times, want 1 (the detached lookup filled the cache)", got)
	}
}

// TestRevocationTimeout: a hung Admin API is a 503 after Timeout.
func TestRevocationTimeout(t *testing.T) {
	users := newFakeUsers(uid)
	users.block = make(chan struct{}) // never closed
	e := newEnv(t, withUsers(users, func(r *firebase.Revocation) { r.Timeout = 50 * time.Millisecond }))
	_, err := e.auth.Verify(t.Context(), idToken(claims(t0)))
	if !errors.Is(err, authgate.ErrUnavailable) {
		t.Fatalf("Verify() with a hung lookup = %v, want ErrUnavailable", err)
	}
}
