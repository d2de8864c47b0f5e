package apikey

import (
	"context"
	"errors"
	"slices"
	"time"
)

// Errors a Store returns. Match them with errors.Is.
var (
	// ErrNotFound: no key has that digest or ID.
	ErrNotFound = errors.New("apikey: key not found")
	// ErrDuplicate: a key with that ID or digest already exists.
	ErrDuplicate = errors.New("apikey: key already exists")
)

// Key is what is known about an API key, never the key itself.
//
// Times are kept at microsecond precision in UTC; a zero time means "not
// set": no expiry, not revoked, never used.
type Key struct {
	// ID identifies the key in lists, logs and Revoke. It is not secret.
	ID string
	// Name is a label for people ("deploy bot", "Alice's laptop").
	Name string
	// Subject is the owner: it becomes Principal.Subject.
	Subject string
	// Tenant becomes Principal.Tenant.
	Tenant string
	// Roles and Scopes become Principal.Roles and Principal.Scopes.
	Roles  []string
	Scopes []string
	// CreatedAt is when the key was issued.
	CreatedAt time.Time
	// ExpiresAt is the first instant the key is no longer valid; zero means
	// it does not expire.
	ExpiresAt time.Time
	// RevokedAt is when the key was revoked; a key with a non-zero RevokedAt
	// is rejected.
	RevokedAt time.Time
	// LastUsedAt is the last recorded use (recorded in batches, so it can
	// lag by Config.LastUsedInterval).
	LastUsedAt time.Time
}

// Clone returns a deep copy of k.
func (k Key) Clone() Key {
	k.Roles = cloneStrings(k.Roles)
	k.Scopes = cloneStrings(k.Scopes)
	return k
}

func cloneStrings(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return slices.Clone(s)
}

// Record is a stored key: its metadata and the digest it is found by.
type Record struct {
	Key
	Digest Digest
}

// Usage is one key's last use, for Store.MarkUsed.
type Usage struct {
	ID string
	At time.Time
}

// Store keeps API keys by digest. Implementations must be safe for
// concurrent use, must return values the caller may keep and modify, and
// must honour ctx: a cancelled or expired ctx is an error, never
// ErrNotFound. Empty Roles and Scopes are returned as nil.
//
// Any error other than ErrNotFound from Lookup is a technical failure: the
// authenticator answers 503, never "valid" and never "invalid".
type Store interface {
	// Create stores a new key. It returns an error wrapping ErrDuplicate
	// when the ID or the digest already exists.
	Create(ctx context.Context, r Record) error
	// Lookup returns the key with digest d, or an error wrapping
	// ErrNotFound.
	Lookup(ctx context.Context, d Digest) (Record, error)
	// List returns every key, revoked and expired ones included, oldest
	// first (ties by ID).
	List(ctx context.Context) ([]Key, error)
	// Revoke marks the key with that ID revoked now. Revoking a revoked key
	// is not an error and keeps the first revocation time. It returns an
	// error wrapping ErrNotFound for an unknown ID.
	Revoke(ctx context.Context, id string) error
	// MarkUsed records last uses in one batch. A time earlier than the one
	// stored is ignored, and so are unknown IDs.
	MarkUsed(ctx context.Context, used []Usage) error
}

// normTime returns t in UTC at microsecond precision, without a monotonic
// reading, which every store can represent exactly.
func normTime(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC().Truncate(time.Microsecond)
}

// NormalizeTime returns t as stores keep it: UTC, microsecond precision, no
// monotonic clock reading; the zero time stays zero. Store implementations
// use it so that every store round-trips the same values.
func NormalizeTime(t time.Time) time.Time { return normTime(t) }
