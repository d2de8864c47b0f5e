package apikey_test

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/apikey"
)

// TestManagerPepper: a key issued by the manager of a peppered Config is
// one the authenticator of that Config accepts, and one an authenticator
// with another pepper (or none) refuses as unknown.
func TestManagerPepper(t *testing.T) {
	store := apikey.NewMemoryStore()
	cfg := apikey.Config{Prefix: "sk_live", Pepper: bytes.Repeat([]byte("p"), 32)}
	m, err := apikey.NewManager(store, cfg)
	if err != nil {
		t.Fatalf("NewManager = %v", err)
	}
	key, k, err := m.Issue(context.Background(), apikey.Key{Subject: "alice"})
	if err != nil {
		t.Fatalf("Issue = %v", err)
	}
	tests := []struct {
		name    string
		pepper  []byte
		wantErr error
	}{
		{"same pepper", cfg.Pepper, nil},
		{"another pepper", bytes.Repeat([]byte("q"), 32), authgate.ErrInvalidCredentials},
		{"no pepper", nil, authgate.ErrInvalidCredentials},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := apikey.New(store, apikey.Config{Prefix: cfg.Prefix, Pepper: tt.pepper})
			if err != nil {
				t.Fatal(err)
			}
			defer a.Close()
			p, err := a.Authenticate(withKey(key))
			switch {
			case tt.wantErr == nil && err != nil:
				t.Fatalf("Authenticate = %v, want accepted", err)
			case tt.wantErr == nil && p.CredentialID != k.ID:
				t.Fatalf("Authenticate = key %q, want %q", p.CredentialID, k.ID)
			case tt.wantErr != nil && !errors.Is(err, tt.wantErr):
				t.Fatalf("Authenticate = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

// TestManagerOfAuthenticator: the authenticator's own manager issues keys
// that authenticator accepts, under its pepper.
func TestManagerOfAuthenticator(t *testing.T) {
	f := newFixture(t, apikey.Config{Prefix: "ag_dev", Pepper: bytes.Repeat([]byte("x"), 40)})
	key, _ := f.issue(t, apikey.Key{})
	if !strings.HasPrefix(key, "ag_dev_") {
		t.Errorf("key %q lacks the authenticator's prefix", key[:7])
	}
	if _, err := f.auth.Authenticate(withKey(key)); err != nil {
		t.Fatalf("Authenticate(key of its own manager) = %v", err)
	}
	if f.auth.Manager() != f.auth.Manager() {
		t.Error("Manager() returns a new manager on each call")
	}
}

func TestManagerIssue(t *testing.T) {
	clk := newClock()
	now := clk.Now()
	tests := []struct {
		name          string
		requireExpiry bool
		key           apikey.Key
		wantErr       error
	}{
		{"subject only", false, apikey.Key{Subject: "alice"}, nil},
		{"everything", false, apikey.Key{ID: "key_ci", Name: "ci", Subject: "bot", Tenant: "acme", Roles: []string{"editor"},
			Scopes: []string{"read"}, ExpiresAt: now.Add(time.Hour), RevokedAt: now, LastUsedAt: now, CreatedAt: now.Add(-time.Hour)}, nil},
		{"expiry required and given", true, apikey.Key{Subject: "alice", ExpiresAt: now.Add(time.Second)}, nil},
		{"no subject", false, apikey.Key{Name: "x"}, apikey.ErrInvalidKey},
		{"expiry now", false, apikey.Key{Subject: "alice", ExpiresAt: now}, apikey.ErrInvalidKey},
		{"expiry in the past", false, apikey.Key{Subject: "alice", ExpiresAt: now.Add(-time.Second)}, apikey.ErrInvalidKey},
		{"expiry required and missing", true, apikey.Key{Subject: "alice"}, apikey.ErrInvalidKey},
		{"id with a space", false, apikey.Key{ID: "key 1", Subject: "alice"}, apikey.ErrInvalidKey},
		{"id too long", false, apikey.Key{ID: strings.Repeat("k", 129), Subject: "alice"}, apikey.ErrInvalidKey},
		{"id taken", false, apikey.Key{ID: "key_taken", Subject: "alice"}, apikey.ErrDuplicate},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := apikey.NewMemoryStore()
			m, err := apikey.NewManager(store, apikey.Config{Prefix: "sk_test", RequireExpiry: tt.requireExpiry, Now: clk.Now})
			if err != nil {
				t.Fatal(err)
			}
			if _, _, err := m.Issue(context.Background(), apikey.Key{ID: "key_taken", Subject: "first", ExpiresAt: now.Add(time.Hour)}); err != nil {
				t.Fatal(err)
			}
			in := tt.key.Clone()
			plain, k, err := m.Issue(context.Background(), tt.key)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) || plain != "" {
					t.Fatalf("Issue = %q, %v, want %v", plain, err, tt.wantErr)
				}
				if !strings.HasPrefix(err.Error(), "apikey: ") {
					t.Errorf("error %q lacks the package prefix", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Issue = %v", err)
			}
			if prefix, err := apikey.CheckFormat(plain); err != nil || prefix != "sk_test" {
				t.Errorf("CheckFormat(issued) = %q, %v, want sk_test", prefix, err)
			}
			switch {
			case in.ID == "" && !strings.HasPrefix(k.ID, "key_"), in.ID != "" && k.ID != in.ID:
				t.Errorf("ID = %q", k.ID)
			case !k.CreatedAt.Equal(now) || !k.RevokedAt.IsZero() || !k.LastUsedAt.IsZero():
				t.Errorf("times = created %v revoked %v used %v, want created %v only", k.CreatedAt, k.RevokedAt, k.LastUsedAt, now)
			case k.Subject != in.Subject || !k.ExpiresAt.Equal(in.ExpiresAt):
				t.Errorf("Issue = %+v, want the metadata of %+v", k, in)
			}
			// The key handed back and the one stored share nothing with the
			// caller's slices.
			if len(tt.key.Roles) > 0 {
				tt.key.Roles[0] = "root"
				listed, err := m.List(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				i := slices.IndexFunc(listed, func(l apikey.Key) bool { return l.ID == k.ID })
				if i < 0 || k.Roles[0] != "editor" || listed[i].Roles[0] != "editor" {
					t.Errorf("caller's Roles alias the issued key: %v, %+v", k.Roles, listed)
				}
			}
		})
	}
}

// TestNewManagerConfig: NewManager refuses what New refuses, with the same
// error.
func TestNewManagerConfig(t *testing.T) {
	store := apikey.NewMemoryStore()
	tests := []struct {
		name string
		cfg  apikey.Config
	}{
		{"valid", apikey.Config{Prefix: "sk_live", Pepper: make([]byte, 32)}},
		{"no prefix", apikey.Config{}},
		{"bad prefix", apikey.Config{Prefix: "sk-live"}},
		{"short pepper", apikey.Config{Prefix: "sk", Pepper: make([]byte, 31)}},
		{"bad header", apikey.Config{Prefix: "sk", Header: "Authorization"}},
		{"cache TTL above the bound", apikey.Config{Prefix: "sk", CacheTTL: time.Hour}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, aErr := apikey.New(store, tt.cfg)
			if aErr == nil {
				a.Close()
			}
			_, mErr := apikey.NewManager(store, tt.cfg)
			if (aErr == nil) != (mErr == nil) || aErr != nil && aErr.Error() != mErr.Error() {
				t.Fatalf("NewManager = %v, want New's %v", mErr, aErr)
			}
			if tt.name != "valid" && mErr == nil {
				t.Fatalf("NewManager = nil error, want one")
			}
		})
	}
	if _, err := apikey.NewManager(nil, apikey.Config{Prefix: "sk"}); err == nil {
		t.Error("NewManager(nil store) = nil error")
	}
}

// TestManagerListRevoke: List shows every key, revoked ones included, and
// Revoke through a standalone manager reaches the store.
func TestManagerListRevoke(t *testing.T) {
	f := newFixture(t, apikey.Config{})
	m, err := apikey.NewManager(f.store, apikey.Config{Prefix: "sk_live", Now: f.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	keyA, a := f.issue(t, apikey.Key{ID: "key_a"})
	f.clock.Add(time.Second)
	_, b := f.issue(t, apikey.Key{ID: "key_b"})
	if err := m.Revoke(ctx, a.ID); err != nil {
		t.Fatalf("Revoke = %v", err)
	}
	if err := m.Revoke(ctx, a.ID); err != nil {
		t.Errorf("Revoke(revoked) = %v, want nil", err)
	}
	if err := m.Revoke(ctx, "key_nope"); !errors.Is(err, apikey.ErrNotFound) {
		t.Errorf("Revoke(unknown) = %v, want ErrNotFound", err)
	}
	keys, err := m.List(ctx)
	if err != nil {
		t.Fatalf("List = %v", err)
	}
	if len(keys) != 2 || keys[0].ID != a.ID || keys[1].ID != b.ID || keys[0].RevokedAt.IsZero() || !keys[1].RevokedAt.IsZero() {
		t.Fatalf("List = %+v, want key_a revoked, then key_b", keys)
	}
	if _, err := f.auth.Authenticate(withKey(keyA)); !errors.Is(err, authgate.ErrRevoked) {
		t.Errorf("Authenticate(revoked, never cached) = %v, want ErrRevoked", err)
	}

	ctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := m.List(ctx); !errors.Is(err, context.Canceled) || !strings.HasPrefix(err.Error(), "apikey: list: ") {
		t.Errorf("List(cancelled) = %v, want context.Canceled prefixed once", err)
	}
}

// TestZeroManager: a Manager not built by NewManager refuses to work
// instead of issuing keys no authenticator would find.
func TestZeroManager(t *testing.T) {
	ctx := context.Background()
	for _, m := range []*apikey.Manager{nil, new(apikey.Manager)} {
		if p, _, err := m.Issue(ctx, apikey.Key{Subject: "alice"}); err == nil || p != "" {
			t.Errorf("Issue = %q, %v, want an error", p, err)
		}
		if _, err := m.List(ctx); err == nil {
			t.Error("List = nil error")
		}
		if err := m.Revoke(ctx, "key_a"); err == nil {
			t.Error("Revoke = nil error")
		}
	}
}
