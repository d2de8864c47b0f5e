package entra_test

import (
	"fmt"
	"net/http/httptest"

	"github.com/authgate/authgate/authtest"
	"github.com/authgate/authgate/entra"
	"github.com/authgate/authgate/providers"
)

// A multi-tenant API that two customer tenants may call. The authority
// here is a local stand-in for https://login.microsoftonline.com; in
// production Authority is left empty.
func Example() {
	login := authtest.Entra(nil)
	defer login.Close()
	const customer = "72f988bf-86f1-41af-91ab-2d7cd011db47"

	auth, err := entra.New(entra.Config{
		Tenant:       "organizations",
		Tenants:      []string{login.TenantID(), customer},
		Authority:    login.URL(),
		TokenOptions: providers.TokenOptions{Audience: []string{login.Audience()}},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, token := range []string{
		login.Token(map[string]any{"tid": customer}),    // a user of the customer, through a client app
		login.AppToken(map[string]any{"tid": customer}), // the customer's daemon, as itself
	} {
		r := httptest.NewRequest("GET", "/tasks", nil)
		r.Header.Set("Authorization", "Bearer "+token)
		p, err := auth.Authenticate(r)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(p.Tenant == customer, entra.IsAppOnly(p), p.Scopes, p.Roles)
	}
	// Output:
	// true false [access_as_user] []
	// true true [] [Tasks.Read.All]
}
