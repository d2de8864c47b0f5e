// Package storetest is the conformance suite for apikey.Store
// implementations. A store's tests call Run with a function that returns a
// fresh, empty store:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) apikey.Store { return apikey.NewMemoryStore() })
//	}
//
// The suite checks round trips of every Key field (times at microsecond
// precision in UTC), lookups by digest, duplicate detection, listing order,
// revocation, batched last-use updates that never move backwards,
// cancellation (a cancelled context is an error, never apikey.ErrNotFound)
// and concurrent use.
package storetest

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/authgate/authgate/apikey"
)

// Run runs the conformance suite; newStore must return a new empty store
// each time it is called (and arrange its own cleanup with t.Cleanup).
func Run(t *testing.T, newStore func(t *testing.T) apikey.Store) {
	t.Helper()
	tests := []struct {
		name string
		run  func(t *testing.T, s apikey.Store)
	}{
		{"RoundTrip", testRoundTrip},
		{"LookupUnknown", testLookupUnknown},
		{"Duplicate", testDuplicate},
		{"List", testList},
		{"Revoke", testRevoke},
		{"MarkUsed", testMarkUsed},
		{"Cancelled", testCancelled},
		{"Copies", testCopies},
		{"Concurrent", testConcurrent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.run(t, newStore(t)) })
	}
}

// base is a fixed instant with a sub-microsecond part that stores drop.
var base = time.Date(2026, 3, 14, 15, 9, 26, 535897932, time.UTC)

func digest(s string) apikey.Digest { return sha256.Sum256([]byte(s)) }

func record(id string, created time.Time) apikey.Record {
	return apikey.Record{
		Key: apikey.Key{
			ID: id, Name: "name of " + id, Subject: "user-" + id, Tenant: "acme",
			Roles: []string{"admin", "reader"}, Scopes: []string{"orders:read"},
			CreatedAt: apikey.NormalizeTime(created),
		},
		Digest: digest(id),
	}
}

func mustCreate(t *testing.T, s apikey.Store, r apikey.Record) {
	t.Helper()
	if err := s.Create(context.Background(), r); err != nil {
		t.Fatalf("Create(%s) = %v, want nil", r.ID, err)
	}
}

func mustLookup(t *testing.T, s apikey.Store, d apikey.Digest) apikey.Record {
	t.Helper()
	r, err := s.Lookup(context.Background(), d)
	if err != nil {
		t.Fatalf("Lookup = %v, want nil", err)
	}
	return r
}

// diffKey returns a description of the first difference, or "".
func diffKey(got, want apikey.Key) string {
	switch {
	case got.ID != want.ID, got.Name != want.Name, got.Subject != want.Subject, got.Tenant != want.Tenant:
		return fmt.Sprintf("strings = %q %q %q %q, want %q %q %q %q",
			got.ID, got.Name, got.Subject, got.Tenant, want.ID, want.Name, want.Subject, want.Tenant)
	case !slices.Equal(got.Roles, want.Roles) || (got.Roles == nil) != (want.Roles == nil):
		return fmt.Sprintf("Roles = %#v, want %#v", got.Roles, want.Roles)
	case !slices.Equal(got.Scopes, want.Scopes) || (got.Scopes == nil) != (want.Scopes == nil):
		return fmt.Sprintf("Scopes = %#v, want %#v", got.Scopes, want.Scopes)
	}
	for _, tc := range []struct {
		name      string
		got, want time.Time
	}{
		{"CreatedAt", got.CreatedAt, want.CreatedAt},
		{"ExpiresAt", got.ExpiresAt, want.ExpiresAt},
		{"RevokedAt", got.RevokedAt, want.RevokedAt},
		{"LastUsedAt", got.LastUsedAt, want.LastUsedAt},
	} {
		if !tc.got.Equal(tc.want) || tc.got.IsZero() != tc.want.IsZero() {
			return fmt.Sprintf("%s = %v, want %v", tc.name, tc.got, tc.want)
		}
		if !tc.got.IsZero() && tc.got.Location() != time.UTC {
			return fmt.Sprintf("%s location = %v, want UTC", tc.name, tc.got.Location())
		}
	}
	return ""
}

func testRoundTrip(t *testing.T, s apikey.Store) {
	tests := []struct {
		name string
		key  apikey.Key
		want apikey.Key
	}{
		{
			name: "all fields",
			key: apikey.Key{
				ID: "k1", Name: "déploiement ✓", Subject: "alice", Tenant: "t-1",
				Roles: []string{"admin", "ops"}, Scopes: []string{"a:read", "a:write"},
				CreatedAt: base, ExpiresAt: base.Add(90 * 24 * time.Hour),
			},
			want: apikey.Key{
				ID: "k1", Name: "déploiement ✓", Subject: "alice", Tenant: "t-1",
				Roles: []string{"admin", "ops"}, Scopes: []string{"a:read", "a:write"},
				CreatedAt: base.Truncate(time.Microsecond), ExpiresAt: base.Add(90 * 24 * time.Hour).Truncate(time.Microsecond),
			},
		},
		{
			name: "minimal, empty lists become nil",
			key:  apikey.Key{ID: "k2", Subject: "bob", Roles: []string{}, CreatedAt: base.In(time.FixedZone("X", 3600))},
			want: apikey.Key{ID: "k2", Subject: "bob", CreatedAt: base.Truncate(time.Microsecond)},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := digest(tt.key.ID)
			mustCreate(t, s, apikey.Record{Key: tt.key, Digest: d})
			got := mustLookup(t, s, d)
			if got.Digest != d {
				t.Errorf("Lookup digest = %v, want %v", got.Digest, d)
			}
			if diff := diffKey(got.Key, tt.want); diff != "" {
				t.Errorf("Lookup: %s", diff)
			}
		})
	}
}

func testLookupUnknown(t *testing.T, s apikey.Store) {
	mustCreate(t, s, record("k1", base))
	for _, d := range []apikey.Digest{digest("nope"), {}} {
		if _, err := s.Lookup(context.Background(), d); !errors.Is(err, apikey.ErrNotFound) {
			t.Errorf("Lookup(unknown) = %v, want ErrNotFound", err)
		}
	}
}

func testDuplicate(t *testing.T, s apikey.Store) {
	mustCreate(t, s, record("k1", base))
	tests := []struct {
		name string
		rec  apikey.Record
	}{
		{"same id", apikey.Record{Key: apikey.Key{ID: "k1", Subject: "x", CreatedAt: base}, Digest: digest("other")}},
		{"same digest", apikey.Record{Key: apikey.Key{ID: "k2", Subject: "x", CreatedAt: base}, Digest: digest("k1")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := s.Create(context.Background(), tt.rec); !errors.Is(err, apikey.ErrDuplicate) {
				t.Errorf("Create = %v, want ErrDuplicate", err)
			}
		})
	}
	if got := mustLookup(t, s, digest("k1")); got.Subject != "user-k1" {
		t.Errorf("after duplicates, Lookup subject = %q, want user-k1", got.Subject)
	}
}

func testList(t *testing.T, s apikey.Store) {
	if keys, err := s.List(context.Background()); err != nil || len(keys) != 0 {
		t.Fatalf("List(empty) = %v, %v; want none, nil", keys, err)
	}
	mustCreate(t, s, record("c", base.Add(2*time.Second)))
	mustCreate(t, s, record("b", base))
	mustCreate(t, s, record("a", base))
	if err := s.Revoke(context.Background(), "c"); err != nil {
		t.Fatal(err)
	}
	keys, err := s.List(context.Background())
	if err != nil {
		t.Fatalf("List = %v", err)
	}
	var ids []string
	for _, k := range keys {
		ids = append(ids, k.ID)
	}
	if want := []string{"a", "b", "c"}; !slices.Equal(ids, want) {
		t.Fatalf("List IDs = %v, want %v (oldest first, ties by ID, revoked included)", ids, want)
	}
	if diff := diffKey(keys[0], record("a", base).Key); diff != "" {
		t.Errorf("List[0]: %s", diff)
	}
	if keys[2].RevokedAt.IsZero() {
		t.Errorf("List[2].RevokedAt is zero, want the revocation time")
	}
}

func testRevoke(t *testing.T, s apikey.Store) {
	mustCreate(t, s, record("k1", base))
	mustCreate(t, s, record("k2", base))
	before := time.Now().Add(-time.Second)
	if err := s.Revoke(context.Background(), "k1"); err != nil {
		t.Fatalf("Revoke = %v, want nil", err)
	}
	first := mustLookup(t, s, digest("k1")).RevokedAt
	if first.Before(before) || first.After(time.Now().Add(time.Second)) {
		t.Fatalf("RevokedAt = %v, want about now", first)
	}
	if !mustLookup(t, s, digest("k2")).RevokedAt.IsZero() {
		t.Errorf("Revoke(k1) revoked k2 too")
	}
	time.Sleep(2 * time.Millisecond)
	if err := s.Revoke(context.Background(), "k1"); err != nil {
		t.Fatalf("Revoke again = %v, want nil", err)
	}
	if again := mustLookup(t, s, digest("k1")).RevokedAt; !again.Equal(first) {
		t.Errorf("RevokedAt after second Revoke = %v, want first %v", again, first)
	}
	if err := s.Revoke(context.Background(), "nope"); !errors.Is(err, apikey.ErrNotFound) {
		t.Errorf("Revoke(unknown) = %v, want ErrNotFound", err)
	}
}

func testMarkUsed(t *testing.T, s apikey.Store) {
	mustCreate(t, s, record("k1", base))
	mustCreate(t, s, record("k2", base))
	mustCreate(t, s, record("k3", base))
	ctx := context.Background()
	t1, t2 := base.Add(time.Minute), base.Add(2*time.Minute)
	steps := []struct {
		name  string
		batch []apikey.Usage
		want  map[string]time.Time
	}{
		{"empty batch", nil, map[string]time.Time{"k1": {}, "k2": {}, "k3": {}}},
		{"two keys and an unknown one", []apikey.Usage{{ID: "k1", At: t2}, {ID: "k2", At: t1}, {ID: "gone", At: t1}},
			map[string]time.Time{"k1": t2, "k2": t1, "k3": {}}},
		{"never backwards", []apikey.Usage{{ID: "k1", At: t1}, {ID: "k2", At: t2}},
			map[string]time.Time{"k1": t2, "k2": t2, "k3": {}}},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			if err := s.MarkUsed(ctx, st.batch); err != nil {
				t.Fatalf("MarkUsed = %v, want nil", err)
			}
			for id, want := range st.want {
				got := mustLookup(t, s, digest(id)).LastUsedAt
				if want = apikey.NormalizeTime(want); !got.Equal(want) || got.IsZero() != want.IsZero() {
					t.Errorf("LastUsedAt(%s) = %v, want %v", id, got, want)
				}
			}
		})
	}
}

func testCancelled(t *testing.T, s apikey.Store) {
	mustCreate(t, s, record("k1", base))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name string
		call func() error
	}{
		{"Lookup", func() error { _, err := s.Lookup(ctx, digest("k1")); return err }},
		{"Lookup unknown", func() error { _, err := s.Lookup(ctx, digest("nope")); return err }},
		{"Create", func() error { return s.Create(ctx, record("k9", base)) }},
		{"List", func() error { _, err := s.List(ctx); return err }},
		{"Revoke", func() error { return s.Revoke(ctx, "k1") }},
		{"MarkUsed", func() error { return s.MarkUsed(ctx, []apikey.Usage{{ID: "k1", At: base}}) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			if err == nil || errors.Is(err, apikey.ErrNotFound) {
				t.Errorf("%s(cancelled ctx) = %v, want an error that is not ErrNotFound", tt.name, err)
			}
		})
	}
	if got := mustLookup(t, s, digest("k1")); !got.RevokedAt.IsZero() {
		t.Errorf("Revoke with a cancelled ctx revoked the key")
	}
}

func testCopies(t *testing.T, s apikey.Store) {
	r := record("k1", base)
	mustCreate(t, s, r)
	r.Roles[0] = "changed-after-create"
	got := mustLookup(t, s, digest("k1"))
	got.Roles[0] = "changed-after-lookup"
	keys, err := s.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	keys[0].Scopes[0] = "changed-after-list"
	again := mustLookup(t, s, digest("k1"))
	if diff := diffKey(again.Key, record("k1", base).Key); diff != "" {
		t.Errorf("store shares memory with its callers: %s", diff)
	}
}

func testConcurrent(t *testing.T, s apikey.Store) {
	const workers, each = 8, 25
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, workers*each*3)
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				id := fmt.Sprintf("w%d-%d", w, i)
				if err := s.Create(ctx, record(id, base)); err != nil {
					errs <- fmt.Errorf("Create(%s): %w", id, err)
					continue
				}
				if r, err := s.Lookup(ctx, digest(id)); err != nil || r.ID != id {
					errs <- fmt.Errorf("Lookup(%s) = %q, %v", id, r.ID, err)
				}
				if err := s.MarkUsed(ctx, []apikey.Usage{{ID: id, At: base.Add(time.Duration(i) * time.Second)}}); err != nil {
					errs <- fmt.Errorf("MarkUsed(%s): %w", id, err)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	keys, err := s.List(ctx)
	if err != nil || len(keys) != workers*each {
		t.Errorf("List = %d keys, %v; want %d, nil", len(keys), err, workers*each)
	}
}
