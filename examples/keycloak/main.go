// Command keycloak serves an API whose routes need a Keycloak access token.
//
//	KEYCLOAK_URL=https://sso.example.com KEYCLOAK_REALM=shop KEYCLOAK_CLIENT_ID=orders-api go run ./examples/keycloak
//	curl -H "Authorization: Bearer $TOKEN" localhost:8080/orders
//
// Flags override the environment: -base-url, -realm, -client-id,
// -audience (set it once an audience mapper puts your API in "aud"),
// -legacy-auth-prefix (Keycloak ≤ 16), -tokens-not-before, -addr.
package main

import (
	"encoding/json"
	"flag"
	"log"
	"net/http"
	"os"
	"slices"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/keycloak"
)

func main() {
	base := flag.String("base-url", os.Getenv("KEYCLOAK_URL"), "Keycloak base URL (https://sso.example.com)")
	realm := flag.String("realm", os.Getenv("KEYCLOAK_REALM"), "realm name")
	client := flag.String("client-id", os.Getenv("KEYCLOAK_CLIENT_ID"), "the API's client ID (client roles, and aud or azp)")
	audience := flag.String("audience", os.Getenv("KEYCLOAK_AUDIENCE"), "accepted aud (optional)")
	legacy := flag.Bool("legacy-auth-prefix", false, "issuer under /auth/realms (Keycloak ≤ 16)")
	notBefore := flag.Bool("tokens-not-before", false, "honour the realm's tokens-not-before revocations")
	addr := flag.String("addr", "localhost:8080", "listen address")
	flag.Parse()

	cfg := keycloak.Config{BaseURL: *base, Realm: *realm, ClientID: *client, LegacyAuthPrefix: *legacy, TokensNotBefore: *notBefore}
	if *audience != "" {
		cfg.Audience = []string{*audience}
	}
	auth, err := keycloak.New(cfg)
	if err != nil {
		log.Fatal(err)
	}

	http.HandleFunc("GET /orders", func(w http.ResponseWriter, r *http.Request) {
		p, err := auth.Authenticate(r)
		if err == nil && !slices.Contains(p.Roles, "orders:read") {
			err = &authgate.Error{Provider: "keycloak", Kind: authgate.ErrForbidden, Scope: []string{"orders:read"}}
		}
		if err != nil {
			authgate.WriteError(w, err, *realm)
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"user": p.Name, "roles": p.Roles})
	})
	log.Printf("listening on http://%s", *addr)
	log.Fatal(http.ListenAndServe(*addr, nil))
}
