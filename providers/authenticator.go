package providers

import (
	"context"
	"net/http"

	"github.com/authgate/authgate"
)

// TokenAuthenticator is the request side every bearer-JWT provider shares:
// it reads "Authorization: Bearer <token>" (BearerToken), verifies the token
// (Verifier) and maps it to a principal (Mapping). A provider of your own is
// a Verifier over a KeySet plus one of these. It is immutable and safe for
// concurrent use.
type TokenAuthenticator struct {
	verifier *Verifier
	mapping  Mapping
}

// NewTokenAuthenticator returns the authenticator of v and m. m.Provider
// defaults to v's name.
func NewTokenAuthenticator(v *Verifier, m Mapping) *TokenAuthenticator {
	if m.Provider == "" {
		m.Provider = v.Name()
	}
	return &TokenAuthenticator{verifier: v, mapping: m}
}

// Authenticate reads the bearer token and verifies it. No bearer
// credential, or a token of another issuer, is "not mine"
// (authgate.ErrNoCredentials, authgate.ErrUnrecognizedCredential) and costs
// no key lookup; an ambiguous header is authgate.ErrMalformedRequest; see
// Verify for the rest.
func (a *TokenAuthenticator) Authenticate(r *http.Request) (*authgate.Principal, error) {
	token, err := BearerToken(r)
	if err != nil {
		if e, ok := err.(*authgate.Error); ok {
			e.Provider = a.mapping.Provider
		}
		return nil, err
	}
	return a.Verify(r.Context(), token)
}

// Verify verifies a token outside HTTP and returns its principal, or an
// error wrapping one of authgate's sentinels (see Verifier.Verify).
func (a *TokenAuthenticator) Verify(ctx context.Context, token string) (*authgate.Principal, error) {
	t, err := a.verifier.Verify(ctx, token)
	if err != nil {
		return nil, err
	}
	return a.mapping.Principal(t), nil
}

// Describe tells chains what the authenticator accepts: bearer tokens of
// its verifier's issuer.
func (a *TokenAuthenticator) Describe() authgate.Description {
	return authgate.Description{Name: a.mapping.Provider, Scheme: "Bearer", Issuers: []string{a.verifier.Issuer()}}
}
