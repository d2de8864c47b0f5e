package firebase_test

import (
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/firebase"
	"github.com/authgate/authgate/providers"
)

// TestCacheHitStillChecksRevocation: with the verified-token cache on, a
// repeated token skips the signature check (Validate does not run again)
// but never the revocation check: once the user's record says disabled, the
// cached token is refused.
func TestCacheHitStillChecksRevocation(t *testing.T) {
	users := newFakeUsers()
	users.set(uid, func(*firebase.User) {})
	var validated atomic.Int64
	e := newEnv(t, func(c *firebase.Config) {
		c.CacheSize, c.CacheTTL = 100, 5*time.Minute
		c.Validate = func(*providers.Token) error { validated.Add(1); return nil }
		c.Revocation = firebase.Revocation{Users: users, CacheTTL: time.Second}
	})
	tok := idToken(claims(t0))
	for i := range 2 {
		if _, err := e.auth.Verify(t.Context(), tok); err != nil {
			t.Fatalf("Verify #%d = %v", i+1, err)
		}
	}
	if n := validated.Load(); n != 1 {
		t.Fatalf("Validate ran %d times for two presentations, want 1 (the second is a cache hit)", n)
	}
	users.set(uid, func(u *firebase.User) { u.Disabled = true })
	e.clock.Add(2 * time.Second) // the user record's cache entry expires; the token's does not
	if _, err := e.auth.Verify(t.Context(), tok); !errors.Is(err, authgate.ErrRevoked) {
		t.Fatalf("Verify(cached token of a disabled user) = %v, want ErrRevoked", err)
	}
	if n := validated.Load(); n != 1 {
		t.Fatalf("Validate ran %d times, want 1: the refusal came from a cache hit", n)
	}
	if n := users.calls.Load(); n != 2 {
		t.Fatalf("GetUser called %d times, want 2", n)
	}
}
