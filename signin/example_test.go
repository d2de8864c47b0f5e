package signin_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/authgate/authgate/chain"
	"github.com/authgate/authgate/httpauth"
	"github.com/authgate/authgate/oidc"
	"github.com/authgate/authgate/providers"
	"github.com/authgate/authgate/signin"
)

// A site whose pages sign people in and whose API also takes bearer
// tokens of the same issuer, on the same routes.
func Example() {
	h, err := signin.New(signin.Config{
		Issuer:       "https://login.example.com",
		ClientID:     "webapp",
		ClientSecret: "from-the-environment",
		RedirectURL:  "https://app.example.com/callback",
		Keys:         []signin.Key{signin.NewKey("2026-12")}, // load these from a secret store
	})
	if err != nil {
		panic(err)
	}
	api, err := oidc.New(oidc.Config{Issuer: "https://login.example.com",
		TokenOptions: providers.TokenOptions{Audience: []string{"https://api.example.com"}}})
	if err != nil {
		panic(err)
	}
	both, err := chain.New(h.Authenticator(), api)
	if err != nil {
		panic(err)
	}

	mux := http.NewServeMux()
	mux.HandleFunc("/login", h.Login)
	mux.HandleFunc("/callback", h.Callback)
	mux.HandleFunc("/logout", h.Logout)
	reports := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := httpauth.PrincipalFrom(r)
		fmt.Fprintln(w, "reports for", p.Subject)
	})
	mux.Handle("/reports", httpauth.Require(both, httpauth.WithErrorHandler(h.WriteError))(reports))

	// A browser without a session is sent to sign in; an API client gets 401.
	page := httptest.NewRequest("GET", "https://app.example.com/reports", nil)
	page.Header.Set("Accept", "text/html")
	w := httptest.NewRecorder()
	mux.ServeHTTP(w, page)
	fmt.Println(w.Code, w.Header().Get("Location"))

	w = httptest.NewRecorder()
	mux.ServeHTTP(w, httptest.NewRequest("GET", "https://app.example.com/reports", nil))
	fmt.Println(w.Code, w.Header().Get("WWW-Authenticate"))
	// Output:
	// 303 /login?next=%2Freports
	// 401 Session realm="api", cookie="__Host-authgate", Bearer realm="api"
}
