package okta_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/authgate/authgate/authtest"
	"github.com/authgate/authgate/okta"
	"github.com/authgate/authgate/providers"
)

// An API protected by the org's "default" authorization server. The org
// here is a local https stand-in; in production Domain is all it takes.
func Example() {
	now := func() time.Time { return time.Unix(1_800_000_000, 0) }
	org := authtest.Okta(nil, "default", authtest.WithNow(now))
	defer org.Close()

	auth, err := okta.New(okta.Config{
		Domain:       org.Domain(), // "example.okta.com"
		TokenOptions: providers.TokenOptions{Now: now},
		FetchOptions: providers.FetchOptions{HTTPClient: org.Client()},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	p, err := auth.Authenticate(bearer(org.Token(map[string]any{"groups": []string{"Admins"}})))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(p.Subject, p.Roles, p.HasScope("email"))

	_, err = auth.Authenticate(bearer(org.OrgToken(nil)))
	fmt.Println(errors.Is(err, okta.ErrOrgServer))
	// Output:
	// alice@example.test [Admins] true
	// true
}

func bearer(token string) *http.Request {
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Authorization", "Bearer "+token)
	return r
}
