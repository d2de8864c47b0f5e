// Command quickstart is the seed's ArticleViewSet served by Gin with
// authgate: reads are public, writes need a valid token or API key (the
// seed's "multiple authentication methods"), deletes need the admin role.
//
//	go run ./examples/quickstart            # listens on 127.0.0.1:8080
//	go run ./examples/quickstart -addr 127.0.0.1:9090 -db /tmp/keys.db
//
// It generates a development key pair at start, creates an API key in a
// SQLite file (only its hash is stored), and prints ready-to-paste tokens,
// the API key and curl lines. Tokens and key expire after 12 hours; each run
// replaces the key of the run before, so the file never collects live keys.
// Articles live in memory.
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
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/apikey"
	"github.com/authgate/authgate/apikey/sqlstore"
	"github.com/authgate/authgate/chain"
	"github.com/authgate/authgate/examples/internal/devtoken"
	"github.com/authgate/authgate/examples/internal/serve"
	"github.com/authgate/authgate/ginauth"
	"github.com/authgate/authgate/providers"
	"github.com/authgate/authgate/static"
)

const (
	issuerURL = "https://quickstart.authgate.local/"
	audience  = "articles-api"
	// keyName marks the API key a run creates, so the next run can
	// replace it.
	keyName = "quickstart"
	// lifetime is how long the printed tokens and API key are valid.
	lifetime = 12 * time.Hour
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "address to listen on")
	db := flag.String("db", "authgate-quickstart.db", "SQLite file holding the API keys")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *addr, "sqlite:"+*db, os.Stdout); err != nil {
		log.Fatal(err)
	}
}

// app is the quickstart's server and the credentials it hands out.
type app struct {
	handler    http.Handler
	token      string // a user with role "editor"
	adminToken string // a user with role "admin"
	apiKey     string // a service key with role "editor"
	close      func() error
}

// newApp builds the server. dsn names the API-key store ("sqlite:PATH").
func newApp(ctx context.Context, dsn string) (_ *app, err error) {
	dev, err := devtoken.New(issuerURL, audience)
	if err != nil {
		return nil, err
	}
	store, err := sqlstore.Open(ctx, dsn)
	if err != nil {
		return nil, err
	}
	keys, err := apikey.New(store, apikey.Config{Prefix: "ag_dev", RequireExpiry: true})
	if err != nil {
		store.Close()
		return nil, err
	}
	a := &app{close: func() error { return errors.Join(keys.Close(), store.Close()) }}
	defer func() {
		if err != nil {
			a.close()
		}
	}()
	if a.apiKey, err = replaceKey(ctx, keys.Manager(), time.Now().Add(lifetime)); err != nil {
		return nil, err
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
		return nil, err
	}
	if a.token, err = dev.Mint("ada", lifetime, map[string]any{"roles": []string{"editor"}, "name": "Ada"}); err != nil {
		return nil, err
	}
	if a.adminToken, err = dev.Mint("grace", lifetime, map[string]any{"roles": []string{"admin"}, "name": "Grace"}); err != nil {
		return nil, err
	}

	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.Use(gin.Recovery())
	articleStore := newArticles()

	// The seed's auth=[JWTAuth(), APIKeyAuth()]: a token or an API key. The
	// first authenticator that recognises a credential decides.
	jwtOrKey := chain.Any(jwt, keys)

	api := r.Group("/api")
	// The seed's get_auth=None, post_auth/patch_auth/delete_auth=…: reads
	// are public, every other method needs a token or an API key.
	articles := api.Group("/articles", ginauth.ByMethod(jwtOrKey, ginauth.Methods{
		http.MethodGet:  nil,
		http.MethodHead: nil,
	}))
	getAndHead(articles, "/", articleStore.list)
	getAndHead(articles, "/:id", articleStore.get)
	articles.POST("/", articleStore.create)
	articles.PATCH("/:id", articleStore.update)
	articles.DELETE("/:id", ginauth.RequireRoles("admin"), articleStore.delete)

	// The principal's own JSON: lists are [] when empty, never null.
	getAndHead(api, "/me", ginauth.Require(jwtOrKey), func(c *gin.Context) {
		p, _ := ginauth.PrincipalFrom(c)
		c.JSON(http.StatusOK, p)
	})
	a.handler = r
	return a, nil
}

// getAndHead routes GET and HEAD of path to the same handlers, as net/http
// does for a GET pattern: Gin routes HEAD only where told to, and a client
// (or a health check) asking HEAD of a readable resource expects its
// headers, not a 404.
func getAndHead(g gin.IRoutes, path string, handlers ...gin.HandlerFunc) {
	g.GET(path, handlers...)
	g.HEAD(path, handlers...)
}

// replaceKey issues the run's API key, valid until exp, and then revokes the
// keys earlier runs issued, so repeated runs leave one live key in the
// store. It returns the new key's plaintext.
func replaceKey(ctx context.Context, m *apikey.Manager, exp time.Time) (string, error) {
	plaintext, k, err := m.Issue(ctx, apikey.Key{Name: keyName, Subject: "quickstart-bot", Roles: []string{"editor"}, ExpiresAt: exp})
	if err != nil {
		return "", err
	}
	old, err := m.List(ctx)
	if err != nil {
		return "", err
	}
	for _, o := range old {
		if o.Name == keyName && o.Subject == k.Subject && o.ID != k.ID && o.RevokedAt.IsZero() {
			if err := m.Revoke(ctx, o.ID); err != nil {
				return "", err
			}
		}
	}
	return plaintext, nil
}

func run(ctx context.Context, addr, dsn string, out io.Writer) error {
	a, err := newApp(ctx, dsn)
	if err != nil {
		return err
	}
	defer a.close()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	base := "http://" + ln.Addr().String()
	fmt.Fprintf(out, "authgate quickstart listening on %s\n\n", base)
	fmt.Fprintf(out, "export TOKEN=%s\n", a.token)
	fmt.Fprintf(out, "export ADMIN_TOKEN=%s\n", a.adminToken)
	fmt.Fprintf(out, "export API_KEY=%s\n", a.apiKey)
	fmt.Fprintf(out, "# the tokens and the API key expire in %.0f hours; a new run replaces them\n\n", lifetime.Hours())
	fmt.Fprintf(out, "curl %s/api/articles/\n", base)
	fmt.Fprintf(out, "curl -I %s/api/articles/                          # HEAD works wherever GET does\n", base)
	fmt.Fprintf(out, "curl -X POST %s/api/articles/ -H \"Authorization: Bearer $TOKEN\" -H 'Content-Type: application/json' -d '{\"title\":\"Hello\",\"body\":\"First post\"}'\n", base)
	fmt.Fprintf(out, "curl -X PATCH %s/api/articles/1 -H \"Authorization: Bearer $TOKEN\" -H 'Content-Type: application/json' -d '{\"title\":\"Hello again\"}'\n", base)
	fmt.Fprintf(out, "curl -X DELETE %s/api/articles/1 -H \"Authorization: Bearer $TOKEN\"        # 403: editors cannot delete\n", base)
	fmt.Fprintf(out, "curl -X DELETE %s/api/articles/1 -H \"Authorization: Bearer $ADMIN_TOKEN\"\n", base)
	fmt.Fprintf(out, "curl -X POST %s/api/articles/ -H \"X-API-Key: $API_KEY\" -H 'Content-Type: application/json' -d '{\"title\":\"By a service\"}'\n", base)
	fmt.Fprintf(out, "curl %s/api/me -H \"Authorization: Bearer $TOKEN\"\n", base)
	fmt.Fprintf(out, "curl %s/api/me -H \"X-API-Key: $API_KEY\"\n", base)
	fmt.Fprintf(out, "curl -i -X POST %s/api/articles/                 # 401 without credentials\n", base)

	return serve.Serve(ctx, ln, a.handler)
}

// Article is the seed's example model.
type Article struct {
	ID     int    `json:"id"`
	Title  string `json:"title"`
	Body   string `json:"body"`
	Author string `json:"author"`
}

type articleInput struct {
	Title *string `json:"title"`
	Body  *string `json:"body"`
}

// articles is an in-memory article store, safe for concurrent use.
type articles struct {
	mu     sync.Mutex
	nextID int
	byID   map[int]Article
}

func newArticles() *articles { return &articles{nextID: 1, byID: map[int]Article{}} }

func (s *articles) list(c *gin.Context) {
	s.mu.Lock()
	out := make([]Article, 0, len(s.byID))
	for id := 1; id < s.nextID; id++ {
		if a, ok := s.byID[id]; ok {
			out = append(out, a)
		}
	}
	s.mu.Unlock()
	c.JSON(http.StatusOK, out)
}

func (s *articles) get(c *gin.Context) {
	id, ok := articleID(c)
	if !ok {
		return
	}
	s.mu.Lock()
	a, found := s.byID[id]
	s.mu.Unlock()
	if !found {
		c.JSON(http.StatusNotFound, gin.H{"detail": "Not found"})
		return
	}
	c.JSON(http.StatusOK, a)
}

func (s *articles) create(c *gin.Context) {
	var in articleInput
	if err := c.ShouldBindJSON(&in); err != nil || in.Title == nil || *in.Title == "" {
		c.JSON(http.StatusBadRequest, gin.H{"detail": "title is required"})
		return
	}
	p, _ := ginauth.PrincipalFrom(c)
	s.mu.Lock()
	a := Article{ID: s.nextID, Title: *in.Title, Author: author(p)}
	if in.Body != nil {
		a.Body = *in.Body
	}
	s.byID[a.ID] = a
	s.nextID++
	s.mu.Unlock()
	c.JSON(http.StatusCreated, a)
}

func (s *articles) update(c *gin.Context) {
	id, ok := articleID(c)
	if !ok {
		return
	}
	var in articleInput
	if err := c.ShouldBindJSON(&in); err != nil {
		c.JSON(http.StatusBadRequest, gin.H{"detail": "invalid JSON"})
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a, found := s.byID[id]
	if !found {
		c.JSON(http.StatusNotFound, gin.H{"detail": "Not found"})
		return
	}
	if in.Title != nil {
		a.Title = *in.Title
	}
	if in.Body != nil {
		a.Body = *in.Body
	}
	s.byID[id] = a
	c.JSON(http.StatusOK, a)
}

func (s *articles) delete(c *gin.Context) {
	id, ok := articleID(c)
	if !ok {
		return
	}
	s.mu.Lock()
	_, found := s.byID[id]
	delete(s.byID, id)
	s.mu.Unlock()
	if !found {
		c.JSON(http.StatusNotFound, gin.H{"detail": "Not found"})
		return
	}
	c.Status(http.StatusNoContent)
}

func articleID(c *gin.Context) (int, bool) {
	id, err := strconv.Atoi(c.Param("id"))
	if err != nil || id < 1 {
		c.JSON(http.StatusNotFound, gin.H{"detail": "Not found"})
		return 0, false
	}
	return id, true
}

// author names the principal that wrote an article, namespaced by provider
// so that the same subject from two providers is never the same author.
func author(p *authgate.Principal) string {
	if p == nil {
		return ""
	}
	return p.Provider + ":" + p.Subject
}
