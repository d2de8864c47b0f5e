package signin

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"sync"
	"time"
)

// Record is what a session keeps about a signed-in user: the verified
// claims of their ID token and the tokens of the sign-in. Records hold
// secrets (the refresh token): a Store must protect them as it would
// passwords.
type Record struct {
	// Subject is the ID token's "sub".
	Subject string `json:"sub"`
	// Claims is the ID token's verified claim set, as JSON.
	Claims json.RawMessage `json:"claims"`
	// IDToken is the raw ID token, sent back as id_token_hint at logout.
	IDToken string `json:"id_token,omitempty"`
	// AccessToken, TokenType, RefreshToken and Expiry are the tokens of
	// the code exchange, as refreshed since.
	AccessToken  string    `json:"access_token,omitempty"`
	TokenType    string    `json:"token_type,omitempty"`
	RefreshToken string    `json:"refresh_token,omitempty"`
	Expiry       time.Time `json:"expiry,omitzero"`
}

// ErrNotFound is returned by a Store's Load for a session it does not
// hold (never saved, deleted at logout, or expired).
var ErrNotFound = errors.New("signin: session not found")

// Store keeps sessions on the server, found by a random session ID that
// only the sealed cookie carries. Implementations must be safe for
// concurrent use; any error other than ErrNotFound is a technical failure
// (the request gets authgate.ErrUnavailable, never a session).
type Store interface {
	// Save stores rec under id, replacing any record there, until
	// expires.
	Save(ctx context.Context, id string, rec *Record, expires time.Time) error
	// Load returns the record stored under id, or ErrNotFound.
	Load(ctx context.Context, id string) (*Record, error)
	// Delete removes the record stored under id; deleting a missing one
	// is not an error.
	Delete(ctx context.Context, id string) error
}

// MemoryStore is a Store in the process's memory, bounded in size: the
// default Store. Sessions do not survive a restart and are not shared
// between replicas. It is safe for concurrent use.
type MemoryStore struct {
	mu   sync.Mutex
	max  int
	now  func() time.Time
	recs map[string]memoryEntry
}

type memoryEntry struct {
	rec     Record
	expires time.Time
}

// NewMemoryStore returns a store of at most max sessions (DefaultMaxSessions
// when max ≤ 0) on the clock now (time.Now when nil). When full, expired
// sessions are dropped first, then those closest to their expiry.
func NewMemoryStore(max int, now func() time.Time) *MemoryStore {
	if max <= 0 {
		max = DefaultMaxSessions
	}
	if now == nil {
		now = time.Now
	}
	return &MemoryStore{max: max, now: now, recs: map[string]memoryEntry{}}
}

// Save stores a copy of rec. It never fails.
func (s *MemoryStore) Save(_ context.Context, id string, rec *Record, expires time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.recs[id]; !ok && len(s.recs) >= s.max {
		s.evictLocked()
	}
	cp := *rec
	cp.Claims = slices.Clone(rec.Claims)
	s.recs[id] = memoryEntry{rec: cp, expires: expires}
	return nil
}

// evictLocked makes room for one session.
func (s *MemoryStore) evictLocked() {
	now := s.now()
	var soonest string
	var soonestAt time.Time
	for id, e := range s.recs {
		if !e.expires.After(now) {
			delete(s.recs, id)
			continue
		}
		if soonest == "" || e.expires.Before(soonestAt) {
			soonest, soonestAt = id, e.expires
		}
	}
	if len(s.recs) >= s.max && soonest != "" {
		delete(s.recs, soonest)
	}
}

// Load returns a copy of the record stored under id, or ErrNotFound.
func (s *MemoryStore) Load(_ context.Context, id string) (*Record, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.recs[id]
	if !ok {
		return nil, ErrNotFound
	}
	if !e.expires.After(s.now()) {
		delete(s.recs, id)
		return nil, ErrNotFound
	}
	cp := e.rec
	cp.Claims = slices.Clone(e.rec.Claims)
	return &cp, nil
}

// Delete removes the record stored under id.
func (s *MemoryStore) Delete(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.recs, id)
	return nil
}

// Len returns how many sessions the store holds, expired ones included
// until they are dropped.
func (s *MemoryStore) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.recs)
}
