package cognito_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/authgate/authgate/authtest"
	"github.com/authgate/authgate/cognito"
	"github.com/authgate/authgate/providers"
)

// An API called with the access tokens of one app client. The pool here is
// a local stand-in (BaseURL); in production UserPoolID, TokenUse and
// ClientIDs are all it takes.
func Example() {
	now := func() time.Time { return time.Unix(1_800_000_000, 0) }
	pool := authtest.Cognito(nil, "eu-west-1_AbCdEfGhI", authtest.WithNow(now), authtest.WithClientID("57cbishk4j24pabc1234567890"))
	defer pool.Close()

	auth, err := cognito.New(cognito.Config{
		UserPoolID:   "eu-west-1_AbCdEfGhI",
		TokenUse:     cognito.AccessTokens,
		ClientIDs:    []string{"57cbishk4j24pabc1234567890"},
		BaseURL:      pool.BaseURL(),
		TokenOptions: providers.TokenOptions{Now: now},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	r := httptest.NewRequest("GET", "/orders", nil)
	r.Header.Set("Authorization", "Bearer "+pool.AccessToken(map[string]any{"cognito:groups": []string{"admin"}}))
	p, err := auth.Authenticate(r)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(p.Name, p.Roles, p.HasScope("openid"))

	_, err = auth.Authenticate(withBearer(pool.IDToken(nil)))
	fmt.Println(err)
	// Output:
	// alice [admin] true
	// cognito: invalid claim: an ID token ("token_use": "id") where access tokens are accepted
}

func withBearer(token string) *http.Request {
	r := httptest.NewRequest("GET", "/orders", nil)
	r.Header.Set("Authorization", "Bearer "+token)
	return r
}
