package ginauth_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/ginauth"
	"github.com/authgate/authgate/internal/authfake"
)

// BenchmarkGin serves one Gin route through engine.ServeHTTP: without
// authentication, behind Require with an authenticator that costs nothing
// (the middleware's own cost), and behind Require(static) with RS256 and
// HS256 tokens; "verify" is the static authenticator alone on the same
// request, so Require(static) − verify − noauth is again the middleware.
// "observer=nop" adds an Observer that does nothing: the cost of the hook.
//
//	go test -run '^$' -bench Gin -benchmem -count 6 ./ginauth/
func BenchmarkGin(b *testing.B) {
	ok := func(c *gin.Context) { c.Status(http.StatusNoContent) }
	run := func(b *testing.B, e *gin.Engine, r *http.Request) {
		w := httptest.NewRecorder()
		e.ServeHTTP(w, r)
		if w.Code != http.StatusNoContent {
			b.Fatalf("status = %d, want 204: %s", w.Code, w.Body)
		}
		b.ReportAllocs()
		for b.Loop() {
			e.ServeHTTP(w, r)
		}
	}
	request := func(token string) *http.Request {
		r := httptest.NewRequest(http.MethodGet, "/articles/42", nil)
		if token != "" {
			r.Header.Set("Authorization", "Bearer "+token)
		}
		return r
	}

	b.Run("auth=none", func(b *testing.B) {
		e := gin.New()
		e.GET("/articles/:id", ok)
		run(b, e, request(""))
	})
	b.Run("auth=fixed", func(b *testing.B) {
		e := gin.New()
		e.GET("/articles/:id", ginauth.Require(authfake.Fixed(&authgate.Principal{Subject: "alice"})), ok)
		run(b, e, request(""))
	})
	b.Run("auth=fixed/observer=nop", func(b *testing.B) {
		nop := authgate.ObserverFunc(func(context.Context, authgate.Event) {})
		e := gin.New()
		e.GET("/articles/:id", ginauth.Require(authfake.Fixed(&authgate.Principal{Subject: "alice"}), ginauth.WithObserver(nop)), ok)
		run(b, e, request(""))
	})
	for _, alg := range []string{"RS256", "HS256"} {
		st, sign := newStatic(b, alg)
		token := sign.Token(claimsFor("alice", nil))
		b.Run("auth=static/alg="+alg, func(b *testing.B) {
			e := gin.New()
			e.GET("/articles/:id", ginauth.Require(st), ok)
			run(b, e, request(token))
		})
		b.Run("verify/alg="+alg, func(b *testing.B) {
			r := request(token)
			if _, err := st.Authenticate(r); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				_, _ = st.Authenticate(r)
			}
		})
	}
}
