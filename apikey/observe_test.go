package apikey_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/apikey"
)

// recorder is an authgate.Observer that keeps every event and whether it
// came with the request's context.
type recorder struct {
	mu      sync.Mutex
	events  []authgate.Event
	foreign int // events whose context lacks the request's value
}

type ctxKey struct{}

func (r *recorder) Observe(ctx context.Context, e authgate.Event) {
	r.mu.Lock()
	r.events = append(r.events, e)
	if ctx.Value(ctxKey{}) != "request" {
		r.foreign++
	}
	r.mu.Unlock()
}

func (r *recorder) Events() []authgate.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]authgate.Event(nil), r.events...)
}

// observed returns the events with Duration zeroed, after checking that
// store lookups, and only they, took time and that every event came with
// the request's context.
func (r *recorder) observed(t *testing.T) []authgate.Event {
	t.Helper()
	r.mu.Lock()
	foreign := r.foreign
	r.mu.Unlock()
	if foreign > 0 {
		t.Errorf("%d events without the request's context", foreign)
	}
	events := r.Events()
	for i, e := range events {
		if (e.Kind == authgate.EventStoreLookup) != (e.Duration > 0) {
			t.Errorf("event %d (%v): Duration = %v", i, e.Kind, e.Duration)
		}
		events[i].Duration = 0
	}
	return events
}

func request(key string) *http.Request {
	r := withKey(key)
	return r.WithContext(context.WithValue(r.Context(), ctxKey{}, "request"))
}

func storeEvent(outcome authgate.Outcome) authgate.Event {
	e := authgate.Event{Kind: authgate.EventStoreLookup, Provider: "keys", Outcome: outcome}
	if outcome == authgate.OutcomeError {
		e.Reason = "unavailable"
	}
	return e
}

func cacheEvent(outcome authgate.Outcome, size int) authgate.Event {
	return authgate.Event{Kind: authgate.EventCacheLookup, Provider: "keys", Outcome: outcome, Size: size}
}

var refusal = authgate.Event{Kind: authgate.EventLimiterRefusal, Provider: "keys", Outcome: authgate.OutcomeDenied, Reason: "rate_limited"}

// TestObserver: each store lookup, cache lookup and limiter refusal is
// reported with its outcome, and nothing else is.
func TestObserver(t *testing.T) {
	type keys struct{ valid, revoked, unknown, malformed string }
	for _, tc := range []struct {
		name string
		cfg  apikey.Config
		// run sends requests, after setting the store up.
		run  func(t *testing.T, f *fixture, k keys)
		want []authgate.Event
	}{{
		name: "found, then cached",
		run: func(t *testing.T, f *fixture, k keys) {
			f.auth.Authenticate(request(k.valid))
			f.auth.Authenticate(request(k.valid))
		},
		want: []authgate.Event{cacheEvent(authgate.OutcomeMiss, 0), storeEvent(authgate.OutcomeHit), cacheEvent(authgate.OutcomeHit, 1)},
	}, {
		name: "cache expired",
		run: func(t *testing.T, f *fixture, k keys) {
			f.auth.Authenticate(request(k.valid))
			f.clock.Add(apikey.DefaultCacheTTL)
			f.auth.Authenticate(request(k.valid))
		},
		want: []authgate.Event{cacheEvent(authgate.OutcomeMiss, 0), storeEvent(authgate.OutcomeHit), cacheEvent(authgate.OutcomeMiss, 1), storeEvent(authgate.OutcomeHit)},
	}, {
		name: "not found",
		run:  func(t *testing.T, f *fixture, k keys) { f.auth.Authenticate(request(k.unknown)) },
		want: []authgate.Event{cacheEvent(authgate.OutcomeMiss, 0), storeEvent(authgate.OutcomeMiss)},
	}, {
		name: "revoked is found",
		run:  func(t *testing.T, f *fixture, k keys) { f.auth.Authenticate(request(k.revoked)) },
		want: []authgate.Event{cacheEvent(authgate.OutcomeMiss, 0), storeEvent(authgate.OutcomeHit)},
	}, {
		name: "another key's record is not found",
		run: func(t *testing.T, f *fixture, k keys) {
			f.store.wrongRecord.Store(true)
			f.auth.Authenticate(request(k.valid))
		},
		want: []authgate.Event{cacheEvent(authgate.OutcomeMiss, 0), storeEvent(authgate.OutcomeMiss)},
	}, {
		name: "store failing",
		run: func(t *testing.T, f *fixture, k keys) {
			f.store.failLookup.Store(true)
			f.auth.Authenticate(request(k.valid))
		},
		want: []authgate.Event{cacheEvent(authgate.OutcomeMiss, 0), storeEvent(authgate.OutcomeError)},
	}, {
		name: "store hanging",
		cfg:  apikey.Config{LookupTimeout: 20 * time.Millisecond},
		run: func(t *testing.T, f *fixture, k keys) {
			f.store.slowLookup.Store(true)
			f.auth.Authenticate(request(k.valid))
		},
		want: []authgate.Event{cacheEvent(authgate.OutcomeMiss, 0), storeEvent(authgate.OutcomeError)},
	}, {
		name: "cache disabled",
		cfg:  apikey.Config{CacheTTL: -1},
		run: func(t *testing.T, f *fixture, k keys) {
			f.auth.Authenticate(request(k.valid))
			f.auth.Authenticate(request(k.valid))
		},
		want: []authgate.Event{storeEvent(authgate.OutcomeHit), storeEvent(authgate.OutcomeHit)},
	}, {
		name: "malformed and foreign keys cost no lookup",
		run: func(t *testing.T, f *fixture, k keys) {
			f.auth.Authenticate(request(k.malformed))
			f.auth.Authenticate(request("sk_test_" + strings.Repeat("a", 40)))
			f.auth.Authenticate(request(""))
		},
	}, {
		name: "limiter refusal",
		cfg:  apikey.Config{FailureLimit: 3},
		run: func(t *testing.T, f *fixture, k keys) {
			f.auth.Authenticate(request(k.unknown))   // counts 2
			f.auth.Authenticate(request(k.malformed)) // counts 1: limit reached
			f.auth.Authenticate(request(k.valid))     // refused unseen
			f.auth.Authenticate(request(k.malformed)) // refused unseen
		},
		want: []authgate.Event{cacheEvent(authgate.OutcomeMiss, 0), storeEvent(authgate.OutcomeMiss), refusal, refusal},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			rec := &recorder{}
			cfg := tc.cfg
			cfg.Name, cfg.Observer, cfg.LastUsedInterval = "keys", rec, -1
			f := newFixture(t, cfg)
			var k keys
			k.valid, _ = f.issue(t, apikey.Key{})
			var revoked apikey.Key
			k.revoked, revoked = f.issue(t, apikey.Key{})
			if err := f.auth.Manager().Revoke(context.Background(), revoked.ID); err != nil {
				t.Fatal(err)
			}
			k.unknown = validUnknownKey(t, "sk_live")
			k.malformed = k.valid[:len(k.valid)-1] + flip(k.valid[len(k.valid)-1])
			tc.run(t, f, k)
			if got := rec.observed(t); !equalEvents(got, tc.want) {
				t.Errorf("events:\n got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

// flip returns another key character than c.
func flip(c byte) string {
	if c == 'A' {
		return "B"
	}
	return "A"
}

func equalEvents(a, b []authgate.Event) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestObserverNoCredential: whatever happens to a key, no event holds the
// key, any part of it, its digest or its ID.
func TestObserverNoCredential(t *testing.T) {
	rec := &recorder{}
	f := newFixture(t, apikey.Config{Name: "keys", Observer: rec, FailureLimit: 2, LastUsedInterval: -1})
	key, k := f.issue(t, apikey.Key{Subject: "alice", Roles: []string{"admin"}})
	unknown := validUnknownKey(t, "sk_live")
	for _, step := range []func(){
		func() { f.auth.Authenticate(request(key)) },
		func() { f.auth.Authenticate(request(key)) },
		func() { f.store.failLookup.Store(true); f.clock.Add(time.Minute); f.auth.Authenticate(request(key)) },
		func() { f.store.failLookup.Store(false); f.auth.Authenticate(request(unknown)) },
		func() { f.auth.Authenticate(request(key)) },
	} {
		step()
	}
	events := rec.Events()
	kinds := map[authgate.EventKind]bool{}
	for _, e := range events {
		kinds[e.Kind] = true
	}
	for _, kind := range []authgate.EventKind{authgate.EventCacheLookup, authgate.EventStoreLookup, authgate.EventLimiterRefusal} {
		if !kinds[kind] {
			t.Fatalf("no %v event among %+v: the test does not cover it", kind, events)
		}
	}
	all := fmt.Sprintf("%#v", events)
	for _, secret := range []string{key, unknown, body(key), body(unknown), k.ID, hexDigest(key), hexDigest(unknown), "alice", "admin"} {
		if strings.Contains(all, secret) {
			t.Errorf("events %s hold %q", all, secret)
		}
	}
}

// body returns the key without its prefix.
func body(key string) string { return strings.TrimPrefix(key, "sk_live_") }

func hexDigest(key string) string {
	d := sha256.Sum256([]byte(key))
	return hex.EncodeToString(d[:])
}
