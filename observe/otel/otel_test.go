package otel_test

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

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/httpauth"
	authotel "github.com/authgate/authgate/observe/otel"
)

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

// env is an Observer wired to in-memory SDK exporters.
type env struct {
	obs    *authotel.Observer
	spans  *tracetest.SpanRecorder
	tp     *sdktrace.TracerProvider
	reader *sdkmetric.ManualReader
	clk    *clock
}

func newEnv(t *testing.T, cfg authotel.Config) *env {
	t.Helper()
	e := &env{spans: tracetest.NewSpanRecorder(), reader: sdkmetric.NewManualReader(), clk: &clock{t: time.Unix(1_700_000_000, 0)}}
	e.tp = sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(e.spans))
	cfg.TracerProvider = e.tp
	cfg.MeterProvider = sdkmetric.NewMeterProvider(sdkmetric.WithReader(e.reader))
	if cfg.Now == nil {
		cfg.Now = e.clk.now
	}
	o, err := authotel.New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	e.obs = o
	return e
}

func (e *env) collect(t *testing.T) metricdata.ResourceMetrics {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := e.reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	return rm
}

func find(rm metricdata.ResourceMetrics, name string) (metricdata.Metrics, bool) {
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name == name {
				return m, true
			}
		}
	}
	return metricdata.Metrics{}, false
}

// attrs renders an attribute set as "k=v,k=v".
func attrs(s attribute.Set) string {
	var parts []string
	for _, kv := range s.ToSlice() {
		parts = append(parts, string(kv.Key)+"="+kv.Value.Emit())
	}
	return strings.Join(parts, ",")
}

// points returns name's data points as "attrs value" strings: the sum of a
// counter, the value of a gauge, the count of a histogram.
func points(t *testing.T, rm metricdata.ResourceMetrics, name string) map[string]float64 {
	t.Helper()
	m, ok := find(rm, name)
	if !ok {
		return nil
	}
	out := map[string]float64{}
	switch d := m.Data.(type) {
	case metricdata.Sum[int64]:
		for _, p := range d.DataPoints {
			out[attrs(p.Attributes)] = float64(p.Value)
		}
	case metricdata.Gauge[int64]:
		for _, p := range d.DataPoints {
			out[attrs(p.Attributes)] = float64(p.Value)
		}
	case metricdata.Gauge[float64]:
		for _, p := range d.DataPoints {
			out[attrs(p.Attributes)] = p.Value
		}
	case metricdata.Histogram[float64]:
		for _, p := range d.DataPoints {
			out[attrs(p.Attributes)] = float64(p.Count)
		}
	default:
		t.Fatalf("%s: unexpected data %T", name, m.Data)
	}
	return out
}

func checkPoints(t *testing.T, rm metricdata.ResourceMetrics, name string, want map[string]float64) {
	t.Helper()
	got := points(t, rm, name)
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("%s = %v, want %v", name, got, want)
	}
}

func TestNewErrors(t *testing.T) {
	for _, b := range [][]float64{{}, {1, 0.5}, {0.5, 0.5}} {
		t.Run(fmt.Sprint(b), func(t *testing.T) {
			o, err := authotel.New(authotel.Config{Buckets: b})
			if err == nil || err.Error() != "otel: buckets must be strictly increasing" || o != nil {
				t.Errorf("New(Buckets: %v) = %v, %v, want an error", b, o, err)
			}
		})
	}
	if _, err := authotel.New(authotel.Config{}); err != nil {
		t.Errorf("New(Config{}) with the global providers: %v", err)
	}
}

// TestSpanPerAuthentication runs requests through httpauth inside a parent
// span and checks the span each decision leaves.
func TestSpanPerAuthentication(t *testing.T) {
	e := newEnv(t, authotel.Config{Providers: []string{"demo"}})
	const key = "sk_live_7d1e0b9c44"
	demo := authgate.AuthenticatorFunc(func(r *http.Request) (*authgate.Principal, error) {
		switch r.Header.Get("X-API-Key") {
		case "":
			return nil, authgate.NewError("demo", authgate.ErrNoCredentials, nil)
		case key:
			return &authgate.Principal{Provider: "demo", Subject: "svc-billing"}, nil
		case "down":
			return nil, authgate.NewError("demo", authgate.ErrUnavailable, errors.New("dial tcp 127.0.0.1:5432: connection refused"))
		}
		return nil, authgate.NewError("demo", authgate.ErrRevoked, nil)
	})
	h := httpauth.Require(demo, httpauth.WithLogger(nil), httpauth.WithObserver(e.obs))(
		http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))

	tests := []struct {
		name       string
		key        string
		wantOut    string
		wantReason string
		wantStatus codes.Code
	}{
		{name: "allowed", key: key, wantOut: "allowed", wantReason: "", wantStatus: codes.Unset},
		{name: "no credentials", wantOut: "denied", wantReason: "no_credentials", wantStatus: codes.Unset},
		{name: "revoked", key: "sk_live_revoked99", wantOut: "denied", wantReason: "revoked", wantStatus: codes.Unset},
		{name: "unavailable", key: "down", wantOut: "error", wantReason: "unavailable", wantStatus: codes.Error},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, parent := e.tp.Tracer("test").Start(context.Background(), "GET /orders")
			r := httptest.NewRequestWithContext(ctx, http.MethodGet, "/orders", nil)
			if tt.key != "" {
				r.Header.Set("X-API-Key", tt.key)
			}
			h.ServeHTTP(httptest.NewRecorder(), r)
			parent.End()

			var got sdktrace.ReadOnlySpan
			for _, s := range e.spans.Ended() {
				if s.Name() == authotel.SpanAuthenticate && s.Parent().SpanID() == parent.SpanContext().SpanID() {
					got = s
				}
			}
			if got == nil {
				t.Fatalf("no %s span under the request's span", authotel.SpanAuthenticate)
			}
			if got.SpanContext().TraceID() != parent.SpanContext().TraceID() {
				t.Errorf("trace id = %v, want the request's %v", got.SpanContext().TraceID(), parent.SpanContext().TraceID())
			}
			wantAttrs := fmt.Sprintf("authgate.outcome=%s,authgate.provider=demo,authgate.reason=%s", tt.wantOut, tt.wantReason)
			if a := attrs(attribute.NewSet(got.Attributes()...)); a != wantAttrs {
				t.Errorf("attributes = %s, want %s", a, wantAttrs)
			}
			if got.Status().Code != tt.wantStatus {
				t.Errorf("status = %v, want %v", got.Status().Code, tt.wantStatus)
			}
			if got.SpanKind() != trace.SpanKindInternal {
				t.Errorf("kind = %v, want internal", got.SpanKind())
			}
		})
	}
	// Nothing of the credential, the principal or the internal cause is
	// in any span.
	for _, s := range e.spans.Ended() {
		dump := fmt.Sprintf("%s %v %v %v", s.Name(), s.Attributes(), s.Status(), s.Events())
		for _, secret := range []string{key, "sk_live_revoked99", "svc-billing", "connection refused", "5432"} {
			if strings.Contains(dump, secret) {
				t.Errorf("span %s holds %q: %s", s.Name(), secret, dump)
			}
		}
	}
}

func TestSpanTimes(t *testing.T) {
	e := newEnv(t, authotel.Config{})
	e.obs.Observe(context.Background(), authgate.Event{
		Kind: authgate.EventKeyFetch, Provider: "okta", Outcome: authgate.OutcomeError, Reason: "unavailable", Duration: 1500 * time.Millisecond,
	})
	e.obs.Observe(context.Background(), authgate.Event{Kind: authgate.EventStoreLookup, Provider: "keys", Outcome: authgate.OutcomeHit, Duration: 3 * time.Millisecond})
	e.obs.Observe(context.Background(), authgate.Event{Kind: authgate.EventCacheLookup, Provider: "okta", Outcome: authgate.OutcomeHit})
	e.obs.Observe(context.Background(), authgate.Event{Kind: authgate.EventAuthorization, Provider: "okta", Outcome: authgate.OutcomeAllowed})
	spans := e.spans.Ended()
	if len(spans) != 2 {
		t.Fatalf("%d spans, want 2 (key fetch, store lookup; none for cache lookups and guards)", len(spans))
	}
	tests := []struct {
		name     string
		duration time.Duration
		status   codes.Code
	}{
		{authotel.SpanKeyFetch, 1500 * time.Millisecond, codes.Error},
		{authotel.SpanStoreLookup, 3 * time.Millisecond, codes.Unset},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := spans[i]
			if s.Name() != tt.name {
				t.Fatalf("span %d = %s, want %s", i, s.Name(), tt.name)
			}
			if !s.EndTime().Equal(e.clk.now()) || s.EndTime().Sub(s.StartTime()) != tt.duration {
				t.Errorf("span %s from %v to %v, want %v ending at %v", s.Name(), s.StartTime(), s.EndTime(), tt.duration, e.clk.now())
			}
			if s.Status().Code != tt.status {
				t.Errorf("status = %v, want %v", s.Status().Code, tt.status)
			}
			if s.Parent().IsValid() {
				t.Errorf("span without a parent in ctx has parent %v", s.Parent())
			}
		})
	}
}

// TestTraceparent is what a forward-auth server does: extract the proxy's
// trace context, then authenticate within it.
func TestTraceparent(t *testing.T) {
	e := newEnv(t, authotel.Config{})
	demo := authgate.AuthenticatorFunc(func(*http.Request) (*authgate.Principal, error) {
		return &authgate.Principal{Provider: "demo", Subject: "s"}, nil
	})
	auth := httpauth.Require(demo, httpauth.WithObserver(e.obs))(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	prop := propagation.TraceContext{}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth.ServeHTTP(w, r.WithContext(prop.Extract(r.Context(), propagation.HeaderCarrier(r.Header))))
	})
	r := httptest.NewRequest(http.MethodGet, "/verify", nil)
	r.Header.Set("Traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	h.ServeHTTP(httptest.NewRecorder(), r)
	spans := e.spans.Ended()
	if len(spans) != 1 {
		t.Fatalf("%d spans, want 1", len(spans))
	}
	if got := spans[0].SpanContext().TraceID().String(); got != "4bf92f3577b34da6a3ce929d0e0e4736" {
		t.Errorf("trace id = %s, want the proxy's", got)
	}
	if got := spans[0].Parent().SpanID().String(); got != "00f067aa0ba902b7" {
		t.Errorf("parent span id = %s, want the proxy's", got)
	}
}

func TestMetrics(t *testing.T) {
	e := newEnv(t, authotel.Config{Buckets: []float64{0.001, 0.01}})
	ctx := context.Background()
	for _, ev := range []authgate.Event{
		{Kind: authgate.EventAuthentication, Provider: "auth0", Outcome: authgate.OutcomeAllowed, Duration: time.Millisecond},
		{Kind: authgate.EventAuthentication, Provider: "auth0", Outcome: authgate.OutcomeAllowed, Duration: time.Millisecond},
		{Kind: authgate.EventAuthentication, Provider: "auth0", Outcome: authgate.OutcomeDenied, Reason: "expired"},
		{Kind: authgate.EventAuthorization, Provider: "auth0", Outcome: authgate.OutcomeDenied, Reason: "forbidden"},
		{Kind: authgate.EventKeyFetch, Provider: "auth0", Outcome: authgate.OutcomeOK, Keys: 2, Duration: 40 * time.Millisecond},
		{Kind: authgate.EventKeyFetch, Provider: "auth0", Outcome: authgate.OutcomeError, Reason: "unavailable"},
		{Kind: authgate.EventCacheLookup, Provider: "auth0", Outcome: authgate.OutcomeMiss, Size: 0},
		{Kind: authgate.EventCacheLookup, Provider: "auth0", Outcome: authgate.OutcomeHit, Size: 7},
		{Kind: authgate.EventStoreLookup, Provider: "keys", Outcome: authgate.OutcomeError, Reason: "unavailable"},
		{Kind: authgate.EventStoreLookup, Provider: "keys", Outcome: authgate.OutcomeHit},
		{Kind: authgate.EventLimiterRefusal, Provider: "keys", Outcome: authgate.OutcomeDenied, Reason: "rate_limited"},
		{Kind: authgate.EventDocumentFetch, Provider: "auth0", Outcome: authgate.OutcomeOK},
		{Kind: authgate.EventSubscription, Provider: "keys", Outcome: authgate.OutcomeOK},
		{Kind: authgate.EventSubscription, Provider: "keys", Outcome: authgate.OutcomeError, Reason: "unavailable"},
		{Kind: 0, Provider: "ignored"},
	} {
		e.obs.Observe(ctx, ev)
	}
	e.clk.advance(42 * time.Second)
	rm := e.collect(t)
	checkPoints(t, rm, "authgate.authentications", map[string]float64{
		"authgate.outcome=allowed,authgate.provider=auth0,authgate.reason=":       2,
		"authgate.outcome=denied,authgate.provider=auth0,authgate.reason=expired": 1,
	})
	checkPoints(t, rm, "authgate.authentication.duration", map[string]float64{
		"authgate.outcome=allowed,authgate.provider=auth0": 2,
		"authgate.outcome=denied,authgate.provider=auth0":  1,
	})
	checkPoints(t, rm, "authgate.authorizations", map[string]float64{
		"authgate.outcome=denied,authgate.provider=auth0,authgate.reason=forbidden": 1,
	})
	checkPoints(t, rm, "authgate.key.fetches", map[string]float64{
		"authgate.outcome=error,authgate.provider=auth0": 1,
		"authgate.outcome=ok,authgate.provider=auth0":    1,
	})
	checkPoints(t, rm, "authgate.key.fetch.duration", map[string]float64{"authgate.provider=auth0": 2})
	checkPoints(t, rm, "authgate.keys", map[string]float64{"authgate.provider=auth0": 2})
	checkPoints(t, rm, "authgate.key.age", map[string]float64{"authgate.provider=auth0": 42})
	checkPoints(t, rm, "authgate.cache.lookups", map[string]float64{
		"authgate.outcome=hit,authgate.provider=auth0":  1,
		"authgate.outcome=miss,authgate.provider=auth0": 1,
	})
	checkPoints(t, rm, "authgate.cache.entries", map[string]float64{"authgate.provider=auth0": 7})
	checkPoints(t, rm, "authgate.document.fetches", map[string]float64{"authgate.outcome=ok,authgate.provider=auth0": 1})
	checkPoints(t, rm, "authgate.subscription.up", map[string]float64{"authgate.provider=keys": 0})
	checkPoints(t, rm, "authgate.store.lookups", map[string]float64{
		"authgate.outcome=error,authgate.provider=keys": 1,
		"authgate.outcome=hit,authgate.provider=keys":   1,
	})
	checkPoints(t, rm, "authgate.store.lookup.duration", map[string]float64{"authgate.provider=keys": 2})
	checkPoints(t, rm, "authgate.limiter.refusals", map[string]float64{"authgate.provider=keys": 1})

	m, _ := find(rm, "authgate.authentication.duration")
	h := m.Data.(metricdata.Histogram[float64])
	if got := fmt.Sprint(h.DataPoints[0].Bounds); got != "[0.001 0.01]" || m.Unit != "s" {
		t.Errorf("histogram bounds = %s, unit %q, want [0.001 0.01] in s", got, m.Unit)
	}
}

func TestAttributesAreBounded(t *testing.T) {
	tests := []struct {
		name  string
		cfg   authotel.Config
		event authgate.Event
		want  string
	}{
		{name: "unknown reason", event: authgate.Event{Provider: "p", Outcome: authgate.OutcomeDenied, Reason: "Bearer eyJhbGciOi"},
			want: "authgate.outcome=denied,authgate.provider=p,authgate.reason=other"},
		{name: "unknown outcome", event: authgate.Event{Provider: "p", Outcome: "perhaps", Reason: "expired"},
			want: "authgate.outcome=other,authgate.provider=p,authgate.reason=expired"},
		{name: "provider outside the configuration", cfg: authotel.Config{Providers: []string{"auth0"}},
			event: authgate.Event{Provider: "intruder", Outcome: authgate.OutcomeAllowed},
			want:  "authgate.outcome=allowed,authgate.provider=other,authgate.reason="},
		{name: "configured provider", cfg: authotel.Config{Providers: []string{"auth0"}},
			event: authgate.Event{Provider: "auth0", Outcome: authgate.OutcomeAllowed},
			want:  "authgate.outcome=allowed,authgate.provider=auth0,authgate.reason="},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, tt.cfg)
			tt.event.Kind = authgate.EventAuthentication
			e.obs.Observe(context.Background(), tt.event)
			checkPoints(t, e.collect(t), "authgate.authentications", map[string]float64{tt.want: 1})
			if a := attrs(attribute.NewSet(e.spans.Ended()[0].Attributes()...)); a != tt.want {
				t.Errorf("span attributes = %s, want %s", a, tt.want)
			}
		})
	}
}

func TestProvidersCapped(t *testing.T) {
	e := newEnv(t, authotel.Config{})
	for i := range authotel.MaxProviders + 5 {
		e.obs.Observe(context.Background(), authgate.Event{Kind: authgate.EventLimiterRefusal, Provider: fmt.Sprintf("p%03d", i)})
	}
	got := points(t, e.collect(t), "authgate.limiter.refusals")
	if len(got) != authotel.MaxProviders+1 || got["authgate.provider=other"] != 5 || got["authgate.provider=p000"] != 1 {
		t.Errorf("%d series (other=%v, p000=%v), want %d with other=5", len(got), got["authgate.provider=other"], got["authgate.provider=p000"], authotel.MaxProviders+1)
	}
}

func TestConcurrentObserve(t *testing.T) {
	e := newEnv(t, authotel.Config{})
	var wg sync.WaitGroup
	const workers, each = 8, 200
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				p := fmt.Sprintf("p%d", (w+i)%5)
				e.obs.Observe(context.Background(), authgate.Event{Kind: authgate.EventAuthentication, Provider: p, Outcome: authgate.OutcomeAllowed})
				e.obs.Observe(context.Background(), authgate.Event{Kind: authgate.EventKeyFetch, Provider: p, Outcome: authgate.OutcomeOK, Keys: i})
				if i%50 == 0 {
					var rm metricdata.ResourceMetrics
					if err := e.reader.Collect(context.Background(), &rm); err != nil {
						t.Error(err)
					}
				}
			}
		}()
	}
	wg.Wait()
	var total float64
	for _, v := range points(t, e.collect(t), "authgate.authentications") {
		total += v
	}
	if total != workers*each {
		t.Errorf("authentications = %v, want %d", total, workers*each)
	}
}
