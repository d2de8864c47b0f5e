package ginauth_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/chain"
	"github.com/authgate/authgate/ginauth"
	"github.com/authgate/authgate/internal/authfake"
)

// TestByMethodWithGuardAuthenticator serves the README's per-method table,
// whose DELETE entry is a guard authenticator, over a real HTTP connection.
func TestByMethodWithGuardAuthenticator(t *testing.T) {
	jwt := &authfake.Bearer{Name: "jwt", Issuers: []string{issA}}
	h := &handler{}
	e := gin.New()
	group := e.Group("/articles")
	group.Use(ginauth.ByMethod(jwt, ginauth.Methods{"GET": nil, "DELETE": authgate.RequireRoles(jwt, "admin")}, ginauth.WithLogger(nil)))
	group.GET("/:id", h.serve)
	group.POST("/:id", h.serve)
	group.DELETE("/:id", h.serve)
	srv := httptest.NewServer(e)
	defer srv.Close()

	reader := tok(authfake.Claims{Issuer: issA, Subject: "alice", Roles: []string{"reader"}})
	admin := tok(authfake.Claims{Issuer: issA, Subject: "root", Roles: []string{"reader", "admin"}})
	tests := []struct {
		name       string
		method     string
		auth       string
		wantStatus int
		wantChall  string
		wantBody   string
	}{
		{name: "public GET", method: "GET", wantStatus: 200, wantBody: "sub= ctx="},
		{name: "DELETE without credentials", method: "DELETE", wantStatus: 401, wantChall: `Bearer realm="api"`},
		{name: "DELETE with an expired token", method: "DELETE", auth: tok(authfake.Claims{Issuer: issA, Outcome: "expired"}), wantStatus: 401,
			wantChall: `Bearer realm="api", error="invalid_token", error_description="Token has expired"`},
		{name: "DELETE as reader", method: "DELETE", auth: reader, wantStatus: 403,
			wantChall: `Bearer realm="api", error="insufficient_scope", error_description="Insufficient permissions", scope="admin"`},
		{name: "DELETE as admin", method: "DELETE", auth: admin, wantStatus: 200, wantBody: "sub=root ctx=root"},
		{name: "POST uses the default", method: "POST", auth: reader, wantStatus: 200, wantBody: "sub=alice ctx=alice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(tt.method, srv.URL+"/articles/1", nil)
			if err != nil {
				t.Fatal(err)
			}
			if tt.auth != "" {
				req.Header.Set("Authorization", tt.auth)
			}
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("%s status = %d, want %d (%s)", tt.method, resp.StatusCode, tt.wantStatus, body)
			}
			if got := resp.Header.Get("WWW-Authenticate"); got != tt.wantChall {
				t.Errorf("WWW-Authenticate = %s, want %s", got, tt.wantChall)
			}
			if tt.wantBody != "" && string(body) != tt.wantBody {
				t.Errorf("body = %q, want %q", body, tt.wantBody)
			}
		})
	}
}

// logRecord is the part of a JSON log line the tests read.
type logRecord struct {
	Msg      string `json:"msg"`
	Reason   string `json:"reason"`
	Provider string `json:"provider"`
	Route    string `json:"route"`
}

func records(t *testing.T, out string) []logRecord {
	t.Helper()
	var recs []logRecord
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var r logRecord
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("log line %q: %v", sc.Text(), err)
		}
		recs = append(recs, r)
	}
	return recs
}

// TestFailureLogs: a resolver's bare sentinel is logged with the provider
// that authenticated the request, and a 403 is logged as an authorization
// failure, not as a failed authentication.
func TestFailureLogs(t *testing.T) {
	a, _, k := members()
	forbid := func(context.Context, *authgate.Principal) (any, error) { return nil, authgate.ErrForbidden }
	invalid := func(context.Context, *authgate.Principal) (any, error) { return nil, authgate.ErrInvalidCredentials }
	tests := []struct {
		name       string
		chain      func(l *slog.Logger) []gin.HandlerFunc
		header     []string
		wantStatus int
		want       logRecord
	}{
		{name: "resolver forbids with a bare sentinel",
			chain: func(l *slog.Logger) []gin.HandlerFunc {
				return []gin.HandlerFunc{ginauth.Require(authgate.Resolve(chain.Any(a, k), forbid), ginauth.WithLogger(l))}
			},
			header: []string{"X-API-Key", "ak_svc"}, wantStatus: 403,
			want: logRecord{Msg: "authgate: authorization failed", Reason: "forbidden", Provider: "apikey", Route: "/r"}},
		{name: "resolver rejects with a bare sentinel",
			chain: func(l *slog.Logger) []gin.HandlerFunc {
				return []gin.HandlerFunc{ginauth.Require(authgate.Resolve(chain.Any(a, k), invalid), ginauth.WithLogger(l))}
			},
			header: []string{"Authorization", tok(authfake.Claims{Issuer: issA, Subject: "alice"})}, wantStatus: 401,
			want: logRecord{Msg: "authgate: authentication failed", Reason: "invalid", Provider: "a", Route: "/r"}},
		{name: "guard authenticator in ByMethod forbids",
			chain: func(l *slog.Logger) []gin.HandlerFunc {
				return []gin.HandlerFunc{ginauth.ByMethod(a, ginauth.Methods{"GET": authgate.RequireRoles(chain.Any(a, k), "admin")}, ginauth.WithLogger(l))}
			},
			header: []string{"Authorization", tok(authfake.Claims{Issuer: issA, Subject: "alice"})}, wantStatus: 403,
			want: logRecord{Msg: "authgate: authorization failed", Reason: "forbidden", Provider: "a", Route: "/r"}},
		{name: "middleware guard forbids",
			chain: func(l *slog.Logger) []gin.HandlerFunc {
				return []gin.HandlerFunc{ginauth.Require(k, ginauth.WithLogger(l)), ginauth.RequireRoles("admin")}
			},
			header: []string{"X-API-Key", "ak_svc"}, wantStatus: 403,
			want: logRecord{Msg: "authgate: authorization failed", Reason: "forbidden", Provider: "apikey", Route: "/r"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs lockedBuffer
			h := &handler{}
			e := gin.New()
			e.GET("/r", append(tt.chain(slog.New(slog.NewJSONHandler(&logs, nil))), h.serve)...)
			if w := do(e, http.MethodGet, "/r", tt.header...); w.Code != tt.wantStatus {
				t.Fatalf("status = %d, want %d (%s)", w.Code, tt.wantStatus, w.Body)
			}
			if h.runs.Load() != 0 {
				t.Error("handler ran after a refusal")
			}
			recs := records(t, logs.String())
			if len(recs) != 1 || recs[0] != tt.want {
				t.Errorf("logs = %+v, want one record %+v", recs, tt.want)
			}
		})
	}
}
