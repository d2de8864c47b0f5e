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
	c := t.Claims
	now := v.now()
	var err error
	exp, hasExp, err := numericDate(c, "exp")
	if err != nil {
		return v.fail(authgate.ErrInvalidClaim, err)
	}
	if !hasExp {
		return v.fail(authgate.ErrMissingClaim, errors.New(`"exp" is required`))
	}
	nbf, hasNbf, err := numericDate(c, "nbf")
	if err != nil {
		return v.fail(authgate.ErrInvalidClaim, err)
	}
	iat, hasIat, err := numericDate(c, "iat")
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

	if t.Audience, err = audience(c, t.audience[:0]); err != nil {
		return v.fail(authgate.ErrInvalidAudience, err)
	}
	if !v.audienceOK(t) {
		return v.fail(authgate.ErrInvalidAudience, errors.New("audience not accepted"))
	}
	if t.Subject, err = subject(c); err != nil {
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

func (v *Verifier) audienceOK(t *Token) bool {
	if v.skipAudience {
		return true
	}
	for _, a := range t.Audience {
		if slices.Contains(v.audience, a) {
			return true
		}
	}
	if len(v.authorizedParties) > 0 {
		azp, _ := t.Claims["azp"].(string)
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

// numericDate reads the NumericDate claim name of c, if present.
func numericDate(c map[string]any, name string) (time.Time, bool, error) {
	raw, present := c[name]
	if !present {
		return time.Time{}, false, nil
	}
	t, err := NumericDate(raw)
	if err != nil {
		return time.Time{}, true, fmt.Errorf("%q: %w", name, err)
	}
	return t, true, nil
}

// audience reads "aud": a non-empty string or a non-empty array of
// non-empty strings. Absent is an empty list. The list is built in buf's
// capacity when it fits (the token's own storage) and capped at its
// length.
func audience(c map[string]any, buf []string) ([]string, error) {
	raw, present := c["aud"]
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

// subject reads "sub": required, a string of 1 to 255 characters without
// control characters.
func subject(c map[string]any) (string, error) {
	sub, ok := c["sub"].(string)
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
