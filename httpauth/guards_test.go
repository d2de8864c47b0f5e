package httpauth_test

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

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/chain"
	"github.com/authgate/authgate/httpauth"
	"github.com/authgate/authgate/internal/authfake"
)

// TestByMethodWithGuardAuthenticator serves a per-method table whose DELETE
// entry is a guard authenticator over a real HTTP connection.
func TestByMethodWithGuardAuthenticator(t *testing.T) {
	jwt := &authfake.Bearer{Name: "jwt", Issuers: []string{issA}}
	h := &handler{}
	mux := http.NewServeMux()
	mux.Handle("/articles/", httpauth.ByMethod(jwt, httpauth.Methods{
		"GET":    nil,
		"DELETE": authgate.RequireRoles(jwt, "admin"),
	}, httpauth.WithLogger(nil))(h))
	srv := httptest.NewServer(mux)
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
		{name: "public GET", method: "GET", wantStatus: 200, wantBody: "sub="},
		{name: "DELETE without credentials", method: "DELETE", wantStatus: 401, wantChall: `Bearer realm="api"`},
		{name: "DELETE with an expired token", method: "DELETE", auth: tok(authfake.Claims{Issuer: issA, Outcome: "expired"}), wantStatus: 401,
			wantChall: `Bearer realm="api", error="invalid_token", error_description="Token has expired"`},
		{name: "DELETE as reader", method: "DELETE", auth: reader, wantStatus: 403,
			wantChall: `Bearer realm="api", error="insufficient_scope", error_description="Insufficient permissions", scope="admin"`},
		{name: "DELETE as admin", method: "DELETE", auth: admin, wantStatus: 200, wantBody: "sub=root"},
		{name: "POST uses the default", method: "POST", auth: reader, wantStatus: 200, wantBody: "sub=alice"},
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
	unavailable := func(context.Context, *authgate.Principal) (any, error) { return nil, authgate.ErrUnavailable }
	tests := []struct {
		name       string
		handler    func(logger *slog.Logger) http.Handler
		header     []string
		wantStatus int
		want       logRecord
	}{
		{name: "resolver forbids with a bare sentinel",
			handler: func(l *slog.Logger) http.Handler {
				return httpauth.Require(authgate.Resolve(chain.Any(a, k), forbid), httpauth.WithLogger(l))(&handler{})
			},
			header: []string{"X-API-Key", "ak_svc"}, wantStatus: 403,
			want: logRecord{Msg: "authgate: authorization failed", Reason: "forbidden", Provider: "apikey"}},
		{name: "resolver unavailable with a bare sentinel",
			handler: func(l *slog.Logger) http.Handler {
				return httpauth.Require(authgate.Resolve(chain.Any(a, k), unavailable), httpauth.WithLogger(l))(&handler{})
			},
			header: []string{"Authorization", tok(authfake.Claims{Issuer: issA, Subject: "alice"})}, wantStatus: 503,
			want: logRecord{Msg: "authgate: authentication failed", Reason: "unavailable", Provider: "a"}},
		{name: "guard authenticator forbids",
			handler: func(l *slog.Logger) http.Handler {
				return httpauth.Require(authgate.RequireScopes(chain.Any(a, k), "orders:write"), httpauth.WithLogger(l))(&handler{})
			},
			header: []string{"Authorization", tok(authfake.Claims{Issuer: issA, Subject: "alice"})}, wantStatus: 403,
			want: logRecord{Msg: "authgate: authorization failed", Reason: "forbidden", Provider: "a"}},
		{name: "middleware guard forbids",
			handler: func(l *slog.Logger) http.Handler {
				return httpauth.Require(k, httpauth.WithLogger(l))(httpauth.RequireRoles("admin")(&handler{}))
			},
			header: []string{"X-API-Key", "ak_svc"}, wantStatus: 403,
			want: logRecord{Msg: "authgate: authorization failed", Reason: "forbidden", Provider: "apikey"}},
		{name: "rejected credential",
			handler: func(l *slog.Logger) http.Handler {
				return httpauth.Require(authgate.Resolve(chain.Any(a, k), forbid), httpauth.WithLogger(l))(&handler{})
			},
			header: []string{"X-API-Key", "ak_bad"}, wantStatus: 401,
			want: logRecord{Msg: "authgate: authentication failed", Reason: "revoked", Provider: "apikey"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs lockedBuffer
			srv := tt.handler(slog.New(slog.NewJSONHandler(&logs, nil)))
			if w := do(srv, http.MethodGet, "/", tt.header...); w.Code != tt.wantStatus {
				t.Fatalf("status = %d, want %d (%s)", w.Code, tt.wantStatus, w.Body)
			}
			recs := records(t, logs.String())
			if len(recs) != 1 || recs[0] != tt.want {
				t.Errorf("logs = %+v, want one record %+v", recs, tt.want)
			}
		})
	}
}
