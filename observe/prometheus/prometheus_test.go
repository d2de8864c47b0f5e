package prometheus_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	prom "github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/common/expfmt"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/httpauth"
	authprom "github.com/authgate/authgate/observe/prometheus"
)

func newObserver(t *testing.T, cfg authprom.Config) (*authprom.Observer, *prom.Registry) {
	t.Helper()
	reg := prom.NewPedanticRegistry()
	o, err := authprom.New(reg, cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return o, reg
}

func compare(t *testing.T, reg *prom.Registry, want string, names ...string) {
	t.Helper()
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), names...); err != nil {
		t.Error(err)
	}
}

// clock is an injected clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func TestNewErrors(t *testing.T) {
	tests := []struct {
		name    string
		reg     prom.Registerer
		cfg     authprom.Config
		wantErr string
	}{
		{name: "nil registerer", cfg: authprom.Config{}, wantErr: "prometheus: nil registerer"},
		{name: "empty buckets", reg: prom.NewRegistry(), cfg: authprom.Config{Buckets: []float64{}}, wantErr: "prometheus: buckets must be strictly increasing"},
		{name: "decreasing buckets", reg: prom.NewRegistry(), cfg: authprom.Config{Buckets: []float64{1, 0.5}}, wantErr: "prometheus: buckets must be strictly increasing"},
		{name: "repeated bucket", reg: prom.NewRegistry(), cfg: authprom.Config{Buckets: []float64{0.5, 0.5, 1}}, wantErr: "prometheus: buckets must be strictly increasing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := authprom.New(tt.reg, tt.cfg)
			if err == nil || err.Error() != tt.wantErr || o != nil {
				t.Errorf("New() = %v, %v, want nil, %q", o, err, tt.wantErr)
			}
		})
	}
}

func TestNewTwiceOnOneRegistry(t *testing.T) {
	reg := prom.NewRegistry()
	if _, err := authprom.New(reg, authprom.Config{}); err != nil {
		t.Fatal(err)
	}
	_, err := authprom.New(reg, authprom.Config{})
	var are prom.AlreadyRegisteredError
	if !errors.As(err, &are) || !strings.HasPrefix(err.Error(), "prometheus: ") {
		t.Errorf("second New() error = %v, want a prometheus.AlreadyRegisteredError prefixed with the package", err)
	}
	if _, err := authprom.New(reg, authprom.Config{Namespace: "edge"}); err != nil {
		t.Errorf("New() with another namespace: %v", err)
	}
}

func TestAuthentications(t *testing.T) {
	o, reg := newObserver(t, authprom.Config{Buckets: []float64{0.001, 0.01}})
	ctx := context.Background()
	for _, e := range []authgate.Event{
		{Kind: authgate.EventAuthentication, Provider: "auth0", Outcome: authgate.OutcomeAllowed, Duration: 500 * time.Microsecond},
		{Kind: authgate.EventAuthentication, Provider: "auth0", Outcome: authgate.OutcomeAllowed, Duration: 2 * time.Millisecond},
		{Kind: authgate.EventAuthentication, Provider: "auth0", Outcome: authgate.OutcomeDenied, Reason: "expired", Duration: 300 * time.Microsecond},
		{Kind: authgate.EventAuthentication, Provider: "keys", Outcome: authgate.OutcomeError, Reason: "unavailable", Duration: 20 * time.Millisecond},
		{Kind: authgate.EventAuthorization, Provider: "auth0", Outcome: authgate.OutcomeDenied, Reason: "forbidden"},
		{Kind: 0, Provider: "auth0", Outcome: authgate.OutcomeAllowed},
		{Kind: 200, Provider: "auth0", Outcome: authgate.OutcomeAllowed},
	} {
		o.Observe(ctx, e)
	}
	compare(t, reg, `
# HELP authgate_authentications_total Authentication decisions, by the provider that decided, outcome and reason.
# TYPE authgate_authentications_total counter
authgate_authentications_total{outcome="allowed",provider="auth0",reason=""} 2
authgate_authentications_total{outcome="denied",provider="auth0",reason="expired"} 1
authgate_authentications_total{outcome="error",provider="keys",reason="unavailable"} 1
# HELP authgate_authentication_duration_seconds Time spent authenticating a request.
# TYPE authgate_authentication_duration_seconds histogram
authgate_authentication_duration_seconds_bucket{outcome="allowed",provider="auth0",le="0.001"} 1
authgate_authentication_duration_seconds_bucket{outcome="allowed",provider="auth0",le="0.01"} 2
authgate_authentication_duration_seconds_bucket{outcome="allowed",provider="auth0",le="+Inf"} 2
authgate_authentication_duration_seconds_sum{outcome="allowed",provider="auth0"} 0.0025
authgate_authentication_duration_seconds_count{outcome="allowed",provider="auth0"} 2
authgate_authentication_duration_seconds_bucket{outcome="denied",provider="auth0",le="0.001"} 1
authgate_authentication_duration_seconds_bucket{outcome="denied",provider="auth0",le="0.01"} 1
authgate_authentication_duration_seconds_bucket{outcome="denied",provider="auth0",le="+Inf"} 1
authgate_authentication_duration_seconds_sum{outcome="denied",provider="auth0"} 0.0003
authgate_authentication_duration_seconds_count{outcome="denied",provider="auth0"} 1
authgate_authentication_duration_seconds_bucket{outcome="error",provider="keys",le="0.001"} 0
authgate_authentication_duration_seconds_bucket{outcome="error",provider="keys",le="0.01"} 0
authgate_authentication_duration_seconds_bucket{outcome="error",provider="keys",le="+Inf"} 1
authgate_authentication_duration_seconds_sum{outcome="error",provider="keys"} 0.02
authgate_authentication_duration_seconds_count{outcome="error",provider="keys"} 1
# HELP authgate_authorizations_total Guard decisions on authenticated principals (roles, scopes, permissions).
# TYPE authgate_authorizations_total counter
authgate_authorizations_total{outcome="denied",provider="auth0",reason="forbidden"} 1
`, "authgate_authentications_total", "authgate_authentication_duration_seconds", "authgate_authorizations_total")
}

func TestKeyFetches(t *testing.T) {
	clk := &clock{t: time.Unix(1_700_000_000, 0)}
	o, reg := newObserver(t, authprom.Config{Now: clk.now, Buckets: []float64{0.1}})
	ctx := context.Background()
	fetch := func(outcome authgate.Outcome, keys int) {
		reason := ""
		if outcome == authgate.OutcomeError {
			reason = "unavailable"
		}
		o.Observe(ctx, authgate.Event{Kind: authgate.EventKeyFetch, Provider: "okta", Outcome: outcome, Reason: reason, Keys: keys, Duration: 50 * time.Millisecond})
	}
	fetch(authgate.OutcomeOK, 2)
	clk.advance(90 * time.Second)
	compare(t, reg, `
# HELP authgate_keys Usable keys held after the last successful key-set fetch.
# TYPE authgate_keys gauge
authgate_keys{provider="okta"} 2
# HELP authgate_key_age_seconds Time since the last successful key-set fetch.
# TYPE authgate_key_age_seconds gauge
authgate_key_age_seconds{provider="okta"} 90
`, "authgate_keys", "authgate_key_age_seconds")

	// Failures count as fetches with outcome error, leave the keys as
	// they were and let the age grow: the operator sees stale keys.
	fetch(authgate.OutcomeError, 0)
	fetch(authgate.OutcomeError, 0)
	clk.advance(30 * time.Second)
	compare(t, reg, `
# HELP authgate_key_fetches_total Fetches of remote key sets and discovery documents; outcome error is a failure.
# TYPE authgate_key_fetches_total counter
authgate_key_fetches_total{outcome="error",provider="okta"} 2
authgate_key_fetches_total{outcome="ok",provider="okta"} 1
# HELP authgate_keys Usable keys held after the last successful key-set fetch.
# TYPE authgate_keys gauge
authgate_keys{provider="okta"} 2
# HELP authgate_key_age_seconds Time since the last successful key-set fetch.
# TYPE authgate_key_age_seconds gauge
authgate_key_age_seconds{provider="okta"} 120
# HELP authgate_key_fetch_duration_seconds Time spent fetching a remote key set or discovery document.
# TYPE authgate_key_fetch_duration_seconds histogram
authgate_key_fetch_duration_seconds_bucket{provider="okta",le="0.1"} 3
authgate_key_fetch_duration_seconds_bucket{provider="okta",le="+Inf"} 3
authgate_key_fetch_duration_seconds_sum{provider="okta"} 0.15000000000000002
authgate_key_fetch_duration_seconds_count{provider="okta"} 3
`, "authgate_key_fetches_total", "authgate_keys", "authgate_key_age_seconds", "authgate_key_fetch_duration_seconds")

	// A rotation: the next good fetch resets the age and sets the count.
	fetch(authgate.OutcomeOK, 3)
	clk.advance(5 * time.Second)
	compare(t, reg, `
# HELP authgate_keys Usable keys held after the last successful key-set fetch.
# TYPE authgate_keys gauge
authgate_keys{provider="okta"} 3
# HELP authgate_key_age_seconds Time since the last successful key-set fetch.
# TYPE authgate_key_age_seconds gauge
authgate_key_age_seconds{provider="okta"} 5
`, "authgate_keys", "authgate_key_age_seconds")
}

func TestCacheStoreAndLimiter(t *testing.T) {
	o, reg := newObserver(t, authprom.Config{Buckets: []float64{0.01}})
	ctx := context.Background()
	for _, e := range []authgate.Event{
		{Kind: authgate.EventCacheLookup, Provider: "auth0", Outcome: authgate.OutcomeMiss, Size: 0},
		{Kind: authgate.EventCacheLookup, Provider: "auth0", Outcome: authgate.OutcomeHit, Size: 1},
		{Kind: authgate.EventCacheLookup, Provider: "auth0", Outcome: authgate.OutcomeHit, Size: 1},
		{Kind: authgate.EventStoreLookup, Provider: "keys", Outcome: authgate.OutcomeHit, Duration: time.Millisecond},
		{Kind: authgate.EventStoreLookup, Provider: "keys", Outcome: authgate.OutcomeMiss, Duration: time.Millisecond},
		{Kind: authgate.EventStoreLookup, Provider: "keys", Outcome: authgate.OutcomeError, Reason: "unavailable", Duration: 20 * time.Millisecond},
		{Kind: authgate.EventLimiterRefusal, Provider: "keys", Outcome: authgate.OutcomeDenied, Reason: "rate_limited"},
		{Kind: authgate.EventLimiterRefusal, Provider: "keys", Outcome: authgate.OutcomeDenied, Reason: "rate_limited"},
	} {
		o.Observe(ctx, e)
	}
	compare(t, reg, `
# HELP authgate_cache_lookups_total Lookups in providers' caches of verified credentials.
# TYPE authgate_cache_lookups_total counter
authgate_cache_lookups_total{outcome="hit",provider="auth0"} 2
authgate_cache_lookups_total{outcome="miss",provider="auth0"} 1
# HELP authgate_cache_entries Entries held by a provider's cache of verified credentials.
# TYPE authgate_cache_entries gauge
authgate_cache_entries{provider="auth0"} 1
# HELP authgate_store_lookups_total Lookups in credential stores; outcome error is a store failure.
# TYPE authgate_store_lookups_total counter
authgate_store_lookups_total{outcome="error",provider="keys"} 1
authgate_store_lookups_total{outcome="hit",provider="keys"} 1
authgate_store_lookups_total{outcome="miss",provider="keys"} 1
# HELP authgate_store_lookup_duration_seconds Time spent looking a credential up in its store.
# TYPE authgate_store_lookup_duration_seconds histogram
authgate_store_lookup_duration_seconds_bucket{provider="keys",le="0.01"} 2
authgate_store_lookup_duration_seconds_bucket{provider="keys",le="+Inf"} 3
authgate_store_lookup_duration_seconds_sum{provider="keys"} 0.022
authgate_store_lookup_duration_seconds_count{provider="keys"} 3
# HELP authgate_limiter_refusals_total Requests refused by a failed-attempt limiter.
# TYPE authgate_limiter_refusals_total counter
authgate_limiter_refusals_total{provider="keys"} 2
`, "authgate_cache_lookups_total", "authgate_cache_entries", "authgate_store_lookups_total",
		"authgate_store_lookup_duration_seconds", "authgate_limiter_refusals_total")
}

func TestDocumentsAndSubscriptions(t *testing.T) {
	o, reg := newObserver(t, authprom.Config{})
	ctx := context.Background()
	for _, e := range []authgate.Event{
		{Kind: authgate.EventDocumentFetch, Provider: "keycloak", Outcome: authgate.OutcomeOK, Duration: time.Millisecond},
		{Kind: authgate.EventDocumentFetch, Provider: "keycloak", Outcome: authgate.OutcomeError, Reason: "unavailable"},
		{Kind: authgate.EventSubscription, Provider: "keys", Outcome: authgate.OutcomeOK},
		{Kind: authgate.EventSubscription, Provider: "keys", Outcome: authgate.OutcomeError, Reason: "unavailable"},
		{Kind: authgate.EventSubscription, Provider: "denylist", Outcome: authgate.OutcomeOK},
	} {
		o.Observe(ctx, e)
	}
	compare(t, reg, `
# HELP authgate_document_fetches_total Fetches of remote documents other than key sets (a realm document, a sign-in provider's discovery).
# TYPE authgate_document_fetches_total counter
authgate_document_fetches_total{outcome="error",provider="keycloak"} 1
authgate_document_fetches_total{outcome="ok",provider="keycloak"} 1
# HELP authgate_subscription_up Whether a subscription to shared state (API-key changes, a deny-list) is established: 1, or 0 while it is lost.
# TYPE authgate_subscription_up gauge
authgate_subscription_up{provider="denylist"} 1
authgate_subscription_up{provider="keys"} 0
`, "authgate_document_fetches_total", "authgate_subscription_up")
}

func TestLabelsAreBounded(t *testing.T) {
	tests := []struct {
		name  string
		cfg   authprom.Config
		event authgate.Event
		want  string
	}{
		{name: "unknown reason",
			event: authgate.Event{Kind: authgate.EventAuthentication, Provider: "p", Outcome: authgate.OutcomeDenied, Reason: "eyJhbGciOi.secret"},
			want:  `authgate_authentications_total{outcome="denied",provider="p",reason="other"} 1`},
		{name: "unknown outcome",
			event: authgate.Event{Kind: authgate.EventAuthentication, Provider: "p", Outcome: "maybe", Reason: "expired"},
			want:  `authgate_authentications_total{outcome="other",provider="p",reason="expired"} 1`},
		{name: "configured provider",
			cfg:   authprom.Config{Providers: []string{"auth0", "keys"}},
			event: authgate.Event{Kind: authgate.EventAuthentication, Provider: "keys", Outcome: authgate.OutcomeAllowed},
			want:  `authgate_authentications_total{outcome="allowed",provider="keys",reason=""} 1`},
		{name: "provider outside the configuration",
			cfg:   authprom.Config{Providers: []string{"auth0", "keys"}},
			event: authgate.Event{Kind: authgate.EventAuthentication, Provider: "intruder", Outcome: authgate.OutcomeAllowed},
			want:  `authgate_authentications_total{outcome="allowed",provider="other",reason=""} 1`},
		{name: "panic is a known reason",
			event: authgate.Event{Kind: authgate.EventAuthentication, Provider: "p", Outcome: authgate.OutcomeDenied, Reason: authgate.ReasonPanic},
			want:  `authgate_authentications_total{outcome="denied",provider="p",reason="panic"} 1`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, reg := newObserver(t, tt.cfg)
			o.Observe(context.Background(), tt.event)
			compare(t, reg, `
# HELP authgate_authentications_total Authentication decisions, by the provider that decided, outcome and reason.
# TYPE authgate_authentications_total counter
`+tt.want+"\n", "authgate_authentications_total")
		})
	}
}

func TestProvidersCapped(t *testing.T) {
	o, reg := newObserver(t, authprom.Config{})
	for i := range authprom.MaxProviders + 10 {
		o.Observe(context.Background(), authgate.Event{Kind: authgate.EventLimiterRefusal, Provider: fmt.Sprintf("p%03d", i), Outcome: authgate.OutcomeDenied})
	}
	// A name seen before the cap keeps its label.
	o.Observe(context.Background(), authgate.Event{Kind: authgate.EventLimiterRefusal, Provider: "p000", Outcome: authgate.OutcomeDenied})
	if n, err := testutil.GatherAndCount(reg, "authgate_limiter_refusals_total"); err != nil || n != authprom.MaxProviders+1 {
		t.Errorf("series = %d, %v, want %d (%d names and %q)", n, err, authprom.MaxProviders+1, authprom.MaxProviders, authprom.Other)
	}
	var got strings.Builder
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if _, err := expfmt.MetricFamilyToText(&got, mf); err != nil {
			t.Fatal(err)
		}
	}
	for _, line := range []string{`authgate_limiter_refusals_total{provider="other"} 10`, `authgate_limiter_refusals_total{provider="p000"} 2`} {
		if !strings.Contains(got.String(), line) {
			t.Errorf("metrics lack %s:\n%s", line, got.String())
		}
	}
}

// TestThroughMiddleware runs real requests through httpauth with the
// Observer and checks what a scrape shows, and that no credential is in it.
func TestThroughMiddleware(t *testing.T) {
	o, reg := newObserver(t, authprom.Config{Providers: []string{"demo"}})
	const key = "sk_live_4f9a1c2e8d"
	demo := authgate.AuthenticatorFunc(func(r *http.Request) (*authgate.Principal, error) {
		switch r.Header.Get("X-API-Key") {
		case "":
			return nil, authgate.NewError("demo", authgate.ErrNoCredentials, nil)
		case key:
			return &authgate.Principal{Provider: "demo", Subject: "svc", Roles: []string{"reader"}}, nil
		case "down":
			return nil, authgate.NewError("demo", authgate.ErrUnavailable, errors.New("store: connection refused"))
		}
		return nil, authgate.NewError("demo", authgate.ErrRevoked, nil)
	})
	ok := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
	h := httpauth.Require(demo, httpauth.WithLogger(nil), httpauth.WithObserver(o))(httpauth.RequireRoles("admin")(ok))
	for _, k := range []string{"", key, key, "sk_live_revoked0", "down"} {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		if k != "" {
			r.Header.Set("X-API-Key", k)
		}
		h.ServeHTTP(httptest.NewRecorder(), r)
	}
	compare(t, reg, `
# HELP authgate_authentications_total Authentication decisions, by the provider that decided, outcome and reason.
# TYPE authgate_authentications_total counter
authgate_authentications_total{outcome="allowed",provider="demo",reason=""} 2
authgate_authentications_total{outcome="denied",provider="demo",reason="no_credentials"} 1
authgate_authentications_total{outcome="denied",provider="demo",reason="revoked"} 1
authgate_authentications_total{outcome="error",provider="demo",reason="unavailable"} 1
# HELP authgate_authorizations_total Guard decisions on authenticated principals (roles, scopes, permissions).
# TYPE authgate_authorizations_total counter
authgate_authorizations_total{outcome="denied",provider="demo",reason="forbidden"} 2
`, "authgate_authentications_total", "authgate_authorizations_total")
	if n, err := testutil.GatherAndCount(reg, "authgate_authentication_duration_seconds"); err != nil || n != 3 {
		t.Errorf("latency histograms = %d, %v, want 3 (allowed, denied, error)", n, err)
	}
	text, err := testutil.GatherAndFormat(reg, expfmt.TypeTextPlain)
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{key, "sk_live_revoked0", "connection refused", "svc"} {
		if strings.Contains(string(text), secret) {
			t.Errorf("metrics hold %q", secret)
		}
	}
}

func TestConcurrentObserve(t *testing.T) {
	clk := &clock{t: time.Unix(0, 0)}
	o, reg := newObserver(t, authprom.Config{Now: clk.now})
	var wg sync.WaitGroup
	const workers, each = 8, 200
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				p := fmt.Sprintf("p%d", (w+i)%5)
				o.Observe(context.Background(), authgate.Event{Kind: authgate.EventAuthentication, Provider: p, Outcome: authgate.OutcomeAllowed})
				o.Observe(context.Background(), authgate.Event{Kind: authgate.EventKeyFetch, Provider: p, Outcome: authgate.OutcomeOK, Keys: i})
				if i%50 == 0 {
					if _, err := reg.Gather(); err != nil {
						t.Error(err)
					}
				}
			}
		}()
	}
	wg.Wait()
	var total float64
	mfs, _ := reg.Gather()
	for _, mf := range mfs {
		if mf.GetName() == "authgate_authentications_total" {
			for _, m := range mf.GetMetric() {
				total += m.GetCounter().GetValue()
			}
		}
	}
	if total != workers*each {
		t.Errorf("authentications = %v, want %d", total, workers*each)
	}
}
