package providers

import (
	"context"
	"fmt"
)

// KeySet supplies verification keys. The verifier asks it only after a
// token passed framing, issuer routing and the header checks, so a KeySet
// that fetches keys over the network is never reached by cheaply rejected
// tokens.
//
// VerificationKeys returns the keys with this kid ("" when the token names
// none) whose bound algorithm is alg. It returns an error classified as
// authgate.ErrUnavailable when keys cannot be had at all (a key server that
// never answered); an empty result for an unknown kid is not an error.
// Implementations must be safe for concurrent use.
type KeySet interface {
	VerificationKeys(ctx context.Context, kid, alg string) ([]Key, error)
}

// StaticKeySet is a fixed set of bound keys.
type StaticKeySet struct {
	byID  map[string][]Key // keys with an ID, by ID
	byAlg map[string][]Key // every key, by algorithm (for tokens without kid)
}

// NewStaticKeySet binds keys to the allowed algorithms (see BindKeys) and
// indexes them by key ID and algorithm.
func NewStaticKeySet(keys []Key, allowed []string) (*StaticKeySet, error) {
	bound, err := BindKeys(keys, allowed)
	if err != nil {
		return nil, err
	}
	return newStaticKeySet(bound), nil
}

func newStaticKeySet(bound []Key) *StaticKeySet {
	s := &StaticKeySet{byID: map[string][]Key{}, byAlg: map[string][]Key{}}
	for _, k := range bound {
		if k.ID != "" {
			s.byID[k.ID] = append(s.byID[k.ID], k)
		}
		s.byAlg[k.Algorithm] = append(s.byAlg[k.Algorithm], k)
	}
	return s
}

// VerificationKeys implements KeySet. Keys with the kid but bound to another
// algorithm are not returned.
func (s *StaticKeySet) VerificationKeys(_ context.Context, kid, alg string) ([]Key, error) {
	if kid == "" {
		return s.byAlg[alg], nil
	}
	keys := s.byID[kid]
	for _, k := range keys {
		if k.Algorithm != alg {
			return filterAlg(keys, alg), nil
		}
	}
	return keys, nil
}

// Len returns the number of keys.
func (s *StaticKeySet) Len() int {
	n := 0
	for _, ks := range s.byAlg {
		n += len(ks)
	}
	return n
}

func filterAlg(keys []Key, alg string) []Key {
	var out []Key
	for _, k := range keys {
		if k.Algorithm == alg {
			out = append(out, k)
		}
	}
	return out
}

// String describes the set by its size, never its key material.
func (s *StaticKeySet) String() string { return fmt.Sprintf("StaticKeySet(%d keys)", s.Len()) }
