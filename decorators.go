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
// invalid_token, its text kept for logs only.
func Resolve(a Authenticator, resolve func(ctx context.Context, p *Principal) (any, error)) Authenticator {
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
		return nil, classified(p.Provider, ErrInvalidCredentials, err)
	}
	p.User = user
	return p, nil
}

func (d *resolver) Describe() Description { return describe(d.next) }

// Check decorates a with a custom rule, run after a authenticated the
// request (token typ, an IP allow-list, a tenant that must be present…). An
// error from check rejects the request: one carrying an authgate sentinel
// keeps its meaning (return ErrInvalidClaim for a 401); any other error is
// ErrForbidden (403), since the credential itself was valid.
func Check(a Authenticator, check func(r *http.Request, p *Principal) error) Authenticator {
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
		return nil, classified(p.Provider, ErrForbidden, err)
	}
	return p, nil
}

func (d *checker) Describe() Description { return describe(d.next) }

// classified keeps err when it already carries an authgate classification,
// and otherwise wraps it as kind. "Not mine" from a decorator's own code is
// not allowed to let a chain move on: it becomes kind as well.
func classified(provider string, kind, err error) error {
	if c := classify(err); c != classNoCredentials && c != classUnrecognized && hasSentinel(err) {
		return err
	}
	return &Error{Provider: provider, Kind: kind, Err: err}
}

func hasSentinel(err error) bool {
	for _, s := range []error{ErrInvalidCredentials, ErrForbidden, ErrMalformedRequest, ErrUnavailable} {
		if errors.Is(err, s) {
			return true
		}
	}
	return false
}

// describe returns a's Description when it has one.
func describe(a Authenticator) Description {
	if d, ok := a.(Describer); ok {
		return d.Describe()
	}
	return Description{}
}
