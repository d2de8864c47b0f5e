package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"
)

// benchServeConfig is bench/serve.sh's server: one static RS256 provider,
// log level warn, with the verified-token cache on (cache) or off.
const benchServeConfig = `listen: 127.0.0.1:0
log: {level: warn}
providers:
  - {name: bench, type: static, keys: keys/jwks.json, algorithms: [RS256], issuer: https://issuer.test, audience: [orders-api]%s}
%s`

// benchRules are rules a forward-auth deployment has: the request's path
// passes two before the one that applies, which checks a scope.
const benchRules = `rules:
  - {path: /admin/, methods: [POST, DELETE], roles: [admin]}
  - {path: /public/, anonymous: true}
  - {path: /orders/, scopes: [read:orders]}
`

// discardWriter is an http.ResponseWriter that keeps only the status and
// reuses its header map, so a benchmark measures the handler, not the
// recorder.
type discardWriter struct {
	h      http.Header
	status int
}

func (w *discardWriter) Header() http.Header { return w.h }
func (w *discardWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
}

// Write implies a 200, as net/http's does.
func (w *discardWriter) Write(p []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	return len(p), nil
}

// BenchmarkServeHandler runs forward-auth requests through the handler
// `authgate serve` runs, without a network: /healthz (no authentication,
// the ceiling), /verify with a token in the verified-token cache, with the
// same and rules, and without the cache (a full RS256 verification).
//
//	go test -run '^$' -bench ServeHandler -benchmem -count 6 ./cmd/authgate/
//	go run ./bench/cmd/ratios -floor healthz bench.txt
func BenchmarkServeHandler(b *testing.B) {
	cases := []struct {
		impl, cache, rules, path string
		header                   map[string]string
	}{
		{impl: "healthz", path: "/healthz"},
		{impl: "verify_cached", cache: ", cache_size: 10000", path: "/verify"},
		{impl: "verify_cached_rules", cache: ", cache_size: 10000", rules: benchRules, path: "/verify",
			header: map[string]string{"X-Original-Uri": "/orders/17?x=1", "X-Original-Method": "GET"}},
		{impl: "verify_uncached", path: "/verify"},
	}
	for _, c := range cases {
		f := newFixture(b)
		cfg, err := LoadConfig(f.write("authgate.yaml", fmt.Sprintf(benchServeConfig, c.cache, c.rules)), f.getenv)
		if err != nil {
			b.Fatal(err)
		}
		logger := newLogger(cfg.Log, io.Discard)
		g, err := build(context.Background(), cfg, buildOptions{logger: logger})
		if err != nil {
			b.Fatal(err)
		}
		h := newHandler(g, logger)
		token := f.token(func(m map[string]any) {
			m["scope"] = "read:orders write:orders"
			m["exp"] = time.Now().Add(24 * time.Hour).Unix()
		})
		req, err := http.NewRequest(http.MethodGet, "http://127.0.0.1"+c.path, nil)
		if err != nil {
			b.Fatal(err)
		}
		req.RequestURI = c.path
		req.Header.Set("Authorization", "Bearer "+token)
		for k, v := range c.header {
			req.Header.Set(k, v)
		}
		w := &discardWriter{h: http.Header{}}
		h.ServeHTTP(w, req)
		if w.status != http.StatusOK {
			b.Fatalf("%s: status %d, want 200", c.impl, w.status)
		}
		b.Run("impl="+c.impl, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				clear(w.h)
				w.status = 0
				h.ServeHTTP(w, req)
				if w.status != http.StatusOK {
					b.Fatalf("status %d, want 200", w.status)
				}
			}
		})
		g.Close()
	}
}
