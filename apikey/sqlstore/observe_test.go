package sqlstore_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/apikey"
	"github.com/authgate/authgate/apikey/sqlstore"
)

type recorder struct {
	mu     sync.Mutex
	events []authgate.Event
}

func (r *recorder) Observe(_ context.Context, e authgate.Event) {
	r.mu.Lock()
	r.events = append(r.events, e)
	r.mu.Unlock()
}

// take returns the events recorded since the last call, with Duration
// zeroed after checking it is positive.
func (r *recorder) take(t *testing.T) []authgate.Event {
	t.Helper()
	r.mu.Lock()
	events := r.events
	r.events = nil
	r.mu.Unlock()
	for i := range events {
		if events[i].Duration <= 0 {
			t.Errorf("event %+v: Duration not positive", events[i])
		}
		events[i].Duration = 0
	}
	return events
}

func lookupEvent(outcome authgate.Outcome) authgate.Event {
	e := authgate.Event{Kind: authgate.EventStoreLookup, Provider: "db", Outcome: outcome}
	if outcome == authgate.OutcomeError {
		e.Reason = "unavailable"
	}
	return e
}

// TestObserverSQLite: lookups in a real SQLite store are reported as hits,
// misses and, once the store is closed, errors — never with the key, its
// digest or its ID.
func TestObserverSQLite(t *testing.T) {
	s, _ := openSQLite(t)
	rec := &recorder{}
	a, err := apikey.New(s, apikey.Config{Name: "db", Prefix: "sk_live", CacheTTL: -1, LastUsedInterval: -1, Observer: rec})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	key, k, err := a.Manager().Issue(context.Background(), apikey.Key{Subject: "bot"})
	if err != nil {
		t.Fatal(err)
	}
	unknown := validUnknownKey(t)
	var all []authgate.Event
	for _, step := range []struct {
		name string
		key  string
		pre  func()
		want authgate.Event
	}{
		{name: "found", key: key, want: lookupEvent(authgate.OutcomeHit)},
		{name: "not found", key: unknown, want: lookupEvent(authgate.OutcomeMiss)},
		{name: "store closed", key: key, pre: func() { s.Close() }, want: lookupEvent(authgate.OutcomeError)},
	} {
		t.Run(step.name, func(t *testing.T) {
			if step.pre != nil {
				step.pre()
			}
			a.Authenticate(keyRequest(step.key))
			got := rec.take(t)
			if len(got) != 1 || got[0] != step.want {
				t.Errorf("events = %+v, want [%+v]", got, step.want)
			}
			all = append(all, got...)
		})
	}
	noCredential(t, all, key, unknown, k.ID)
}

// TestObserverLazySQLite: a Lazy store whose database cannot be opened yet
// reports errors, then hits once it is there.
func TestObserverLazySQLite(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "later")
	s, err := sqlstore.OpenConfig(context.Background(), sqlstore.Config{DSN: "sqlite:" + filepath.Join(dir, "keys.db"), Lazy: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	rec := &recorder{}
	a, err := apikey.New(s, apikey.Config{Name: "db", Prefix: "sk_live", CacheTTL: -1, LastUsedInterval: -1, Observer: rec})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	unknown := validUnknownKey(t)
	a.Authenticate(keyRequest(unknown))
	all := rec.take(t)
	if want := lookupEvent(authgate.OutcomeError); len(all) != 1 || all[0] != want {
		t.Fatalf("events while the database is missing = %+v, want [%+v]", all, want)
	}
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		a.Authenticate(keyRequest(unknown))
		got := rec.take(t)
		if len(got) != 1 {
			t.Fatalf("events of one lookup = %+v, want one", got)
		}
		all = append(all, got...)
		if got[0] == lookupEvent(authgate.OutcomeMiss) {
			break
		}
		if got[0] != lookupEvent(authgate.OutcomeError) || time.Now().After(deadline) {
			t.Fatalf("event = %+v, want errors, then a miss within 5 s", got[0])
		}
		time.Sleep(20 * time.Millisecond)
	}
	noCredential(t, all, unknown)
}

// noCredential fails when any event holds one of the secrets or the key
// body of one of them.
func noCredential(t *testing.T, events []authgate.Event, secrets ...string) {
	t.Helper()
	all := fmt.Sprintf("%#v", events)
	for _, s := range secrets {
		for _, part := range []string{s, strings.TrimPrefix(s, "sk_live_")} {
			if strings.Contains(all, part) {
				t.Errorf("events %s hold %q", all, part)
			}
		}
	}
}
