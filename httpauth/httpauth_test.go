package httpauth_test

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

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/chain"
	"github.com/authgate/authgate/httpauth"
	"github.com/authgate/authgate/internal/authfake"
)

const (
	issA = "https://a.example/"
	issB = "https://b.example/"
)

func tok(c authfake.Claims) string { return "Bearer " + authfake.Token(c) }

type handler struct{ runs atomic.Int64 }

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.runs.Add(1)
	sub := ""
	if p, ok := httpauth.PrincipalFrom(r); ok {
		sub = p.Subject
	}
	fmt.Fprintf(w, "sub=%s", sub)
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

func TestRequireMapping(t *testing.T) {
	a, b, k := members()
	h := &handler{}
	srv := httpauth.Require(chain.Any(a, b, k), httpauth.WithLogger(nil))(h)
	tests := []struct {
		name       string
		header     []string
		wantStatus int
		wantChall  string
		wantDetail string
		wantCode   string
		wantBody   string
	}{
		{name: "no credentials", wantStatus: 401, wantChall: `Bearer realm="api", ApiKey realm="api", header="X-API-Key"`,
			wantDetail: "Authentication credentials were not provided", wantCode: "not_authenticated"},
		{name: "valid token", header: []string{"Authorization", tok(authfake.Claims{Issuer: issA, Subject: "alice"})}, wantStatus: 200, wantBody: "sub=alice"},
		{name: "valid key", header: []string{"X-API-Key", "ak_svc"}, wantStatus: 200, wantBody: "sub=svc"},
		{name: "expired", header: []string{"Authorization", tok(authfake.Claims{Issuer: issB, Outcome: "expired"})}, wantStatus: 401,
			wantChall: `Bearer realm="api", error="invalid_token", error_description="Token has expired"`, wantDetail: "Token has expired", wantCode: "invalid_token"},
		{name: "revoked key", header: []string{"X-API-Key", "ak_bad"}, wantStatus: 401,
			wantChall:  `ApiKey realm="api", header="X-API-Key", error="invalid_token", error_description="Token has been revoked"`,
			wantDetail: "Token has been revoked", wantCode: "invalid_token"},
		{name: "unclaimed bearer", header: []string{"Authorization", "Bearer opaque"}, wantStatus: 401,
			wantChall: `Bearer realm="api", error="invalid_token", error_description="Invalid token"`, wantDetail: "Invalid token", wantCode: "invalid_token"},
		{name: "forbidden", header: []string{"Authorization", tok(authfake.Claims{Issuer: issA, Outcome: "forbidden"})}, wantStatus: 403,
			wantChall:  `Bearer realm="api", error="insufficient_scope", error_description="Insufficient permissions"`,
			wantDetail: "Insufficient permissions", wantCode: "insufficient_scope"},
		{name: "ambiguous", header: []string{"Authorization", tok(authfake.Claims{Issuer: issA, Subject: "x"}), "X-API-Key", "ak_svc"}, wantStatus: 400,
			wantChall:  `Bearer realm="api", error="invalid_request", error_description="More than one credential was sent"`,
			wantDetail: "More than one credential was sent", wantCode: "invalid_request"},
		{name: "unavailable", header: []string{"Authorization", tok(authfake.Claims{Issuer: issA, Outcome: "unavailable"})}, wantStatus: 503,
			wantDetail: "Authentication service unavailable", wantCode: "temporarily_unavailable"},
		{name: "panic", header: []string{"Authorization", tok(authfake.Claims{Issuer: issA, Outcome: "panic"})}, wantStatus: 401,
			wantChall: `Bearer realm="api", error="invalid_token", error_description="Invalid token"`, wantDetail: "Invalid token", wantCode: "invalid_token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := h.runs.Load()
			w := do(srv, http.MethodGet, "/", tt.header...)
			if w.Code != tt.wantStatus {
				t.Fatalf("status = %d, want %d (%s)", w.Code, tt.wantStatus, w.Body)
			}
			if got := w.Header().Get("WWW-Authenticate"); got != tt.wantChall {
				t.Errorf("WWW-Authenticate = %s, want %s", got, tt.wantChall)
			}
			if got, want := w.Header().Get("Retry-After"), map[bool]string{true: "5"}[tt.wantStatus == 503]; got != want {
				t.Errorf("Retry-After = %q, want %q", got, want)
			}
			ran := h.runs.Load() - before
			if tt.wantStatus == 200 {
				if ran != 1 || w.Body.String() != tt.wantBody {
					t.Errorf("handler ran %d times, body %q, want once, %q", ran, w.Body, tt.wantBody)
				}
				return
			}
			if ran != 0 {
				t.Errorf("handler ran %d times after a rejection", ran)
			}
			var body authgate.ErrorBody
			if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil || body.Detail != tt.wantDetail || body.Error != tt.wantCode {
				t.Errorf("body = %s (%v), want detail %q, error %q", w.Body, err, tt.wantDetail, tt.wantCode)
			}
		})
	}
}

func TestOptionalByMethodAndGuards(t *testing.T) {
	user := &authfake.Bearer{Name: "users"}
	keys := &authfake.APIKey{Name: "apikey"}
	h := &handler{}
	mux := http.NewServeMux()
	opts := []httpauth.Option{httpauth.WithRealm("blog"), httpauth.WithLogger(nil)}
	mux.Handle("/optional", httpauth.Optional(user, opts...)(h))
	mux.Handle("/optional/admin", httpauth.Optional(user, opts...)(httpauth.RequireRoles("admin")(h)))
	mux.Handle("/articles", httpauth.ByMethod(user, httpauth.Methods{"GET": nil, "delete": keys}, opts...)(h))
	mux.Handle("/editors", httpauth.Require(user, opts...)(httpauth.RequireAnyRole("editor", "admin")(h)))
	mux.Handle("/scoped", httpauth.Require(user, opts...)(httpauth.RequireScopes("read:x")(httpauth.RequirePermissions("delete:x")(h))))
	mux.Handle("/bare", httpauth.RequireRoles("admin")(h))

	alice := tok(authfake.Claims{Subject: "alice", Roles: []string{"editor"}, Scopes: []string{"read:x"}})
	root := tok(authfake.Claims{Subject: "root", Roles: []string{"admin"}, Scopes: []string{"read:x"}, Permissions: []string{"delete:x"}})
	tests := []struct {
		method, path string
		header       []string
		wantStatus   int
		wantBody     string
		wantChall    string
	}{
		{method: "GET", path: "/optional", wantStatus: 200, wantBody: "sub="},
		{method: "GET", path: "/optional", header: []string{"Authorization", alice}, wantStatus: 200, wantBody: "sub=alice"},
		{method: "GET", path: "/optional", header: []string{"Authorization", tok(authfake.Claims{Outcome: "expired"})}, wantStatus: 401,
			wantChall: `Bearer realm="blog", error="invalid_token", error_description="Token has expired"`},
		{method: "GET", path: "/optional/admin", wantStatus: 401, wantChall: `Bearer realm="blog"`},
		{method: "GET", path: "/optional/admin", header: []string{"Authorization", alice}, wantStatus: 403,
			wantChall: `Bearer realm="blog", error="insufficient_scope", error_description="Insufficient permissions", scope="admin"`},
		{method: "GET", path: "/articles", wantStatus: 200, wantBody: "sub="},
		{method: "GET", path: "/articles", header: []string{"Authorization", alice}, wantStatus: 200, wantBody: "sub="},
		{method: "POST", path: "/articles", wantStatus: 401, wantChall: `Bearer realm="blog"`},
		{method: "POST", path: "/articles", header: []string{"Authorization", alice}, wantStatus: 200, wantBody: "sub=alice"},
		{method: "OPTIONS", path: "/articles", wantStatus: 401, wantChall: `Bearer realm="blog"`},
		{method: "DELETE", path: "/articles", header: []string{"Authorization", alice}, wantStatus: 401, wantChall: `ApiKey realm="blog", header="X-API-Key"`},
		{method: "DELETE", path: "/articles", header: []string{"X-API-Key", "ak_svc"}, wantStatus: 200, wantBody: "sub=svc"},
		{method: "GET", path: "/editors", header: []string{"Authorization", alice}, wantStatus: 200, wantBody: "sub=alice"},
		{method: "GET", path: "/editors", header: []string{"Authorization", tok(authfake.Claims{Subject: "eve", Roles: []string{"reader"}})}, wantStatus: 403,
			wantChall: `Bearer realm="blog", error="insufficient_scope", error_description="Insufficient permissions", scope="editor admin"`},
		{method: "GET", path: "/scoped", header: []string{"Authorization", alice}, wantStatus: 403,
			wantChall: `Bearer realm="blog", error="insufficient_scope", error_description="Insufficient permissions", scope="delete:x"`},
		{method: "GET", path: "/scoped", header: []string{"Authorization", root}, wantStatus: 200, wantBody: "sub=root"},
		{method: "GET", path: "/bare", header: []string{"Authorization", root}, wantStatus: 401, wantChall: `Bearer realm="api"`},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path+" "+strings.Join(tt.header, " "), func(t *testing.T) {
			before := h.runs.Load()
			w := do(mux, tt.method, tt.path, tt.header...)
			if w.Code != tt.wantStatus {
				t.Fatalf("status = %d, want %d (%s)", w.Code, tt.wantStatus, w.Body)
			}
			if tt.wantBody != "" && w.Body.String() != tt.wantBody {
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

func TestErrorHandlerAndUser(t *testing.T) {
	type account struct{ ID int }
	resolved := authgate.Resolve(&authfake.Bearer{Name: "users"}, func(_ context.Context, p *authgate.Principal) (any, error) {
		if p.Subject != "alice" {
			return nil, errors.New("unknown user")
		}
		return account{ID: 7}, nil
	})
	var seen error
	srv := httpauth.Require(resolved, httpauth.WithLogger(nil), httpauth.WithErrorHandler(func(w http.ResponseWriter, _ *http.Request, err error) {
		seen = err
		http.Error(w, "nope", http.StatusTeapot)
	}))(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a, ok := httpauth.User[account](r)
		_, wrong := httpauth.User[*account](r)
		fmt.Fprintf(w, "%v %d %v", ok, a.ID, wrong)
	}))
	if w := do(srv, "GET", "/", "Authorization", tok(authfake.Claims{Subject: "alice"})); w.Code != 200 || w.Body.String() != "true 7 false" {
		t.Errorf("alice: %d %q, want 200 %q", w.Code, w.Body, "true 7 false")
	}
	if w := do(srv, "GET", "/", "Authorization", tok(authfake.Claims{Subject: "bob"})); w.Code != http.StatusTeapot || !errors.Is(seen, authgate.ErrInvalidCredentials) {
		t.Errorf("bob: %d, error handler saw %v; want 418 and ErrInvalidCredentials", w.Code, seen)
	}
	if _, ok := httpauth.User[account](httptest.NewRequest("GET", "/", nil)); ok {
		t.Error("User on a request without principal reported a user")
	}
	for name, f := range map[string]func(){
		"nil Require":     func() { httpauth.Require(nil) },
		"nil handler":     func() { httpauth.Require(resolved)(nil) },
		"nil default":     func() { httpauth.ByMethod(nil, nil) },
		"duplicate":       func() { httpauth.ByMethod(resolved, httpauth.Methods{"Post": nil, "POST": nil}) },
		"empty guard":     func() { httpauth.RequirePermissions() },
		"nil guard next":  func() { httpauth.RequireRoles("a")(nil) },
		"nil Optional":    func() { httpauth.Optional(nil) },
		"ByMethod nil h":  func() { httpauth.ByMethod(resolved, nil)(nil) },
		"empty role name": func() { httpauth.RequireAnyRole("") },
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

func TestConcurrentRequestsSeeTheirOwnPrincipal(t *testing.T) {
	a, b, k := members()
	srv := httpauth.Require(chain.Any(a, b, k), httpauth.WithLogger(nil))(&handler{})
	var wg sync.WaitGroup
	for i := range 200 {
		wg.Go(func() {
			sub := fmt.Sprintf("user-%d", i)
			header := []string{"X-API-Key", "ak_" + sub}
			if i%2 == 0 {
				header = []string{"Authorization", tok(authfake.Claims{Issuer: []string{issA, issB}[i%4/2], Subject: sub})}
			}
			if w := do(srv, "GET", "/", header...); w.Code != 200 || w.Body.String() != "sub="+sub {
				t.Errorf("request %d = %d %q, want sub=%s", i, w.Code, w.Body, sub)
			}
		})
	}
	wg.Wait()
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

func TestLogsNeverHoldCredentials(t *testing.T) {
	var logs lockedBuffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	a, b, k := members()
	mux := http.NewServeMux()
	mux.Handle("GET /orders/{id}", httpauth.Require(chain.Any(a, b, k), httpauth.WithLogger(logger))(httpauth.RequireRoles("admin")(&handler{})))
	outer := httpauth.Require(chain.Any(a, b, k), httpauth.WithLogger(logger))(&handler{})

	headers := [][]string{
		nil,
		{"Authorization", tok(authfake.Claims{Issuer: issA, Outcome: "expired"})},
		{"Authorization", tok(authfake.Claims{Issuer: issA, Outcome: "panic"})},
		{"Authorization", tok(authfake.Claims{Issuer: issB, Outcome: "unavailable"})},
		{"Authorization", tok(authfake.Claims{Issuer: "https://evil.example/"})},
		{"Authorization", tok(authfake.Claims{Issuer: issA, Subject: "alice"})}, // forbidden at the guard
		{"Authorization", tok(authfake.Claims{Issuer: issA}), "X-API-Key", "ak_svc"},
		{"X-API-Key", "ak_bad"},
		{"Authorization", "Basic dXNlcjpwYXNz"},
	}
	var sent []string
	for _, h := range headers {
		for i := 1; i < len(h); i += 2 {
			sent = append(sent, h[i])
		}
		do(mux, "GET", "/orders/42", h...)
	}
	do(outer, authfake.Token(authfake.Claims{Subject: "m"}), "/", headers[1]...)

	out := logs.String()
	if m := regexp.MustCompile(`eyJ[\w-]+\.[\w-]+\.[\w-]*`).FindString(out); m != "" {
		t.Errorf("the log holds a token: %s", m)
	}
	for _, s := range append(sent, "c2lnbmF0dXJl", "ak_", "Bearer ", "dXNlcjpwYXNz", "/orders/42") {
		if i := strings.Index(out, s); i >= 0 {
			t.Errorf("the log holds %q: %s", s, out[max(0, i-200):min(len(out), i+50)])
		}
	}
	for _, want := range []string{
		`reason=expired provider=a method=GET route="GET /orders/{id}"`,
		`reason=panic provider=a`,
		`reason=unavailable provider=b`,
		`reason=unrecognized`,
		`reason=forbidden provider=a`,
		`reason=malformed_request provider=chain`,
		`reason=revoked provider=apikey`,
		`reason=no_credentials provider=chain`,
		`method=other`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the log lacks %s:\n%s", want, out)
		}
	}
}
