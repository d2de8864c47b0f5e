package prometheus_test

import (
	"bufio"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	prom "github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/httpauth"
	authprom "github.com/authgate/authgate/observe/prometheus"
)

// The Observer goes to the adapter (and to the providers' configurations);
// the registry is served on its own address, away from the API.
func Example() {
	reg := prom.NewRegistry()
	obs, err := authprom.New(reg, authprom.Config{Providers: []string{"demo"}})
	if err != nil {
		panic(err)
	}
	// demo stands in for a real provider (auth0.New, apikey.New, …).
	demo := authgate.AuthenticatorFunc(func(r *http.Request) (*authgate.Principal, error) {
		if r.Header.Get("Authorization") == "" {
			return nil, authgate.NewError("demo", authgate.ErrNoCredentials, nil)
		}
		return &authgate.Principal{Provider: "demo", Subject: "alice"}, nil
	})
	api := httpauth.Require(demo, httpauth.WithLogger(nil), httpauth.WithObserver(obs))(
		http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	metrics := promhttp.HandlerFor(reg, promhttp.HandlerOpts{}) // e.g. on 127.0.0.1:9090

	for _, auth := range []string{"", "Bearer token", "Bearer token"} {
		r := httptest.NewRequest("GET", "/orders", nil)
		if auth != "" {
			r.Header.Set("Authorization", auth)
		}
		api.ServeHTTP(httptest.NewRecorder(), r)
	}

	w := httptest.NewRecorder()
	metrics.ServeHTTP(w, httptest.NewRequest("GET", "/metrics", nil))
	s := bufio.NewScanner(w.Body)
	for s.Scan() {
		if strings.HasPrefix(s.Text(), "authgate_authentications_total") {
			fmt.Println(s.Text())
		}
	}
	// Output:
	// authgate_authentications_total{outcome="allowed",provider="demo",reason=""} 2
	// authgate_authentications_total{outcome="denied",provider="demo",reason="no_credentials"} 1
}
