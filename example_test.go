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

// A guard is an Authenticator: it authenticates with the one it wraps and
// then requires a role, so it goes wherever an authenticator does (a
// ginauth.Methods or httpauth.Methods entry, a chain member).
func ExampleRequireRoles() {
	jwt := authgate.AuthenticatorFunc(func(r *http.Request) (*authgate.Principal, error) {
		switch r.Header.Get("Authorization") {
		case "":
			return nil, authgate.ErrNoCredentials
		case "Bearer admin":
			return &authgate.Principal{Provider: "static", Subject: "root", Roles: []string{"admin"}}, nil
		}
		return &authgate.Principal{Provider: "static", Subject: "alice", Roles: []string{"reader"}}, nil
	})
	admin := authgate.RequireRoles(jwt, "admin")

	for _, token := range []string{"", "reader", "admin"} {
		r := httptest.NewRequest("DELETE", "/articles/1", nil)
		if token != "" {
			r.Header.Set("Authorization", "Bearer "+token)
		}
		p, err := admin.Authenticate(r)
		if err != nil {
			fmt.Println(authgate.StatusCode(err), authgate.Challenge(err, "api"))
			continue
		}
		fmt.Println(200, p.Subject)
	}
	// Output:
	// 401 Bearer realm="api"
	// 403 Bearer realm="api", error="insufficient_scope", error_description="Insufficient permissions", scope="admin"
	// 200 root
}

// An Observer sees every decision with its provider, outcome and bounded
// reason, never the credential; a provider reports its own work (here a
// key-set fetch) to the same Observer. Observers fans one event out to
// several (Prometheus metrics and OpenTelemetry traces, say).
func ExampleObserver() {
	var log authgate.Observer = authgate.ObserverFunc(func(_ context.Context, e authgate.Event) {
		fmt.Println(e.Kind, e.Provider, e.Outcome, e.Reason, e.Keys)
	})
	obs := authgate.Observers(log, nil)

	// What a provider reports after fetching its key set:
	obs.Observe(context.Background(), authgate.Event{
		Kind: authgate.EventKeyFetch, Provider: "auth0", Outcome: authgate.OutcomeOK, Keys: 2,
	})
	// What an adapter reports after a rejection:
	err := authgate.NewError("auth0", authgate.ErrTokenExpired, nil)
	obs.Observe(context.Background(), authgate.Event{
		Kind: authgate.EventAuthentication, Provider: "auth0",
		Outcome: authgate.DecisionOutcome(err), Reason: authgate.Reason(err),
	})
	// Output:
	// key_fetch auth0 ok  2
	// authentication auth0 denied expired 0
}
