package providers

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"

	"github.com/authgate/authgate"
)

// Framing limits (SECURITY.md#limits).
const (
	// DefaultMaxTokenSize is the largest compact token accepted by default.
	DefaultMaxTokenSize = 16 << 10
	// MaxTokenSizeLimit is the largest MaxTokenSize a verifier may be given.
	MaxTokenSizeLimit = 64 << 10
	maxHeaderSize     = 4 << 10
	// stackSignature is the largest signature decoded on the stack
	// (RSA-8192); a longer one is decoded into an allocation of its own.
	stackSignature = 1024
)

// strictBase64 is unpadded base64url that rejects non-canonical trailing
// bits. The alphabet is checked before decoding (Go's decoder skips CR and
// LF, which must not be allowed to pass).
var strictBase64 = base64.RawURLEncoding.Strict()

var (
	errTokenSize    = errors.New("token too large")
	errSegments     = errors.New("token is not a compact JWS of three segments")
	errEmptySegment = errors.New("token has an empty segment")
	errAlphabet     = errors.New("token has characters outside base64url")
	errBase64       = errors.New("token segment is not canonical base64url")
	errHeaderSize   = errors.New("token header too large")
)

// base64URLAlphabet is the base64url alphabet (RFC 4648 §5), each
// character at its value.
const base64URLAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

// base64URLChars marks the bytes of the unpadded base64url alphabet.
var base64URLChars = func() (t [256]bool) {
	for _, c := range []byte(base64URLAlphabet) {
		t[c] = true
	}
	return t
}()

func isBase64URL(c byte) bool { return base64URLChars[c] }

// notCompact marks the bytes that are neither base64url nor a dot.
var notCompact = func() (t [256]byte) {
	for c := range t {
		if !base64URLChars[c] && c != '.' {
			t[c] = 1
		}
	}
	return t
}()

// compactBytes reports whether s holds only base64url characters and
// dots. It is the hot loop of split: one table load per byte and no
// branch but the loop's.
func compactBytes(s string) bool {
	var bad byte
	i := 0
	for ; i+4 <= len(s); i += 4 {
		bad |= notCompact[s[i]] | notCompact[s[i+1]] | notCompact[s[i+2]] | notCompact[s[i+3]]
	}
	for ; i < len(s); i++ {
		bad |= notCompact[s[i]]
	}
	return bad == 0
}

// split checks the compact framing without decoding: size, exactly two
// dots, the base64url alphabet only, a non-empty header and payload. The
// signature segment may be empty: frame refuses that for a signed token,
// InsecureVerifyUnsigned requires it.
//
// A well-formed token takes the fast path: the dots found by IndexByte,
// the alphabet of the header and signature checked by compactBytes, and
// the payload's only by the absence of CR and LF — the only bytes outside
// the alphabet that the strict base64url decoder lets through, so that
// decoding the payload, which every caller does next, checks the rest
// (decodePayload). Anything else is scanned again by splitSlow, whose
// first failure in token order decides the error.
func split(token string, maxSize int) (h, p, s string, err error) {
	if len(token) > maxSize {
		return "", "", "", errTokenSize
	}
	dot1 := strings.IndexByte(token, '.')
	if dot1 < 0 {
		return splitSlow(token)
	}
	dot2 := strings.IndexByte(token[dot1+1:], '.')
	if dot2 < 0 {
		return splitSlow(token)
	}
	dot2 += dot1 + 1
	h, p, s = token[:dot1], token[dot1+1:dot2], token[dot2+1:]
	if strings.IndexByte(s, '.') >= 0 || len(h) == 0 || len(p) == 0 || !compactBytes(h) || !compactBytes(s) ||
		strings.IndexByte(p, '\n') >= 0 || strings.IndexByte(p, '\r') >= 0 {
		return splitSlow(token)
	}
	return h, p, s, nil
}

// decodePayload decodes the payload segment p of token, framed by split,
// into the front of buf. Its error is split's when the payload holds a
// character outside the alphabet (split left that to the decoder), else
// errBase64.
func decodePayload(buf []byte, token, p string) (decoded, rest []byte, err error) {
	decoded, rest, err = decodeInto(buf, p)
	if err != nil {
		if _, _, _, splitErr := splitSlow(token); splitErr != nil {
			return nil, nil, splitErr
		}
	}
	return decoded, rest, err
}

// splitSlow is split byte by byte: it reports the first of too many dots
// and a character outside the alphabet, in token order.
func splitSlow(token string) (h, p, s string, err error) {
	dot1, dot2 := -1, -1
	for i := 0; i < len(token); i++ {
		c := token[i]
		if c == '.' {
			switch {
			case dot1 < 0:
				dot1 = i
			case dot2 < 0:
				dot2 = i
			default:
				return "", "", "", errSegments
			}
		} else if !isBase64URL(c) {
			return "", "", "", errAlphabet
		}
	}
	if dot2 < 0 {
		return "", "", "", errSegments
	}
	h, p, s = token[:dot1], token[dot1+1:dot2], token[dot2+1:]
	if len(h) == 0 || len(p) == 0 {
		return "", "", "", errEmptySegment
	}
	return h, p, s, nil
}

// frame is split for a signed token: no segment may be empty.
func frame(token string, maxSize int) (h, p, s string, err error) {
	h, p, s, err = split(token, maxSize)
	if err == nil && s == "" {
		return "", "", "", errEmptySegment
	}
	return h, p, s, err
}

// decodeInto decodes seg into the front of buf and returns the decoded bytes
// and the rest of buf. The decoded bytes are never written again, so the
// strict JSON decoder may alias them.
func decodeInto(buf []byte, seg string) (decoded, rest []byte, err error) {
	n, ok := decodeBase64URL(buf, seg)
	if !ok {
		return nil, nil, errBase64
	}
	return buf[:n:n], buf[n:], nil
}

// base64URLValues maps each byte of the base64url alphabet to its value,
// and every other byte to 0xff.
var base64URLValues = func() (t [256]byte) {
	for c := range t {
		t[c] = 0xff
	}
	for i, c := range []byte(base64URLAlphabet) {
		t[c] = byte(i)
	}
	return t
}()

// decodeBase64URL decodes seg, unpadded base64url, into dst, which must
// hold strictBase64.DecodedLen(len(seg)) bytes, and reports whether seg
// was canonical: it accepts what strictBase64 accepts, except CR and LF,
// which encoding/base64 skips and a token must not hold (split refuses
// them already), and it is faster: a token's segments are decoded on every
// verification, and encoding/base64 costs as much as a quarter of the
// HMAC for an HS256 token, mostly in its general tail handling.
// (TestDecodeBase64URL compares the two.)
func decodeBase64URL(dst []byte, seg string) (int, bool) {
	n, i := 0, 0
	// Eight characters to six bytes, written as eight while dst has room.
	for ; len(seg)-i >= 8 && len(dst)-n >= 8; i, n = i+8, n+6 {
		s := seg[i : i+8]
		a, b, c, d := base64URLValues[s[0]], base64URLValues[s[1]], base64URLValues[s[2]], base64URLValues[s[3]]
		e, f, g, h := base64URLValues[s[4]], base64URLValues[s[5]], base64URLValues[s[6]], base64URLValues[s[7]]
		if a|b|c|d|e|f|g|h >= 64 {
			return 0, false
		}
		binary.BigEndian.PutUint64(dst[n:], uint64(a)<<58|uint64(b)<<52|uint64(c)<<46|uint64(d)<<40|
			uint64(e)<<34|uint64(f)<<28|uint64(g)<<22|uint64(h)<<16)
	}
	for ; len(seg)-i >= 4; i, n = i+4, n+3 {
		s := seg[i : i+4]
		a, b, c, d := base64URLValues[s[0]], base64URLValues[s[1]], base64URLValues[s[2]], base64URLValues[s[3]]
		if a|b|c|d >= 64 {
			return 0, false
		}
		v := uint32(a)<<18 | uint32(b)<<12 | uint32(c)<<6 | uint32(d)
		_ = dst[n+2]
		dst[n], dst[n+1], dst[n+2] = byte(v>>16), byte(v>>8), byte(v)
	}
	// The last two or three characters; their unused low bits must be zero.
	switch s := seg[i:]; len(s) {
	case 0:
	case 2:
		a, b := base64URLValues[s[0]], base64URLValues[s[1]]
		if a|b >= 64 || b&0x0f != 0 {
			return 0, false
		}
		dst[n] = a<<2 | b>>4
		n++
	case 3:
		a, b, c := base64URLValues[s[0]], base64URLValues[s[1]], base64URLValues[s[2]]
		if a|b|c >= 64 || c&0x03 != 0 {
			return 0, false
		}
		_ = dst[n+1]
		dst[n], dst[n+1] = a<<2|b>>4, b<<4|c>>2
		n += 2
	default:
		return 0, false
	}
	return n, true
}

// decodeHeader decodes the protected header segment h into the front of
// buf and parses it into t.Header; it returns the rest of buf. Every error
// is ErrMalformedToken.
func (v *Verifier) decodeHeader(t *Token, h string, buf []byte) ([]byte, error) {
	if len(h) > maxHeaderSize*4/3+4 {
		return nil, v.fail(authgate.ErrMalformedToken, errHeaderSize)
	}
	if n := strictBase64.DecodedLen(len(h)) + scratchSize; len(buf) < n {
		buf = make([]byte, n) // route left no room: the header was known then
	}
	headerJSON, rest, err := decodeInto(buf, h)
	if err != nil {
		return nil, v.fail(authgate.ErrMalformedToken, err)
	}
	if t.Header, err = parseObject(headerJSON); err != nil {
		return nil, v.fail(authgate.ErrMalformedToken, fmt.Errorf("header: %w", err))
	}
	return rest, nil
}

// verifySigned is the JWS layer of Verify (steps 3 to 5) for a framed
// token = h.<payload>.s: header size, header decoding and checks (which set
// t.Header, t.Algorithm, t.KeyID and t.Type), key selection (tid is the
// token's "tid" claim, for keys bound to an issuer template) and the
// signature over everything before the last dot. buf is free space for the
// decoded header; what it has left after the header is scratch space for
// the signature check (see checkSignature). The signature itself is
// decoded on the stack: nothing keeps it. A header seen before in a token
// whose signature verified comes from the verifier's headerCache instead
// of being decoded and checked again. The Wycheproof tests run it
// directly, since their payloads are not claim sets.
func (v *Verifier) verifySigned(ctx context.Context, t *Token, tid, token, h, s string, buf []byte) error {
	var alg *algorithm
	rest := buf
	known := v.headers.lookup(h)
	if known != nil {
		alg = known.apply(t)
	} else {
		var err error
		if rest, err = v.decodeHeader(t, h, buf); err != nil {
			return err
		}
		if alg, err = v.checkHeader(t, false); err != nil {
			return err
		}
	}
	var sigBuf [stackSignature]byte
	dst := sigBuf[:]
	if n := strictBase64.DecodedLen(len(s)); n > len(dst) {
		dst = make([]byte, n)
	}
	sig, _, err := decodeInto(dst, s)
	if err != nil {
		return v.fail(authgate.ErrMalformedToken, err)
	}
	if err := v.checkSignature(ctx, t, tid, alg, token[:len(token)-len(s)-1], sig, rest); err != nil {
		return err
	}
	if known == nil {
		v.headers.add(h, t, alg)
	}
	return nil
}
