package apikey

import (
	"crypto/rand"
	"errors"
	"fmt"
	"hash/crc32"
	"strings"
)

const (
	base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

	// randomLen base62 characters carry 30·log2(62) ≈ 178 bits.
	randomLen = 30
	// checksumLen base62 characters hold any 32-bit CRC (62^6 > 2^32).
	checksumLen = 6
	bodyLen     = randomLen + checksumLen

	// MaxKeyLength is the longest credential value the authenticator reads;
	// anything longer is a malformed request.
	MaxKeyLength = 256
	// maxPrefixLen leaves room for the separator and the body.
	maxPrefixLen = MaxKeyLength - 1 - bodyLen
)

var (
	// ErrInvalidPrefix is returned for a prefix that is not lowercase ASCII
	// letters and digits in underscore-separated words starting with a
	// letter ("sk", "sk_live", "acme_rk_test").
	ErrInvalidPrefix = errors.New("apikey: invalid prefix")
	// ErrMalformedKey is returned by CheckFormat for a value that is not a
	// well-formed key with a valid checksum.
	ErrMalformedKey = errors.New("apikey: malformed key")
)

// ValidatePrefix returns nil when prefix can prefix keys: one or more words
// of lowercase ASCII letters and digits separated by single underscores, the
// first starting with a letter, at most 219 bytes ("sk", "sk_live",
// "acme_rk_test"). Otherwise it returns an error wrapping ErrInvalidPrefix.
func ValidatePrefix(prefix string) error {
	if prefix == "" || len(prefix) > maxPrefixLen {
		return fmt.Errorf("%w: length must be 1 to %d bytes", ErrInvalidPrefix, maxPrefixLen)
	}
	if c := prefix[0]; c < 'a' || c > 'z' {
		return fmt.Errorf("%w: must start with a lowercase letter", ErrInvalidPrefix)
	}
	prev := byte(0)
	for i := 0; i < len(prefix); i++ {
		c := prefix[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case c == '_' && prev != '_' && i != len(prefix)-1:
		default:
			return fmt.Errorf("%w: only lowercase letters, digits and single inner underscores", ErrInvalidPrefix)
		}
		prev = c
	}
	return nil
}

// GenerateKey returns a new random key with the given prefix, in the format
// described in the package documentation. It returns an error wrapping
// ErrInvalidPrefix for a bad prefix.
func GenerateKey(prefix string) (string, error) {
	if err := ValidatePrefix(prefix); err != nil {
		return "", err
	}
	b := make([]byte, 0, len(prefix)+1+bodyLen)
	b = append(b, prefix...)
	b = append(b, '_')
	b = appendRandomBase62(b, randomLen)
	b = appendChecksum(b, b[len(b)-randomLen:])
	return string(b), nil
}

// appendRandomBase62 appends n uniformly random base62 characters, by
// rejection sampling of bytes from crypto/rand (which never fails).
func appendRandomBase62(b []byte, n int) []byte {
	var buf [64]byte
	for n > 0 {
		rand.Read(buf[:])
		for _, c := range buf {
			if c >= 62*4 { // 248: keep the distribution uniform
				continue
			}
			b = append(b, base62[c%62])
			if n--; n == 0 {
				break
			}
		}
	}
	return b
}

// appendChecksum appends the CRC-32 (IEEE) of random as six base62 digits,
// most significant first.
func appendChecksum(b, random []byte) []byte {
	sum := crc32.ChecksumIEEE(random)
	var d [checksumLen]byte
	for i := checksumLen - 1; i >= 0; i-- {
		d[i] = base62[sum%62]
		sum /= 62
	}
	return append(b, d[:]...)
}

// splitPrefix returns the prefix of a key-shaped value: everything before
// the last underscore (the body is base62, which has none).
func splitPrefix(key string) (prefix, body string, ok bool) {
	i := strings.LastIndexByte(key, '_')
	if i <= 0 {
		return "", "", false
	}
	return key[:i], key[i+1:], true
}

// validBody reports whether body is 36 base62 characters whose last six are
// the checksum of the first thirty. It does not allocate.
func validBody(body string) bool {
	if len(body) != bodyLen {
		return false
	}
	for i := 0; i < len(body); i++ {
		if base62Value(body[i]) < 0 {
			return false
		}
	}
	sum := crc32String(body[:randomLen])
	var got uint64
	for i := randomLen; i < bodyLen; i++ {
		got = got*62 + uint64(base62Value(body[i]))
	}
	return got == uint64(sum)
}

// crc32String is crc32.ChecksumIEEE of s without converting s to a byte
// slice (which would allocate: the conversion escapes).
func crc32String(s string) uint32 {
	crc := ^uint32(0)
	for i := 0; i < len(s); i++ {
		crc = crc32.IEEETable[byte(crc)^s[i]] ^ crc>>8
	}
	return ^crc
}

func base62Value(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'A' && c <= 'Z':
		return int(c-'A') + 10
	case c >= 'a' && c <= 'z':
		return int(c-'a') + 36
	}
	return -1
}

// CheckFormat reports whether key is a well-formed API key — a valid
// prefix, an underscore, 36 base62 characters with a matching checksum —
// and returns its prefix. It makes no lookup, so scanners can use it to
// recognise leaked keys. It returns an error wrapping ErrMalformedKey (never
// containing the key) otherwise.
func CheckFormat(key string) (prefix string, err error) {
	if len(key) > MaxKeyLength {
		return "", fmt.Errorf("%w: longer than %d bytes", ErrMalformedKey, MaxKeyLength)
	}
	prefix, body, ok := splitPrefix(key)
	if !ok || ValidatePrefix(prefix) != nil {
		return "", fmt.Errorf("%w: no valid prefix", ErrMalformedKey)
	}
	if !validBody(body) {
		return "", fmt.Errorf("%w: bad length, character or checksum", ErrMalformedKey)
	}
	return prefix, nil
}
