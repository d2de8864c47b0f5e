//go:build linux

package main

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/apikey"
	"github.com/authgate/authgate/internal/jwttest"
)

// caddyBinary is Debian's caddy (package "caddy").
const caddyBinary = "/usr/bin/caddy"

// requireCaddy returns the caddy binary, or skips the test when it is
// absent, unless AUTHGATE_INTEROP is set: then its absence is a failure.
func requireCaddy(t *testing.T) string {
	t.Helper()
	if _, err := os.Stat(caddyBinary); err != nil {
		if os.Getenv("AUTHGATE_INTEROP") != "" {
			t.Fatalf("AUTHGATE_INTEROP is set but %s is missing (apt-get install caddy): %v", caddyBinary, err)
		}
		t.Skipf("%s not found: install Debian's caddy (apt-get install caddy) or set AUTHGATE_INTEROP=1 to require it", caddyBinary)
	}
	return caddyBinary
}

// readmeBlock returns the one fenced block of cmd/authgate/README.md in
// language lang.
func readmeBlock(t *testing.T, lang string) string {
	t.Helper()
	data, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(string(data), "```"+lang+"\n")
	if len(parts) != 2 {
		t.Fatalf("README.md has %d ```%s blocks, want 1", len(parts)-1, lang)
	}
	block, _, ok := strings.Cut(parts[1], "```")
	if !ok {
		t.Fatalf("README.md: unterminated ```%s block", lang)
	}
	return block
}

// TestREADMENginxIsDeployed: the README's nginx recipe is deploy/nginx.conf,
// the file TestNginxAuthRequest runs.
func TestREADMENginxIsDeployed(t *testing.T) {
	conf, err := os.ReadFile(nginxConfPath)
	if err != nil {
		t.Fatal(err)
	}
	if got := readmeBlock(t, "nginx"); got != string(conf) {
		t.Errorf("README.md's nginx block differs from %s: copy the file into it", nginxConfPath)
	}
}

// caddyfile returns the README's Caddy block as this test runs it: HTTP
// on listen, authgate and the backend on loopback, no admin endpoint.
func caddyfile(t *testing.T, listen, authgate, backend string) string {
	t.Helper()
	conf := readmeBlock(t, "caddy")
	for _, r := range [][2]string{
		{":8080 {", "http://" + listen + " {"},
		{"forward_auth 127.0.0.1:9000 {", "forward_auth " + authgate + " {"},
		{"reverse_proxy 127.0.0.1:8081", "reverse_proxy " + backend},
	} {
		if n := strings.Count(conf, r[0]); n != 1 {
			t.Fatalf("README.md's caddy block holds %q %d times, want once", r[0], n)
		}
		conf = strings.Replace(conf, r[0], r[1], 1)
	}
	return "{\n\tadmin off\n\tauto_https off\n}\n\n" + conf
}

// startCaddy runs caddy with the Caddyfile conf until the end of the test.
func startCaddy(t *testing.T, bin, conf, listen string) {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "Caddyfile")
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "run", "--adapter", "caddyfile", "--config", path)
	cmd.Env = append(os.Environ(), "HOME="+dir, "XDG_DATA_HOME="+dir, "XDG_CONFIG_HOME="+dir)
	var out lockedBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	var waitErr error
	go func() { waitErr = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("caddy output:\n%s", out.String())
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.Dial("tcp", listen)
		if err == nil {
			c.Close()
			return
		}
		select {
		case <-exited:
			err := waitErr
			t.Fatalf("caddy exited: %v\n%s", err, out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("caddy did not start listening:\n%s", out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// caddyServeConfig is serveConfig with a failure limit on the API keys,
// keyed by the client address Caddy sends in X-Forwarded-For.
var caddyServeConfig = strings.Replace(serveConfig, "cache_ttl: 0s}", "cache_ttl: 0s, failure_limit: 3, client_ip_header: X-Forwarded-For}", 1)

// TestCaddyForwardAuth puts the serve command behind Debian's Caddy
// forward_auth, configured by the README's block: identities reach the
// backend (spoofed ones never), and failures reach the client with
// authgate's status, challenge, Retry-After and JSON body.
func TestCaddyForwardAuth(t *testing.T) {
	bin := requireCaddy(t)
	if caddyServeConfig == serveConfig {
		t.Fatal("caddyServeConfig did not add the failure limit")
	}
	f := newFixture(t)
	path := f.write("authgate.yaml", caddyServeConfig)
	editorKey := createKey(t, f, path, "--subject", "bot", "--role", "editor")
	ctx, cancel := context.WithCancel(context.Background())
	addrc := make(chan string, 1)
	done := make(chan result, 1)
	go func() { done <- f.runCtx(ctx, "", func(a string) { addrc <- a }, "serve", "--config", path) }()
	t.Cleanup(func() {
		cancel()
		if r := <-done; r.code != exitOK {
			t.Errorf("serve = %d\n%s", r.code, r.stderr)
		} else {
			assertNoCredentials(t, "serve log", r.stderr, editorKey)
		}
	})
	var authAddr string
	select {
	case authAddr = <-addrc:
	case r := <-done:
		t.Fatalf("serve exited: %d\n%s", r.code, r.stderr)
	}
	broken := newGateway(t, serveConfig)
	brokenKey := broken.issue(t, apikey.Key{Subject: "bot"})
	broken.g.byName["keys"].store.Close()

	var hits atomic.Int64
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		seen := map[string]any{}
		for _, h := range []string{headerSubject, headerProvider, headerRoles, headerScopes, headerPermissions, headerTenant, headerEmail} {
			if vs, ok := r.Header[h]; ok {
				seen[h] = vs
			}
		}
		json.NewEncoder(w).Encode(seen)
	}))
	defer backend.Close()
	backendAddr := strings.TrimPrefix(backend.URL, "http://")
	listen, brokenListen := freeAddr(t), freeAddr(t)
	startCaddy(t, bin, caddyfile(t, listen, authAddr, backendAddr), listen)
	startCaddy(t, bin, caddyfile(t, brokenListen, strings.TrimPrefix(broken.srv.URL, "http://"), backendAddr), brokenListen)

	userToken := f.token(func(c map[string]any) { c["scope"] = "read:orders" })
	adminToken := f.token(func(c map[string]any) { c["roles"] = []any{"admin"} })
	forged := jwttest.Token("RS256", "", jwttest.Key("RS256", "attacker"), map[string]any{"iss": testIssuer, "aud": testAudience, "sub": "admin", "tenant": "acme", "exp": time.Now().Add(time.Hour).Unix()})
	badKey := "ag_" + strings.Repeat("0", 36)
	spoof := []string{"X-Auth-Subject", "admin", "X-Auth-Roles", "admin", "X-Auth-Permissions", "orders:delete", "X-Auth-Tenant", "evil"}

	tests := []struct {
		name      string
		listen    string
		method    string
		path      string
		header    []string
		status    int
		seen      map[string][]string // identity headers the backend got; nil value: absent or empty
		challenge string
		detail    string
		retry     string
	}{
		{
			name: "valid token, spoofed identity replaced", method: "GET", path: "/orders/1",
			header: append([]string{"Authorization", "Bearer " + userToken}, spoof...),
			status: 200, seen: map[string][]string{headerSubject: {"alice"}, headerProvider: {"local"}, headerTenant: {"acme"}, headerScopes: {"read:orders"}, headerRoles: nil, headerPermissions: nil},
		},
		{
			name: "API key", method: "GET", path: "/orders/1", header: []string{"X-API-Key", editorKey},
			status: 200, seen: map[string][]string{headerSubject: {"bot"}, headerProvider: {"keys"}, headerRoles: {"editor"}},
		},
		{
			name: "role rule passed with the original method", method: "DELETE", path: "/admin/users/7", header: []string{"Authorization", "Bearer " + adminToken},
			status: 200, seen: map[string][]string{headerSubject: {"alice"}, headerRoles: {"admin"}},
		},
		{
			name: "anonymous rule clears spoofed identity", method: "GET", path: "/public/index.html", header: spoof,
			status: 200, seen: map[string][]string{headerSubject: nil, headerRoles: nil, headerPermissions: nil, headerTenant: nil},
		},
		{
			name: "no credentials", method: "GET", path: "/orders/1", header: spoof,
			status: 401, challenge: `Bearer realm="api", ApiKey realm="api", header="X-API-Key"`, detail: "Authentication credentials were not provided",
		},
		{
			name: "forged token", method: "GET", path: "/orders/1", header: []string{"Authorization", "Bearer " + forged},
			status: 401, challenge: `error="invalid_token"`, detail: "Invalid token",
		},
		{
			name: "role rule", method: "POST", path: "/admin/users", header: []string{"X-API-Key", editorKey},
			status: 403, challenge: `error="insufficient_scope"`, detail: "Insufficient permissions",
		},
		{
			name: "400: the client's URI header contradicts Caddy's", method: "GET", path: "/admin/x",
			header: []string{"X-API-Key", editorKey, "X-Original-URI", "/public/x"},
			status: 400, challenge: `error="invalid_request"`, detail: "Invalid forwarded request",
		},
		{
			name: "503: key store down", listen: brokenListen, method: "GET", path: "/x", header: []string{"X-API-Key", brokenKey},
			status: 503, retry: authgate.RetryAfterSeconds, detail: "Authentication service unavailable",
		},
		// The failure limit, by Caddy's X-Forwarded-For: a client's own
		// X-Forwarded-For does not move it to another address.
		{name: "bad key 1", method: "GET", path: "/orders/1", header: []string{"X-API-Key", badKey, "X-Forwarded-For", "192.0.2.1"}, status: 401, challenge: "ApiKey"},
		{name: "bad key 2", method: "GET", path: "/orders/1", header: []string{"X-API-Key", badKey, "X-Forwarded-For", "192.0.2.2"}, status: 401, challenge: "ApiKey"},
		{name: "bad key 3", method: "GET", path: "/orders/1", header: []string{"X-API-Key", badKey, "X-Forwarded-For", "192.0.2.3"}, status: 401, challenge: "ApiKey"},
		{
			name: "429 for a valid key of a locked-out client", method: "GET", path: "/orders/1", header: []string{"X-API-Key", editorKey, "X-Forwarded-For", "192.0.2.4"},
			status: 429, retry: authgate.RateLimitRetryAfterSeconds, detail: "Too many failed attempts",
		},
	}
	client := &http.Client{Timeout: 10 * time.Second}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := hits.Load()
			addr := listen
			if tt.listen != "" {
				addr = tt.listen
			}
			req, err := http.NewRequest(tt.method, "http://"+addr+tt.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			for i := 0; i+1 < len(tt.header); i += 2 {
				req.Header.Add(tt.header[i], tt.header[i+1])
			}
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.status {
				t.Fatalf("status = %d, want %d; body %s", resp.StatusCode, tt.status, body)
			}
			if reached := hits.Load() > before; reached != (tt.status == 200) {
				t.Fatalf("backend reached = %v, want %v", reached, tt.status == 200)
			}
			if tt.status == 200 {
				var seen map[string][]string
				if err := json.Unmarshal(body, &seen); err != nil {
					t.Fatalf("backend body %q: %v", body, err)
				}
				for h, want := range tt.seen {
					got := strings.Join(seen[h], ",")
					if got != strings.Join(want, ",") {
						t.Errorf("backend got %s = %q, want %q", h, seen[h], want)
					}
				}
				return
			}
			if chs := resp.Header.Values("WWW-Authenticate"); tt.challenge != "" && (len(chs) != 1 || !strings.Contains(chs[0], tt.challenge)) {
				t.Errorf("WWW-Authenticate = %q, want one holding %q", chs, tt.challenge)
			}
			if got := resp.Header.Get("Retry-After"); got != tt.retry {
				t.Errorf("Retry-After = %q, want %q", got, tt.retry)
			}
			var eb authgate.ErrorBody
			if err := json.Unmarshal(body, &eb); err != nil || eb.Detail == "" {
				t.Fatalf("body %q is not authgate's JSON: %v", body, err)
			}
			if tt.detail != "" && eb.Detail != tt.detail {
				t.Errorf("detail = %q, want %q", eb.Detail, tt.detail)
			}
		})
	}
}
