package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authgate/authgate/apikey"
)

// TestServeFailureLimitWithoutHeader: with client_ip_header set but absent
// from the requests, failures count against the peer's address without
// its port, so two connections from one address share one budget:
// reconnecting does not walk around the limit.
func TestServeFailureLimitWithoutHeader(t *testing.T) {
	config := strings.Replace(serveConfig,
		`{name: keys, type: apikey, prefix: ag, store: "sqlite:keys.db", cache_ttl: 0s}`,
		`{name: keys, type: apikey, prefix: ag, store: "sqlite:keys.db", cache_ttl: 0s, failure_limit: 2, failure_window: 1m, client_ip_header: X-Real-IP}`, 1)
	gf := newGateway(t, config)
	good := gf.issue(t, apikey.Key{Subject: "bot", Tenant: "acme"})
	repl := "A"
	if strings.HasSuffix(good, "A") {
		repl = "B"
	}
	bad := good[:len(good)-1] + repl
	// A new connection, so a new source port, for every request.
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 10 * time.Second}
	send := func(key string) int {
		req, _ := http.NewRequest("GET", gf.srv.URL+"/verify", nil)
		req.Header.Set("X-API-Key", key)
		req.Header.Set("X-Original-URI", "/orders")
		req.Header.Set("X-Original-Method", "GET")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	for range 2 {
		if s := send(bad); s != http.StatusUnauthorized {
			t.Fatalf("bad key = %d, want 401", s)
		}
	}
	if s := send(good); s != http.StatusTooManyRequests {
		t.Fatalf("good key on a fresh connection after the limit = %d, want 429", s)
	}
}

// TestStoreMaxConnections: store_max_connections bounds the store's pool,
// and is refused out of range.
func TestStoreMaxConnections(t *testing.T) {
	gf := newGateway(t, strings.Replace(serveConfig, `cache_ttl: 0s}`, `cache_ttl: 0s, store_max_connections: 3}`, 1))
	if got := gf.g.byName["keys"].store.Stats().MaxOpenConnections; got != 3 {
		t.Errorf("MaxOpenConnections = %d, want 3", got)
	}
	f := newFixture(t)
	path := f.write("authgate.yaml", strings.Replace(serveConfig, `cache_ttl: 0s}`, `cache_ttl: 0s, store_max_connections: 0}`, 1))
	if r := f.run("", "serve", "--config", path); r.code != exitUsage || !strings.Contains(r.stderr, "store_max_connections") {
		t.Errorf("store_max_connections: 0: serve = %d %q, want 2 naming the field", r.code, r.stderr)
	}
}

// TestServeStartsWithDatabaseDown: serve starts while the API-key
// PostgreSQL server is unreachable; the tokens of the other providers are
// served, API keys get 503 and the cause is logged, bounded. With
// AUTHGATE_TEST_POSTGRES_DSN, the database then comes back on that address
// and within a few seconds the schema is migrated and keys are served.
func TestServeStartsWithDatabaseDown(t *testing.T) {
	port := closedPortCmd(t)
	dsn, target := fmt.Sprintf("postgres://authgate@127.0.0.1:%d/keys?sslmode=disable", port), ""
	if base := os.Getenv("AUTHGATE_TEST_POSTGRES_DSN"); base != "" {
		fresh := freshSchema(t, base)
		u, err := url.Parse(fresh)
		if err != nil {
			t.Fatal(err)
		}
		target = u.Host
		u.Host = fmt.Sprintf("127.0.0.1:%d", port)
		dsn = u.String()
	}
	f := newFixture(t)
	f.env["KEYS_DSN"] = dsn
	path := f.write("authgate.yaml", strings.Replace(baseConfig, `store: "sqlite:keys.db"`, `store_env: KEYS_DSN`, 1))
	unknown, err := apikey.GenerateKey("ag")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	client := &http.Client{Timeout: 10 * time.Second}
	verify := func(addr string, h ...string) int {
		req, _ := http.NewRequest("GET", "http://"+addr+"/verify", nil)
		for i := 0; i+1 < len(h); i += 2 {
			req.Header.Set(h[i], h[i+1])
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Error(err)
			return 0
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	r := f.runCtx(ctx, "", func(addr string) {
		go func() {
			defer cancel()
			for range 20 {
				if s := verify(addr, "X-API-Key", unknown); s != http.StatusServiceUnavailable {
					t.Errorf("API key while the database is down = %d, want 503", s)
					return
				}
			}
			if s := verify(addr, "Authorization", "Bearer "+f.token(nil)); s != http.StatusOK {
				t.Errorf("token while the database is down = %d, want 200", s)
			}
			if target == "" {
				return
			}
			forwardCmd(t, port, target)
			t0 := time.Now()
			for {
				s := verify(addr, "X-API-Key", unknown)
				if s == http.StatusUnauthorized {
					break
				}
				if s != http.StatusServiceUnavailable || time.Since(t0) > 5*time.Second {
					t.Errorf("unknown key %v after the database came back = %d, want 503 then 401", time.Since(t0), s)
					return
				}
				time.Sleep(20 * time.Millisecond)
			}
			t.Logf("keys served %v after the database came back", time.Since(t0))
			out := f.run("", "apikey", "create", "--config", path, "--subject", "bot")
			key := strings.TrimSpace(out.stdout)
			if out.code != exitOK || key == "" {
				t.Errorf("apikey create = %d %q", out.code, out.stderr)
				return
			}
			if s := verify(addr, "X-API-Key", key); s != http.StatusOK {
				t.Errorf("issued key after recovery = %d, want 200", s)
			}
		}()
	}, "serve", "--config", path)
	if r.code != exitOK {
		t.Fatalf("serve with the database down = %d, want 0 (started, then stopped); stderr:\n%s", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, "connection refused") {
		t.Errorf("the log lacks the cause of the store failures:\n%s", r.stderr)
	}
	if n := strings.Count(r.stderr, "apikey: store lookup failed"); n != 1 {
		t.Errorf("20 failed lookups logged the cause %d times, want once", n)
	}
}

// freshSchema returns base with a search_path of a new schema, dropped at
// cleanup.
func freshSchema(t testing.TB, base string) string {
	t.Helper()
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close() })
	b := make([]byte, 8)
	rand.Read(b)
	schema := "authgate_cmd_" + hex.EncodeToString(b)
	if _, err := admin.Exec(`CREATE SCHEMA ` + schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() { admin.Exec(`DROP SCHEMA ` + schema + ` CASCADE`) })
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// closedPortCmd returns a loopback TCP port nothing listens on.
func closedPortCmd(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	return port
}

// forwardCmd listens on 127.0.0.1:port and relays every connection to
// target until the test ends.
func forwardCmd(t testing.TB, port int, target string) {
	t.Helper()
	ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Errorf("listen on the database's port again: %v", err)
		return
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			mu.Lock()
			conns = append(conns, c, up)
			mu.Unlock()
			wg.Go(func() { io.Copy(up, c); up.Close() })
			wg.Go(func() { io.Copy(c, up); c.Close() })
		}
	})
}
