package otel_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"

	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/httpauth"
	authotel "github.com/authgate/authgate/observe/otel"
)

// One span per authentication, a child of the caller's trace (here taken
// from a traceparent header), and the decision counted in the metrics. In
// a program the providers are the application's, with real exporters.
func Example() {
	spans := tracetest.NewSpanRecorder()
	reader := sdkmetric.NewManualReader()
	obs, err := authotel.New(authotel.Config{
		TracerProvider: sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans)),
		MeterProvider:  sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader)),
		Providers:      []string{"demo"},
	})
	if err != nil {
		panic(err)
	}
	// demo stands in for a real provider (auth0.New, apikey.New, …).
	demo := authgate.AuthenticatorFunc(func(r *http.Request) (*authgate.Principal, error) {
		return nil, authgate.NewError("demo", authgate.ErrTokenExpired, nil)
	})
	api := httpauth.Require(demo, httpauth.WithLogger(nil), httpauth.WithObserver(obs))(
		http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))

	r := httptest.NewRequest("GET", "/orders", nil)
	r.Header.Set("Authorization", "Bearer expired-token")
	r.Header.Set("Traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	ctx := propagation.TraceContext{}.Extract(r.Context(), propagation.HeaderCarrier(r.Header))
	api.ServeHTTP(httptest.NewRecorder(), r.WithContext(ctx))

	for _, s := range spans.Ended() {
		fmt.Println(s.Name(), s.SpanContext().TraceID())
		for _, a := range s.Attributes() {
			fmt.Printf("  %s=%q\n", a.Key, a.Value.Emit())
		}
	}
	var rm metricdata.ResourceMetrics
	_ = reader.Collect(context.Background(), &rm)
	for _, m := range rm.ScopeMetrics[0].Metrics {
		if m.Name == "authgate.authentications" {
			fmt.Println(m.Name, m.Data.(metricdata.Sum[int64]).DataPoints[0].Value)
		}
	}
	// Output:
	// authgate.authenticate 4bf92f3577b34da6a3ce929d0e0e4736
	//   authgate.provider="demo"
	//   authgate.outcome="denied"
	//   authgate.reason="expired"
	// authgate.authentications 1
}
