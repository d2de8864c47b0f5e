package authgate

import "net/http"

// Authenticator authenticates one HTTP request.
//
// Authenticate returns a non-nil *Principal and a nil error on success, or a
// nil principal and an error classified by the sentinels of this package. An
// Authenticator must be safe for concurrent use and must not keep anything
// request-specific between calls.
type Authenticator interface {
	Authenticate(r *http.Request) (*Principal, error)
}

// AuthenticatorFunc adapts a function to the Authenticator interface.
type AuthenticatorFunc func(r *http.Request) (*Principal, error)

// Authenticate calls f(r).
func (f AuthenticatorFunc) Authenticate(r *http.Request) (*Principal, error) { return f(r) }

// Describer is implemented by authenticators that can say what they accept.
// Composers (chain.Any) use it to build one challenge per scheme and to find
// configurations that cannot work as meant (two authenticators claiming the
// same issuer, two API-key authenticators claiming the same prefix). Every
// authgate provider implements it, and so do the decorators of this package
// ([Resolve], [Check], [RequireRoles], …), which report what they wrap: a
// decorated authenticator keeps the checks its description allows.
type Describer interface {
	Describe() Description
}

// Description tells what credentials an authenticator recognises.
type Description struct {
	// Name is the provider name used in principals, errors and logs.
	Name string
	// Scheme is the challenge this authenticator offers when no credentials
	// were sent: an auth-scheme optionally followed by auth-params, for
	// example "Bearer" or `ApiKey header="X-API-Key"`.
	Scheme string
	// Issuers are the exact token issuers this authenticator claims. An empty
	// list for a Bearer authenticator means it claims every bearer token.
	Issuers []string
	// APIKeyPrefix is the prefix of the API keys this authenticator claims
	// ("sk_live" for keys "sk_live_…"), for an ApiKey scheme. Empty for an
	// ApiKey scheme means it claims every key sent in its header.
	APIKeyPrefix string
	// Members, when not empty, describe the authenticators an OR
	// composition (chain.Any) tries, flattened through nested compositions
	// and decorators; the fields above are then empty. A composer that
	// takes such an authenticator as a member checks every one of Members
	// as if it were its own.
	Members []Description
}
