package ginauth

import (
	"github.com/gin-gonic/gin"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/internal/adapter"
)

// RequireRoles returns middleware that lets a request through only when its
// principal has every one of roles. It goes after [Require] (or
// [Optional], [ByMethod]) and renders with that middleware's options. A
// principal that lacks a role gets 403 with `error="insufficient_scope",
// scope="<roles>"`; a request without a principal gets 401. Both outcomes
// are reported to that middleware's observer as authgate.EventAuthorization.
//
// RequireRoles panics if roles is empty or holds an empty string.
func RequireRoles(roles ...string) gin.HandlerFunc {
	return guard(adapter.MustGuard("ginauth: RequireRoles", adapter.AllRoles, roles))
}

// RequireAnyRole is [RequireRoles] satisfied by any one of roles.
func RequireAnyRole(roles ...string) gin.HandlerFunc {
	return guard(adapter.MustGuard("ginauth: RequireAnyRole", adapter.AnyRole, roles))
}

// RequireScopes is [RequireRoles] for granted OAuth scopes (Principal.Scopes):
// every one of scopes is needed.
func RequireScopes(scopes ...string) gin.HandlerFunc {
	return guard(adapter.MustGuard("ginauth: RequireScopes", adapter.AllScopes, scopes))
}

// RequirePermissions is [RequireRoles] for permissions
// (Principal.Permissions, Auth0's "permissions" claim): every one of
// permissions is needed.
func RequirePermissions(permissions ...string) gin.HandlerFunc {
	return guard(adapter.MustGuard("ginauth: RequirePermissions", adapter.AllPermissions, permissions))
}

func guard(g *adapter.Guard) gin.HandlerFunc {
	return func(c *gin.Context) {
		o := optionsOf(c)
		start := o.Start()
		p, _ := PrincipalFrom(c)
		provider := ""
		if p != nil {
			provider = p.Provider
		}
		if err := g.Check(p); err != nil {
			o.Observe(c.Request.Context(), authgate.EventAuthorization, start, authgate.OutcomeDenied, nil, err, provider)
			o.fail(c, err, provider)
			return
		}
		o.Observe(c.Request.Context(), authgate.EventAuthorization, start, authgate.OutcomeAllowed, p, nil, provider)
	}
}
