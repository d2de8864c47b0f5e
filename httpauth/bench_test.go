package httpauth_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/httpauth"
	"github.com/authgate/authgate/internal/authfake"
)

// BenchmarkRequire serves a ServeMux route without authentication and
// behind Require with an authenticator that costs nothing: the difference
// is the middleware's own cost. "observer=nop" adds an Observer that does
// nothing: the difference is the cost of the hook itself (a clock read and
// an interface call per decision).
//
//	go test -run '^$' -bench Require -benchmem -count 6 ./httpauth/
func BenchmarkRequire(b *testing.B) {
	nop := authgate.ObserverFunc(func(context.Context, authgate.Event) {})
	ok := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	for _, bc := range []struct {
		name string
		h    http.Handler
	}{
		{"auth=none", ok},
		{"auth=fixed", httpauth.Require(authfake.Fixed(&authgate.Principal{Subject: "alice"}))(ok)},
		{"auth=fixed+guard", httpauth.Require(authfake.Fixed(&authgate.Principal{Subject: "alice", Roles: []string{"admin"}}))(httpauth.RequireRoles("admin")(ok))},
		{"auth=fixed/observer=nop", httpauth.Require(authfake.Fixed(&authgate.Principal{Subject: "alice"}), httpauth.WithObserver(nop))(ok)},
		{"auth=fixed+guard/observer=nop", httpauth.Require(authfake.Fixed(&authgate.Principal{Subject: "alice", Roles: []string{"admin"}}), httpauth.WithObserver(nop))(httpauth.RequireRoles("admin")(ok))},
	} {
		b.Run(bc.name, func(b *testing.B) {
			mux := http.NewServeMux()
			mux.Handle("GET /articles/{id}", bc.h)
			r := httptest.NewRequest(http.MethodGet, "/articles/42", nil)
			w := httptest.NewRecorder()
			mux.ServeHTTP(w, r)
			if w.Code != http.StatusNoContent {
				b.Fatalf("status = %d", w.Code)
			}
			b.ReportAllocs()
			for b.Loop() {
				mux.ServeHTTP(w, r)
			}
		})
	}
}
