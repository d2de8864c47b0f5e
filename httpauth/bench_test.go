package httpauth_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/httpauth"
	"github.com/authgate/authgate/internal/authfake"
)

// BenchmarkRequire serves a ServeMux route without authentication and
// behind Require with an authenticator that costs nothing: the difference
// is the middleware's own cost.
//
//	go test -run '^$' -bench Require -benchmem -count 6 ./httpauth/
func BenchmarkRequire(b *testing.B) {
	ok := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	for _, bc := range []struct {
		name string
		h    http.Handler
	}{
		{"auth=none", ok},
		{"auth=fixed", httpauth.Require(authfake.Fixed(&authgate.Principal{Subject: "alice"}))(ok)},
		{"auth=fixed+guard", httpauth.Require(authfake.Fixed(&authgate.Principal{Subject: "alice", Roles: []string{"admin"}}))(httpauth.RequireRoles("admin")(ok))},
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
