package firebase

import (
	"errors"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/providers"
)

var (
	errAudience        = errors.New(`"aud" must be exactly the project id`)
	errUIDTooLong      = errors.New(`"sub" is longer than 128 bytes`)
	errNoIat           = errors.New(`"iat" is required`)
	errNoAuthTime      = errors.New(`"auth_time" is required`)
	errAuthTime        = errors.New(`"auth_time" is not a NumericDate in range`)
	errAuthTimeFuture  = errors.New(`"auth_time" in the future`)
	errTenantType      = errors.New(`"firebase.tenant" is not a string`)
	errTenantMissing   = errors.New(`"firebase.tenant" is required`)
	errTenantMismatch  = errors.New(`"firebase.tenant" is not the configured tenant`)
	errTenantForbidden = errors.New(`tenant tokens are not accepted (configure TenantID or AnyTenant)`)
)

// rules are Firebase's checks beyond what providers.Verifier does (RS256,
// iss, aud contains the project, exp, nbf, iat not in the future, sub
// non-empty): run as VerifierConfig.Validate, after the signature.
type rules struct {
	name      string
	tenantID  string
	anyTenant bool
	requireID bool          // kid required (every mode but the emulator's)
	leeway    time.Duration // the verifier's, set once it is built
	now       func() time.Time
}

func (r *rules) fail(kind, cause error) error {
	return &authgate.Error{Provider: r.name, Kind: kind, Err: cause}
}

func (r *rules) validate(t *providers.Token) error {
	if r.requireID && t.KeyID == "" {
		return r.fail(authgate.ErrMalformedToken, errNoKid) // kidRequired already refused it
	}
	if len(t.Audience) != 1 {
		return r.fail(authgate.ErrInvalidAudience, errAudience)
	}
	if len(t.Subject) > MaxUIDLength {
		return r.fail(authgate.ErrInvalidClaim, errUIDTooLong)
	}
	if _, ok := t.Claims["iat"]; !ok {
		return r.fail(authgate.ErrMissingClaim, errNoIat)
	}
	authTime, ok, err := numericDate(t.Claims, "auth_time")
	switch {
	case err != nil:
		return r.fail(authgate.ErrInvalidClaim, err)
	case !ok:
		return r.fail(authgate.ErrMissingClaim, errNoAuthTime)
	case authTime.After(r.now().Add(r.leeway)):
		return r.fail(authgate.ErrTokenNotYetValid, errAuthTimeFuture)
	}
	return r.checkTenant(t.Claims)
}

func (r *rules) checkTenant(claims map[string]any) error {
	var tenant string
	v, present := authgate.LookupClaim(claims, tenantClaim)
	if present {
		s, ok := v.(string)
		if !ok {
			return r.fail(authgate.ErrInvalidClaim, errTenantType)
		}
		tenant = s
	}
	switch {
	case r.anyTenant:
		return nil
	case r.tenantID != "" && !present:
		return r.fail(authgate.ErrMissingClaim, errTenantMissing)
	case r.tenantID != "" && tenant != r.tenantID:
		return r.fail(authgate.ErrInvalidClaim, errTenantMismatch)
	case r.tenantID == "" && present:
		return r.fail(authgate.ErrInvalidClaim, errTenantForbidden)
	}
	return nil
}

// numericDate reads an optional NumericDate claim with the verifier's
// rules (providers.NumericDate).
func numericDate(c map[string]any, name string) (time.Time, bool, error) {
	raw, present := c[name]
	if !present {
		return time.Time{}, false, nil
	}
	t, err := providers.NumericDate(raw)
	if err != nil {
		return time.Time{}, true, errAuthTime
	}
	return t, true, nil
}
