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

// StaticKeySet is a fixed set of bound keys. It selects the keys for a
// token by its kid and algorithm:
//
//   - a token without kid gets every key bound to its algorithm (the
//     verifier tries at most five);
//   - a token with a kid gets the keys with that kid bound to its
//     algorithm, and nothing when no key has that kid;
//   - except that when no configured key has a kid at all (a PEM public
//     key, an HMAC secret, a JWK without "kid"), the token's kid names
//     nothing the set could match, so it is ignored and the token gets the
//     key bound to its algorithm if there is exactly one; two or more such
//     keys stay unselectable by a token with a kid.
//
// A set in which some keys have kids never falls back to a kid-less key
// for a kid it does not hold: an issuer that names its keys and a kid that
// names none of them means a key this set was not given. Key sets fetched
// by RemoteKeySet match kids exactly.
type StaticKeySet struct {
	byID  map[string][]Key // keys with an ID, by ID
	byAlg map[string][]Key // every key, by algorithm (for tokens without kid)
	// ignoreKid: configured keys without a single kid; a token's kid then
	// selects the one key of its algorithm.
	ignoreKid bool
}

// NewStaticKeySet binds keys to the allowed algorithms (see BindKeys) and
// indexes them by key ID and algorithm; see StaticKeySet for how a token's
// kid selects among them.
func NewStaticKeySet(keys []Key, allowed []string) (*StaticKeySet, error) {
	bound, err := BindKeys(keys, allowed)
	if err != nil {
		return nil, err
	}
	s := newStaticKeySet(bound)
	s.ignoreKid = len(s.byID) == 0
	return s, nil
}

// newStaticKeySet indexes bound keys and matches kids exactly: it is the
// form RemoteKeySet builds from a fetched document.
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

// VerificationKeys implements KeySet with the selection rules of
// StaticKeySet. Keys with the kid but bound to another algorithm are not
// returned. It never returns an error.
func (s *StaticKeySet) VerificationKeys(_ context.Context, kid, alg string) ([]Key, error) {
	if kid == "" {
		return s.byAlg[alg], nil
	}
	if s.ignoreKid {
		if keys := s.byAlg[alg]; len(keys) == 1 {
			return keys, nil
		}
		return nil, nil
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
