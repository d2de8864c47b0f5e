package signin

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// KeySize is the length of a sealing key's secret: 32 bytes, for
// AES-256-GCM.
const KeySize = 32

// Key is one cookie sealing key. ID names it in every cookie it seals, so
// that a key can be rotated: Config.Keys lists the newest first, which
// seals new cookies, and the older ones, which still open the cookies they
// sealed until they are removed.
type Key struct {
	// ID is 1 to 16 characters of [A-Za-z0-9_-], unique among the keys.
	ID string
	// Secret is KeySize random bytes. Generate it with crypto/rand (or
	// NewKey) and keep it out of source control.
	Secret []byte
}

// NewKey returns a key named id with a fresh random secret.
func NewKey(id string) Key {
	k := Key{ID: id, Secret: make([]byte, KeySize)}
	rand.Read(k.Secret)
	return k
}

// ErrUnknownKey is wrapped by the error of a cookie sealed with a key that
// is no longer configured (removed after a rotation), or never was.
var ErrUnknownKey = errors.New("signin: cookie sealed with an unknown key")

// errTampered is the error of a cookie that does not open under its key:
// altered, truncated, or sealed for another cookie name.
var errTampered = errors.New("signin: cookie does not open (tampered, or sealed for another purpose)")

// sealer seals and opens cookie values with AES-256-GCM. The cookie's name
// is authenticated with it, so a value sealed for one cookie never opens as
// another. It is immutable and safe for concurrent use.
type sealer struct {
	ids   []string
	aeads map[string]cipher.AEAD
}

func newSealer(keys []Key) (*sealer, error) {
	if len(keys) == 0 {
		return nil, errors.New("at least one sealing key is required (Keys)")
	}
	s := &sealer{aeads: make(map[string]cipher.AEAD, len(keys))}
	for _, k := range keys {
		if !validKeyID(k.ID) {
			return nil, fmt.Errorf("key ID %q must be 1 to 16 characters of [A-Za-z0-9_-]", k.ID)
		}
		if _, dup := s.aeads[k.ID]; dup {
			return nil, fmt.Errorf("key ID %q appears twice", k.ID)
		}
		if len(k.Secret) != KeySize {
			return nil, fmt.Errorf("key %q: secret of %d bytes, want %d", k.ID, len(k.Secret), KeySize)
		}
		if allSame(k.Secret) {
			return nil, fmt.Errorf("key %q: secret is not random", k.ID)
		}
		block, err := aes.NewCipher(k.Secret)
		if err != nil {
			return nil, fmt.Errorf("key %q: %w", k.ID, err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("key %q: %w", k.ID, err)
		}
		s.ids = append(s.ids, k.ID)
		s.aeads[k.ID] = aead
	}
	return s, nil
}

func validKeyID(id string) bool {
	if id == "" || len(id) > 16 {
		return false
	}
	for _, c := range []byte(id) {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

func allSame(b []byte) bool {
	for _, c := range b {
		if c != b[0] {
			return false
		}
	}
	return true
}

// seal encrypts plaintext for the cookie name with the newest key:
// "<key ID>.<base64url(nonce ‖ ciphertext ‖ tag)>".
func (s *sealer) seal(name string, plaintext []byte) string {
	id := s.ids[0]
	aead := s.aeads[id]
	buf := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plaintext)+aead.Overhead())
	rand.Read(buf)
	buf = aead.Seal(buf, buf, plaintext, additional(name, id))
	return id + "." + base64.RawURLEncoding.EncodeToString(buf)
}

// open decrypts a value seal made for the cookie name. Its error wraps
// ErrUnknownKey or is errTampered; neither holds any of the value.
func (s *sealer) open(name, value string) ([]byte, error) {
	id, data, ok := strings.Cut(value, ".")
	if !ok {
		return nil, errTampered
	}
	aead, ok := s.aeads[id]
	if !ok {
		return nil, ErrUnknownKey
	}
	// The decoder skips CR and LF: refuse them, so one sealed value has one
	// spelling.
	if strings.ContainsAny(data, "\r\n") {
		return nil, errTampered
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(data)
	if err != nil || len(raw) < aead.NonceSize()+aead.Overhead() {
		return nil, errTampered
	}
	nonce, ct := raw[:aead.NonceSize()], raw[aead.NonceSize():]
	plain, err := aead.Open(nil, nonce, ct, additional(name, id))
	if err != nil {
		return nil, errTampered
	}
	return plain, nil
}

// additional is the data authenticated with a sealed value: a version, the
// cookie's name and the key ID.
func additional(name, id string) []byte {
	return []byte("authgate-signin-v1\x00" + name + "\x00" + id)
}
