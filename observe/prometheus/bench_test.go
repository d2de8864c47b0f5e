package prometheus_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	prom "github.com/prometheus/client_golang/prometheus"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/httpauth"
	authprom "github.com/authgate/authgate/observe/prometheus"
)

// BenchmarkRequire serves one request behind httpauth.Require with an
// authenticator that costs nothing, without an observer and with this
// package's Observer: the difference is the cost of recording a decision
// (a clock read, a counter and a histogram).
//
//	go test -run '^$' -bench Require -benchmem -count 6 ./observe/prometheus/
func BenchmarkRequire(b *testing.B) {
	p := &authgate.Principal{Provider: "demo", Subject: "alice"}
	fixed := authgate.AuthenticatorFunc(func(*http.Request) (*authgate.Principal, error) { return p, nil })
	ok := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	obs, err := authprom.New(prom.NewRegistry(), authprom.Config{})
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name string
		opts []httpauth.Option
	}{
		{"observer=none", nil},
		{"observer=prometheus", []httpauth.Option{httpauth.WithObserver(obs)}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			h := httpauth.Require(fixed, bc.opts...)(ok)
			r := httptest.NewRequest(http.MethodGet, "/articles/42", nil)
			w := httptest.NewRecorder()
			b.ReportAllocs()
			for b.Loop() {
				h.ServeHTTP(w, r)
			}
		})
	}
}

// BenchmarkObserve is the Observer alone, for each kind of event.
func BenchmarkObserve(b *testing.B) {
	obs, err := authprom.New(prom.NewRegistry(), authprom.Config{})
	if err != nil {
		b.Fatal(err)
	}
	for _, e := range []authgate.Event{
		{Kind: authgate.EventAuthentication, Provider: "demo", Outcome: authgate.OutcomeDenied, Reason: "expired"},
		{Kind: authgate.EventCacheLookup, Provider: "demo", Outcome: authgate.OutcomeHit, Size: 10},
	} {
		b.Run(e.Kind.String(), func(b *testing.B) {
			b.ReportAllocs()
			ctx := b.Context()
			for b.Loop() {
				obs.Observe(ctx, e)
			}
		})
	}
}
