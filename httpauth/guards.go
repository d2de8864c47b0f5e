package httpauth

import (
	"net/http"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/internal/adapter"
)

// RequireRoles returns middleware that calls next only when the request's
// principal has every one of roles. It goes inside [Require] (or
// [Optional], [ByMethod]) and renders with that middleware's options. A
// principal that lacks a role gets 403 with `error="insufficient_scope",
// scope="<roles>"`; a request without a principal gets 401. Both outcomes
// are reported to that middleware's observer as authgate.EventAuthorization.
//
// RequireRoles panics if roles is empty or holds an empty string.
func RequireRoles(roles ...string) func(http.Handler) http.Handler {
	return guard(adapter.MustGuard("httpauth: RequireRoles", adapter.AllRoles, roles))
}

// RequireAnyRole is [RequireRoles] satisfied by any one of roles.
func RequireAnyRole(roles ...string) func(http.Handler) http.Handler {
	return guard(adapter.MustGuard("httpauth: RequireAnyRole", adapter.AnyRole, roles))
}

// RequireScopes is [RequireRoles] for granted OAuth scopes (Principal.Scopes):
// every one of scopes is needed.
func RequireScopes(scopes ...string) func(http.Handler) http.Handler {
	return guard(adapter.MustGuard("httpauth: RequireScopes", adapter.AllScopes, scopes))
}

// RequirePermissions is [RequireRoles] for permissions
// (Principal.Permissions): every one of permissions is needed.
func RequirePermissions(permissions ...string) func(http.Handler) http.Handler {
	return guard(adapter.MustGuard("httpauth: RequirePermissions", adapter.AllPermissions, permissions))
}

func guard(g *adapter.Guard) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		if next == nil {
			panic("httpauth: nil handler")
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			o := optionsOf(r)
			start := o.Start()
			p, _ := PrincipalFrom(r)
			provider := ""
			if p != nil {
				provider = p.Provider
			}
			if err := g.Check(p); err != nil {
				o.Observe(r.Context(), authgate.EventAuthorization, start, authgate.OutcomeDenied, nil, err, provider)
				o.fail(w, r, err, provider)
				return
			}
			o.Observe(r.Context(), authgate.EventAuthorization, start, authgate.OutcomeAllowed, p, nil, provider)
			next.ServeHTTP(w, r)
		})
	}
}
