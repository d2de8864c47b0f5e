// Command tenant shows tenant isolation with authgate's decorators:
// authgate.Check refuses tokens without a tenant, authgate.Resolve maps the
// verified principal to the application's user (the seed's auth_handler)
// and refuses unknown or disabled users, and a route guard keeps every
// tenant inside its own URL space.
//
//	go run ./examples/tenant   # listens on 127.0.0.1:8082
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/examples/internal/devtoken"
	"github.com/authgate/authgate/examples/internal/serve"
	"github.com/authgate/authgate/ginauth"
	"github.com/authgate/authgate/providers"
	"github.com/authgate/authgate/static"
)

const (
	issuerURL = "https://tenant.authgate.local/"
	audience  = "tenant-api"
)

// User is the application's own user record.
type User struct {
	ID       string
	Tenant   string
	Name     string
	Disabled bool
}

// directory is the user database the resolver consults.
type directory struct {
	mu    sync.RWMutex
	users map[string]User // by tenant + "/" + subject
}

func (d *directory) lookup(tenant, subject string) (User, bool) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	u, ok := d.users[tenant+"/"+subject]
	return u, ok
}

var errUnknownUser = errors.New("tenant: unknown user")

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
	dir := &directory{users: map[string]User{
		"acme/alice":   {ID: "u1", Tenant: "acme", Name: "Alice"},
		"globex/bob":   {ID: "u2", Tenant: "globex", Name: "Bob"},
		"acme/mallory": {ID: "u3", Tenant: "acme", Name: "Mallory", Disabled: true},
	}}

	// A token must name its tenant (401 otherwise) ...
	withTenant := authgate.Check(jwt, func(_ *http.Request, p *authgate.Principal) error {
		if p.Tenant == "" {
			return authgate.ErrMissingClaim
		}
		return nil
	})
	// ... and belong to a known, active user of that tenant.
	auth := authgate.Resolve(withTenant, func(ctx context.Context, p *authgate.Principal) (any, error) {
		u, ok := dir.lookup(p.Tenant, p.Subject)
		switch {
		case !ok:
			return nil, errUnknownUser // 401
		case u.Disabled:
			return nil, authgate.ErrRevoked // 401 "Token has been revoked"
		}
		return &u, nil
	})

	tokens := map[string]string{}
	for _, t := range []struct{ name, sub, tenant string }{
		{"ALICE", "alice", "acme"}, {"BOB", "bob", "globex"}, {"MALLORY", "mallory", "acme"}, {"NOTENANT", "alice", ""},
	} {
		extra := map[string]any{}
		if t.tenant != "" {
			extra["tenant"] = t.tenant
		}
		if tokens[t.name], err = dev.Mint(t.sub, 12*time.Hour, extra); err != nil {
			return nil, nil, err
		}
	}

	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	tenantAPI := r.Group("/api/tenants/:tenant", ginauth.Require(auth), sameTenant)
	tenantAPI.GET("/articles", func(c *gin.Context) {
		u, _ := ginauth.User[*User](c)
		c.JSON(http.StatusOK, gin.H{"tenant": u.Tenant, "user": u.Name, "articles": []string{u.Tenant + " newsletter"}})
	})
	return r, tokens, nil
}

// sameTenant answers 403 when the URL names another tenant than the
// caller's.
func sameTenant(c *gin.Context) {
	u, ok := ginauth.User[*User](c)
	if !ok || c.Param("tenant") != u.Tenant {
		c.AbortWithStatusJSON(http.StatusForbidden, gin.H{"detail": "Insufficient permissions", "error": "insufficient_scope"})
		return
	}
	c.Next()
}

func main() {
	addr := flag.String("addr", "127.0.0.1:8082", "address to listen on")
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
	fmt.Fprintf(out, "tenant example on %s\n\n", base)
	for _, n := range []string{"ALICE", "BOB", "MALLORY", "NOTENANT"} {
		fmt.Fprintf(out, "export %s_TOKEN=%s\n", n, tokens[n])
	}
	fmt.Fprintf(out, "\ncurl %s/api/tenants/acme/articles -H \"Authorization: Bearer $ALICE_TOKEN\"\n", base)
	fmt.Fprintf(out, "curl -i %s/api/tenants/acme/articles -H \"Authorization: Bearer $BOB_TOKEN\"      # 403: another tenant\n", base)
	fmt.Fprintf(out, "curl -i %s/api/tenants/acme/articles -H \"Authorization: Bearer $MALLORY_TOKEN\"  # 401: disabled user\n", base)
	return serve.Serve(ctx, ln, h)
}
