package main

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"strings"
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
		// distinct cycles through distinct tokens (differing in jti).
		distinct bool
		// sigcheck serves the request with sigcheckHandler instead.
		sigcheck bool
	}{
		{impl: "healthz", path: "/healthz"},
		{impl: "verify_cached", cache: ", cache_size: 10000", path: "/verify"},
		{impl: "verify_cached_rules", cache: ", cache_size: 10000", rules: benchRules, path: "/verify",
			header: map[string]string{"X-Original-Uri": "/orders/17?x=1", "X-Original-Method": "GET"}},
		{impl: "verify_uncached", path: "/verify"},
		{impl: "verify_uncached_distinct", path: "/verify", distinct: true},
		{impl: "sigcheck_distinct", path: "/verify", distinct: true, sigcheck: true},
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
		var h http.Handler = newHandler(g, logger)
		if c.sigcheck {
			h = sigcheckHandler(&f.key.PublicKey)
		}
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
		bearers := []string{"Bearer " + token}
		if c.distinct {
			bearers = distinctBearers(f, 256)
		}
		b.Run("impl="+c.impl, func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				clear(w.h)
				w.status = 0
				req.Header["Authorization"][0] = bearers[i%len(bearers)]
				i++
				h.ServeHTTP(w, req)
				if w.status != http.StatusOK {
					b.Fatalf("status %d, want 200", w.status)
				}
			}
		})
		g.Close()
	}
}

// sigcheckHandler answers 200 when the bearer token's RS256 signature
// verifies under pub, else 401: the raw signature check and nothing else,
// the floor of an uncached /verify (bench/cmd/loadfix's floor server).
func sigcheckHandler(pub *rsa.PublicKey) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		i := strings.LastIndexByte(token, '.')
		if !ok || i < 0 {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		sig, err := base64.RawURLEncoding.DecodeString(token[i+1:])
		d := sha256.Sum256([]byte(token[:i]))
		if err != nil || rsa.VerifyPKCS1v15(pub, crypto.SHA256, d[:], sig) != nil {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
}

// distinctBearers returns n Authorization values of valid tokens that
// differ in their jti.
func distinctBearers(f *fixture, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = "Bearer " + f.token(func(m map[string]any) {
			m["scope"] = "read:orders write:orders"
			m["exp"] = time.Now().Add(24 * time.Hour).Unix()
			m["jti"] = fmt.Sprintf("jti-%d", i)
		})
	}
	return out
}

// BenchmarkServeLoopback runs the whole `authgate serve` command on a
// loopback socket (the configuration of bench/serve.sh, cache on) and sends
// it keep-alive requests from parallel clients: the profile of the server
// under load without wrk, net/http's connection handling included.
//
//	go test -run '^$' -bench ServeLoopback -cpuprofile cpu.out ./cmd/authgate/
//	go tool pprof -top -focus 'conn..serve' cpu.out
func BenchmarkServeLoopback(b *testing.B) {
	for _, impl := range []string{"healthz", "verify_cached"} {
		b.Run("impl="+impl, func(b *testing.B) {
			f := newFixture(b)
			cfgPath := f.write("authgate.yaml", fmt.Sprintf(benchServeConfig, ", cache_size: 10000", ""))
			ctx, cancel := context.WithCancel(context.Background())
			addrc := make(chan string, 1)
			done := make(chan int, 1)
			go func() {
				done <- runEnv(&env{ctx: ctx, stdin: strings.NewReader(""), stdout: io.Discard, stderr: io.Discard,
					getenv: f.getenv, ready: func(a string) { addrc <- a }}, []string{"serve", "--config", cfgPath, "--listen", "127.0.0.1:0"})
			}()
			var addr string
			select {
			case addr = <-addrc:
			case code := <-done:
				b.Fatalf("serve exited with %d", code)
			}
			defer func() {
				cancel()
				<-done
			}()
			token := f.token(func(m map[string]any) { m["exp"] = time.Now().Add(24 * time.Hour).Unix() })
			path := "/verify"
			if impl == "healthz" {
				path = "/healthz"
			}
			url := "http://" + addr + path
			tr := &http.Transport{MaxIdleConnsPerHost: 64}
			defer tr.CloseIdleConnections()
			client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
			b.ReportAllocs()
			b.SetParallelism(8)
			b.RunParallel(func(pb *testing.PB) {
				req, _ := http.NewRequest(http.MethodGet, url, nil)
				// The same request on both routes: the ratio is the cost
				// of authentication, not of a larger request.
				req.Header.Set("Authorization", "Bearer "+token)
				for pb.Next() {
					resp, err := client.Do(req)
					if err != nil {
						b.Error(err)
						return
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != http.StatusOK {
						b.Errorf("status %d, want 200", resp.StatusCode)
						return
					}
				}
			})
		})
	}
}
