package introspection_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/authgate/authgate/authtest"
	"github.com/authgate/authgate/introspection"
	"github.com/authgate/authgate/providers"
)

// An API that accepts the opaque access tokens of an authorization server
// (here a local stand-in), caching active answers for 30 seconds.
func Example() {
	as := authtest.NewIntrospectionServer(nil)
	defer as.Close()

	a, err := introspection.New(introspection.Config{
		Issuer:       as.Issuer(),
		Endpoint:     as.Endpoint(),
		ClientID:     as.ClientID(),
		ClientSecret: introspection.Secret(as.ClientSecret()), // from the environment in production
		TokenOptions: providers.TokenOptions{
			Audience:  []string{authtest.DefaultAudience},
			CacheSize: 10_000,
			CacheTTL:  30 * time.Second,
		},
	})
	if err != nil {
		panic(err)
	}

	r := httptest.NewRequest(http.MethodGet, "/orders", nil)
	r.Header.Set("Authorization", "Bearer "+as.Token(map[string]any{"sub": "user-42", "scope": "orders:read"}))
	p, err := a.Authenticate(r)
	if err != nil {
		panic(err)
	}
	fmt.Println(p.Subject, p.Method, p.HasScope("orders:read"))
	fmt.Println("introspection calls:", as.Requests())
	// Output:
	// user-42 introspection true
	// introspection calls: 1
}
