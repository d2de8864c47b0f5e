// Command firebase serves the seed's article API behind Firebase
// Authentication: reads are public, writes need a Firebase ID token (or a
// session cookie), deletes need the "admin" custom claim role, and every
// verified user is mapped to the application's own account (the seed's
// auth_handler).
//
//	go run ./examples/firebase -project my-project
//	curl -H "Authorization: Bearer $ID_TOKEN" -X POST localhost:8083/api/articles -d '{"title":"hi"}'
//
// With the Firebase Auth emulator (its tokens are unsigned, so this is for
// development only):
//
//	firebase emulators:start --only auth --project demo-test &
//	export FIREBASE_AUTH_EMULATOR_HOST=127.0.0.1:9099   # for the Admin SDK's lookups
//	go run ./examples/firebase -project demo-test -insecure-emulator -check-revoked
//
// Flags: -project (or $GOOGLE_CLOUD_PROJECT), -tenant, -session-cookies,
// -check-revoked (user lookups through the Admin SDK with Application
// Default Credentials, or the emulator), -insecure-emulator, -prefetch,
// -addr. Nothing is fetched until the first request, or at start with
// -prefetch.
package main

import (
	"context"
	"errors"
	"flag"
	"log"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	fbadmin "firebase.google.com/go/v4"
	"github.com/gin-gonic/gin"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/firebase"
	"github.com/authgate/authgate/firebase/admin"
	"github.com/authgate/authgate/ginauth"
)

func main() {
	var cfg firebase.Config
	flag.StringVar(&cfg.ProjectID, "project", os.Getenv("GOOGLE_CLOUD_PROJECT"), "Firebase project id (the ID tokens' aud)")
	flag.StringVar(&cfg.TenantID, "tenant", "", "accept only this Identity Platform tenant's users")
	flag.BoolVar(&cfg.SessionCookies, "session-cookies", false, `also accept session cookies (cookie "session")`)
	flag.BoolVar(&cfg.InsecureEmulator, "insecure-emulator", false, "accept the Auth emulator's UNSIGNED tokens (development only)")
	checkRevoked := flag.Bool("check-revoked", false, "reject revoked tokens and disabled users (Admin SDK lookups)")
	prefetch := flag.Bool("prefetch", false, "fetch Google's certificates before serving")
	addr := flag.String("addr", "127.0.0.1:8083", "listen address")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, cfg, *checkRevoked, *prefetch, *addr); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context, cfg firebase.Config, checkRevoked, prefetch bool, addr string) error {
	if checkRevoked {
		// The Admin SDK finds credentials itself (Application Default
		// Credentials), or the emulator through FIREBASE_AUTH_EMULATOR_HOST.
		app, err := fbadmin.NewApp(ctx, &fbadmin.Config{ProjectID: cfg.ProjectID})
		if err != nil {
			return err
		}
		client, err := app.Auth(ctx)
		if err != nil {
			return err
		}
		if cfg.TenantID != "" {
			tc, err := client.TenantManager.AuthForTenant(cfg.TenantID)
			if err != nil {
				return err
			}
			cfg.Revocation.Users = admin.Users(tc)
		} else {
			cfg.Revocation.Users = admin.Users(client)
		}
	}
	auth, err := firebase.New(cfg)
	if err != nil {
		return err
	}
	if prefetch {
		pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		if err := auth.Prefetch(pctx); err != nil {
			return err
		}
	}
	srv := &http.Server{Addr: addr, Handler: newHandler(auth, newAccounts()), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}()
	log.Printf("firebase example for project %s on http://%s", cfg.ProjectID, addr)
	if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// Account is the application's own record of a Firebase user.
type Account struct {
	UID, Email string
	Created    time.Time
}

// accounts is the application's user table (in memory here).
type accounts struct {
	mu   sync.Mutex
	byID map[string]*Account
}

func newAccounts() *accounts { return &accounts{byID: map[string]*Account{}} }

// resolve is the seed's auth_handler: the verified principal becomes the
// application's account, created on first sight.
func (a *accounts) resolve(_ context.Context, p *authgate.Principal) (any, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	acc, ok := a.byID[p.Subject]
	if !ok {
		acc = &Account{UID: p.Subject, Email: p.Email, Created: time.Now()}
		a.byID[p.Subject] = acc
	}
	return acc, nil
}

// newHandler is the article API: GET public, POST for any signed-in user,
// DELETE for the "admin" role (a custom claim set with the Admin SDK's
// SetCustomUserClaims(ctx, uid, map[string]any{"roles": []string{"admin"}})).
func newHandler(auth *firebase.Authenticator, accts *accounts) http.Handler {
	user := authgate.Resolve(auth, accts.resolve)

	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	articles := r.Group("/api/articles", ginauth.ByMethod(user, ginauth.Methods{"GET": nil, "HEAD": nil}))
	articles.GET("", func(c *gin.Context) { c.JSON(http.StatusOK, []gin.H{{"id": 1, "title": "Hello"}}) })
	articles.POST("", func(c *gin.Context) {
		acc, _ := ginauth.User[*Account](c)
		c.JSON(http.StatusCreated, gin.H{"id": 2, "author": acc.UID})
	})
	articles.DELETE("/:id", ginauth.RequireRoles("admin"), func(c *gin.Context) { c.Status(http.StatusNoContent) })
	r.GET("/api/me", ginauth.Require(user), func(c *gin.Context) {
		p, _ := ginauth.PrincipalFrom(c)
		acc, _ := ginauth.User[*Account](c)
		c.JSON(http.StatusOK, gin.H{
			"uid": p.Subject, "email": p.Email, "tenant": p.Tenant, "roles": p.Roles,
			"method": p.Method, "sign_in_provider": firebase.SignInProvider(p),
			"account_created": acc.Created.Format(time.RFC3339),
		})
	})
	return r
}
