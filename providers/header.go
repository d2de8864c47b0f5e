package providers

import (
	"errors"
	"slices"
	"strings"

	"github.com/authgate/authgate"
)

var (
	errHeaderKeyRef = errors.New("header carries a key or key reference (jwk, jku, x5u, x5c)")
	errHeaderJWE    = errors.New("header marks an encrypted or compressed token")
	errHeaderNested = errors.New("nested tokens are not supported")
	errHeaderB64    = errors.New("unencoded payloads (b64) are not supported")
	errHeaderType   = errors.New("token type not accepted")
	errHeaderCrit   = errors.New("critical header not understood or malformed")
	errHeaderAlg    = errors.New("algorithm not allowed")
	errUnsignedAlg  = errors.New(`an unsigned token must have "alg":"none"`)
	errUnsignedCrit = errors.New(`an unsigned token must not carry "crit"`)
)

// checkHeader checks the protected header t.Header, which it records in
// t.Algorithm, t.KeyID and t.Type, and returns the algorithm to verify
// with. It is the one header check of both Verify and
// InsecureVerifyUnsigned: for a signed token "alg" must be in the
// allow-list and "crit" must list only CriticalHeaders; for an unsigned one
// (which gets a nil algorithm) "alg" must be "none" and any "crit" is
// refused. Both refuse jwk, jku, x5u, x5c, enc, zip, b64, a nesting cty and
// a typ outside TokenTypes.
func (v *Verifier) checkHeader(t *Token, unsigned bool) (*algorithm, error) {
	h := t.Header
	name, ok := h["alg"].(string)
	if !ok {
		return nil, v.fail(authgate.ErrMalformedToken, errors.New(`header "alg" missing or not a string`))
	}
	var alg *algorithm
	switch {
	case unsigned:
		if name != "none" {
			return nil, v.fail(authgate.ErrUnsupportedAlgorithm, errUnsignedAlg)
		}
	default:
		if alg, ok = v.allowed[name]; !ok {
			return nil, v.fail(authgate.ErrUnsupportedAlgorithm, errHeaderAlg)
		}
	}
	t.Algorithm = name
	if kid, present := h["kid"]; present {
		if t.KeyID, ok = kid.(string); !ok {
			return nil, v.fail(authgate.ErrMalformedToken, errors.New(`header "kid" is not a string`))
		}
	}
	for _, n := range [...]string{"jwk", "jku", "x5u", "x5c"} {
		if _, present := h[n]; present {
			return nil, v.fail(authgate.ErrUnsupportedAlgorithm, errHeaderKeyRef)
		}
	}
	for _, n := range [...]string{"enc", "zip"} {
		if _, present := h[n]; present {
			return nil, v.fail(authgate.ErrUnsupportedAlgorithm, errHeaderJWE)
		}
	}
	if _, present := h["b64"]; present {
		return nil, v.fail(authgate.ErrUnsupportedAlgorithm, errHeaderB64)
	}
	if cty, present := h["cty"]; present {
		s, ok := cty.(string)
		if !ok {
			return nil, v.fail(authgate.ErrMalformedToken, errors.New(`header "cty" is not a string`))
		}
		if mediaType(s) == "jwt" {
			return nil, v.fail(authgate.ErrUnsupportedAlgorithm, errHeaderNested)
		}
	}
	if typ, present := h["typ"]; present {
		if t.Type, ok = typ.(string); !ok {
			return nil, v.fail(authgate.ErrMalformedToken, errors.New(`header "typ" is not a string`))
		}
	}
	if !v.typeAllowed(t.Type) {
		return nil, v.fail(authgate.ErrInvalidCredentials, errHeaderType)
	}
	if crit, present := h["crit"]; present {
		if unsigned {
			return nil, v.fail(authgate.ErrUnsupportedAlgorithm, errUnsignedCrit)
		}
		if !v.critOK(h, crit) {
			return nil, v.fail(authgate.ErrUnsupportedAlgorithm, errHeaderCrit)
		}
	}
	return alg, nil
}

func (v *Verifier) typeAllowed(typ string) bool {
	if v.typeSet == nil {
		return typ == "" || mediaType(typ) == "jwt"
	}
	return typ != "" && slices.Contains(v.typeSet, mediaType(typ))
}

// mediaType normalizes a typ/cty value for comparison (RFC 7515 §4.1.9).
func mediaType(s string) string {
	s = strings.ToLower(s)
	return strings.TrimPrefix(s, "application/")
}

// critOK applies RFC 7515 §4.1.11: a non-empty array of distinct strings,
// none a registered name, each present in the header and understood.
func (v *Verifier) critOK(h map[string]any, crit any) bool {
	list, ok := crit.([]any)
	if !ok || len(list) == 0 {
		return false
	}
	for i, e := range list {
		name, ok := e.(string)
		if !ok || !slices.Contains(v.critical, name) || slices.Contains(list[:i], e) {
			return false
		}
		if _, present := h[name]; !present {
			return false
		}
	}
	return true
}
