package ginauth_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/chain"
	"github.com/authgate/authgate/ginauth"
	"github.com/authgate/authgate/internal/authfake"
)

func init() { gin.SetMode(gin.TestMode) }

const (
	issA = "https://a.example/"
	issB = "https://b.example/"
)

func tok(c authfake.Claims) string { return "Bearer " + authfake.Token(c) }

// handler records that it ran and answers with the principal it sees, from
// the Gin context and from the request context.
type handler struct{ runs atomic.Int64 }

func (h *handler) serve(c *gin.Context) {
	h.runs.Add(1)
	sub, ctxSub := "", ""
	if p, ok := ginauth.PrincipalFrom(c); ok {
		sub = p.Subject
	}
	if p, ok := authgate.FromContext(c.Request.Context()); ok {
		ctxSub = p.Subject
	}
	c.String(http.StatusOK, "sub=%s ctx=%s", sub, ctxSub)
}

func do(h http.Handler, method, path string, header ...string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, path, nil)
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Add(header[i], header[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func members() (*authfake.Bearer, *authfake.Bearer, *authfake.APIKey) {
	return &authfake.Bearer{Name: "a", Issuers: []string{issA}},
		&authfake.Bearer{Name: "b", Issuers: []string{issB}},
		&authfake.APIKey{Name: "apikey"}
}

// mapping lists one request per outcome and the response it must get.
var mapping = []struct {
	name       string
	header     []string
	wantStatus int
	wantChall  string // "" means no WWW-Authenticate
	wantDetail string
	wantCode   string
	wantBody   string // on success
}{
	{
		name: "no credentials", wantStatus: 401,
		wantChall:  `Bearer realm="api", ApiKey realm="api", header="X-API-Key"`,
		wantDetail: "Authentication credentials were not provided", wantCode: "not_authenticated",
	},
	{
		name: "unsupported scheme", header: []string{"Authorization", "Basic dXNlcjpwYXNz"}, wantStatus: 401,
		wantChall:  `Bearer realm="api", ApiKey realm="api", header="X-API-Key"`,
		wantDetail: "Authentication credentials were not provided", wantCode: "not_authenticated",
	},
	{
		name: "spoofed identity headers", header: []string{"X-User-Id", "admin", "X-Forwarded-User", "admin", "X-Auth-Subject", "admin"}, wantStatus: 401,
		wantChall:  `Bearer realm="api", ApiKey realm="api", header="X-API-Key"`,
		wantDetail: "Authentication credentials were not provided", wantCode: "not_authenticated",
	},
	{name: "valid token", header: []string{"Authorization", tok(authfake.Claims{Issuer: issA, Subject: "alice"})}, wantStatus: 200, wantBody: "sub=alice ctx=alice"},
	{name: "scheme case", header: []string{"Authorization", "bEaReR " + authfake.Token(authfake.Claims{Issuer: issB, Subject: "bob"})}, wantStatus: 200, wantBody: "sub=bob ctx=bob"},
	{name: "valid api key", header: []string{"X-API-Key", "ak_svc", "X-User-Id", "admin"}, wantStatus: 200, wantBody: "sub=svc ctx=svc"},
	{
		name: "expired", header: []string{"Authorization", tok(authfake.Claims{Issuer: issA, Outcome: "expired"})}, wantStatus: 401,
		wantChall:  `Bearer realm="api", error="invalid_token", error_description="Token has expired"`,
		wantDetail: "Token has expired", wantCode: "invalid_token",
	},
	{
		name: "bad signature", header: []string{"Authorization", tok(authfake.Claims{Issuer: issB, Outcome: "signature"})}, wantStatus: 401,
		wantChall:  `Bearer realm="api", error="invalid_token", error_description="Invalid token"`,
		wantDetail: "Invalid token", wantCode: "invalid_token",
	},
	{
		name: "unclassified error", header: []string{"Authorization", tok(authfake.Claims{Issuer: issB, Outcome: "other"})}, wantStatus: 401,
		wantChall:  `Bearer realm="api", error="invalid_token", error_description="Invalid token"`,
		wantDetail: "Invalid token", wantCode: "invalid_token",
	},
	{
		name: "issuer nobody claims", header: []string{"Authorization", tok(authfake.Claims{Issuer: "https://evil.example/", Subject: "root"})}, wantStatus: 401,
		wantChall:  `Bearer realm="api", error="invalid_token", error_description="Invalid token"`,
		wantDetail: "Invalid token", wantCode: "invalid_token",
	},
	{
		name: "revoked api key", header: []string{"X-API-Key", "ak_bad"}, wantStatus: 401,
		wantChall:  `ApiKey realm="api", header="X-API-Key", error="invalid_token", error_description="Token has been revoked"`,
		wantDetail: "Token has been revoked", wantCode: "invalid_token",
	},
	{
		name: "forbidden", header: []string{"Authorization", tok(authfake.Claims{Issuer: issA, Outcome: "forbidden"})}, wantStatus: 403,
		wantChall:  `Bearer realm="api", error="insufficient_scope", error_description="Insufficient permissions"`,
		wantDetail: "Insufficient permissions", wantCode: "insufficient_scope",
	},
	{
		name: "two authorization headers", header: []string{"Authorization", tok(authfake.Claims{Issuer: issA, Subject: "x"}), "Authorization", tok(authfake.Claims{Issuer: issA, Subject: "y"})}, wantStatus: 400,
		wantChall:  `Bearer realm="api", error="invalid_request", error_description="Invalid authorization header"`,
		wantDetail: "Invalid authorization header", wantCode: "invalid_request",
	},
	{
		name: "token and api key", header: []string{"Authorization", tok(authfake.Claims{Issuer: issA, Subject: "x"}), "X-API-Key", "ak_svc"}, wantStatus: 400,
		wantChall:  `Bearer realm="api", error="invalid_request", error_description="More than one credential was sent"`,
		wantDetail: "More than one credential was sent", wantCode: "invalid_request",
	},
	{
		name: "unavailable", header: []string{"Authorization", tok(authfake.Claims{Issuer: issA, Outcome: "unavailable"})}, wantStatus: 503,
		wantDetail: "Authentication service unavailable", wantCode: "temporarily_unavailable",
	},
	{
		name: "panic", header: []string{"Authorization", tok(authfake.Claims{Issuer: issA, Outcome: "panic"})}, wantStatus: 401,
		wantChall:  `Bearer realm="api", error="invalid_token", error_description="Invalid token"`,
		wantDetail: "Invalid token", wantCode: "invalid_token",
	},
}

func TestRequireMapping(t *testing.T) {
	a, b, k := members()
	h := &handler{}
	e := gin.New()
	e.Any("/r", ginauth.Require(chain.Any(a, b, k), ginauth.WithLogger(nil)), h.serve)
	for _, tt := range mapping {
		for _, method := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
			t.Run(tt.name+"/"+method, func(t *testing.T) {
				before := h.runs.Load()
				w := do(e, method, "/r", tt.header...)
				checkResponse(t, w, tt.wantStatus, tt.wantChall, tt.wantDetail, tt.wantCode, tt.wantBody)
				ran := h.runs.Load() - before
				if want := int64(0); tt.wantStatus == 200 {
					want = 1
					if ran != want {
						t.Errorf("handler ran %d times, want %d", ran, want)
					}
				} else if ran != 0 {
					t.Errorf("handler ran %d times after a rejection", ran)
				}
			})
		}
	}
}

func checkResponse(t *testing.T, w *httptest.ResponseRecorder, status int, chall, detail, code, body string) {
	t.Helper()
	if w.Code != status {
		t.Fatalf("status = %d, want %d (body %s)", w.Code, status, w.Body)
	}
	if got := w.Header().Get("WWW-Authenticate"); got != chall {
		t.Errorf("WWW-Authenticate = %s, want %s", got, chall)
	}
	if got, want := w.Header().Get("Retry-After"), map[bool]string{true: "5"}[status == 503]; got != want {
		t.Errorf("Retry-After = %q, want %q", got, want)
	}
	if status == 200 {
		if got := w.Body.String(); got != body {
			t.Errorf("body = %q, want %q", got, body)
		}
		return
	}
	if got := w.Header().Get("Cache-Control"); got != "no-store" {
		t.Errorf("Cache-Control = %q, want no-store", got)
	}
	var got authgate.ErrorBody
	if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
		t.Fatalf("body %q is not JSON: %v", w.Body, err)
	}
	if got.Detail != detail || got.Error != code {
		t.Errorf("body = %+v, want detail %q, error %q", got, detail, code)
	}
}

func TestRequireOptions(t *testing.T) {
	a, _, _ := members()
	t.Run("realm", func(t *testing.T) {
		e := gin.New()
		e.GET("/r", ginauth.Require(a, ginauth.WithRealm("orders"), ginauth.WithLogger(nil)), (&handler{}).serve)
		w := do(e, "GET", "/r")
		if got, want := w.Header().Get("WWW-Authenticate"), `Bearer realm="orders"`; got != want {
			t.Errorf("WWW-Authenticate = %s, want %s", got, want)
		}
	})
	t.Run("error handler", func(t *testing.T) {
		var seen error
		e := gin.New()
		h := &handler{}
		e.GET("/r", ginauth.Require(a, ginauth.WithLogger(nil), ginauth.WithErrorHandler(func(c *gin.Context, err error) {
			seen = err
			c.JSON(http.StatusTeapot, gin.H{"reason": authgate.Reason(err)})
		})), h.serve)
		w := do(e, "GET", "/r", "Authorization", tok(authfake.Claims{Issuer: issA, Outcome: "expired"}))
		if w.Code != http.StatusTeapot || !strings.Contains(w.Body.String(), `"expired"`) {
			t.Errorf("response = %d %s, want 418 from the error handler", w.Code, w.Body)
		}
		if !errors.Is(seen, authgate.ErrTokenExpired) {
			t.Errorf("error handler got %v, want ErrTokenExpired", seen)
		}
		if h.runs.Load() != 0 {
			t.Error("handler ran after the error handler")
		}
	})
	t.Run("single api key authenticator challenges with its scheme", func(t *testing.T) {
		_, _, k := members()
		e := gin.New()
		e.GET("/r", ginauth.Require(k, ginauth.WithLogger(nil)), (&handler{}).serve)
		w := do(e, "GET", "/r")
		if got, want := w.Header().Get("WWW-Authenticate"), `ApiKey realm="api", header="X-API-Key"`; got != want {
			t.Errorf("WWW-Authenticate = %s, want %s", got, want)
		}
	})
	t.Run("nil principal fails closed", func(t *testing.T) {
		nilAuth := authgate.AuthenticatorFunc(func(*http.Request) (*authgate.Principal, error) { return nil, nil })
		h := &handler{}
		e := gin.New()
		e.GET("/r", ginauth.Require(nilAuth, ginauth.WithLogger(nil)), h.serve)
		if w := do(e, "GET", "/r"); w.Code != 401 || h.runs.Load() != 0 {
			t.Errorf("status = %d, handler runs = %d, want 401 and 0", w.Code, h.runs.Load())
		}
	})
}

func TestOptional(t *testing.T) {
	a, b, k := members()
	h := &handler{}
	e := gin.New()
	opt := ginauth.Optional(chain.Any(a, b, k), ginauth.WithRealm("blog"), ginauth.WithLogger(nil))
	e.GET("/r", opt, h.serve)
	e.GET("/admin", opt, ginauth.RequireRoles("admin"), h.serve)
	tests := []struct {
		name       string
		path       string
		header     []string
		wantStatus int
		wantBody   string
		wantChall  string
	}{
		{name: "anonymous", path: "/r", wantStatus: 200, wantBody: "sub= ctx="},
		{name: "authenticated", path: "/r", header: []string{"Authorization", tok(authfake.Claims{Issuer: issA, Subject: "alice"})}, wantStatus: 200, wantBody: "sub=alice ctx=alice"},
		{name: "expired is still 401", path: "/r", header: []string{"Authorization", tok(authfake.Claims{Issuer: issA, Outcome: "expired"})}, wantStatus: 401,
			wantChall: `Bearer realm="blog", error="invalid_token", error_description="Token has expired"`},
		{name: "unclaimed bearer is still 401", path: "/r", header: []string{"Authorization", "Bearer opaque-value"}, wantStatus: 401,
			wantChall: `Bearer realm="blog", error="invalid_token", error_description="Invalid token"`},
		{name: "revoked key is still 401", path: "/r", header: []string{"X-API-Key", "ak_bad"}, wantStatus: 401,
			wantChall: `ApiKey realm="blog", header="X-API-Key", error="invalid_token", error_description="Token has been revoked"`},
		{name: "unavailable is still 503", path: "/r", header: []string{"Authorization", tok(authfake.Claims{Issuer: issA, Outcome: "unavailable"})}, wantStatus: 503},
		{name: "anonymous at a guard", path: "/admin", wantStatus: 401, wantChall: `Bearer realm="blog"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := h.runs.Load()
			w := do(e, "GET", tt.path, tt.header...)
			if w.Code != tt.wantStatus {
				t.Fatalf("status = %d, want %d", w.Code, tt.wantStatus)
			}
			if tt.wantStatus == 200 && w.Body.String() != tt.wantBody {
				t.Errorf("body = %q, want %q", w.Body, tt.wantBody)
			}
			if got := w.Header().Get("WWW-Authenticate"); got != tt.wantChall {
				t.Errorf("WWW-Authenticate = %s, want %s", got, tt.wantChall)
			}
			if ran := h.runs.Load() - before; (ran == 1) != (tt.wantStatus == 200) {
				t.Errorf("handler ran %d times for status %d", ran, tt.wantStatus)
			}
		})
	}
}

func TestByMethod(t *testing.T) {
	user := &authfake.Bearer{Name: "users"}
	keys := &authfake.APIKey{Name: "apikey"}
	h := &handler{}
	e := gin.New()
	g := e.Group("/articles", ginauth.ByMethod(user, ginauth.Methods{
		"get":    nil, // public, in any case
		"HEAD":   nil,
		"DELETE": keys,
	}, ginauth.WithLogger(nil)))
	g.Any("", h.serve)
	bearer := tok(authfake.Claims{Subject: "alice"})
	tests := []struct {
		method     string
		header     []string
		wantStatus int
		wantBody   string
		wantChall  string
	}{
		{method: "GET", wantStatus: 200, wantBody: "sub= ctx="},
		{method: "GET", header: []string{"Authorization", tok(authfake.Claims{Outcome: "expired"})}, wantStatus: 200, wantBody: "sub= ctx="}, // public: not looked at
		{method: "HEAD", wantStatus: 200},
		{method: "POST", wantStatus: 401, wantChall: `Bearer realm="api"`},
		{method: "POST", header: []string{"Authorization", bearer}, wantStatus: 200, wantBody: "sub=alice ctx=alice"},
		{method: "PATCH", header: []string{"Authorization", bearer}, wantStatus: 200, wantBody: "sub=alice ctx=alice"},
		{method: "PUT", header: []string{"X-API-Key", "ak_svc"}, wantStatus: 401, wantChall: `Bearer realm="api"`},
		{method: "OPTIONS", wantStatus: 401, wantChall: `Bearer realm="api"`}, // pinned: preflights are not public unless mapped to nil
		{method: "DELETE", header: []string{"Authorization", bearer}, wantStatus: 401, wantChall: `ApiKey realm="api", header="X-API-Key"`},
		{method: "DELETE", header: []string{"X-API-Key", "ak_svc"}, wantStatus: 200, wantBody: "sub=svc ctx=svc"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s %v", tt.method, tt.header), func(t *testing.T) {
			w := do(e, tt.method, "/articles", tt.header...)
			if w.Code != tt.wantStatus {
				t.Fatalf("status = %d, want %d", w.Code, tt.wantStatus)
			}
			if tt.wantBody != "" && w.Body.String() != tt.wantBody {
				t.Errorf("body = %q, want %q", w.Body, tt.wantBody)
			}
			if got := w.Header().Get("WWW-Authenticate"); got != tt.wantChall {
				t.Errorf("WWW-Authenticate = %s, want %s", got, tt.wantChall)
			}
		})
	}
	for name, f := range map[string]func(){
		"nil default":  func() { ginauth.ByMethod(nil, ginauth.Methods{"GET": nil}) },
		"mapped twice": func() { ginauth.ByMethod(user, ginauth.Methods{"GET": nil, "get": user}) },
		"empty method": func() { ginauth.ByMethod(user, ginauth.Methods{"": nil}) },
		"bad method":   func() { ginauth.ByMethod(user, ginauth.Methods{"GET ": nil}) },
		"nil Require":  func() { ginauth.Require(nil) },
		"nil Optional": func() { ginauth.Optional(nil) },
		"empty guard":  func() { ginauth.RequireRoles() },
		"empty role":   func() { ginauth.RequireScopes("read", "") },
	} {
		t.Run("panics/"+name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			f()
		})
	}
}

func TestGuards(t *testing.T) {
	user := &authfake.Bearer{Name: "users"}
	h := &handler{}
	e := gin.New()
	auth := ginauth.Require(user, ginauth.WithRealm("shop"), ginauth.WithLogger(nil))
	e.GET("/roles", auth, ginauth.RequireRoles("admin", "editor"), h.serve)
	e.GET("/anyrole", auth, ginauth.RequireAnyRole("admin", "editor"), h.serve)
	e.GET("/scopes", auth, ginauth.RequireScopes("read:orders"), h.serve)
	e.GET("/perms", auth, ginauth.RequirePermissions("delete:orders"), h.serve)
	e.GET("/noauth", ginauth.RequireRoles("admin"), h.serve)
	claims := func(roles, scopes, perms []string) string {
		return tok(authfake.Claims{Subject: "u", Roles: roles, Scopes: scopes, Permissions: perms})
	}
	forbidden := func(scope string) string {
		return `Bearer realm="shop", error="insufficient_scope", error_description="Insufficient permissions", scope="` + scope + `"`
	}
	tests := []struct {
		name       string
		path       string
		token      string
		wantStatus int
		wantChall  string
	}{
		{name: "all roles", path: "/roles", token: claims([]string{"editor", "admin"}, nil, nil), wantStatus: 200},
		{name: "one role missing", path: "/roles", token: claims([]string{"admin"}, nil, nil), wantStatus: 403, wantChall: forbidden("admin editor")},
		{name: "role case matters", path: "/anyrole", token: claims([]string{"Admin"}, nil, nil), wantStatus: 403, wantChall: forbidden("admin editor")},
		{name: "any role", path: "/anyrole", token: claims([]string{"editor"}, nil, nil), wantStatus: 200},
		{name: "scope", path: "/scopes", token: claims(nil, []string{"read:orders"}, nil), wantStatus: 200},
		{name: "scope missing", path: "/scopes", token: claims([]string{"read:orders"}, []string{"write:orders"}, []string{"read:orders"}), wantStatus: 403, wantChall: forbidden("read:orders")},
		{name: "permission", path: "/perms", token: claims(nil, nil, []string{"delete:orders"}), wantStatus: 200},
		{name: "permission missing", path: "/perms", token: claims([]string{"delete:orders"}, []string{"delete:orders"}, nil), wantStatus: 403, wantChall: forbidden("delete:orders")},
		{name: "no principal", path: "/noauth", token: claims([]string{"admin"}, nil, nil), wantStatus: 401, wantChall: `Bearer realm="api"`},
		{name: "bad token never reaches the guard", path: "/roles", token: tok(authfake.Claims{Outcome: "expired"}), wantStatus: 401,
			wantChall: `Bearer realm="shop", error="invalid_token", error_description="Token has expired"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := h.runs.Load()
			w := do(e, "GET", tt.path, "Authorization", tt.token)
			if w.Code != tt.wantStatus {
				t.Fatalf("status = %d, want %d", w.Code, tt.wantStatus)
			}
			if got := w.Header().Get("WWW-Authenticate"); got != tt.wantChall {
				t.Errorf("WWW-Authenticate = %s, want %s", got, tt.wantChall)
			}
			if ran := h.runs.Load() - before; (ran == 1) != (tt.wantStatus == 200) {
				t.Errorf("handler ran %d times for status %d", ran, tt.wantStatus)
			}
			if tt.wantStatus == 403 && !strings.Contains(w.Body.String(), `"error":"insufficient_scope"`) {
				t.Errorf("body = %s, want insufficient_scope", w.Body)
			}
		})
	}
}

type appUser struct {
	ID   int
	Name string
}

func TestResolveAndUser(t *testing.T) {
	users := map[string]*appUser{"alice": {ID: 1, Name: "Alice"}}
	var dbDown atomic.Bool
	resolved := authgate.Resolve(&authfake.Bearer{Name: "users"}, func(_ context.Context, p *authgate.Principal) (any, error) {
		if dbDown.Load() {
			return nil, fmt.Errorf("users db: %w", authgate.ErrUnavailable)
		}
		u, ok := users[p.Subject]
		if !ok {
			return nil, errors.New("no such user")
		}
		return u, nil
	})
	checked := authgate.Check(resolved, func(_ *http.Request, p *authgate.Principal) error {
		if p.User.(*appUser).ID != 1 {
			return errors.New("not the owner")
		}
		return nil
	})
	e := gin.New()
	e.GET("/me", ginauth.Require(checked, ginauth.WithLogger(nil)), func(c *gin.Context) {
		u, ok := ginauth.User[*appUser](c)
		_, wrongType := ginauth.User[appUser](c)
		c.String(http.StatusOK, "%v %d %s %v", ok, u.ID, u.Name, wrongType)
	})
	e.GET("/anon", func(c *gin.Context) {
		u, ok := ginauth.User[*appUser](c)
		_, hasPrincipal := ginauth.PrincipalFrom(c)
		c.String(http.StatusOK, "%v %v %v", u, ok, hasPrincipal)
	})
	alice := tok(authfake.Claims{Subject: "alice"})
	if w := do(e, "GET", "/me", "Authorization", alice); w.Code != 200 || w.Body.String() != "true 1 Alice false" {
		t.Errorf("GET /me as alice = %d %q, want 200 %q", w.Code, w.Body, "true 1 Alice false")
	}
	if w := do(e, "GET", "/me", "Authorization", tok(authfake.Claims{Subject: "mallory"})); w.Code != 401 {
		t.Errorf("GET /me as an unknown user = %d, want 401", w.Code)
	}
	if w := do(e, "GET", "/anon"); w.Code != 200 || w.Body.String() != "<nil> false false" {
		t.Errorf("GET /anon = %d %q, want no user", w.Code, w.Body)
	}
	dbDown.Store(true)
	if w := do(e, "GET", "/me", "Authorization", alice); w.Code != 503 {
		t.Errorf("GET /me with the users db down = %d, want 503", w.Code)
	}
}

func TestResolveForbidden(t *testing.T) {
	checked := authgate.Check(&authfake.Bearer{Name: "users"}, func(_ *http.Request, p *authgate.Principal) error {
		if p.Subject != "owner" {
			return errors.New("not the owner")
		}
		return nil
	})
	e := gin.New()
	e.GET("/x", ginauth.Require(checked, ginauth.WithLogger(nil)), (&handler{}).serve)
	if w := do(e, "GET", "/x", "Authorization", tok(authfake.Claims{Subject: "guest"})); w.Code != 403 {
		t.Errorf("Check said no: status = %d, want 403", w.Code)
	}
	if w := do(e, "GET", "/x", "Authorization", tok(authfake.Claims{Subject: "owner"})); w.Code != 200 {
		t.Errorf("Check said yes: status = %d, want 200", w.Code)
	}
}

func TestConcurrentRequestsSeeTheirOwnPrincipal(t *testing.T) {
	a, b, k := members()
	e := gin.New()
	e.Use(ginauth.Require(chain.Any(a, b, k), ginauth.WithLogger(nil)))
	h := &handler{}
	e.GET("/r", h.serve)
	var wg sync.WaitGroup
	for i := range 200 {
		wg.Go(func() {
			sub := fmt.Sprintf("user-%d", i)
			var header []string
			switch i % 3 {
			case 0:
				header = []string{"Authorization", tok(authfake.Claims{Issuer: issA, Subject: sub})}
			case 1:
				header = []string{"Authorization", tok(authfake.Claims{Issuer: issB, Subject: sub})}
			default:
				header = []string{"X-API-Key", "ak_" + sub}
			}
			w := do(e, "GET", "/r", header...)
			if want := "sub=" + sub + " ctx=" + sub; w.Code != 200 || w.Body.String() != want {
				t.Errorf("request %d = %d %q, want %q", i, w.Code, w.Body, want)
			}
		})
	}
	wg.Wait()
}

func TestPanicFailsClosed(t *testing.T) {
	var logs lockedBuffer
	a, b, k := members()
	h := &handler{}
	e := gin.New() // no gin.Recovery: the middleware must not let the panic out
	e.GET("/r", ginauth.Require(chain.Any(a, b, k), ginauth.WithLogger(slog.New(slog.NewJSONHandler(&logs, nil)))), h.serve)
	single := ginauth.Require(&authfake.Bearer{Name: "solo"}, ginauth.WithLogger(slog.New(slog.NewJSONHandler(&logs, nil))))
	e.GET("/solo", single, h.serve)
	for _, path := range []string{"/r", "/solo"} {
		token := authfake.Token(authfake.Claims{Issuer: issA, Outcome: "panic"})
		before := h.runs.Load()
		w := do(e, "GET", path, "Authorization", "Bearer "+token)
		checkResponse(t, w, 401, `Bearer realm="api", error="invalid_token", error_description="Invalid token"`, "Invalid token", "invalid_token", "")
		if h.runs.Load() != before {
			t.Fatalf("%s: handler ran after a panic", path)
		}
		if strings.Contains(logs.String(), token) {
			t.Errorf("%s: the log holds the token", path)
		}
		if w := do(e, "GET", path, "Authorization", tok(authfake.Claims{Issuer: issA, Subject: "alice"})); w.Code != 200 {
			t.Errorf("%s: after a panic, status = %d, want 200", path, w.Code)
		}
	}
	if got := strings.Count(logs.String(), `"reason":"panic"`); got != 2 {
		t.Errorf("logged %d panics, want 2:\n%s", got, logs.String())
	}
	if !strings.Contains(logs.String(), `"level":"ERROR"`) || !strings.Contains(logs.String(), `"stack":"goroutine`) {
		t.Errorf("panic not logged at ERROR with a stack:\n%s", logs.String())
	}
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

var jwtPattern = regexp.MustCompile(`eyJ[\w-]+\.[\w-]+\.[\w-]*`)

func TestLogsNeverHoldCredentials(t *testing.T) {
	var logs lockedBuffer
	logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug, AddSource: true}))
	a, b, k := members()
	e := gin.New()
	// Gin's own logger and recovery at their most verbose, as SECURITY.md#attacks-http asks.
	e.Use(gin.LoggerWithWriter(&logs), gin.RecoveryWithWriter(&logs))
	e.Use(ginauth.Require(chain.Any(a, b, k), ginauth.WithLogger(logger)))
	e.Any("/orders/:id", ginauth.RequireRoles("admin"), (&handler{}).serve)

	var sent []string
	for _, tt := range mapping {
		for i := 0; i+1 < len(tt.header); i += 2 {
			sent = append(sent, tt.header[i+1])
		}
		do(e, "GET", "/orders/42", tt.header...)
	}
	// A method name shaped like a token must not reach our log either (Gin's
	// own logger prints the method as it is, so it is not installed here).
	bare := gin.New()
	bare.Use(ginauth.Require(chain.Any(a, b, k), ginauth.WithLogger(logger)))
	odd := authfake.Token(authfake.Claims{Subject: "method"})
	do(bare, odd, "/orders/42", "Authorization", tok(authfake.Claims{Issuer: issA, Outcome: "expired"}))

	out := logs.String()
	if m := jwtPattern.FindString(out); m != "" {
		t.Errorf("the log holds a token: %s", m)
	}
	for _, s := range append(sent, "c2lnbmF0dXJl", "ak_", "Bearer ", "Basic ") {
		if strings.Contains(out, s) {
			t.Errorf("the log holds %q", s)
		}
	}
	// The log must say something useful, or the checks above prove nothing.
	for _, want := range []string{
		`"reason":"expired","provider":"a","method":"GET","route":"/orders/:id"`,
		`"reason":"revoked","provider":"apikey"`,
		`"reason":"no_credentials","provider":"chain"`,
		`"reason":"forbidden"`, // the guard, for the valid principals
		`"reason":"unavailable"`,
		`"reason":"panic"`,
		`"method":"other"`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the log lacks %s:\n%s", want, out)
		}
	}
}
