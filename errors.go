package authgate

import (
	"errors"
	"strings"
)

// sentinel is a classification error. Finer sentinels wrap a coarser parent,
// so errors.Is(ErrTokenExpired, ErrInvalidCredentials) holds.
type sentinel struct {
	msg    string
	parent error
}

func (s *sentinel) Error() string { return "authgate: " + s.msg }
func (s *sentinel) Unwrap() error { return s.parent }

// The outcomes of authentication. Match them with errors.Is; never compare
// error strings.
var (
	// ErrNoCredentials: nothing the authenticator handles is in the request.
	ErrNoCredentials error = &sentinel{msg: "no credentials", parent: nil}
	// ErrUnrecognizedCredential: a credential is present but another
	// authenticator's (a token of another issuer, an API key of another
	// prefix, a bearer value that is no JWT). It wraps ErrNoCredentials so a
	// chain tries the next authenticator; alone it is a 401 invalid_token.
	ErrUnrecognizedCredential error = &sentinel{msg: "credential not recognized", parent: ErrNoCredentials}

	// ErrInvalidCredentials: the credential is this authenticator's and it is
	// wrong. Every finer rejection below wraps it.
	ErrInvalidCredentials error = &sentinel{msg: "invalid credentials"}
	// ErrMalformedToken: the token is not a well-formed compact JWS.
	ErrMalformedToken error = &sentinel{msg: "malformed token", parent: ErrInvalidCredentials}
	// ErrTokenExpired: exp has passed (beyond the leeway).
	ErrTokenExpired error = &sentinel{msg: "token has expired", parent: ErrInvalidCredentials}
	// ErrTokenNotYetValid: nbf or iat lies in the future (beyond the leeway).
	ErrTokenNotYetValid error = &sentinel{msg: "token is not yet valid", parent: ErrInvalidCredentials}
	// ErrInvalidSignature: the signature does not verify with the selected key,
	// or no key fits the token.
	ErrInvalidSignature error = &sentinel{msg: "invalid signature", parent: ErrInvalidCredentials}
	// ErrInvalidIssuer: iss is missing or not the configured issuer.
	ErrInvalidIssuer error = &sentinel{msg: "invalid issuer", parent: ErrInvalidCredentials}
	// ErrInvalidAudience: aud is missing or names none of the configured audiences.
	ErrInvalidAudience error = &sentinel{msg: "invalid audience", parent: ErrInvalidCredentials}
	// ErrMissingClaim: an essential claim is absent.
	ErrMissingClaim error = &sentinel{msg: "missing claim", parent: ErrInvalidCredentials}
	// ErrInvalidClaim: a claim has the wrong type or a value outside its rule.
	ErrInvalidClaim error = &sentinel{msg: "invalid claim", parent: ErrInvalidCredentials}
	// ErrUnsupportedAlgorithm: the token's alg is not allowed, or a header
	// feature (crit, jku, x5c, enc, …) is not supported.
	ErrUnsupportedAlgorithm error = &sentinel{msg: "unsupported algorithm", parent: ErrInvalidCredentials}
	// ErrRevoked: the credential was revoked (or its user disabled).
	ErrRevoked error = &sentinel{msg: "credential revoked", parent: ErrInvalidCredentials}

	// ErrForbidden: authenticated, but not allowed (role, scope, permission,
	// a Check that said no).
	ErrForbidden error = &sentinel{msg: "forbidden"}
	// ErrMalformedRequest: the request itself is ambiguous or broken (two
	// Authorization headers, "Bearer" with no token, a token with spaces).
	ErrMalformedRequest error = &sentinel{msg: "malformed request"}
	// ErrUnavailable: a technical failure (keys cannot be fetched, the key
	// store is down). It never means "allowed".
	ErrUnavailable error = &sentinel{msg: "authentication unavailable"}
	// ErrRateLimited: the client made too many failed attempts and is
	// refused for a while without its credential being looked at (429).
	ErrRateLimited error = &sentinel{msg: "too many failed attempts"}
)

// ErrPanic is the cause inside the error returned for an authenticator that
// panicked (by the adapters and by chains): errors.Is(err, ErrPanic) holds.
// That error also carries ErrInvalidCredentials, so the response is the
// usual 401 invalid_token: a panic fails closed, the next authenticators of
// a chain are not tried, and the client cannot tell a panic from any other
// rejection. The panic value, which may hold the credential, is dropped.
var ErrPanic = errors.New("authgate: authenticator panicked")

// Error is the typed error authgate providers return. Kind is one of the
// sentinels above; Err is the internal cause (for logs, never shown to
// clients). Both errors.Is and errors.As see through it, also inside
// errors.Join.
//
// No field ever holds token material, secrets or unverified claim values.
type Error struct {
	// Provider names the authenticator that decided.
	Provider string
	// Kind is the classification sentinel, for example ErrTokenExpired.
	Kind error
	// Code overrides the RFC 6750 error code ("invalid_token",
	// "invalid_request", "insufficient_scope"); empty derives it from Kind.
	Code string
	// Description overrides the client-safe text (see Detail).
	Description string
	// Scope lists what the route required, for insufficient_scope
	// challenges.
	Scope []string
	// Schemes are the challenges offered (auth-scheme and optional
	// auth-params, such as `ApiKey header="X-API-Key"`); empty means Bearer.
	Schemes []string
	// Err is the internal cause.
	Err error
}

// Error returns "provider: kind: cause" — never token material.
func (e *Error) Error() string {
	var b strings.Builder
	if e.Provider != "" {
		b.WriteString(e.Provider)
		b.WriteString(": ")
	}
	switch k := e.Kind.(type) {
	case *sentinel:
		b.WriteString(k.msg)
	case nil:
		b.WriteString("authentication failed")
	default:
		b.WriteString(k.Error())
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the kind and the cause.
func (e *Error) Unwrap() []error {
	switch {
	case e.Kind != nil && e.Err != nil:
		return []error{e.Kind, e.Err}
	case e.Kind != nil:
		return []error{e.Kind}
	case e.Err != nil:
		return []error{e.Err}
	}
	return nil
}

// NewError returns an *Error of the given kind for provider with an internal
// cause (which may be nil).
func NewError(provider string, kind, cause error) *Error {
	return &Error{Provider: provider, Kind: kind, Err: cause}
}

// class is the coarse outcome an error maps to.
type class int

const (
	classNone class = iota
	classNoCredentials
	classUnrecognized
	classInvalid
	classForbidden
	classMalformed
	classRateLimited
	classUnavailable
)

// classify maps any error to its coarse outcome. A more severe class wins
// when an error carries several (errors.Join): a technical failure is never
// reported as a mere rejection, and a rejection never as "no credentials".
func classify(err error) class {
	switch {
	case err == nil:
		return classNone
	case errors.Is(err, ErrUnavailable):
		return classUnavailable
	case errors.Is(err, ErrRateLimited):
		return classRateLimited
	case errors.Is(err, ErrMalformedRequest):
		return classMalformed
	case errors.Is(err, ErrForbidden):
		return classForbidden
	case errors.Is(err, ErrInvalidCredentials):
		return classInvalid
	case errors.Is(err, ErrUnrecognizedCredential):
		return classUnrecognized
	case errors.Is(err, ErrNoCredentials):
		return classNoCredentials
	}
	// An unclassified error (a resolver's own error, say) rejects the
	// credential: fail closed.
	return classInvalid
}

// IsNotMine reports whether err means "this authenticator does not handle
// the request's credential" and nothing worse: ErrNoCredentials or
// ErrUnrecognizedCredential, and no rejection, denial or failure. Chains use
// it to decide whether the next authenticator may try.
func IsNotMine(err error) bool {
	c := classify(err)
	return c == classNoCredentials || c == classUnrecognized
}

// Reason returns a short, bounded reason for logs and metrics: one of
// "no_credentials", "unrecognized", "malformed_request", "unavailable",
// "rate_limited",
// "forbidden", "expired", "not_yet_valid", "signature", "issuer",
// "audience", "missing_claim", "invalid_claim", "algorithm", "revoked",
// "malformed_token" or "invalid". It never contains request data.
func Reason(err error) string {
	switch classify(err) {
	case classNone:
		return ""
	case classNoCredentials:
		return "no_credentials"
	case classUnrecognized:
		return "unrecognized"
	case classMalformed:
		return "malformed_request"
	case classUnavailable:
		return "unavailable"
	case classRateLimited:
		return "rate_limited"
	case classForbidden:
		return "forbidden"
	}
	for _, r := range invalidReasons {
		if errors.Is(err, r.err) {
			return r.reason
		}
	}
	return "invalid"
}

var invalidReasons = []struct {
	err    error
	reason string
}{
	{ErrInvalidSignature, "signature"},
	{ErrUnsupportedAlgorithm, "algorithm"},
	{ErrMalformedToken, "malformed_token"},
	{ErrRevoked, "revoked"},
	{ErrTokenExpired, "expired"},
	{ErrTokenNotYetValid, "not_yet_valid"},
	{ErrInvalidIssuer, "issuer"},
	{ErrInvalidAudience, "audience"},
	{ErrMissingClaim, "missing_claim"},
	{ErrInvalidClaim, "invalid_claim"},
}
