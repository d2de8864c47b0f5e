package apikey

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// maxIDLen bounds caller-chosen key IDs.
const maxIDLen = 128

// ErrInvalidKey is returned by Manager.Issue for a Key that cannot be
// issued (no subject, an expiry in the past or missing where one is
// required, a bad ID).
var ErrInvalidKey = errors.New("apikey: invalid key metadata")

// Manager issues, lists and revokes the keys of one Config: it hashes a new
// key exactly as an Authenticator of the same Config (prefix and pepper)
// looks it up, so every key it issues is one that authenticator finds. It
// is safe for concurrent use.
//
// Get one with NewManager (an administration tool that does not
// authenticate requests) or Authenticator.Manager (which also drops revoked
// keys from that authenticator's cache at once).
type Manager struct {
	store         Store
	prefix        string
	hasher        *hasher
	now           func() time.Time
	requireExpiry bool
	// evict drops a revoked key from the owning authenticator's cache; nil
	// for a standalone manager or a disabled cache.
	evict func(id string)
}

// NewManager returns a Manager for the keys in store with cfg.Prefix. It
// validates cfg exactly as New does (an error names the bad field, wrapping
// ErrInvalidPrefix for a bad prefix) so that a configuration one accepts the
// other accepts too; of cfg it uses Prefix, Pepper, RequireExpiry and Now.
// It does no I/O.
func NewManager(store Store, cfg Config) (*Manager, error) {
	if store == nil {
		return nil, errors.New("apikey: nil store")
	}
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	return newManager(store, cfg, newHasher(cfg.Pepper)), nil
}

// newManager builds a manager over a validated cfg.
func newManager(store Store, cfg Config, h *hasher) *Manager {
	return &Manager{store: store, prefix: cfg.Prefix, hasher: h, now: cfg.Now, requireExpiry: cfg.RequireExpiry}
}

// Issue creates a key with the manager's prefix in its store and returns
// its plaintext — to show its owner once, never to store — and the Key as
// stored.
//
// k.Subject is required. An empty k.ID gets a random one; CreatedAt is set
// to now and RevokedAt and LastUsedAt are cleared; a non-zero ExpiresAt must
// lie in the future, and with Config.RequireExpiry it must be set. Issue
// returns an error wrapping ErrInvalidKey or ErrDuplicate, or the store's
// error.
func (m *Manager) Issue(ctx context.Context, k Key) (string, Key, error) {
	if err := m.check(); err != nil {
		return "", Key{}, err
	}
	k = k.Clone()
	if k.Subject == "" {
		return "", Key{}, fmt.Errorf("%w: subject is required", ErrInvalidKey)
	}
	if k.ID == "" {
		k.ID = "key_" + string(appendRandomBase62(nil, 22))
	} else if !validID(k.ID) {
		return "", Key{}, fmt.Errorf("%w: id must be 1 to %d printable ASCII characters", ErrInvalidKey, maxIDLen)
	}
	k.CreatedAt = normTime(m.now())
	k.ExpiresAt = normTime(k.ExpiresAt)
	k.RevokedAt, k.LastUsedAt = time.Time{}, time.Time{}
	switch {
	case !k.ExpiresAt.IsZero() && !k.ExpiresAt.After(k.CreatedAt):
		return "", Key{}, fmt.Errorf("%w: expiry is not in the future", ErrInvalidKey)
	case m.requireExpiry && k.ExpiresAt.IsZero():
		return "", Key{}, fmt.Errorf("%w: an expiry is required", ErrInvalidKey)
	}
	plaintext, err := GenerateKey(m.prefix)
	if err != nil {
		return "", Key{}, err
	}
	if err := m.store.Create(ctx, Record{Key: k, Digest: m.hasher.digest(plaintext)}); err != nil {
		return "", Key{}, fmt.Errorf("apikey: issue: %w", err)
	}
	return plaintext, k, nil
}

// List returns every key of the store, revoked and expired ones included,
// oldest first — never the keys themselves, which are not stored. It
// returns the store's error.
func (m *Manager) List(ctx context.Context) ([]Key, error) {
	if err := m.check(); err != nil {
		return nil, err
	}
	keys, err := m.store.List(ctx)
	if err != nil {
		return nil, fmt.Errorf("apikey: list: %w", err)
	}
	return keys, nil
}

// Revoke revokes the key with that ID in the store. Through
// Authenticator.Manager it also drops the key from that authenticator's
// cache, so it stops working there at once; other authenticators sharing
// the store stop within their Config.CacheTTL. Revoking a revoked key is not
// an error. Revoke returns an error wrapping ErrNotFound for an unknown ID,
// or the store's error.
func (m *Manager) Revoke(ctx context.Context, id string) error {
	if err := m.check(); err != nil {
		return err
	}
	if err := m.store.Revoke(ctx, id); err != nil {
		return fmt.Errorf("apikey: revoke: %w", err)
	}
	if m.evict != nil {
		m.evict(id)
	}
	return nil
}

// check refuses a Manager that was not built by NewManager or New: it has
// no store and no hasher to issue keys any authenticator would find.
func (m *Manager) check() error {
	if m == nil || m.store == nil || m.hasher == nil {
		return errors.New("apikey: manager not built with NewManager")
	}
	return nil
}

func validID(id string) bool {
	if id == "" || len(id) > maxIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; c <= ' ' || c > '~' {
			return false
		}
	}
	return true
}
