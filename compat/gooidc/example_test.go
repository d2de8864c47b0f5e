package gooidc_test

import (
	"context"
	"fmt"
	"net/http/httptest"

	oidc "github.com/coreos/go-oidc/v3/oidc"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/authtest"
	"github.com/authgate/authgate/compat/gooidc"
	"github.com/authgate/authgate/providers"
)

// An application that signs users in with go-oidc builds its API's token
// provider from the same *oidc.Provider: one discovery, authgate's keys
// and checks.
func Example() {
	iss := authtest.NewIssuer(nil) // a local OpenID provider; yours is https
	defer iss.Close()

	// What the application already has (with x/oauth2 for sign-in).
	provider, err := oidc.NewProvider(context.Background(), iss.Issuer())
	if err != nil {
		fmt.Println(err)
		return
	}

	auth, err := gooidc.New(gooidc.Config{
		Provider:     provider,
		TokenOptions: providers.TokenOptions{Audience: []string{authtest.DefaultAudience}},
	})
	if err != nil {
		fmt.Println(err)
		return
	}

	r := httptest.NewRequest("GET", "/orders", nil)
	r.Header.Set("Authorization", "Bearer "+iss.Token(nil))
	p, err := auth.Authenticate(r)
	if err != nil {
		fmt.Println(authgate.StatusCode(err), err)
		return
	}
	fmt.Println(p.Provider, p.Subject)
	fmt.Println("discovery requests:", iss.DiscoveryRequests())
	// Output:
	// oidc user-1
	// discovery requests: 1
}
