package httpauth_test

import (
	"context"
	"crypto/subtle"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/httpauth"
)

// demoKey stands in for a real provider: it accepts one fixed API key.
var demoKey = authgate.AuthenticatorFunc(func(r *http.Request) (*authgate.Principal, error) {
	k := r.Header.Get("X-API-Key")
	if k == "" {
		return nil, authgate.ErrNoCredentials
	}
	if subtle.ConstantTimeCompare([]byte(k), []byte("service-key-1")) != 1 {
		return nil, authgate.ErrInvalidCredentials
	}
	return &authgate.Principal{Provider: "demo", Method: "apikey", Subject: "billing", Scopes: []string{"orders:read"}}, nil
})

func Example() {
	mux := http.NewServeMux()
	orders := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := httpauth.PrincipalFrom(r)
		fmt.Fprint(w, "orders for "+p.Subject)
	})
	auth := httpauth.Require(demoKey, httpauth.WithRealm("shop"), httpauth.WithLogger(nil))
	mux.Handle("GET /orders", auth(httpauth.RequireScopes("orders:read")(orders)))
	mux.Handle("DELETE /orders", auth(httpauth.RequireScopes("orders:write")(orders)))

	for _, tc := range []struct{ method, key string }{{"GET", ""}, {"GET", "guess"}, {"GET", "service-key-1"}, {"DELETE", "service-key-1"}} {
		r := httptest.NewRequest(tc.method, "/orders", nil)
		if tc.key != "" {
			r.Header.Set("X-API-Key", tc.key)
		}
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, r)
		fmt.Println(tc.method, w.Code, w.Header().Values("WWW-Authenticate"))
	}
	// Output:
	// GET 401 [Bearer realm="shop"]
	// GET 401 [Bearer realm="shop", error="invalid_token", error_description="Invalid token"]
	// GET 200 []
	// DELETE 403 [Bearer realm="shop", error="insufficient_scope", error_description="Insufficient permissions", scope="orders:write"]
}

// A per-method table whose DELETE entry is a guard: the same authenticator,
// and the principal must have the scope "orders:write".
func ExampleByMethod_guard() {
	mux := http.NewServeMux()
	orders := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "orders") })
	mux.Handle("/orders", httpauth.ByMethod(demoKey, httpauth.Methods{
		"GET":    nil,
		"DELETE": authgate.RequireScopes(demoKey, "orders:write"),
	}, httpauth.WithLogger(nil))(orders))

	for _, tc := range []struct{ method, key string }{{"GET", ""}, {"DELETE", ""}, {"DELETE", "service-key-1"}, {"POST", "service-key-1"}} {
		r := httptest.NewRequest(tc.method, "/orders", nil)
		if tc.key != "" {
			r.Header.Set("X-API-Key", tc.key)
		}
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, r)
		fmt.Println(tc.method, w.Code, w.Header().Values("WWW-Authenticate"))
	}
	// Output:
	// GET 200 []
	// DELETE 401 [Bearer realm="api"]
	// DELETE 403 [Bearer realm="api", error="insufficient_scope", error_description="Insufficient permissions", scope="orders:write"]
	// POST 200 []
}

// WithObserver reports every decision to an authgate.Observer, such as the
// Prometheus or OpenTelemetry ones of authgate/observe: provider, outcome,
// bounded reason and latency, never the credential.
func ExampleWithObserver() {
	counts := map[string]int{}
	var mu sync.Mutex
	obs := authgate.ObserverFunc(func(_ context.Context, e authgate.Event) {
		mu.Lock()
		defer mu.Unlock()
		counts[fmt.Sprintf("%s %s %s %s", e.Kind, e.Provider, e.Outcome, e.Reason)]++
	})
	orders := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})
	h := httpauth.Require(demoKey, httpauth.WithLogger(nil), httpauth.WithObserver(obs))(httpauth.RequireScopes("orders:write")(orders))

	for _, key := range []string{"", "guess", "service-key-1"} {
		r := httptest.NewRequest("POST", "/orders", nil)
		if key != "" {
			r.Header.Set("X-API-Key", key)
		}
		h.ServeHTTP(httptest.NewRecorder(), r)
	}
	for _, k := range slices.Sorted(maps.Keys(counts)) {
		fmt.Println(k, counts[k])
	}
	// Output:
	// authentication  denied invalid 1
	// authentication  denied no_credentials 1
	// authentication demo allowed  1
	// authorization demo denied forbidden 1
}
