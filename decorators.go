package authgate

import (
	"context"
	"errors"
	"net/http"
)

// Resolve decorates a with the application's user lookup — the seed's
// auth_handler. After a authenticates a request, resolve maps the verified
// principal to the application's user; its result becomes Principal.User.
// An error from resolve rejects the request: an error carrying an authgate
// sentinel keeps its meaning (return ErrUnavailable when the user database
// is down, ErrForbidden for a disabled account); any other error is a 401
// invalid_token, its text kept for logs only. Either way the error names
// the provider that authenticated the request (Error.Provider), so it is
// logged with it.
//
// The result describes itself as a does ([Describer]), so a chain that
// holds it keeps its checks. Resolve panics if a or resolve is nil, like
// chain.Any for a configuration that cannot work: it is a programming
// error, found when the routes are set up.
func Resolve(a Authenticator, resolve func(ctx context.Context, p *Principal) (any, error)) Authenticator {
	if a == nil {
		panic("authgate: Resolve: nil authenticator")
	}
	if resolve == nil {
		panic("authgate: Resolve: nil resolve function")
	}
	return &resolver{next: a, resolve: resolve}
}

type resolver struct {
	next    Authenticator
	resolve func(ctx context.Context, p *Principal) (any, error)
}

func (d *resolver) Authenticate(r *http.Request) (*Principal, error) {
	p, err := d.next.Authenticate(r)
	if err != nil {
		return nil, err
	}
	user, err := d.resolve(r.Context(), p)
	if err != nil {
		return nil, classified(providerOf(p, d.next), ErrInvalidCredentials, err)
	}
	p.User = user
	return p, nil
}

func (d *resolver) Describe() Description { return describe(d.next) }

// Check decorates a with a custom rule, run after a authenticated the
// request (token typ, an IP allow-list, a tenant that must be present…). An
// error from check rejects the request: one carrying an authgate sentinel
// keeps its meaning (return ErrInvalidClaim for a 401); any other error is
// ErrForbidden (403), since the credential itself was valid. Either way the
// error names the provider that authenticated the request.
//
// The result describes itself as a does ([Describer]). Check panics if a
// or check is nil, as [Resolve] does.
func Check(a Authenticator, check func(r *http.Request, p *Principal) error) Authenticator {
	if a == nil {
		panic("authgate: Check: nil authenticator")
	}
	if check == nil {
		panic("authgate: Check: nil check function")
	}
	return &checker{next: a, check: check}
}

type checker struct {
	next  Authenticator
	check func(r *http.Request, p *Principal) error
}

func (d *checker) Authenticate(r *http.Request) (*Principal, error) {
	p, err := d.next.Authenticate(r)
	if err != nil {
		return nil, err
	}
	if err := d.check(r, p); err != nil {
		return nil, classified(providerOf(p, d.next), ErrForbidden, err)
	}
	return p, nil
}

func (d *checker) Describe() Description { return describe(d.next) }

// classified keeps the classification of err when it carries an authgate
// sentinel, and otherwise wraps it as kind; either way the result names
// provider. "Not mine" from a decorator's own code is not allowed to let a
// chain move on: it becomes kind as well.
func classified(provider string, kind, err error) error {
	if c := classify(err); c != classNoCredentials && c != classUnrecognized {
		if s := sentinelOf(err); s != nil {
			return withProvider(err, s, provider)
		}
	}
	return &Error{Provider: provider, Kind: kind, Err: err}
}

// decisive are the sentinels a decorator's error may carry to keep its
// meaning, most severe first.
var decisive = []error{ErrUnavailable, ErrMalformedRequest, ErrForbidden, ErrInvalidCredentials}

// sentinelOf returns the first of decisive that err carries, or nil.
func sentinelOf(err error) error {
	for _, s := range decisive {
		if errors.Is(err, s) {
			return s
		}
	}
	return nil
}

// withProvider returns err so that the *Error found first in it names
// provider: err itself when it already does, a copy of a top-level *Error
// otherwise, and for a bare sentinel or a wrapped error a new *Error of
// kind around it that keeps what an inner *Error says to the client.
func withProvider(err, kind error, provider string) error {
	if provider == "" {
		return err
	}
	var inner *Error
	if errors.As(err, &inner) {
		if inner.Provider != "" {
			return err
		}
		if e, ok := err.(*Error); ok {
			cp := *e
			cp.Provider = provider
			return &cp
		}
	}
	if s, ok := err.(*sentinel); ok {
		return &Error{Provider: provider, Kind: s}
	}
	out := &Error{Provider: provider, Kind: kind, Err: err}
	if inner != nil {
		out.Code, out.Description, out.Scope, out.Schemes = inner.Code, inner.Description, inner.Scope, inner.Schemes
	}
	return out
}

// providerOf names the provider of p: its Provider, or the name next
// describes itself with.
func providerOf(p *Principal, next Authenticator) string {
	if p.Provider != "" {
		return p.Provider
	}
	return describe(next).Name
}

// describe returns a's Description when it has one.
func describe(a Authenticator) Description {
	if d, ok := a.(Describer); ok {
		return d.Describe()
	}
	return Description{}
}
