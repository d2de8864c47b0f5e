// Command auth0 serves an API whose routes need an Auth0 access token.
//
//	AUTH0_DOMAIN=example.eu.auth0.com AUTH0_AUDIENCE=https://api.example.com go run ./examples/auth0
//	curl -H "Authorization: Bearer $TOKEN" localhost:8080/articles
//
// Flags override the environment: -domain, -audience, -roles-claim, -addr.
// Nothing is fetched until the first request, or at start with -prefetch.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"log"
	"net/http"
	"os"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/auth0"
	"github.com/authgate/authgate/providers"
)

func main() {
	domain := flag.String("domain", os.Getenv("AUTH0_DOMAIN"), "Auth0 tenant or custom domain (example.eu.auth0.com)")
	audience := flag.String("audience", os.Getenv("AUTH0_AUDIENCE"), "API identifier (the token's aud)")
	rolesClaim := flag.String("roles-claim", "https://example.com/roles", "namespaced roles claim set by an Action")
	addr := flag.String("addr", "localhost:8080", "listen address")
	prefetch := flag.Bool("prefetch", false, "fetch the tenant's keys before serving")
	flag.Parse()

	auth, err := auth0.New(auth0.Config{Domain: *domain, TokenOptions: providers.TokenOptions{Audience: []string{*audience}, RolesClaim: *rolesClaim}})
	if err != nil {
		log.Fatal(err)
	}
	if *prefetch {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := auth.Prefetch(ctx); err != nil {
			log.Fatal(err)
		}
	}

	http.Handle("GET /articles", require(auth, "read:articles", func(w http.ResponseWriter, r *http.Request) {
		p, _ := authgate.FromContext(r.Context())
		json.NewEncoder(w).Encode(map[string]any{"user": p.Subject, "roles": p.Roles, "permissions": p.Permissions})
	}))
	log.Printf("listening on http://%s", *addr)
	log.Fatal(http.ListenAndServe(*addr, nil))
}

// require authenticates the request and checks one permission (Auth0 RBAC)
// before calling next; httpauth and ginauth do this for real applications.
func require(a authgate.Authenticator, permission string, next http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := a.Authenticate(r)
		if err == nil && !p.HasPermission(permission) {
			err = &authgate.Error{Provider: "auth0", Kind: authgate.ErrForbidden, Scope: []string{permission}}
		}
		if err != nil {
			authgate.WriteError(w, err, "api")
			return
		}
		next(w, r.WithContext(authgate.NewContext(r.Context(), p)))
	})
}
