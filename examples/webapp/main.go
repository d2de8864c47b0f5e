// Command webapp is a Gin site whose people sign in with an OpenID Connect
// provider (package signin): a public page, a signed-in page showing the
// user, and a page only users with the "admin" role may see. Its JSON API
// takes the browser's session or a bearer token of the same issuer, on the
// same route.
//
//	WEBAPP_ISSUER=https://login.example.com WEBAPP_CLIENT_ID=webapp WEBAPP_CLIENT_SECRET=… \
//	WEBAPP_URL=http://127.0.0.1:8082 WEBAPP_SESSION_KEY=$(openssl rand -base64 32) go run ./examples/webapp
//
// Register WEBAPP_URL/callback as the client's redirect URI and WEBAPP_URL/
// as its post-logout redirect URI. Flags override the environment: -issuer,
// -client-id, -client-secret, -url, -api-audience (the audience of bearer
// tokens for /api, default the client ID), -roles-claim, -addr. Without
// WEBAPP_SESSION_KEY a random key is made at start, so sessions end with
// the process.
package main

import (
	"context"
	"encoding/base64"
	"errors"
	"flag"
	"html/template"
	"log"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"syscall"

	"github.com/gin-gonic/gin"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/chain"
	"github.com/authgate/authgate/examples/internal/serve"
	"github.com/authgate/authgate/ginauth"
	"github.com/authgate/authgate/oidc"
	"github.com/authgate/authgate/providers"
	"github.com/authgate/authgate/signin"
)

// options configure the site.
type options struct {
	Issuer, ClientID, ClientSecret string
	// URL is the site's own base URL (http://127.0.0.1:8082).
	URL string
	// APIAudience is the "aud" of bearer tokens /api accepts (default
	// ClientID).
	APIAudience string
	RolesClaim  string
	Keys        []signin.Key
	HTTPClient  *http.Client
}

// newHandler returns the site's routes and its sign-in handler.
func newHandler(o options) (http.Handler, *signin.Handler, error) {
	base, err := url.Parse(o.URL)
	if err != nil || base.Host == "" {
		return nil, nil, errors.New("webapp: the site's URL must be absolute (-url)")
	}
	site, err := signin.New(signin.Config{
		Issuer:       o.Issuer,
		ClientID:     o.ClientID,
		ClientSecret: o.ClientSecret,
		RedirectURL:  base.JoinPath("/callback").String(),
		AfterLogout:  base.JoinPath("/").String(),
		Keys:         o.Keys,
		TokenOptions: providers.TokenOptions{RolesClaim: o.RolesClaim},
		FetchOptions: providers.FetchOptions{HTTPClient: o.HTTPClient},
	})
	if err != nil {
		return nil, nil, err
	}
	aud := o.APIAudience
	if aud == "" {
		aud = o.ClientID
	}
	bearer, err := oidc.New(oidc.Config{Issuer: o.Issuer,
		TokenOptions: providers.TokenOptions{Name: "api", Audience: []string{aud}, RolesClaim: o.RolesClaim},
		FetchOptions: providers.FetchOptions{HTTPClient: o.HTTPClient}})
	if err != nil {
		return nil, nil, err
	}
	session := site.Authenticator()
	sessionOrToken, err := chain.New(session, bearer)
	if err != nil {
		return nil, nil, err
	}

	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.Use(gin.Recovery(), func(c *gin.Context) { site.Renew(c.Writer, c.Request); c.Next() })
	// Pages send a browser without a session to sign in; the API answers 401.
	pages := ginauth.WithErrorHandler(func(c *gin.Context, err error) { site.WriteError(c.Writer, c.Request, err) })

	r.GET("/login", gin.WrapF(site.Login))
	r.GET("/callback", gin.WrapF(site.Callback))
	r.POST("/logout", gin.WrapF(site.Logout))

	r.GET("/", ginauth.Optional(session), func(c *gin.Context) {
		p, _ := ginauth.PrincipalFrom(c)
		render(c, http.StatusOK, "Welcome", p, "A public page: anyone may read it.")
	})
	r.GET("/me", ginauth.Require(session, pages), func(c *gin.Context) {
		p, _ := ginauth.PrincipalFrom(c)
		render(c, http.StatusOK, "Your account", p, "You are signed in.")
	})
	r.GET("/admin", ginauth.Require(session, pages), ginauth.RequireRoles("admin"), func(c *gin.Context) {
		p, _ := ginauth.PrincipalFrom(c)
		render(c, http.StatusOK, "Administration", p, "Only administrators see this page.")
	})
	r.GET("/api/me", ginauth.Require(sessionOrToken), func(c *gin.Context) {
		p, _ := ginauth.PrincipalFrom(c)
		c.JSON(http.StatusOK, gin.H{"subject": p.Subject, "name": p.Name, "email": p.Email, "roles": p.Roles, "method": p.Method})
	})
	return r, site, nil
}

var page = template.Must(template.New("page").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>{{.Title}}</title></head><body>
<nav><a href="/">Home</a> · <a href="/me">Account</a> · <a href="/admin">Administration</a></nav>
<h1 id="title">{{.Title}}</h1>
<p id="message">{{.Message}}</p>
{{with .User}}<dl id="user">
<dt>Name</dt><dd id="name">{{.Name}}</dd>
<dt>Email</dt><dd id="email">{{.Email}}</dd>
<dt>Subject</dt><dd id="subject">{{.Subject}}</dd>
<dt>Roles</dt><dd id="roles">{{range .Roles}}{{.}} {{end}}</dd>
</dl>
<form method="post" action="/logout"><button id="logout" type="submit">Sign out</button></form>
{{else}}<p><a id="login" href="/login?next=/me">Sign in</a></p>{{end}}
</body></html>
`))

func render(c *gin.Context, status int, title string, p *authgate.Principal, message string) {
	c.Header("Content-Type", "text/html; charset=utf-8")
	c.Header("Cache-Control", "no-store")
	c.Status(status)
	if err := page.Execute(c.Writer, struct {
		Title, Message string
		User           *authgate.Principal
	}{title, message, p}); err != nil {
		c.Error(err)
	}
}

func main() {
	env := func(name, def string) string {
		if v := os.Getenv(name); v != "" {
			return v
		}
		return def
	}
	var o options
	flag.StringVar(&o.Issuer, "issuer", os.Getenv("WEBAPP_ISSUER"), "OpenID provider's issuer URL")
	flag.StringVar(&o.ClientID, "client-id", os.Getenv("WEBAPP_CLIENT_ID"), "OAuth client ID")
	flag.StringVar(&o.ClientSecret, "client-secret", os.Getenv("WEBAPP_CLIENT_SECRET"), "OAuth client secret")
	flag.StringVar(&o.URL, "url", env("WEBAPP_URL", "http://127.0.0.1:8082"), "the site's base URL")
	flag.StringVar(&o.APIAudience, "api-audience", os.Getenv("WEBAPP_API_AUDIENCE"), "aud of bearer tokens for /api (default: the client ID)")
	flag.StringVar(&o.RolesClaim, "roles-claim", env("WEBAPP_ROLES_CLAIM", "roles"), "dotted path of the roles claim")
	addr := flag.String("addr", "", "listen address (default: the host and port of -url)")
	flag.Parse()

	key := signin.NewKey("k1")
	if s := os.Getenv("WEBAPP_SESSION_KEY"); s != "" {
		secret, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			log.Fatal("WEBAPP_SESSION_KEY must be base64")
		}
		key.Secret = secret
	} else {
		log.Print("WEBAPP_SESSION_KEY not set: sessions are sealed with a random key and end with the process")
	}
	o.Keys = []signin.Key{key}
	h, site, err := newHandler(o)
	if err != nil {
		log.Fatal(err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := site.Prefetch(ctx); err != nil {
		log.Printf("the provider is not reachable yet (sign-in retries): %v", err)
	}
	if *addr == "" {
		u, _ := url.Parse(o.URL)
		*addr = u.Host
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("listening on %s", o.URL)
	if err := serve.Serve(ctx, ln, h); err != nil {
		log.Fatal(err)
	}
}
