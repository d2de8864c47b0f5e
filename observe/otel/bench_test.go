package otel_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/httpauth"
	authotel "github.com/authgate/authgate/observe/otel"
)

// BenchmarkRequire serves one request behind httpauth.Require with an
// authenticator that costs nothing, without an observer and with this
// package's Observer over the SDK (a span and two measurements per
// decision; spans dropped by a no-op exporter, or not sampled).
//
//	go test -run '^$' -bench Require -benchmem -count 6 ./observe/otel/
func BenchmarkRequire(b *testing.B) {
	p := &authgate.Principal{Provider: "demo", Subject: "alice"}
	fixed := authgate.AuthenticatorFunc(func(*http.Request) (*authgate.Principal, error) { return p, nil })
	ok := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
	observer := func(tp *sdktrace.TracerProvider) httpauth.Option {
		o, err := authotel.New(authotel.Config{TracerProvider: tp, MeterProvider: mp})
		if err != nil {
			b.Fatal(err)
		}
		return httpauth.WithObserver(o)
	}
	for _, bc := range []struct {
		name string
		opts []httpauth.Option
	}{
		{"observer=none", nil},
		{"observer=otel/sampled", []httpauth.Option{observer(sdktrace.NewTracerProvider(sdktrace.WithSyncer(tracetest.NewNoopExporter())))}},
		{"observer=otel/unsampled", []httpauth.Option{observer(sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.NeverSample())))}},
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
