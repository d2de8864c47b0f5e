package providers

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/internal/bytesconv"
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

// base64URLChars marks the bytes of the unpadded base64url alphabet.
var base64URLChars = func() (t [256]bool) {
	for _, c := range []byte("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") {
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
	n, err := strictBase64.Decode(buf, bytesconv.Bytes(seg))
	if err != nil {
		return nil, nil, errBase64
	}
	return buf[:n:n], buf[n:], nil
}

// decodeHeader decodes the protected header segment h into the front of
// buf and parses it into t.Header; it returns the rest of buf. Every error
// is ErrMalformedToken.
func (v *Verifier) decodeHeader(t *Token, h string, buf []byte) ([]byte, error) {
	if len(h) > maxHeaderSize*4/3+4 {
		return nil, v.fail(authgate.ErrMalformedToken, errHeaderSize)
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
// t.Header, t.Algorithm, t.KeyID and t.Type), key selection and the
// signature over everything before the last dot. buf is free space for the
// decoded header; what it has left after the header is scratch space for
// the signature check (see checkSignature). The signature itself is
// decoded on the stack: nothing keeps it. A header seen before in a token
// whose signature verified comes from the verifier's headerCache instead
// of being decoded and checked again. The Wycheproof tests run it
// directly, since their payloads are not claim sets.
func (v *Verifier) verifySigned(ctx context.Context, t *Token, token, h, s string, buf []byte) error {
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
	if err := v.checkSignature(ctx, t, alg, token[:len(token)-len(s)-1], sig, rest); err != nil {
		return err
	}
	if known == nil {
		v.headers.add(h, t, alg)
	}
	return nil
}
