package providers

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"unsafe"
)

// Framing limits (SECURITY.md §5).
const (
	// DefaultMaxTokenSize is the largest compact token accepted by default.
	DefaultMaxTokenSize = 16 << 10
	// MaxTokenSizeLimit is the largest MaxTokenSize a verifier may be given.
	MaxTokenSizeLimit = 64 << 10
	maxHeaderSize     = 4 << 10
)

// strictBase64 is unpadded base64url that rejects non-canonical trailing
// bits. The alphabet is checked before decoding (Go's decoder skips CR and
// LF, which must not be allowed to pass).
var strictBase64 = base64.RawURLEncoding.Strict()

var (
	errTokenSize     = errors.New("token too large")
	errSegments      = errors.New("token is not a compact JWS of three segments")
	errEmptySegment  = errors.New("token has an empty segment")
	errAlphabet      = errors.New("token has characters outside base64url")
	errBase64        = errors.New("token segment is not canonical base64url")
	errHeaderSize    = errors.New("token header too large")
	errBadSignature  = errors.New("signature does not verify")
	errNoKey         = errors.New("no key for the token's kid and algorithm")
	errAmbiguousKey  = errors.New("several keys match the token's kid and algorithm")
	errTooManyTrials = errors.New("token has no kid and too many keys fit")
)

// base64URLChars marks the bytes of the unpadded base64url alphabet.
var base64URLChars = func() (t [256]bool) {
	for _, c := range []byte("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") {
		t[c] = true
	}
	return t
}()

func isBase64URL(c byte) bool { return base64URLChars[c] }

// verifySignature checks sig over input with key k under alg, which the
// caller has matched to the key's bound algorithm.
func verifySignature(k *Key, alg *algorithm, input string, sig []byte) bool {
	data := unsafe.Slice(unsafe.StringData(input), len(input))
	if alg.family == familyHMAC {
		if k.secret == nil {
			return false
		}
		var buf [sha512.Size]byte
		mac := k.secret.sum(alg.hash, data, buf[:0])
		return hmac.Equal(mac, sig)
	}
	if alg.family == familyEdDSA {
		pub, ok := k.public.(ed25519.PublicKey)
		return ok && len(sig) == ed25519.SignatureSize && ed25519.Verify(pub, data, sig)
	}
	var sum [sha512.Size]byte
	digest := hashInto(alg.hash, data, sum[:0])
	switch alg.family {
	case familyRSA:
		pub, ok := k.public.(*rsa.PublicKey)
		return ok && rsa.VerifyPKCS1v15(pub, alg.hash, digest, sig) == nil
	case familyRSAPSS:
		pub, ok := k.public.(*rsa.PublicKey)
		opts := rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: alg.hash}
		return ok && rsa.VerifyPSS(pub, alg.hash, digest, sig, &opts) == nil
	case familyEC:
		pub, ok := k.public.(*ecdsa.PublicKey)
		if !ok || len(sig) != 2*alg.size {
			return false
		}
		var der [2*66 + 12]byte
		return ecdsa.VerifyASN1(pub, digest, ecdsaDER(der[:0], sig[:alg.size], sig[alg.size:]))
	}
	return false
}

func hashInto(h crypto.Hash, data, out []byte) []byte {
	switch h {
	case crypto.SHA256:
		s := sha256.Sum256(data)
		return append(out, s[:]...)
	case crypto.SHA384:
		s := sha512.Sum384(data)
		return append(out, s[:]...)
	default:
		s := sha512.Sum512(data)
		return append(out, s[:]...)
	}
}

// ecdsaDER encodes the fixed-length R‖S of a JWS signature (RFC 7518 §3.4)
// as the ASN.1 SEQUENCE of two INTEGERs that crypto/ecdsa verifies.
func ecdsaDER(out, r, s []byte) []byte {
	r, s = trimZeros(r), trimZeros(s)
	rl, sl := intLen(r), intLen(s)
	body := 2 + rl + 2 + sl
	out = append(out, 0x30)
	if body >= 0x80 {
		out = append(out, 0x81)
	}
	out = append(out, byte(body))
	out = appendInt(out, r)
	return appendInt(out, s)
}

func trimZeros(b []byte) []byte {
	for len(b) > 0 && b[0] == 0 {
		b = b[1:]
	}
	return b
}

func intLen(b []byte) int {
	if len(b) == 0 || b[0]&0x80 != 0 {
		return len(b) + 1
	}
	return len(b)
}

func appendInt(out, b []byte) []byte {
	out = append(out, 0x02, byte(intLen(b)))
	if len(b) == 0 || b[0]&0x80 != 0 {
		out = append(out, 0)
	}
	return append(out, b...)
}
