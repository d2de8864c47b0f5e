package apikey

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// maxIDLen bounds caller-chosen key IDs.
const maxIDLen = 128

// Issue creates a key with the given prefix in store and returns its
// plaintext — shown to its owner once, never stored — and the Key as
// stored. The digest is the unpeppered SHA-256 of the key, which is what an
// Authenticator without a Config.Pepper looks up; with a pepper, issue keys
// with Authenticator.Issue instead, which hashes exactly as its
// Authenticate does.
//
// k.Subject is required. An empty k.ID gets a random one; CreatedAt is set
// to now and RevokedAt and LastUsedAt are cleared; a non-zero ExpiresAt must
// lie in the future. Issue returns an error wrapping ErrInvalidPrefix,
// ErrInvalidKey or ErrDuplicate, or the store's error.
func Issue(ctx context.Context, store Store, prefix string, k Key) (string, Key, error) {
	if err := ValidatePrefix(prefix); err != nil {
		return "", Key{}, err
	}
	return issue(ctx, store, prefix, newHasher(nil), time.Now(), false, k)
}

// ErrInvalidKey is returned by Issue for a Key that cannot be issued (no
// subject, an expiry in the past, a bad ID).
var ErrInvalidKey = errors.New("apikey: invalid key metadata")

func issue(ctx context.Context, store Store, prefix string, h *hasher, now time.Time, requireExpiry bool, k Key) (string, Key, error) {
	if store == nil {
		return "", Key{}, errors.New("apikey: nil store")
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
	k.CreatedAt = normTime(now)
	k.ExpiresAt = normTime(k.ExpiresAt)
	k.RevokedAt, k.LastUsedAt = time.Time{}, time.Time{}
	switch {
	case !k.ExpiresAt.IsZero() && !k.ExpiresAt.After(k.CreatedAt):
		return "", Key{}, fmt.Errorf("%w: expiry is not in the future", ErrInvalidKey)
	case requireExpiry && k.ExpiresAt.IsZero():
		return "", Key{}, fmt.Errorf("%w: an expiry is required", ErrInvalidKey)
	}
	plaintext, err := GenerateKey(prefix)
	if err != nil {
		return "", Key{}, err
	}
	if err := store.Create(ctx, Record{Key: k, Digest: h.digest(plaintext)}); err != nil {
		return "", Key{}, fmt.Errorf("apikey: issue: %w", err)
	}
	return plaintext, k, nil
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
