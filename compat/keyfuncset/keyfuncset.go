// Package keyfuncset lets an application that already caches a JWKS with
// keyfunc/v3 (github.com/MicahParks/keyfunc/v3, over
// github.com/MicahParks/jwkset) hand that key storage to authgate, so both
// share one JWKS cache and one fetch schedule.
//
// The storage only supplies key material. Every key read from it goes
// through authgate's own JWK parser and is bound to exactly one algorithm
// of the authgate-side allow-list by [providers.BindKeys], and tokens are
// checked by authgate's verifier, never by golang-jwt: an "oct" secret, a
// key with private members, "use":"enc" or key_ops without "verify", a key
// whose "alg" is not allowed or is not the token's, or a weak key never
// verifies a token, whatever keyfunc would have accepted.
//
// Fetching, refreshing and the refetch on an unknown kid stay keyfunc's and
// jwkset's, with their behaviour (see providers' package documentation for
// how it differs from [providers.RemoteKeySet]). A [KeySet] bounds each
// read of the storage with its own timeout, so a rate-limited refresh never
// holds a request for long.
//
// A KeySet is safe for concurrent use.
package keyfuncset

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/MicahParks/jwkset"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/providers"
)

// MaxTimeout is the longest Config.Timeout.
const MaxTimeout = 30 * time.Second

// memoSize bounds the conversions a KeySet remembers; past it the memo
// starts again (a key set holds at most a few dozen keys).
const memoSize = 256

// Config configures a KeySet. Storage and Algorithms are required.
type Config struct {
	// Name names the provider in errors (default "keyfuncset"); give it
	// the Name of the authenticator that uses the set.
	Name string
	// Storage is where the keys are read: keyfunc.Keyfunc's Storage(), or
	// any jwkset.Storage.
	Storage jwkset.Storage
	// Algorithms is the allow-list every key is bound against: a JWK's
	// "alg" must be one of them, and a JWK without "alg" takes the one
	// allowed algorithm of its type (an RSA key with both RS256 and PS256
	// allowed is never used). Only asymmetric algorithms: a shared key set
	// never holds secrets. Give the verifier the same list.
	Algorithms []string
	// Timeout bounds one read of the storage, a refetch on an unknown kid
	// included (default providers.DefaultFetchTimeout, at most MaxTimeout).
	Timeout time.Duration
}

// KeySet is a providers.KeySet over a jwkset.Storage. Make one with New.
type KeySet struct {
	name    string
	storage jwkset.Storage
	allowed []string
	timeout time.Duration

	mu   sync.Mutex
	memo map[string]conversion // a JWK's public JSON → what it became
}

// conversion is a JWK's fate: a bound key, or none.
type conversion struct {
	key providers.Key
	ok  bool
}

// New validates cfg and returns a KeySet. It does not read the storage. It
// returns an error for a nil Storage, an empty Algorithms, an HMAC or
// unknown algorithm, and a Timeout out of bounds.
func New(cfg Config) (*KeySet, error) {
	name := cmp.Or(cfg.Name, "keyfuncset")
	fail := func(format string, args ...any) (*KeySet, error) {
		return nil, fmt.Errorf("%s: "+format, append([]any{name}, args...)...)
	}
	if cfg.Storage == nil {
		return fail("a key storage is required (Storage)")
	}
	if len(cfg.Algorithms) == 0 {
		return fail("no algorithms allowed (Algorithms)")
	}
	for _, a := range cfg.Algorithms {
		switch {
		case !providers.SupportedAlgorithm(a):
			return fail("unsupported algorithm %q", a)
		case len(providers.AsymmetricAlgorithms([]string{a})) == 0:
			return fail("%s needs a shared secret, which a shared key set never holds", a)
		}
	}
	timeout := cmp.Or(cfg.Timeout, providers.DefaultFetchTimeout)
	if timeout < 0 || timeout > MaxTimeout {
		return fail("Timeout %v outside (0, %v]", timeout, MaxTimeout)
	}
	return &KeySet{
		name:    name,
		storage: cfg.Storage,
		allowed: slices.Clone(cfg.Algorithms),
		timeout: timeout,
		memo:    map[string]conversion{},
	}, nil
}

var (
	errRead  = errors.New("keyfuncset: the key storage could not be read")
	errEmpty = errors.New("keyfuncset: the key storage holds no keys")
)

// VerificationKeys implements providers.KeySet: the storage's keys with
// this kid (every key when kid is "") that bind to alg. Keys that authgate
// would not use are left out. It returns an error wrapping
// authgate.ErrUnavailable when the storage cannot be read or holds no key
// at all; an unknown kid is an empty result. Its errors never carry the
// kid or the storage's own message, which may quote it.
func (s *KeySet) VerificationKeys(ctx context.Context, kid, alg string) ([]providers.Key, error) {
	if !slices.Contains(s.allowed, alg) {
		return nil, nil
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	if kid != "" {
		// jwkset refetches on an unknown kid (rate-limited); a read that
		// fails for any reason falls back to the snapshot below, so a kid
		// refused by the limiter is "unknown", not "unavailable".
		if jwk, err := s.storage.KeyRead(ctx, kid); err == nil {
			return s.bound([]jwkset.JWK{jwk}, kid, alg), nil
		}
	}
	all, err := s.storage.KeyReadAll(ctx)
	switch {
	case err != nil:
		return nil, s.unavailable(errRead)
	case len(all) == 0:
		return nil, s.unavailable(errEmpty)
	}
	return s.bound(all, kid, alg), nil
}

func (s *KeySet) unavailable(cause error) error {
	return &authgate.Error{Provider: s.name, Kind: authgate.ErrUnavailable, Err: cause}
}

// bound converts the JWKs with kid (any, when kid is "") and returns those
// bound to alg.
func (s *KeySet) bound(jwks []jwkset.JWK, kid, alg string) []providers.Key {
	var out []providers.Key
	for _, j := range jwks {
		m := j.Marshal()
		if kid != "" && m.KID != kid {
			continue
		}
		if k, ok := s.convert(m); ok && k.Algorithm == alg {
			out = append(out, k)
		}
	}
	return out
}

// convert turns one stored JWK into a bound authgate key through
// providers.ParseJWKS and providers.BindKeys, remembering the outcome.
func (s *KeySet) convert(m jwkset.JWKMarshal) (providers.Key, bool) {
	if m.KTY == jwkset.KtyOct || m.D != "" || m.P != "" || m.Q != "" || m.DP != "" || m.DQ != "" || m.QI != "" || len(m.OTH) > 0 {
		// Secrets and private keys are refused before any encoding:
		// their material never leaves the storage, not even into the memo.
		return providers.Key{}, false
	}
	doc, err := json.Marshal(struct {
		Keys [1]jwkset.JWKMarshal `json:"keys"`
	}{[1]jwkset.JWKMarshal{m}})
	if err != nil {
		return providers.Key{}, false
	}
	id := string(doc)
	s.mu.Lock()
	c, hit := s.memo[id]
	s.mu.Unlock()
	if hit {
		return c.key, c.ok
	}
	c = s.parse(doc)
	s.mu.Lock()
	if len(s.memo) >= memoSize {
		clear(s.memo)
	}
	s.memo[id] = c
	s.mu.Unlock()
	return c.key, c.ok
}

func (s *KeySet) parse(doc []byte) conversion {
	keys, _, err := providers.ParseJWKS(doc)
	if err != nil || len(keys) != 1 {
		return conversion{}
	}
	bound, err := providers.BindKeys(keys, s.allowed)
	if err != nil {
		return conversion{}
	}
	return conversion{key: bound[0], ok: true}
}

// String describes the set by its name, never its key material.
func (s *KeySet) String() string { return "keyfuncset.KeySet(" + s.name + ")" }
