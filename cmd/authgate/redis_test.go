package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/authgate/authgate/apikey"
)

// redisSection is a redis section for the serve config, on the Redis of
// AUTHGATE_TEST_REDIS_ADDR, with key prefixes of its own.
func redisSection(t *testing.T, limiter bool) string {
	t.Helper()
	addr := os.Getenv("AUTHGATE_TEST_REDIS_ADDR")
	if addr == "" {
		t.Skip("needs a real Redis: set AUTHGATE_TEST_REDIS_ADDR (host:port, as .ci/run does)")
	}
	b := make([]byte, 6)
	rand.Read(b)
	p := "test:" + hex.EncodeToString(b)
	s := "redis:\n  address: " + addr + "\n  deny_list: {prefix: \"" + p + ":deny:\", heartbeat: 100ms, grace: 1s}\n"
	if limiter {
		s += "  failure_limiter: {prefix: \"" + p + ":limit:\"}\n"
	}
	return s
}

func TestRedisConfig(t *testing.T) {
	base := strings.Replace(serveConfig, "log: {format: json, level: debug}\n", "", 1)
	tests := []struct {
		name    string
		section string
		env     map[string]string
		wantErr string // empty: valid
	}{
		{"deny-list", "redis: {address: 127.0.0.1:6379, deny_list: {}}", nil, ""},
		{"all fields", "redis:\n  address: redis.internal:6380\n  username: authgate\n  password_env: REDIS_PW\n  db: 2\n  tls: true\n  deny_list: {prefix: \"x:\", heartbeat: 500ms, grace: 2s, insecure_fail_open: true}\n  failure_limiter: {prefix: \"y:\"}", map[string]string{"REDIS_PW": "s3cret-pw"}, ""},
		{"no address", "redis: {deny_list: {}}", nil, "address is required"},
		{"bad address", "redis: {address: nohost, deny_list: {}}", nil, "want host:port"},
		{"nothing uses it", "redis: {address: 127.0.0.1:6379}", nil, "nothing uses Redis"},
		{"password in the file", "redis: {address: 127.0.0.1:6379, password: hunter2, deny_list: {}}", nil, "password_env"},
		{"password env unset", "redis: {address: 127.0.0.1:6379, password_env: REDIS_PW, deny_list: {}}", nil, "REDIS_PW is not set"},
		{"grace below two heartbeats", "redis: {address: 127.0.0.1:6379, deny_list: {heartbeat: 1s, grace: 1s}}", nil, "grace must be at least twice"},
		{"unknown field", "redis: {address: 127.0.0.1:6379, deny_list: {}, cluster: true}", nil, "unknown field"},
		{"unknown deny-list field", "redis: {address: 127.0.0.1:6379, deny_list: {ttl: 1h}}", nil, "unknown field"},
		{"db out of range", "redis: {address: 127.0.0.1:6379, db: 99, deny_list: {}}", nil, "redis.db"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			for k, v := range tt.env {
				f.env[k] = v
			}
			cfg, err := LoadConfig(f.write("authgate.yaml", base+tt.section+"\n"), f.getenv)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("LoadConfig = %v", err)
				}
				if cfg.Redis.Address == "" {
					t.Error("Redis.Address empty")
				}
				if strings.Contains(tt.section, "password_env") && cfg.Redis.password != "s3cret-pw" {
					t.Error("password not read from the environment")
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("LoadConfig = %v, want an error containing %q", err, tt.wantErr)
			}
			assertNoCredentials(t, "the error", err.Error(), "hunter2")
		})
	}
}

func TestDenyUsage(t *testing.T) {
	f := newFixture(t)
	plain := f.write("plain.yaml", serveConfig)
	withList := f.write("list.yaml", serveConfig+"redis: {address: 127.0.0.1:1, deny_list: {}}\n")
	tests := []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"no kind", []string{"deny"}, exitUsage, "usage: authgate deny"},
		{"unknown kind", []string{"deny", "user", "x"}, exitUsage, "unknown kind"},
		{"no ttl", []string{"deny", "jti", "j-1", "--config", withList}, exitUsage, "--ttl or --until is required"},
		{"ttl and until", []string{"deny", "jti", "j-1", "--ttl", "1h", "--until", "2030-01-01T00:00:00Z", "--config", withList}, exitUsage, "not both"},
		{"bad until", []string{"deny", "key", "k-1", "--until", "tomorrow", "--config", withList}, exitUsage, "RFC 3339"},
		{"subject without provider", []string{"deny", "subject", "alice", "--ttl", "1h", "--config", withList}, exitUsage, "--provider is required"},
		{"subject without ttl", []string{"deny", "subject", "alice", "--provider", "local", "--config", withList}, exitUsage, "--ttl is required"},
		{"unknown provider", []string{"deny", "subject", "alice", "--provider", "nope", "--ttl", "1h", "--config", withList}, exitUsage, `no provider "nope"`},
		{"remove with a ttl", []string{"deny", "jti", "j-1", "--remove", "--ttl", "1h", "--config", withList}, exitUsage, "--remove takes no"},
		{"provider for a jti", []string{"deny", "jti", "j-1", "--provider", "local", "--ttl", "1h", "--config", withList}, exitUsage, "for subject entries"},
		{"no deny-list configured", []string{"deny", "jti", "j-1", "--ttl", "1h", "--config", plain}, exitUsage, "no redis.deny_list"},
		{"Redis unreachable", []string{"deny", "jti", "j-1", "--ttl", "1h", "--config", withList}, exitFailure, "denylist: write entry"},
		{"help", []string{"deny", "--help"}, exitOK, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := f.run("", tt.args...)
			if r.code != tt.code || !strings.Contains(r.stderr, tt.stderr) {
				t.Errorf("%v = %d, stderr %q; want %d, stderr containing %q", tt.args, r.code, r.stderr, tt.code, tt.stderr)
			}
			assertNoCredentials(t, "stderr", r.stderr, "j-1")
		})
	}
}

// replicaFixture is one serve replica: a chained build of the config
// behind a test server.
type replicaFixture struct {
	g   *gateway
	srv *httptest.Server
}

func startReplicas(t *testing.T, f *fixture, path string, n int) []*replicaFixture {
	t.Helper()
	cfg, err := LoadConfig(path, f.getenv)
	if err != nil {
		t.Fatal(err)
	}
	var out []*replicaFixture
	for range n {
		logger := slog.New(slog.DiscardHandler)
		g, err := build(context.Background(), cfg, buildOptions{logger: logger, chained: true})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { g.Close() })
		srv := httptest.NewServer(newHandler(g, logger))
		t.Cleanup(srv.Close)
		out = append(out, &replicaFixture{g: g, srv: srv})
	}
	return out
}

// status sends a forward-auth request for GET /orders with the header.
func (r *replicaFixture) status(t *testing.T, name, value string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, r.srv.URL+"/verify", nil)
	req.Header.Set("X-Original-URI", "/orders")
	req.Header.Set("X-Original-Method", http.MethodGet)
	req.Header.Set(name, value)
	resp, err := r.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// allAnswer reports whether every replica answers want within d.
func allAnswer(t *testing.T, rs []*replicaFixture, d time.Duration, want int, name, value string) bool {
	t.Helper()
	deadline := time.Now().Add(d)
	for _, r := range rs {
		for r.status(t, name, value) != want {
			if time.Now().After(deadline) {
				return false
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	return true
}

// TestServeDenyList: two serve replicas share a deny-list; what the deny
// command writes is refused by both, and nothing else is.
func TestServeDenyList(t *testing.T) {
	f := newFixture(t)
	path := f.write("authgate.yaml", serveConfig+redisSection(t, false))
	rs := startReplicas(t, f, path, 2)
	bearer := func(tok string) string { return "Bearer " + tok }
	tok := f.token(func(c map[string]any) { c["jti"] = "tok-1" })
	other := f.token(func(c map[string]any) { c["jti"] = "tok-2"; c["sub"] = "bob" })
	if !allAnswer(t, rs, 5*time.Second, http.StatusOK, "Authorization", bearer(tok)) {
		t.Fatal("the replicas never accepted the token: deny-list not loaded?")
	}
	if r := f.run("", "deny", "jti", "tok-1", "--ttl", "1h", "--config", path); r.code != exitOK {
		t.Fatalf("deny jti = %d, %s", r.code, r.stderr)
	}
	if !allAnswer(t, rs, time.Second, http.StatusUnauthorized, "Authorization", bearer(tok)) {
		t.Error("a denied jti is still accepted after 1s")
	}
	if !allAnswer(t, rs, time.Second, http.StatusOK, "Authorization", bearer(other)) {
		t.Error("another token is refused")
	}

	// "Log alice out everywhere": her tokens issued so far are refused,
	// one issued afterwards is not.
	old := f.token(func(c map[string]any) { c["jti"] = "tok-3"; c["iat"] = time.Now().Add(-time.Minute).Unix() })
	if r := f.run("", "deny", "subject", "alice", "--provider", "local", "--ttl", "2h", "--config", path); r.code != exitOK || !strings.Contains(r.stdout, "denied subject") {
		t.Fatalf("deny subject = %d, %q, %s", r.code, r.stdout, r.stderr)
	}
	if !allAnswer(t, rs, time.Second, http.StatusUnauthorized, "Authorization", bearer(old)) {
		t.Error("a token of a denied subject is still accepted after 1s")
	}
	fresh := f.token(func(c map[string]any) { c["jti"] = "tok-4"; c["iat"] = time.Now().Add(2 * time.Second).Unix() })
	if !allAnswer(t, rs, time.Second, http.StatusOK, "Authorization", bearer(fresh)) {
		t.Error("a token issued after the subject's entry is refused")
	}

	// An API key, by its ID, though the store still holds it as valid.
	key, k, err := rs[0].g.byName["keys"].keys.Manager().Issue(context.Background(), apikey.Key{Subject: "bot", Tenant: "acme"})
	if err != nil {
		t.Fatal(err)
	}
	if !allAnswer(t, rs, time.Second, http.StatusOK, "X-API-Key", key) {
		t.Fatal("the new key is refused")
	}
	if r := f.run("", "deny", "key", k.ID, "--ttl", "1h", "--config", path); r.code != exitOK {
		t.Fatalf("deny key = %d, %s", r.code, r.stderr)
	}
	if !allAnswer(t, rs, time.Second, http.StatusUnauthorized, "X-API-Key", key) {
		t.Error("a denied key is still accepted after 1s")
	}
	if r := f.run("", "deny", "key", k.ID, "--remove", "--config", path); r.code != exitOK || !strings.Contains(r.stdout, "removed") {
		t.Fatalf("deny key --remove = %d, %q, %s", r.code, r.stdout, r.stderr)
	}
	if !allAnswer(t, rs, time.Second, http.StatusOK, "X-API-Key", key) {
		t.Error("a key whose entry was removed is still refused after 1s")
	}
}

// TestServeSharedFailureLimit: with redis.failure_limiter, the
// failure_limit of an apikey provider is one budget for all replicas.
func TestServeSharedFailureLimit(t *testing.T) {
	f := newFixture(t)
	config := strings.Replace(serveConfig,
		`{name: keys, type: apikey, prefix: ag, store: "sqlite:keys.db", cache_ttl: 0s}`,
		`{name: keys, type: apikey, prefix: ag, store: "sqlite:keys.db", cache_ttl: 0s, failure_limit: 2, failure_window: 1m}`, 1)
	path := f.write("authgate.yaml", config+redisSection(t, true))
	rs := startReplicas(t, f, path, 2)
	good, _, err := rs[0].g.byName["keys"].keys.Manager().Issue(context.Background(), apikey.Key{Subject: "bot", Tenant: "acme"})
	if err != nil {
		t.Fatal(err)
	}
	repl := "A"
	if strings.HasSuffix(good, "A") {
		repl = "B"
	}
	bad := good[:len(good)-1] + repl
	// One failure on each replica: with a budget of two per replica
	// neither would refuse yet; with one shared budget both do.
	for i, r := range rs {
		if s := r.status(t, "X-API-Key", bad); s != http.StatusUnauthorized {
			t.Fatalf("bad key on replica %d = %d, want 401", i, s)
		}
	}
	for i, r := range rs {
		if s := r.status(t, "X-API-Key", good); s != http.StatusTooManyRequests {
			t.Errorf("good key on replica %d after the shared limit = %d, want 429", i, s)
		}
	}
}

// TestServeDenyListRedisDown: serve starts while Redis cannot be reached,
// after a bounded wait, and fails closed: a valid token gets 503, never
// 200 or 401.
func TestServeDenyListRedisDown(t *testing.T) {
	f := newFixture(t)
	path := f.write("authgate.yaml", serveConfig+"redis: {address: "+freeAddr(t)+", deny_list: {}}\n")
	start := time.Now()
	rs := startReplicas(t, f, path, 1)
	if took := time.Since(start); took > denyListWait+2*time.Second {
		t.Errorf("build took %v, want about the %v wait", took, denyListWait)
	}
	if s := rs[0].status(t, "Authorization", "Bearer "+f.token(nil)); s != http.StatusServiceUnavailable {
		t.Errorf("valid token with the deny-list unloaded = %d, want 503", s)
	}
}
