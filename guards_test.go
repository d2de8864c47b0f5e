package authgate_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/authgate/authgate"
)

// described is an authenticator that returns a fixed principal and says
// what it accepts.
type described struct {
	d authgate.Description
	p *authgate.Principal
}

func (a *described) Authenticate(*http.Request) (*authgate.Principal, error) {
	if a.p == nil {
		return nil, authgate.ErrNoCredentials
	}
	cp := *a.p
	return &cp, nil
}

func (a *described) Describe() authgate.Description { return a.d }

func principalAuth(p *authgate.Principal) *described {
	return &described{d: authgate.Description{Name: "static", Scheme: "Bearer", Issuers: []string{"https://iss.example/"}}, p: p}
}

func TestGuards(t *testing.T) {
	p := &authgate.Principal{Provider: "static", Subject: "alice", Roles: []string{"reader", "editor"},
		Scopes: []string{"read"}, Permissions: []string{"articles:write"}}
	type require func(authgate.Authenticator, ...string) authgate.Authenticator
	tests := []struct {
		name      string
		require   require
		values    []string
		principal *authgate.Principal
		wantErr   error // nil: authenticated
		wantScope string
	}{
		{name: "all roles held", require: authgate.RequireRoles, values: []string{"reader", "editor"}, principal: p},
		{name: "one role missing", require: authgate.RequireRoles, values: []string{"reader", "admin"}, principal: p,
			wantErr: authgate.ErrForbidden, wantScope: "reader admin"},
		{name: "any role", require: authgate.RequireAnyRole, values: []string{"admin", "editor"}, principal: p},
		{name: "none of the roles", require: authgate.RequireAnyRole, values: []string{"admin", "owner"}, principal: p,
			wantErr: authgate.ErrForbidden, wantScope: "admin owner"},
		{name: "scope held", require: authgate.RequireScopes, values: []string{"read"}, principal: p},
		{name: "scope missing", require: authgate.RequireScopes, values: []string{"write"}, principal: p,
			wantErr: authgate.ErrForbidden, wantScope: "write"},
		{name: "role is no scope", require: authgate.RequireScopes, values: []string{"reader"}, principal: p,
			wantErr: authgate.ErrForbidden, wantScope: "reader"},
		{name: "permission held", require: authgate.RequirePermissions, values: []string{"articles:write"}, principal: p},
		{name: "permission missing", require: authgate.RequirePermissions, values: []string{"articles:delete"}, principal: p,
			wantErr: authgate.ErrForbidden, wantScope: "articles:delete"},
		{name: "no credentials pass through", require: authgate.RequireRoles, values: []string{"reader"},
			wantErr: authgate.ErrNoCredentials},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := tt.require(principalAuth(tt.principal), tt.values...)
			got, err := g.Authenticate(httptest.NewRequest(http.MethodGet, "/", nil))
			if tt.wantErr == nil {
				if err != nil || got == nil || got.Subject != "alice" {
					t.Fatalf("Authenticate() = %v, %v, want alice", got, err)
				}
				return
			}
			if got != nil || !errors.Is(err, tt.wantErr) {
				t.Fatalf("Authenticate() = %v, %v, want %v", got, err, tt.wantErr)
			}
			if tt.wantErr != authgate.ErrForbidden {
				return
			}
			var e *authgate.Error
			if !errors.As(err, &e) || e.Provider != "static" {
				t.Errorf("Authenticate() error %v does not name provider static", err)
			}
			want := `Bearer realm="api", error="insufficient_scope", error_description="Insufficient permissions", scope="` + tt.wantScope + `"`
			if ch := authgate.Challenge(err, "api"); ch != want {
				t.Errorf("Challenge() = %q, want %q", ch, want)
			}
			if got := authgate.StatusCode(err); got != http.StatusForbidden {
				t.Errorf("StatusCode() = %d, want 403", got)
			}
		})
	}
}

func TestGuardNilPrincipalFailsClosed(t *testing.T) {
	broken := authgate.AuthenticatorFunc(func(*http.Request) (*authgate.Principal, error) { return nil, nil })
	p, err := authgate.RequireRoles(broken, "admin").Authenticate(httptest.NewRequest(http.MethodGet, "/", nil))
	if p != nil || !errors.Is(err, authgate.ErrInvalidCredentials) {
		t.Fatalf("Authenticate(nil, nil) = %v, %v, want ErrInvalidCredentials", p, err)
	}
}

func TestConstructorsPanicOnImpossibleConfigs(t *testing.T) {
	a := principalAuth(nil)
	resolve := func(context.Context, *authgate.Principal) (any, error) { return nil, nil }
	check := func(*http.Request, *authgate.Principal) error { return nil }
	tests := []struct {
		name      string
		construct func()
		want      string
	}{
		{name: "Resolve nil authenticator", construct: func() { authgate.Resolve(nil, resolve) }, want: "authgate: Resolve: nil authenticator"},
		{name: "Resolve nil function", construct: func() { authgate.Resolve(a, nil) }, want: "authgate: Resolve: nil resolve function"},
		{name: "Check nil authenticator", construct: func() { authgate.Check(nil, check) }, want: "authgate: Check: nil authenticator"},
		{name: "Check nil function", construct: func() { authgate.Check(a, nil) }, want: "authgate: Check: nil check function"},
		{name: "RequireRoles nil authenticator", construct: func() { authgate.RequireRoles(nil, "admin") }, want: "authgate: RequireRoles: nil authenticator"},
		{name: "RequireRoles no roles", construct: func() { authgate.RequireRoles(a) }, want: "authgate: RequireRoles: needs at least one value"},
		{name: "RequireAnyRole empty role", construct: func() { authgate.RequireAnyRole(a, "admin", "") }, want: "authgate: RequireAnyRole: empty value"},
		{name: "RequireScopes no scopes", construct: func() { authgate.RequireScopes(a) }, want: "authgate: RequireScopes: needs at least one value"},
		{name: "RequirePermissions nil authenticator", construct: func() { authgate.RequirePermissions(nil, "x") }, want: "authgate: RequirePermissions: nil authenticator"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				v := recover()
				if s, _ := v.(string); s != tt.want {
					t.Errorf("panic = %v, want %q", v, tt.want)
				}
			}()
			tt.construct()
		})
	}
}

// TestDecoratorsKeepDescription: every decorator reports what it wraps, so
// a chain holding it keeps its checks.
func TestDecoratorsKeepDescription(t *testing.T) {
	inner := principalAuth(nil)
	inner.d.Members = []authgate.Description{{Name: "a", Scheme: "Bearer", Issuers: []string{"https://a.example/"}}}
	resolve := func(context.Context, *authgate.Principal) (any, error) { return nil, nil }
	check := func(*http.Request, *authgate.Principal) error { return nil }
	tests := []struct {
		name string
		a    authgate.Authenticator
	}{
		{name: "Resolve", a: authgate.Resolve(inner, resolve)},
		{name: "Check", a: authgate.Check(inner, check)},
		{name: "RequireRoles", a: authgate.RequireRoles(inner, "admin")},
		{name: "RequireAnyRole", a: authgate.RequireAnyRole(inner, "admin")},
		{name: "RequireScopes", a: authgate.RequireScopes(inner, "read")},
		{name: "RequirePermissions", a: authgate.RequirePermissions(inner, "write")},
		{name: "stacked", a: authgate.RequireRoles(authgate.Check(authgate.Resolve(inner, resolve), check), "admin")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, ok := tt.a.(authgate.Describer)
			if !ok {
				t.Fatalf("%s is no Describer", tt.name)
			}
			if got := d.Describe(); !reflect.DeepEqual(got, inner.d) {
				t.Errorf("Describe() = %+v, want %+v", got, inner.d)
			}
		})
	}
}

// TestDecoratorErrorsNameProvider: whatever a resolver or a check returns,
// the error names the provider that authenticated the request (so it is
// logged with it) and keeps what it says to the client.
func TestDecoratorErrorsNameProvider(t *testing.T) {
	disabled := &authgate.Error{Kind: authgate.ErrForbidden, Description: "Account disabled"}
	tests := []struct {
		name       string
		principal  *authgate.Principal
		err        error
		wantKind   error
		wantStatus int
		wantDetail string
		wantText   string
		wantProv   string
	}{
		{name: "bare forbidden", err: authgate.ErrForbidden, wantKind: authgate.ErrForbidden, wantStatus: 403,
			wantDetail: "Insufficient permissions", wantText: "static: forbidden", wantProv: "static"},
		{name: "bare invalid", err: authgate.ErrInvalidCredentials, wantKind: authgate.ErrInvalidCredentials, wantStatus: 401,
			wantDetail: "Invalid token", wantText: "static: invalid credentials", wantProv: "static"},
		{name: "bare finer sentinel", err: authgate.ErrRevoked, wantKind: authgate.ErrRevoked, wantStatus: 401,
			wantDetail: "Token has been revoked", wantText: "static: credential revoked", wantProv: "static"},
		{name: "bare unavailable", err: authgate.ErrUnavailable, wantKind: authgate.ErrUnavailable, wantStatus: 503,
			wantDetail: "Authentication service unavailable", wantText: "static: authentication unavailable", wantProv: "static"},
		{name: "wrapped sentinel", err: fmt.Errorf("users db: %w", authgate.ErrUnavailable), wantKind: authgate.ErrUnavailable, wantStatus: 503,
			wantDetail: "Authentication service unavailable", wantText: "static: authentication unavailable: users db: authgate: authentication unavailable", wantProv: "static"},
		{name: "error without provider", err: disabled, wantKind: authgate.ErrForbidden, wantStatus: 403,
			wantDetail: "Account disabled", wantText: "static: forbidden", wantProv: "static"},
		{name: "wrapped error without provider", err: fmt.Errorf("lookup: %w", disabled), wantKind: authgate.ErrForbidden, wantStatus: 403,
			wantDetail: "Account disabled", wantText: "static: forbidden: lookup: forbidden", wantProv: "static"},
		{name: "error with its own provider", err: &authgate.Error{Provider: "users", Kind: authgate.ErrForbidden}, wantKind: authgate.ErrForbidden, wantStatus: 403,
			wantDetail: "Insufficient permissions", wantText: "users: forbidden", wantProv: "users"},
		{name: "principal without provider", principal: &authgate.Principal{Subject: "alice"}, err: authgate.ErrForbidden, wantKind: authgate.ErrForbidden,
			wantStatus: 403, wantDetail: "Insufficient permissions", wantText: "static: forbidden", wantProv: "static"},
	}
	for _, tt := range tests {
		for _, decorate := range []struct {
			name string
			fn   func(authgate.Authenticator, error) authgate.Authenticator
		}{
			{"Resolve", func(a authgate.Authenticator, err error) authgate.Authenticator {
				return authgate.Resolve(a, func(context.Context, *authgate.Principal) (any, error) { return nil, err })
			}},
			{"Check", func(a authgate.Authenticator, err error) authgate.Authenticator {
				return authgate.Check(a, func(*http.Request, *authgate.Principal) error { return err })
			}},
		} {
			t.Run(decorate.name+"/"+tt.name, func(t *testing.T) {
				p := tt.principal
				if p == nil {
					p = &authgate.Principal{Provider: "static", Subject: "alice"}
				}
				a := decorate.fn(principalAuth(p), tt.err)
				got, err := a.Authenticate(httptest.NewRequest(http.MethodGet, "/", nil))
				if got != nil || !errors.Is(err, tt.wantKind) {
					t.Fatalf("Authenticate() = %v, %v, want %v", got, err, tt.wantKind)
				}
				var e *authgate.Error
				if !errors.As(err, &e) || e.Provider != tt.wantProv {
					t.Errorf("Authenticate() = %v, want an *Error of provider %q", err, tt.wantProv)
				}
				if got := authgate.StatusCode(err); got != tt.wantStatus {
					t.Errorf("StatusCode() = %d, want %d", got, tt.wantStatus)
				}
				if got := authgate.Detail(err); got != tt.wantDetail {
					t.Errorf("Detail() = %q, want %q", got, tt.wantDetail)
				}
				if got := err.Error(); !strings.HasPrefix(got, tt.wantText) {
					t.Errorf("Error() = %q, want it to start with %q", got, tt.wantText)
				}
			})
		}
	}
}

func TestErrPanicIsRootSentinel(t *testing.T) {
	if got := authgate.ErrPanic.Error(); got != "authgate: authenticator panicked" {
		t.Errorf("ErrPanic.Error() = %q", got)
	}
	if errors.Is(authgate.ErrPanic, authgate.ErrInvalidCredentials) {
		t.Error("ErrPanic wraps ErrInvalidCredentials; it is a cause, the kind is set by the error around it")
	}
}
