// Command rbac shows the seed's RBAC, permission and scope checks with
// authgate guards: roles decide who may manage users, permissions who may
// delete articles, OAuth scopes what a client token may read or write.
//
//	go run ./examples/rbac   # listens on 127.0.0.1:8081 and prints a token per user
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/authgate/authgate/examples/internal/devtoken"
	"github.com/authgate/authgate/examples/internal/serve"
	"github.com/authgate/authgate/ginauth"
	"github.com/authgate/authgate/providers"
	"github.com/authgate/authgate/static"
)

const (
	issuerURL = "https://rbac.authgate.local/"
	audience  = "rbac-api"
)

// users are the example's personas and what their tokens carry.
var users = []struct {
	name   string
	claims map[string]any
}{
	{"admin", map[string]any{"roles": []string{"admin"}, "permissions": []string{"articles:delete", "users:manage"}, "scope": "articles:read articles:write"}},
	{"editor", map[string]any{"roles": []string{"editor"}, "permissions": []string{"articles:publish"}, "scope": "articles:read articles:write"}},
	{"reader", map[string]any{"roles": []string{"viewer"}, "scope": "articles:read"}},
}

func newHandler() (http.Handler, map[string]string, error) {
	dev, err := devtoken.New(issuerURL, audience)
	if err != nil {
		return nil, nil, err
	}
	jwt, err := static.New(static.Config{
		Keys:   []providers.Key{dev.Key()},
		Issuer: issuerURL,
		TokenOptions: providers.TokenOptions{
			Algorithms: []string{providers.RS256},
			Audience:   []string{audience},
		},
	})
	if err != nil {
		return nil, nil, err
	}
	tokens := map[string]string{}
	for _, u := range users {
		if tokens[u.name], err = dev.Mint(u.name, 12*time.Hour, u.claims); err != nil {
			return nil, nil, err
		}
	}

	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	ok := func(what string) gin.HandlerFunc {
		return func(c *gin.Context) {
			p, _ := ginauth.PrincipalFrom(c)
			c.JSON(http.StatusOK, gin.H{"allowed": what, "subject": p.Subject})
		}
	}
	api := r.Group("/api", ginauth.Require(jwt))
	// Roles: all of them (RequireRoles) or any of them (RequireAnyRole).
	api.GET("/admin/users", ginauth.RequireRoles("admin"), ok("manage users"))
	api.GET("/drafts", ginauth.RequireAnyRole("admin", "editor"), ok("see drafts"))
	// Scopes granted to the token (OAuth "scope" claim).
	api.GET("/articles", ginauth.RequireScopes("articles:read"), ok("read articles"))
	api.POST("/articles", ginauth.RequireScopes("articles:write"), ok("write articles"))
	// Permissions (Auth0-style "permissions" claim).
	api.DELETE("/articles/:id", ginauth.RequirePermissions("articles:delete"), ok("delete articles"))
	api.POST("/articles/:id/publish", ginauth.RequirePermissions("articles:publish"), ok("publish articles"))
	return r, tokens, nil
}

func main() {
	addr := flag.String("addr", "127.0.0.1:8081", "address to listen on")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *addr, os.Stdout); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context, addr string, out io.Writer) error {
	h, tokens, err := newHandler()
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	base := "http://" + ln.Addr().String()
	fmt.Fprintf(out, "rbac example on %s\n\n", base)
	for _, u := range users {
		fmt.Fprintf(out, "export %s_TOKEN=%s\n", upper(u.name), tokens[u.name])
	}
	fmt.Fprintf(out, "\ncurl -i %s/api/admin/users -H \"Authorization: Bearer $EDITOR_TOKEN\"     # 403 insufficient_scope\n", base)
	fmt.Fprintf(out, "curl -i -X DELETE %s/api/articles/1 -H \"Authorization: Bearer $ADMIN_TOKEN\"\n", base)
	fmt.Fprintf(out, "curl -i -X POST %s/api/articles -H \"Authorization: Bearer $READER_TOKEN\"   # 403: no articles:write scope\n", base)
	return serve.Serve(ctx, ln, h)
}

func upper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'a' <= c && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}
