package github_test

import (
	"errors"
	"fmt"
	"net/http/httptest"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/authtest"
	"github.com/authgate/authgate/github"
	"github.com/authgate/authgate/providers"
)

// A deploy endpoint accepts only jobs of octo-org/octo-repo on main in the
// prod environment. The key server stands in for
// token.actions.githubusercontent.com; in production JWKSURL and
// HTTPClient stay unset.
func Example() {
	at := func() time.Time { return time.Unix(1_800_000_000, 0) }
	gh := authtest.GitHub(nil, authtest.WithNow(at), authtest.WithAudience("https://deploy.example.com"))
	defer gh.Close()

	auth, err := github.New(github.Config{
		Repositories: []string{"octo-org/octo-repo"},
		Refs:         []string{"refs/heads/main"},
		Environments: []string{"prod"},
		JWKSURL:      gh.JWKSURL(),
		TokenOptions: providers.TokenOptions{Audience: []string{"https://deploy.example.com"}, Now: at},
		FetchOptions: providers.FetchOptions{HTTPClient: gh.Client()},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, claims := range []map[string]any{nil, {"environment": "staging"}, {"ref": "refs/heads/feature"}} {
		r := httptest.NewRequest("POST", "/deploy", nil)
		r.Header.Set("Authorization", "Bearer "+gh.Token(claims))
		p, err := auth.Authenticate(r)
		switch {
		case err == nil:
			fmt.Println("deploy:", p.Subject)
		case errors.Is(err, authgate.ErrInvalidClaim):
			fmt.Println("refused:", claims)
		default:
			fmt.Println(err)
		}
	}
	// Output:
	// deploy: repo:octo-org/octo-repo:environment:prod
	// refused: map[environment:staging]
	// refused: map[ref:refs/heads/feature]
}
