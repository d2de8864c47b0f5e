package providers

import (
	"errors"
	"fmt"

	"github.com/authgate/authgate"
)

var (
	errUnsignedHasSignature = errors.New(`an unsigned token must have an empty signature segment`)
	errUnsignedAlg          = errors.New(`an unsigned token must have "alg":"none"`)
	errUnsignedCrit         = errors.New(`an unsigned token must not carry "crit"`)
)

// InsecureVerifyUnsigned verifies a token that carries no signature at
// all — header {"alg":"none"} and an empty third segment — exactly as
// Verify verifies a signed one in every other respect: the same size cap,
// framing (two dots, base64url, canonical encoding), strict JSON, issuer
// routing (another issuer is authgate.ErrUnrecognizedCredential), header
// rules (typ; no jku, x5u, jwk, x5c, enc, zip, b64, nesting cty; any crit
// refused), registered claims (exp required, nbf, iat, aud, sub), the claim
// rules and Validate. Keys are never consulted.
//
// It exists for the Firebase Auth emulator, whose tokens are unsigned. It
// MUST NOT be reachable from a production configuration: anyone can mint a
// token it accepts. Verify never accepts such a token (ErrUnsupportedAlgorithm
// for "alg":"none"), and this method never accepts a signed one
// (ErrUnsupportedAlgorithm for any other alg, ErrMalformedToken for a
// non-empty signature segment).
func (v *Verifier) InsecureVerifyUnsigned(token string) (*Token, error) {
	h, p, err := frameUnsigned(token, v.maxSize)
	if err != nil {
		return nil, v.fail(authgate.ErrUnrecognizedCredential, err)
	}
	buf := make([]byte, strictBase64.DecodedLen(len(p))+strictBase64.DecodedLen(len(h)))
	payload, rest, err := decodeInto(buf, p)
	if err != nil {
		return nil, v.fail(authgate.ErrUnrecognizedCredential, err)
	}
	claims, err := parseObject(payload)
	if err != nil {
		return nil, v.fail(authgate.ErrUnrecognizedCredential, fmt.Errorf("claims: %w", err))
	}
	if iss, _ := claims["iss"].(string); iss != v.issuer {
		return nil, v.fail(authgate.ErrUnrecognizedCredential, errForeignIssuer)
	}

	t := &Token{Claims: claims, Issuer: v.issuer}
	if len(h) > maxHeaderSize*4/3+4 {
		return nil, v.fail(authgate.ErrMalformedToken, errHeaderSize)
	}
	headerJSON, _, err := decodeInto(rest, h)
	if err != nil {
		return nil, v.fail(authgate.ErrMalformedToken, err)
	}
	if t.Header, err = parseObject(headerJSON); err != nil {
		return nil, v.fail(authgate.ErrMalformedToken, fmt.Errorf("header: %w", err))
	}
	if err := v.checkUnsignedHeader(t); err != nil {
		return nil, err
	}
	if token[len(token)-1] != '.' {
		return nil, v.fail(authgate.ErrMalformedToken, errUnsignedHasSignature)
	}
	if err := v.checkClaims(t); err != nil {
		return nil, err
	}
	return t, nil
}

// frameUnsigned is frame for header.payload. or header.payload.signature:
// size, exactly two dots, non-empty header and payload, base64url only. The
// signature segment may be empty (the caller rejects a non-empty one once
// the issuer has routed the token here).
func frameUnsigned(token string, maxSize int) (h, p string, err error) {
	if len(token) > maxSize {
		return "", "", errTokenSize
	}
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
				return "", "", errSegments
			}
		} else if !isBase64URL(c) {
			return "", "", errAlphabet
		}
	}
	if dot2 < 0 {
		return "", "", errSegments
	}
	h, p = token[:dot1], token[dot1+1:dot2]
	if len(h) == 0 || len(p) == 0 {
		return "", "", errEmptySegment
	}
	return h, p, nil
}

// checkUnsignedHeader applies the header rules of checkHeader to an
// unsigned token: "alg" must be exactly "none".
func (v *Verifier) checkUnsignedHeader(t *Token) error {
	h := t.Header
	name, ok := h["alg"].(string)
	if !ok {
		return v.fail(authgate.ErrMalformedToken, errors.New(`header "alg" missing or not a string`))
	}
	if name != "none" {
		return v.fail(authgate.ErrUnsupportedAlgorithm, errUnsignedAlg)
	}
	t.Algorithm = name
	if kid, present := h["kid"]; present {
		if t.KeyID, ok = kid.(string); !ok {
			return v.fail(authgate.ErrMalformedToken, errors.New(`header "kid" is not a string`))
		}
	}
	for _, n := range [...]string{"jwk", "jku", "x5u", "x5c"} {
		if _, present := h[n]; present {
			return v.fail(authgate.ErrUnsupportedAlgorithm, errHeaderKeyRef)
		}
	}
	for _, n := range [...]string{"enc", "zip"} {
		if _, present := h[n]; present {
			return v.fail(authgate.ErrUnsupportedAlgorithm, errHeaderJWE)
		}
	}
	if _, present := h["b64"]; present {
		return v.fail(authgate.ErrUnsupportedAlgorithm, errHeaderB64)
	}
	if _, present := h["crit"]; present {
		return v.fail(authgate.ErrUnsupportedAlgorithm, errUnsignedCrit)
	}
	if cty, present := h["cty"]; present {
		s, ok := cty.(string)
		if !ok {
			return v.fail(authgate.ErrMalformedToken, errors.New(`header "cty" is not a string`))
		}
		if mediaType(s) == "jwt" {
			return v.fail(authgate.ErrUnsupportedAlgorithm, errHeaderNested)
		}
	}
	if typ, present := h["typ"]; present {
		if t.Type, ok = typ.(string); !ok {
			return v.fail(authgate.ErrMalformedToken, errors.New(`header "typ" is not a string`))
		}
	}
	if !v.typeAllowed(t.Type) {
		return v.fail(authgate.ErrInvalidCredentials, errHeaderType)
	}
	return nil
}

// PeekIssuer returns the unverified "iss" of a compact token (signed or
// not), decoded under the same framing and strict JSON rules as Verify, and
// whether there was one: a string claim in a well-formed token no longer
// than MaxTokenSizeLimit. Nothing is verified. Use it only to route a token
// to the verifier that claims its issuer (or to recognise a credential
// presented in the wrong place), never to trust anything about it.
func PeekIssuer(token string) (string, bool) {
	_, p, err := frameUnsigned(token, MaxTokenSizeLimit)
	if err != nil {
		return "", false
	}
	payload, err := strictBase64.DecodeString(p)
	if err != nil {
		return "", false
	}
	claims, err := parseObject(payload)
	if err != nil {
		return "", false
	}
	iss, ok := claims["iss"].(string)
	return iss, ok
}
