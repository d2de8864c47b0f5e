package providers

import (
	"errors"

	"github.com/authgate/authgate"
)

var errUnsignedHasSignature = errors.New(`an unsigned token must have an empty signature segment`)

// InsecureVerifyUnsigned verifies a token that carries no signature at
// all — header {"alg":"none"} and an empty third segment — exactly as
// Verify verifies a signed one in every other respect, through the same
// code: the same size cap, framing (two dots, base64url, canonical
// encoding), strict JSON, issuer routing (another issuer is
// authgate.ErrUnrecognizedCredential), header rules (typ; no jku, x5u, jwk,
// x5c, enc, zip, b64, nesting cty; any crit refused), registered claims
// (exp required, nbf, iat, aud, sub), the claim rules and Validate. Keys are
// never consulted.
//
// It exists for the Firebase Auth emulator, whose tokens are unsigned. It
// MUST NOT be reachable from a production configuration: anyone can mint a
// token it accepts. Verify never accepts such a token (ErrUnsupportedAlgorithm
// for "alg":"none"), and this method never accepts a signed one
// (ErrUnsupportedAlgorithm for any other alg, ErrMalformedToken for a
// non-empty signature segment).
func (v *Verifier) InsecureVerifyUnsigned(token string) (*Token, error) {
	t, h, s, buf, err := v.route(token, true)
	if err != nil {
		return nil, err
	}
	if _, err := v.decodeHeader(t, h, buf); err != nil {
		return nil, err
	}
	if _, err := v.checkHeader(t, true); err != nil {
		return nil, err
	}
	// The signature segment is checked once the issuer has routed the token
	// here and the header said "none".
	if s != "" {
		return nil, v.fail(authgate.ErrMalformedToken, errUnsignedHasSignature)
	}
	if err := v.checkClaims(t); err != nil {
		return nil, err
	}
	return t, nil
}

// PeekIssuer returns the unverified "iss" of a compact token (signed or
// not), decoded under the same framing and strict JSON rules as Verify, and
// whether there was one: a string claim in a well-formed token no longer
// than MaxTokenSizeLimit. Nothing is verified. Use it only to route a token
// to the verifier that claims its issuer (or to recognise a credential
// presented in the wrong place), never to trust anything about it.
func PeekIssuer(token string) (string, bool) {
	_, p, _, err := split(token, MaxTokenSizeLimit)
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
