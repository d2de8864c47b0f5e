package adapter

import (
	"errors"
	"fmt"
	"net/http"
	"slices"

	"github.com/authgate/authgate"
)

// GuardKind says what a Guard checks.
type GuardKind int

// The guard kinds.
const (
	AllRoles GuardKind = iota
	AnyRole
	AllScopes
	AllPermissions
)

// Guard checks a principal's roles, scopes or permissions. It is built once
// per route; Check allocates nothing. The decision is the one of the guard
// authenticators of the root package (authgate.RequireRoles, …), so the
// middleware guards, the command's rules and those authenticators cannot
// drift apart.
type Guard struct {
	rule   allower
	denied error
}

// allower is the principal check of the authenticators authgate.RequireRoles
// and its siblings return.
type allower interface {
	Allows(p *authgate.Principal) bool
}

// unused is the authenticator under the root guards a Guard borrows its
// decision from; only their Allows method is ever called.
var unused = authgate.AuthenticatorFunc(func(*http.Request) (*authgate.Principal, error) {
	return nil, authgate.ErrNoCredentials
})

// errNoPrincipal is a guard's answer when no principal is present: the
// route needs one, so it is "no credentials" (401), never a pass.
var errNoPrincipal = &authgate.Error{Kind: authgate.ErrNoCredentials}

// NewGuard returns a guard. It returns an error when values is empty or has
// an empty entry: such a guard would check nothing.
func NewGuard(pkg string, kind GuardKind, values []string) (*Guard, error) {
	if len(values) == 0 {
		return nil, fmt.Errorf("%s: guard needs at least one value", pkg)
	}
	if slices.Contains(values, "") {
		return nil, fmt.Errorf("%s: guard value is empty", pkg)
	}
	values = slices.Clone(values)
	var a authgate.Authenticator
	switch kind {
	case AllRoles:
		a = authgate.RequireRoles(unused, values...)
	case AnyRole:
		a = authgate.RequireAnyRole(unused, values...)
	case AllScopes:
		a = authgate.RequireScopes(unused, values...)
	case AllPermissions:
		a = authgate.RequirePermissions(unused, values...)
	default:
		return nil, fmt.Errorf("%s: unknown guard kind %d", pkg, int(kind))
	}
	rule, ok := a.(allower)
	if !ok {
		return nil, fmt.Errorf("%s: guard cannot check principals", pkg)
	}
	return &Guard{
		rule: rule,
		denied: &authgate.Error{
			Kind:  authgate.ErrForbidden,
			Scope: values,
			Err:   errors.New(pkg + ": " + kind.String()),
		},
	}, nil
}

// MustGuard is NewGuard that panics on a configuration error.
func MustGuard(pkg string, kind GuardKind, values []string) *Guard {
	g, err := NewGuard(pkg, kind, values)
	if err != nil {
		panic(err)
	}
	return g
}

func (k GuardKind) String() string {
	switch k {
	case AllRoles:
		return "missing role"
	case AnyRole:
		return "none of the roles"
	case AllScopes:
		return "missing scope"
	}
	return "missing permission"
}

// Check returns nil when p passes, an ErrNoCredentials error when p is nil
// and an ErrForbidden error (403 insufficient_scope, scope = the required
// values) otherwise.
func (g *Guard) Check(p *authgate.Principal) error {
	if p == nil {
		return errNoPrincipal
	}
	if g.rule.Allows(p) {
		return nil
	}
	return g.denied
}
