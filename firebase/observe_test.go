package firebase_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/firebase"
)

// storeRecorder keeps the EventStoreLookup events it observes.
type storeRecorder struct {
	mu     sync.Mutex
	events []authgate.Event
}

func (r *storeRecorder) Observe(_ context.Context, e authgate.Event) {
	if e.Kind != authgate.EventStoreLookup {
		return // key fetches
	}
	r.mu.Lock()
	r.events = append(r.events, e)
	r.mu.Unlock()
}

// TestRevocationObserver: each user lookup, not each cached answer, is
// reported to FetchOptions.Observer with its outcome and duration, never
// with the uid.
func TestRevocationObserver(t *testing.T) {
	for _, tc := range []struct {
		name  string
		users func() *fakeUsers
		want  authgate.Event
	}{{
		name:  "user exists",
		users: func() *fakeUsers { return newFakeUsers(uid) },
		want:  authgate.Event{Kind: authgate.EventStoreLookup, Provider: "firebase", Outcome: authgate.OutcomeHit},
	}, {
		name:  "user deleted",
		users: func() *fakeUsers { return newFakeUsers() },
		want:  authgate.Event{Kind: authgate.EventStoreLookup, Provider: "firebase", Outcome: authgate.OutcomeMiss},
	}, {
		name:  "lookup fails",
		users: func() *fakeUsers { u := newFakeUsers(uid); u.err = errBackend; return u },
		want:  authgate.Event{Kind: authgate.EventStoreLookup, Provider: "firebase", Outcome: authgate.OutcomeError, Reason: "unavailable"},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			rec := &storeRecorder{}
			e := newEnv(t, func(c *firebase.Config) {
				withUsers(tc.users(), nil)(c)
				c.Observer = rec
			})
			tok := idToken(claims(t0))
			for range 2 { // the second one is answered from the cache, or looked up again after a failure
				e.auth.Verify(t.Context(), tok)
			}
			want := []authgate.Event{tc.want}
			if tc.want.Outcome == authgate.OutcomeError {
				want = append(want, tc.want) // failures are not cached
			}
			rec.mu.Lock()
			got := append([]authgate.Event(nil), rec.events...)
			rec.mu.Unlock()
			for i := range got {
				if got[i].Duration <= 0 {
					t.Errorf("event %d: Duration = %v, want > 0", i, got[i].Duration)
				}
				got[i].Duration = 0
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("events = %+v, want %+v", got, want)
			}
			if s := fmt.Sprintf("%#v", got); strings.Contains(s, uid) {
				t.Errorf("events %s hold the uid", s)
			}
		})
	}
}
