package authgate

import (
	"errors"
	"net/http"
	"slices"
)

// RequireRoles decorates a with a guard: after a authenticates a request,
// the principal must have every one of roles (Principal.HasRole), or the
// request is refused with ErrForbidden — 403 `error="insufficient_scope",
// scope="<roles>"`, naming the provider. a's own outcome (no credentials,
// a rejection) is returned unchanged. Being an Authenticator, a guard goes
// wherever one does, for example as one entry of ginauth.Methods or
// httpauth.Methods:
//
//	ginauth.ByMethod(jwt, ginauth.Methods{"GET": nil, "DELETE": authgate.RequireRoles(jwt, "admin")})
//
// The result describes itself as a does ([Describer]), so a chain that
// holds it keeps its checks. RequireRoles panics if a is nil, or if roles
// is empty or holds an empty string: such a guard would check nothing.
func RequireRoles(a Authenticator, roles ...string) Authenticator {
	return newGuard("RequireRoles", a, allRoles, roles)
}

// RequireAnyRole is [RequireRoles] satisfied by any one of roles.
func RequireAnyRole(a Authenticator, roles ...string) Authenticator {
	return newGuard("RequireAnyRole", a, anyRole, roles)
}

// RequireScopes is [RequireRoles] for granted OAuth scopes
// (Principal.Scopes): every one of scopes is needed.
func RequireScopes(a Authenticator, scopes ...string) Authenticator {
	return newGuard("RequireScopes", a, allScopes, scopes)
}

// RequirePermissions is [RequireRoles] for permissions
// (Principal.Permissions, Auth0's "permissions" claim): every one of
// permissions is needed.
func RequirePermissions(a Authenticator, permissions ...string) Authenticator {
	return newGuard("RequirePermissions", a, allPermissions, permissions)
}

// requirement says what a guard asks of a principal.
type requirement int

const (
	allRoles requirement = iota
	anyRole
	allScopes
	allPermissions
)

// String is the internal cause of a refusal, for logs.
func (k requirement) String() string {
	switch k {
	case allRoles:
		return "missing role"
	case anyRole:
		return "none of the roles"
	case allScopes:
		return "missing scope"
	}
	return "missing permission"
}

var errNoPrincipal = errors.New("authgate: authenticator returned no principal and no error")

// guard is the Authenticator the Require functions return. It is immutable
// and safe for concurrent use when next is.
type guard struct {
	next   Authenticator
	kind   requirement
	values []string
	cause  error
}

func newGuard(fn string, a Authenticator, kind requirement, values []string) *guard {
	if a == nil {
		panic("authgate: " + fn + ": nil authenticator")
	}
	if len(values) == 0 {
		panic("authgate: " + fn + ": needs at least one value")
	}
	if slices.Contains(values, "") {
		panic("authgate: " + fn + ": empty value")
	}
	return &guard{next: a, kind: kind, values: slices.Clone(values), cause: errors.New("authgate: " + fn + ": " + kind.String())}
}

// Authenticate authenticates r with the wrapped authenticator and applies
// the requirement to its principal.
func (g *guard) Authenticate(r *http.Request) (*Principal, error) {
	p, err := g.next.Authenticate(r)
	if err != nil {
		return nil, err
	}
	if p == nil {
		// Neither a principal nor an error: a broken authenticator. Fail
		// closed, as the adapters do.
		return nil, &Error{Kind: ErrInvalidCredentials, Err: errNoPrincipal}
	}
	if !g.Allows(p) {
		return nil, &Error{Provider: providerOf(p, g.next), Kind: ErrForbidden, Scope: g.values, Err: g.cause}
	}
	return p, nil
}

// Describe returns the wrapped authenticator's Description.
func (g *guard) Describe() Description { return describe(g.next) }

// Allows reports whether p meets the guard's requirement; a nil p never
// does. It allocates nothing. The middleware guards of ginauth and httpauth
// and the authgate command call it, so that one implementation decides.
func (g *guard) Allows(p *Principal) bool {
	if p == nil {
		return false
	}
	switch g.kind {
	case allRoles:
		return hasAll(g.values, p.HasRole)
	case anyRole:
		return slices.ContainsFunc(g.values, p.HasRole)
	case allScopes:
		return hasAll(g.values, p.HasScope)
	case allPermissions:
		return hasAll(g.values, p.HasPermission)
	}
	return false
}

func hasAll(values []string, has func(string) bool) bool {
	for _, v := range values {
		if !has(v) {
			return false
		}
	}
	return true
}
