package ginauth_test

import (
	"context"
	"crypto/subtle"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/gin-gonic/gin"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/ginauth"
)

// demoKeys stands in for a real provider (static.New, apikey.New, …): it
// accepts two fixed bearer values.
var demoKeys = authgate.AuthenticatorFunc(func(r *http.Request) (*authgate.Principal, error) {
	users := map[string]*authgate.Principal{
		"reader-token": {Provider: "demo", Subject: "alice", Roles: []string{"reader"}},
		"admin-token":  {Provider: "demo", Subject: "root", Roles: []string{"reader", "admin"}},
	}
	h := r.Header.Get("Authorization")
	if len(h) < 7 || h[:7] != "Bearer " {
		return nil, authgate.ErrNoCredentials
	}
	for t, p := range users {
		if subtle.ConstantTimeCompare([]byte(h[7:]), []byte(t)) == 1 {
			cp := *p
			return &cp, nil
		}
	}
	return nil, authgate.NewError("demo", authgate.ErrInvalidCredentials, nil)
})

func send(e *gin.Engine, method, path, token string) {
	r := httptest.NewRequest(method, path, nil)
	if token != "" {
		r.Header.Set("Authorization", "Bearer "+token)
	}
	w := httptest.NewRecorder()
	e.ServeHTTP(w, r)
	fmt.Println(method, path, w.Code, w.Header().Get("WWW-Authenticate"), w.Body.String())
}

func Example() {
	gin.SetMode(gin.ReleaseMode)
	e := gin.New()
	api := e.Group("/api")
	// The seed's get_auth=None, post_auth=JWTAuth(), delete_auth=… per method:
	articles := api.Group("/articles", ginauth.ByMethod(demoKeys, ginauth.Methods{"GET": nil}, ginauth.WithLogger(nil)))
	articles.GET("", func(c *gin.Context) { c.String(http.StatusOK, "[]") })
	articles.POST("", func(c *gin.Context) {
		p, _ := ginauth.PrincipalFrom(c)
		c.String(http.StatusCreated, "created by "+p.Subject)
	})
	articles.DELETE("/:id", ginauth.RequireRoles("admin"), func(c *gin.Context) { c.Status(http.StatusNoContent) })

	send(e, "GET", "/api/articles", "")
	send(e, "POST", "/api/articles", "")
	send(e, "POST", "/api/articles", "reader-token")
	send(e, "DELETE", "/api/articles/1", "reader-token")
	send(e, "DELETE", "/api/articles/1", "admin-token")
	// Output:
	// GET /api/articles 200  []
	// POST /api/articles 401 Bearer realm="api" {"detail":"Authentication credentials were not provided","error":"not_authenticated"}
	// POST /api/articles 201  created by alice
	// DELETE /api/articles/1 403 Bearer realm="api", error="insufficient_scope", error_description="Insufficient permissions", scope="admin" {"detail":"Insufficient permissions","error":"insufficient_scope"}
	// DELETE /api/articles/1 204
}

func ExampleOptional() {
	gin.SetMode(gin.ReleaseMode)
	e := gin.New()
	e.GET("/feed", ginauth.Optional(demoKeys, ginauth.WithLogger(nil)), func(c *gin.Context) {
		if p, ok := ginauth.PrincipalFrom(c); ok {
			c.String(http.StatusOK, "feed for "+p.Subject)
			return
		}
		c.String(http.StatusOK, "public feed")
	})
	send(e, "GET", "/feed", "")
	send(e, "GET", "/feed", "reader-token")
	send(e, "GET", "/feed", "stolen-token")
	// Output:
	// GET /feed 200  public feed
	// GET /feed 200  feed for alice
	// GET /feed 401 Bearer realm="api", error="invalid_token", error_description="Invalid token" {"detail":"Invalid token","error":"invalid_token"}
}

// A per-method table whose DELETE entry is a guard: the same authenticator,
// and the principal must have the role "admin".
func ExampleByMethod_guard() {
	gin.SetMode(gin.ReleaseMode)
	e := gin.New()
	jwt := demoKeys
	articles := e.Group("/articles")
	articles.Use(ginauth.ByMethod(jwt, ginauth.Methods{
		"GET":    nil,
		"DELETE": authgate.RequireRoles(jwt, "admin"),
	}, ginauth.WithLogger(nil)))
	articles.GET("/:id", func(c *gin.Context) { c.String(http.StatusOK, "article") })
	articles.DELETE("/:id", func(c *gin.Context) { c.Status(http.StatusNoContent) })

	send(e, "GET", "/articles/1", "")
	send(e, "DELETE", "/articles/1", "")
	send(e, "DELETE", "/articles/1", "reader-token")
	send(e, "DELETE", "/articles/1", "admin-token")
	// Output:
	// GET /articles/1 200  article
	// DELETE /articles/1 401 Bearer realm="api" {"detail":"Authentication credentials were not provided","error":"not_authenticated"}
	// DELETE /articles/1 403 Bearer realm="api", error="insufficient_scope", error_description="Insufficient permissions", scope="admin" {"detail":"Insufficient permissions","error":"insufficient_scope"}
	// DELETE /articles/1 204
}

// WithObserver reports every decision to an authgate.Observer, such as the
// Prometheus or OpenTelemetry ones of authgate/observe: provider, outcome,
// bounded reason and latency, never the token.
func ExampleWithObserver() {
	gin.SetMode(gin.ReleaseMode)
	obs := authgate.ObserverFunc(func(_ context.Context, e authgate.Event) {
		fmt.Printf("%s %s %s %q\n", e.Kind, e.Provider, e.Outcome, e.Reason)
	})
	e := gin.New()
	e.DELETE("/articles/:id",
		ginauth.Require(demoKeys, ginauth.WithLogger(nil), ginauth.WithObserver(obs)),
		ginauth.RequireRoles("admin"),
		func(c *gin.Context) { c.Status(http.StatusNoContent) })

	for _, token := range []string{"forged", "reader-token", "admin-token"} {
		r := httptest.NewRequest("DELETE", "/articles/1", nil)
		r.Header.Set("Authorization", "Bearer "+token)
		e.ServeHTTP(httptest.NewRecorder(), r)
	}
	// Output:
	// authentication demo denied "invalid"
	// authentication demo allowed ""
	// authorization demo denied "forbidden"
	// authentication demo allowed ""
	// authorization demo allowed ""
}
