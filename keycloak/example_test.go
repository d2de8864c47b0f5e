package keycloak_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/authgate/authgate/internal/jwttest"
	"github.com/authgate/authgate/keycloak"
	"github.com/authgate/authgate/providers"
)

// A local stand-in for https://sso.example.com serving the realm's certs.
func Example() {
	key := jwttest.Key("RS256", "realm")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write(jwttest.JWKS(jwttest.JWK(key, "k1", "RS256"))) // /realms/shop/protocol/openid-connect/certs
	}))
	defer srv.Close()

	auth, err := keycloak.New(keycloak.Config{
		BaseURL:  srv.URL,
		Realm:    "shop",
		ClientID: "orders-api",
		TokenOptions: providers.TokenOptions{
			Now: func() time.Time { return time.Unix(1_800_000_000, 0) },
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	token := jwttest.Token("RS256", "k1", key, map[string]any{
		"iss": srv.URL + "/realms/shop", "sub": "f3b0c2a8", "typ": "Bearer", "exp": 1_800_000_300,
		"aud": "account", "azp": "orders-api", "preferred_username": "ada",
		"realm_access":    map[string]any{"roles": []string{"staff"}},
		"resource_access": map[string]any{"orders-api": map[string]any{"roles": []string{"orders:write"}}},
	})
	r := httptest.NewRequest("POST", "/orders", nil)
	r.Header.Set("Authorization", "Bearer "+token)
	p, err := auth.Authenticate(r)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(p.Name, p.Roles)
	// Output: ada [staff orders:write]
}
