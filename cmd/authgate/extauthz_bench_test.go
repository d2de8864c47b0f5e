package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"

	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// benchConfig is what BenchmarkCheckThroughput serves: the chain and rules
// of serveConfig, both listeners, and logs at info (a refusal without
// credentials logs at debug, so neither transport writes a line per
// request).
const benchConfig = `listen: 127.0.0.1:0
ext_authz: {listen: EXT_AUTHZ_ADDR}
realm: api
log: {format: json, level: info}
providers:
  - name: local
    type: static
    keys: keys/jwks.json
    algorithms: [RS256]
    issuer: https://issuer.test
    audience: [orders-api]
    leeway: 5s
  - {name: keys, type: apikey, prefix: ag, store: "sqlite:keys.db", cache_ttl: 0s}
chain: [local, keys]
rules:
  - {path: /admin/, methods: [POST, DELETE], roles: [admin]}
  - {path: /public/, anonymous: true}
`

// Load of BenchmarkCheckThroughput.
const (
	// benchClients is the number of requests in flight at once.
	benchClients = 64
	// benchGRPCConns is the number of HTTP/2 connections the gRPC client
	// spreads them over: Envoy keeps one per worker thread, and has a
	// worker per core by default.
	benchGRPCConns = 2
)

// BenchmarkCheckThroughput compares the two ways Envoy asks serve: the
// ext_authz gRPC Check and the HTTP /verify endpoint of ext_authz's HTTP
// mode (path_prefix /verify), with the same request (GET /orders/1, the
// headers Envoy forwards), the same chain and the same token, on serve's
// real loopback listeners, benchClients requests in flight. A valid RS256
// token is allowed; no credentials is denied with 401, which costs
// little besides the transport. req/s is the throughput; compare the two
// transports within one run:
//
//	go test -run '^$' -bench CheckThroughput -benchtime 3s -count 6 ./cmd/authgate/
func BenchmarkCheckThroughput(b *testing.B) {
	f := newFixture(b)
	httpAddr, grpcAddr := startBenchServe(b, f)
	token := f.token(nil)

	transport := &http.Transport{MaxIdleConns: benchClients, MaxIdleConnsPerHost: benchClients}
	b.Cleanup(transport.CloseIdleConnections)
	client := &http.Client{Transport: transport}
	var checkers []authv3.AuthorizationClient
	for range benchGRPCConns {
		conn, err := grpc.NewClient("passthrough:///"+grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { conn.Close() })
		checkers = append(checkers, authv3.NewAuthorizationClient(conn))
	}

	for _, cred := range benchCredentials(token) {
		b.Run("credential="+cred.name+"/transport=http", func(b *testing.B) {
			parallel(b, func(int) error { return benchVerify(client, httpAddr, cred.header, cred.status) })
		})
		b.Run("credential="+cred.name+"/transport=grpc", func(b *testing.B) {
			parallel(b, func(i int) error { return benchCheck(checkers[i%len(checkers)], cred.header, cred.status) })
		})
	}
}

// TestCheckThroughputSetup runs BenchmarkCheckThroughput's setup and one
// request of each kind over each transport: both answer every credential
// alike, so the benchmark compares like with like.
func TestCheckThroughputSetup(t *testing.T) {
	f := newFixture(t)
	httpAddr, grpcAddr := startBenchServe(t, f)
	conn, err := grpc.NewClient("passthrough:///"+grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	checker := authv3.NewAuthorizationClient(conn)
	for _, cred := range benchCredentials(f.token(nil)) {
		t.Run(cred.name, func(t *testing.T) {
			if err := benchVerify(http.DefaultClient, httpAddr, cred.header, cred.status); err != nil {
				t.Error(err)
			}
			if err := benchCheck(checker, cred.header, cred.status); err != nil {
				t.Error(err)
			}
		})
	}
}

// benchCredential is a credential of the benchmark and the HTTP status
// both transports answer it with.
type benchCredential struct {
	name   string
	header []string // authorization, when any
	status int
}

func benchCredentials(token string) []benchCredential {
	return []benchCredential{
		{"token", []string{"authorization", "Bearer " + token}, http.StatusOK},
		{"none", nil, http.StatusUnauthorized},
	}
}

// benchVerify sends what Envoy's ext_authz HTTP mode sends for GET
// /orders/1 to the /verify endpoint at addr, and checks the status.
func benchVerify(client *http.Client, addr string, header []string, status int) error {
	req, err := http.NewRequest(http.MethodGet, "http://"+addr+"/verify/orders/1", nil)
	if err != nil {
		return err
	}
	req.Host = "orders.example.test"
	req.Header.Set("User-Agent", "curl/8.5.0")
	req.Header.Set("X-Forwarded-Proto", "https")
	req.Header.Set("X-Request-Id", "0b7c3a0e-5f0e-4a55-9a42-3c1c0c2c3d4e")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err == nil && resp.StatusCode != status {
		err = fmt.Errorf("GET /verify/orders/1 = %d, want %d", resp.StatusCode, status)
	}
	return err
}

// benchCheck sends the CheckRequest Envoy sends for the same request, and
// checks the status it answers.
func benchCheck(c authv3.AuthorizationClient, header []string, status int) error {
	resp, err := c.Check(context.Background(), envoyCheck(http.MethodGet, "/orders/1", header...))
	if err != nil {
		return err
	}
	got := http.StatusOK
	if d := resp.GetDeniedResponse(); d != nil {
		got = int(d.GetStatus().GetCode())
	} else if resp.GetOkResponse() == nil {
		return fmt.Errorf("Check(GET /orders/1) = %v, want an OK or a denied response", resp)
	}
	if got != status {
		return fmt.Errorf("Check(GET /orders/1) = %d, want %d", got, status)
	}
	return nil
}

// parallel runs do from benchClients goroutines, each with its own number,
// and reports the requests per second. do is called once before the
// clock starts, so that a misconfigured server fails the benchmark rather
// than measuring its errors.
func parallel(b *testing.B, do func(client int) error) {
	if err := do(0); err != nil {
		b.Fatal(err)
	}
	var next atomic.Int64
	var failed atomic.Pointer[error]
	b.SetParallelism(max(1, benchClients/runtime.GOMAXPROCS(0)))
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		id := int(next.Add(1))
		for pb.Next() {
			if err := do(id); err != nil {
				failed.CompareAndSwap(nil, &err)
				return
			}
		}
	})
	b.StopTimer()
	if err := failed.Load(); err != nil {
		b.Fatal(*err)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}

// startBenchServe runs the serve command on benchConfig until the
// benchmark or test ends and returns the addresses of its HTTP and ext_authz
// listeners.
func startBenchServe(b testing.TB, f *fixture) (httpAddr, grpcAddr string) {
	b.Helper()
	// serve wants two distinct addresses: the HTTP listener takes a free
	// port, the ext_authz one a port free a moment ago.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	free := ln.Addr().String()
	ln.Close()
	path := f.write("authgate.yaml", strings.Replace(benchConfig, "EXT_AUTHZ_ADDR", free, 1))
	ctx, cancel := context.WithCancel(context.Background())
	addrc, gaddrc := make(chan string, 1), make(chan string, 1)
	done := make(chan result, 1)
	var out, errb lockedBuffer
	go func() {
		e := &env{ctx: ctx, stdin: strings.NewReader(""), stdout: &out, stderr: &errb, getenv: f.getenv,
			ready:         func(a string) { addrc <- a },
			extAuthzReady: func(a string) { gaddrc <- a },
		}
		done <- result{runEnv(e, []string{"serve", "--config", path}), out.String(), errb.String()}
	}()
	b.Cleanup(func() {
		cancel()
		if r := <-done; r.code != exitOK {
			b.Errorf("serve = %d, want 0\n%s", r.code, r.stderr)
		}
	})
	for httpAddr == "" || grpcAddr == "" {
		select {
		case httpAddr = <-addrc:
		case grpcAddr = <-gaddrc:
		case r := <-done:
			done <- r
			b.Fatalf("serve exited early: %d\n%s", r.code, r.stderr)
		}
	}
	return httpAddr, grpcAddr
}
