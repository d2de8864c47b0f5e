package authgate_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/authgate/authgate"
)

// The seed's auth_handler: map the verified principal to the application's
// user, or reject.
func ExampleResolve() {
	var verified authgate.Authenticator = authgate.AuthenticatorFunc(func(r *http.Request) (*authgate.Principal, error) {
		if r.Header.Get("Authorization") == "" {
			return nil, authgate.ErrNoCredentials
		}
		return &authgate.Principal{Provider: "static", Subject: "42"}, nil
	})
	type User struct{ ID, Name string }
	users := map[string]User{"42": {"42", "Ada"}}

	auth := authgate.Resolve(verified, func(ctx context.Context, p *authgate.Principal) (any, error) {
		u, ok := users[p.Subject]
		if !ok {
			return nil, errors.New("unknown user")
		}
		return u, nil
	})

	r := httptest.NewRequest("GET", "/api/me", nil)
	r.Header.Set("Authorization", "Bearer x")
	p, _ := auth.Authenticate(r)
	fmt.Println(p.User.(User).Name)
	// Output: Ada
}

// One mapping of outcomes to HTTP, used by every adapter.
func ExampleWriteError() {
	w := httptest.NewRecorder()
	authgate.WriteError(w, authgate.ErrTokenExpired, "api")
	fmt.Println(w.Code)
	fmt.Println(w.Header().Get("WWW-Authenticate"))
	fmt.Println(w.Body.String())
	// Output:
	// 401
	// Bearer realm="api", error="invalid_token", error_description="Token has expired"
	// {"detail":"Token has expired","error":"invalid_token"}
}
