package authtest

import (
	"net/http"
	"slices"

	"github.com/authgate/authgate"
)

// Principal returns an Authenticator that authenticates every request as
// p, for testing routes, guards and handlers without tokens (the mock
// authentication of the django-ninja-aio-crud seed). p is copied when
// Principal is called, and each Authenticate returns a fresh deep copy of
// that (User itself is shared), so a handler that modifies its principal
// cannot leak into the next request. A nil p is refused with
// authgate.ErrNoCredentials, like a request without credentials.
func Principal(p *authgate.Principal) authgate.Authenticator {
	if p == nil {
		return Reject(authgate.NewError("authtest", authgate.ErrNoCredentials, nil))
	}
	orig := copyPrincipal(p)
	return authgate.AuthenticatorFunc(func(*http.Request) (*authgate.Principal, error) {
		return copyPrincipal(orig), nil
	})
}

// Reject returns an Authenticator that refuses every request with err —
// one of authgate's sentinels (authgate.ErrTokenExpired,
// authgate.ErrUnavailable, …) or an *authgate.Error — so a test can check
// how a route answers each outcome. A nil err is authgate.ErrNoCredentials.
func Reject(err error) authgate.Authenticator {
	if err == nil {
		err = authgate.NewError("authtest", authgate.ErrNoCredentials, nil)
	}
	return authgate.AuthenticatorFunc(func(*http.Request) (*authgate.Principal, error) {
		return nil, err
	})
}

// copyPrincipal copies p and its lists; Claims and Header are read-only
// and shared (User is copied as it is).
func copyPrincipal(p *authgate.Principal) *authgate.Principal {
	c := *p
	c.Audience = slices.Clone(p.Audience)
	c.Roles = slices.Clone(p.Roles)
	c.Scopes = slices.Clone(p.Scopes)
	c.Permissions = slices.Clone(p.Permissions)
	return &c
}
