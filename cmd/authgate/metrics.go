package main

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/otel/propagation"

	authprom "github.com/authgate/authgate/observe/prometheus"
)

// metricsServer is serve's Prometheus listener (the "metrics" section). Its
// registry and observer are created once, at start, and outlive every
// reload: the new configuration's providers report to the same observer,
// so counters keep counting and nothing is registered twice.
type metricsServer struct {
	obs  *authprom.Observer
	srv  *http.Server
	ln   net.Listener
	errc chan error
}

// startMetrics listens on addr and serves GET /metrics there: the Go
// runtime's and the process's collectors and authgate's metrics.
func startMetrics(addr string, logger *slog.Logger) (*metricsServer, error) {
	reg := prometheus.NewRegistry()
	if err := reg.Register(collectors.NewGoCollector()); err != nil {
		return nil, err
	}
	if err := reg.Register(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})); err != nil {
		return nil, err
	}
	obs, err := authprom.New(reg, authprom.Config{})
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		ErrorLog:            slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
		MaxRequestsInFlight: 4,
	}))
	m := &metricsServer{
		obs: obs,
		srv: &http.Server{
			Handler:           mux,
			ReadHeaderTimeout: readHeaderTimeout,
			ReadTimeout:       readTimeout,
			WriteTimeout:      writeTimeout,
			IdleTimeout:       idleTimeout,
			MaxHeaderBytes:    maxHeaderBytes,
			ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
		},
		ln:   ln,
		errc: make(chan error, 1),
	}
	go func() { m.errc <- m.srv.Serve(ln) }()
	return m, nil
}

// shutdown stops the listener gracefully.
func (m *metricsServer) shutdown(ctx context.Context) error {
	if err := m.srv.Shutdown(ctx); err != nil {
		return err
	}
	if err := <-m.errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// traceContext reads the W3C trace context (traceparent, tracestate) the
// proxy sent, so that the spans an observer opens for the request nest
// under the proxy's.
var traceContext = propagation.TraceContext{}

// withTraceContext returns r with the trace context of its headers in its
// context; r itself when it carries none.
func withTraceContext(r *http.Request) *http.Request {
	if r.Header.Get("Traceparent") == "" {
		return r
	}
	return r.WithContext(traceContext.Extract(r.Context(), propagation.HeaderCarrier(r.Header)))
}
