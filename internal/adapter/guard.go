package adapter

import (
	"errors"
	"fmt"
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
// per route; Check allocates nothing.
type Guard struct {
	kind   GuardKind
	values []string
	denied error
}

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
	return &Guard{
		kind:   kind,
		values: values,
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
	var ok bool
	switch g.kind {
	case AllRoles:
		ok = all(g.values, p.HasRole)
	case AnyRole:
		ok = slices.ContainsFunc(g.values, p.HasRole)
	case AllScopes:
		ok = all(g.values, p.HasScope)
	case AllPermissions:
		ok = all(g.values, p.HasPermission)
	}
	if ok {
		return nil
	}
	return g.denied
}

func all(values []string, has func(string) bool) bool {
	for _, v := range values {
		if !has(v) {
			return false
		}
	}
	return true
}
