package apikey

import (
	"cmp"
	"context"
	"crypto/subtle"
	"fmt"
	"slices"
	"sync"
	"time"
)

// MemoryStore is a Store that keeps keys in memory, for tests, development
// and programs whose keys come from configuration. It is safe for
// concurrent use.
type MemoryStore struct {
	mu       sync.RWMutex
	byDigest map[Digest]*Record
	byID     map[string]*Record
	now      func() time.Time
}

// NewMemoryStore returns an empty MemoryStore.
func NewMemoryStore() *MemoryStore {
	return &MemoryStore{
		byDigest: make(map[Digest]*Record),
		byID:     make(map[string]*Record),
		now:      time.Now,
	}
}

// Create stores r. It returns an error wrapping ErrDuplicate when its ID or
// digest is already stored.
func (s *MemoryStore) Create(ctx context.Context, r Record) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	r.Key = normKey(r.Key.Clone())
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.byID[r.ID]; ok {
		return fmt.Errorf("%w: id %q", ErrDuplicate, r.ID)
	}
	if _, ok := s.byDigest[r.Digest]; ok {
		return fmt.Errorf("%w: digest", ErrDuplicate)
	}
	s.byID[r.ID] = &r
	s.byDigest[r.Digest] = &r
	return nil
}

// Lookup returns a copy of the key with digest d, or an error wrapping
// ErrNotFound.
func (s *MemoryStore) Lookup(ctx context.Context, d Digest) (Record, error) {
	if err := ctx.Err(); err != nil {
		return Record{}, err
	}
	s.mu.RLock()
	r, ok := s.byDigest[d]
	var out Record
	if ok {
		out = *r
	}
	s.mu.RUnlock()
	if !ok || subtle.ConstantTimeCompare(out.Digest[:], d[:]) != 1 {
		return Record{}, ErrNotFound
	}
	out.Key = out.Key.Clone()
	return out, nil
}

// List returns copies of every key, oldest first.
func (s *MemoryStore) List(ctx context.Context) ([]Key, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	keys := make([]Key, 0, len(s.byID))
	for _, r := range s.byID {
		keys = append(keys, r.Key.Clone())
	}
	s.mu.RUnlock()
	slices.SortFunc(keys, func(a, b Key) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.ID, b.ID))
	})
	return keys, nil
}

// Revoke marks the key with that ID revoked now. It returns an error
// wrapping ErrNotFound for an unknown ID.
func (s *MemoryStore) Revoke(ctx context.Context, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.byID[id]
	if !ok {
		return fmt.Errorf("%w: id %q", ErrNotFound, id)
	}
	if r.RevokedAt.IsZero() {
		r.RevokedAt = normTime(s.now())
	}
	return nil
}

// MarkUsed records last uses; earlier times and unknown IDs are ignored.
func (s *MemoryStore) MarkUsed(ctx context.Context, used []Usage) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, u := range used {
		if r, ok := s.byID[u.ID]; ok {
			if at := normTime(u.At); at.After(r.LastUsedAt) {
				r.LastUsedAt = at
			}
		}
	}
	return nil
}

// normKey normalizes the times of k to what every store can hold.
func normKey(k Key) Key {
	k.CreatedAt = normTime(k.CreatedAt)
	k.ExpiresAt = normTime(k.ExpiresAt)
	k.RevokedAt = normTime(k.RevokedAt)
	k.LastUsedAt = normTime(k.LastUsedAt)
	return k
}
