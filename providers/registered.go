package providers

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/authgate/authgate"
)

const (
	// maxNumericDate is 9999-12-31T23:59:59Z; larger dates are malformed.
	maxNumericDate = 253402300799
	// maxSubjectLength bounds "sub".
	maxSubjectLength = 255
)

var errNumericDate = errors.New("not a NumericDate in range")

// checkClaims is step 6 of Verify: the registered claims (exp required and
// not passed, nbf and iat not in the future, each within the leeway, and
// neither after exp; aud or azp accepted; sub well formed), then the claim
// rules and Validate. It sets t's registered-claim fields.
func (v *Verifier) checkClaims(t *Token) error {
	var reg registeredClaims
	reg.lookUp(t.Claims)
	return v.checkRegistered(t, &reg)
}

// registeredClaims are the members of a claim set that routing and
// checkClaims read. Verify picks them while the claims decode
// (strictjson.ParseObjectFunc) rather than looking each up in the map:
// six lookups, each hashing its name, cost more than a switch on the
// names of the members.
type registeredClaims struct {
	iss, sub, aud, exp, nbf, iat, azp any
	tid                               any   // the tenant an issuer template names (Key.signsFor)
	has                               uint8 // hasAud… bits: the member is present (null counts)
	mapped                            uint8 // the claimsSeen bits of the members present
	claims                            mappedClaims
}

const (
	hasAud = 1 << iota
	hasExp
	hasNbf
	hasIat
)

// pick records one member of the claim set, if it is one of r's.
func (r *registeredClaims) pick(name string, val any) {
	switch name {
	case "iss":
		r.iss = val
	case "sub":
		r.sub = val
	case "aud":
		r.aud, r.has = val, r.has|hasAud
	case "exp":
		r.exp, r.has = val, r.has|hasExp
	case "nbf":
		r.nbf, r.has = val, r.has|hasNbf
	case "iat":
		r.iat, r.has = val, r.has|hasIat
	case "azp":
		r.azp = val
	case "tid":
		r.tid = val
	default:
		r.mapped |= r.claims.pick(name, val)
	}
}

// tenant is the "tid" claim when it is a string: the tenant that keys
// bound to an issuer template need (Key.signsFor).
func (r *registeredClaims) tenant() string {
	tid, _ := r.tid.(string)
	return tid
}

// lookUp fills r from the claims map c.
func (r *registeredClaims) lookUp(c map[string]any) {
	for _, name := range [...]string{"iss", "sub", "aud", "exp", "nbf", "iat", "azp"} {
		if val, ok := c[name]; ok {
			r.pick(name, val)
		}
	}
}

// checkRegistered is checkClaims with the registered claims of t.Claims
// already in reg.
func (v *Verifier) checkRegistered(t *Token, reg *registeredClaims) error {
	c := t.Claims
	now := v.now()
	var err error
	exp, hasExp, err := numericDate(reg.exp, reg.has&hasExp != 0, "exp")
	if err != nil {
		return v.fail(authgate.ErrInvalidClaim, err)
	}
	if !hasExp {
		return v.fail(authgate.ErrMissingClaim, errors.New(`"exp" is required`))
	}
	nbf, hasNbf, err := numericDate(reg.nbf, reg.has&hasNbf != 0, "nbf")
	if err != nil {
		return v.fail(authgate.ErrInvalidClaim, err)
	}
	iat, hasIat, err := numericDate(reg.iat, reg.has&hasIat != 0, "iat")
	if err != nil {
		return v.fail(authgate.ErrInvalidClaim, err)
	}
	if (hasIat && iat.After(exp)) || (hasNbf && nbf.After(exp)) {
		return v.fail(authgate.ErrInvalidClaim, errors.New("iat or nbf after exp"))
	}
	if !now.Before(exp.Add(v.leeway)) {
		return v.fail(authgate.ErrTokenExpired, nil)
	}
	if hasNbf && now.Before(nbf.Add(-v.leeway)) {
		return v.fail(authgate.ErrTokenNotYetValid, errors.New(`"nbf" in the future`))
	}
	if hasIat && iat.After(now.Add(v.leeway)) {
		return v.fail(authgate.ErrTokenNotYetValid, errors.New(`"iat" in the future`))
	}
	t.ExpiresAt, t.NotBefore, t.IssuedAt = exp, nbf, iat

	if t.Audience, err = audience(reg.aud, reg.has&hasAud != 0, t.audience[:0]); err != nil {
		return v.fail(authgate.ErrInvalidAudience, err)
	}
	if !v.audienceOK(t, reg.azp) {
		return v.fail(authgate.ErrInvalidAudience, errors.New("audience not accepted"))
	}
	if t.Subject, err = subject(reg.sub); err != nil {
		return v.fail(authgate.ErrInvalidClaim, err)
	}
	if err := v.claims.check(c); err != nil {
		return &authgate.Error{Provider: v.name, Kind: err.kind, Err: err}
	}
	if v.validate != nil {
		if err := v.validate(t); err != nil {
			if errors.Is(err, authgate.ErrInvalidCredentials) || errors.Is(err, authgate.ErrUnavailable) {
				return err
			}
			return v.fail(authgate.ErrInvalidClaim, err)
		}
	}
	return nil
}

// audienceOK reports whether t.Audience holds an accepted audience, or
// azp, the token's "azp" claim, is an accepted authorized party.
func (v *Verifier) audienceOK(t *Token, azp any) bool {
	if v.skipAudience {
		return true
	}
	for _, a := range t.Audience {
		if slices.Contains(v.audience, a) {
			return true
		}
	}
	if len(v.authorizedParties) > 0 {
		azp, _ := azp.(string)
		return azp != "" && slices.Contains(v.authorizedParties, azp)
	}
	return false
}

// NumericDate converts a NumericDate claim value (RFC 7519 §2) under the
// verifier's rules for exp, nbf and iat: v must be a JSON number of seconds
// since the epoch as Token.Claims holds it (a float64), fractions allowed,
// within [0, 253402300799] (9999-12-31T23:59:59Z). For anything else —
// strings, booleans, null, NaN, an out-of-range number, a missing claim
// (nil) — it returns an error that names neither the claim nor its value,
// for a provider to wrap under its own name ("auth_time": …).
func NumericDate(v any) (time.Time, error) {
	f, ok := v.(float64)
	if !ok || math.IsNaN(f) || f < 0 || f > maxNumericDate {
		return time.Time{}, errNumericDate
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)), nil
}

// numericDate reads raw, the NumericDate claim name, if present.
func numericDate(raw any, present bool, name string) (time.Time, bool, error) {
	if !present {
		return time.Time{}, false, nil
	}
	t, err := NumericDate(raw)
	if err != nil {
		return time.Time{}, true, fmt.Errorf("%q: %w", name, err)
	}
	return t, true, nil
}

// audience reads raw, the "aud" claim, if present: a non-empty string or
// a non-empty array of non-empty strings. Absent is an empty list. The
// list is built in buf's capacity when it fits (the token's own storage)
// and capped at its length.
func audience(raw any, present bool, buf []string) ([]string, error) {
	if !present {
		return nil, nil
	}
	switch a := raw.(type) {
	case string:
		if a != "" {
			out := append(buf[:0], a)
			return out[:1:1], nil
		}
	case []any:
		if len(a) == 0 {
			break
		}
		out := buf[:0]
		if len(a) > cap(out) {
			out = make([]string, 0, len(a))
		}
		for _, e := range a {
			s, ok := e.(string)
			if !ok || s == "" {
				return nil, errors.New(`"aud" has a non-string member`)
			}
			out = append(out, s)
		}
		return out[:len(out):len(out)], nil
	}
	return nil, errors.New(`"aud" is not a string or an array of strings`)
}

// subject reads raw, the "sub" claim: required, a string of 1 to 255
// characters without control characters.
func subject(raw any) (string, error) {
	sub, ok := raw.(string)
	if !ok || sub == "" || len(sub) > maxSubjectLength {
		return "", errors.New(`"sub" missing, empty, too long or not a string`)
	}
	for i := 0; i < len(sub); i++ {
		if b := sub[i]; b < 0x20 || b == 0x7f {
			return "", errors.New(`"sub" contains control characters`)
		}
	}
	return sub, nil
}
