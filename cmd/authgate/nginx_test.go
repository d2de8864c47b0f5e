//go:build linux

package main

import (
	"context"
	"encoding/json"
	"fmt"
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

// nginxBinary is Debian's nginx (package "nginx", which has the
// auth_request module).
const nginxBinary = "/usr/sbin/nginx"

// nginxConfPath is the nginx configuration compose.yaml runs and the
// README documents.
const nginxConfPath = "../../deploy/nginx.conf"

// nginxConf returns deploy/nginx.conf as this test runs it: authgate,
// the backend and the listen address on loopback, logs and temporary
// files in dir. Nothing else is changed; a replacement that does not
// apply exactly once fails the test, so the file cannot drift from what
// runs here.
func nginxConf(t *testing.T, dir, listen, authgate, backend string) string {
	t.Helper()
	data, err := os.ReadFile(nginxConfPath)
	if err != nil {
		t.Fatal(err)
	}
	conf := string(data)
	for _, r := range [][2]string{
		{"server authgate:9000;", "server " + authgate + ";"},
		{"server backend:8080;", "server " + backend + ";"},
		{"listen 8080;", "listen " + listen + ";"},
		{"access_log /dev/stdout;", strings.NewReplacer("{{dir}}", dir).Replace(`access_log {{dir}}/access.log;
    client_body_temp_path {{dir}}/client_body;
    proxy_temp_path {{dir}}/proxy;
    fastcgi_temp_path {{dir}}/fastcgi;
    uwsgi_temp_path {{dir}}/uwsgi;
    scgi_temp_path {{dir}}/scgi;`)},
	} {
		if n := strings.Count(conf, r[0]); n != 1 {
			t.Fatalf("%s holds %q %d times, want once", nginxConfPath, r[0], n)
		}
		conf = strings.Replace(conf, r[0], r[1], 1)
	}
	return conf
}

// requireNginx returns the nginx binary, or skips the test when it is
// absent, unless AUTHGATE_INTEROP is set: then its absence is a failure.
func requireNginx(t *testing.T) string {
	t.Helper()
	if _, err := os.Stat(nginxBinary); err != nil {
		if os.Getenv("AUTHGATE_INTEROP") != "" {
			t.Fatalf("AUTHGATE_INTEROP is set but %s is missing (apt-get install nginx): %v", nginxBinary, err)
		}
		t.Skipf("%s not found: install Debian's nginx (apt-get install nginx) or set AUTHGATE_INTEROP=1 to require it", nginxBinary)
	}
	return nginxBinary
}

// startNginx runs nginx in the foreground with conf (and the global
// directives deploy/nginx.conf leaves to the command line) and stops it at the
// end of the test.
func startNginx(t *testing.T, bin, dir, conf, listen string) {
	t.Helper()
	path := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	global := fmt.Sprintf("daemon off; master_process off; pid %s;", filepath.Join(dir, "nginx.pid"))
	cmd := exec.Command(bin, "-p", dir, "-e", filepath.Join(dir, "error.log"), "-g", global, "-c", path)
	var out strings.Builder
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
			log, _ := os.ReadFile(filepath.Join(dir, "error.log"))
			t.Logf("nginx output:\n%s\nerror.log:\n%s", out.String(), log)
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
			log, _ := os.ReadFile(filepath.Join(dir, "error.log"))
			t.Fatalf("nginx exited: %v\n%s\n%s", err, out.String(), log)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("nginx did not start listening")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// nginxServeConfig is serveConfig with a failure limit on the API keys,
// keyed by the client address nginx sends in X-Real-IP.
var nginxServeConfig = strings.Replace(serveConfig, "cache_ttl: 0s}", "cache_ttl: 0s, failure_limit: 3, client_ip_header: X-Real-IP}", 1)

// TestNginxAuthRequest puts the serve command behind Debian's nginx
// auth_request, configured by deploy/nginx.conf, in front of an httptest
// backend that reports the identity headers it receives. Every failure
// reaches the client with authgate's status, challenge, Retry-After and
// JSON body.
func TestNginxAuthRequest(t *testing.T) {
	bin := requireNginx(t)
	if nginxServeConfig == serveConfig {
		t.Fatal("nginxServeConfig did not add the failure limit")
	}
	f := newFixture(t)
	path := f.write("authgate.yaml", nginxServeConfig)
	editorKey := createKey(t, f, path, "--subject", "bot", "--role", "editor")

	// The real command, on loopback.
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

	// A second authgate whose key store is down, behind its own nginx.
	broken := newGateway(t, serveConfig)
	brokenKey := broken.issue(t, apikey.Key{Subject: "bot"})
	broken.g.byName["keys"].store.Close()

	var hits atomic.Int64
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		seen := map[string]any{"path": r.URL.Path}
		for _, h := range []string{headerSubject, headerProvider, headerRoles, headerScopes, headerTenant, headerEmail} {
			if vs, ok := r.Header[h]; ok {
				seen[h] = vs
			}
		}
		json.NewEncoder(w).Encode(seen)
	}))
	defer backend.Close()
	backendAddr := strings.TrimPrefix(backend.URL, "http://")

	listen := freeAddr(t)
	dir := t.TempDir()
	startNginx(t, bin, dir, nginxConf(t, dir, listen, authAddr, backendAddr), listen)
	brokenListen := freeAddr(t)
	brokenDir := t.TempDir()
	startNginx(t, bin, brokenDir, nginxConf(t, brokenDir, brokenListen, strings.TrimPrefix(broken.srv.URL, "http://"), backendAddr), brokenListen)

	userToken := f.token(func(c map[string]any) { c["scope"] = "read:orders" })
	adminToken := f.token(func(c map[string]any) { c["roles"] = []any{"admin"} })
	forged := jwttest.Token("RS256", "", jwttest.Key("RS256", "attacker"), map[string]any{"iss": testIssuer, "aud": testAudience, "sub": "admin", "tenant": "acme", "exp": time.Now().Add(time.Hour).Unix()})
	badKey := "ag_" + strings.Repeat("0", 36)

	tests := []struct {
		name      string
		listen    string // default: the main nginx
		method    string
		path      string
		header    []string
		status    int
		backend   bool                // the request reached the backend
		seen      map[string][]string // identity headers the backend got; nil value: absent
		challenge string
		detail    string // the JSON body's detail
		retry     string // Retry-After
	}{
		{
			name: "valid token, spoofed identity replaced", method: "GET", path: "/orders/1",
			header: []string{"Authorization", "Bearer " + userToken, "X-Auth-Subject", "admin", "X-Auth-Roles", "admin"},
			status: 200, backend: true,
			seen: map[string][]string{headerSubject: {"alice"}, headerProvider: {"local"}, headerTenant: {"acme"}, headerScopes: {"read:orders"}, headerRoles: nil},
		},
		{
			name: "API key", method: "GET", path: "/orders/1", header: []string{"X-API-Key", editorKey},
			status: 200, backend: true, seen: map[string][]string{headerSubject: {"bot"}, headerProvider: {"keys"}, headerRoles: {"editor"}},
		},
		{
			name: "no credentials", method: "GET", path: "/orders/1",
			status: 401, challenge: `Bearer realm="api", ApiKey realm="api", header="X-API-Key"`, detail: "Authentication credentials were not provided",
		},
		{
			name: "forged token", method: "GET", path: "/orders/1", header: []string{"Authorization", "Bearer " + forged, "X-Auth-Subject", "admin"},
			status: 401, challenge: `error="invalid_token"`, detail: "Invalid token",
		},
		{
			name: "role rule", method: "POST", path: "/admin/users", header: []string{"X-API-Key", editorKey},
			status: 403, challenge: `error="insufficient_scope"`, detail: "Insufficient permissions",
		},
		{
			name: "role rule passed", method: "DELETE", path: "/admin/users/7", header: []string{"Authorization", "Bearer " + adminToken},
			status: 200, backend: true, seen: map[string][]string{headerSubject: {"alice"}, headerRoles: {"admin"}},
		},
		{
			name: "dot segments do not escape the rule", method: "POST", path: "/public/../admin/users", header: []string{"X-API-Key", editorKey},
			status: 403, challenge: `error="insufficient_scope"`,
		},
		{
			name: "anonymous rule clears spoofed identity", method: "GET", path: "/public/index.html", header: []string{"X-Auth-Subject", "admin", "X-Auth-Provider", "root"},
			status: 200, backend: true, seen: map[string][]string{headerSubject: nil, headerProvider: nil},
		},
		{
			name: "400 passed through: the client's URI header contradicts nginx's", method: "GET", path: "/admin/x",
			header: []string{"X-API-Key", editorKey, "X-Forwarded-Uri", "/public/x"},
			status: 400, challenge: `error="invalid_request"`, detail: "Invalid forwarded request",
		},
		{
			name: "503 passed through: key store down", listen: brokenListen, method: "GET", path: "/x", header: []string{"X-API-Key", brokenKey},
			status: 503, retry: authgate.RetryAfterSeconds, detail: "Authentication service unavailable",
		},
		{
			name: "token while the key store is down", listen: brokenListen, method: "GET", path: "/x", header: []string{"Authorization", "Bearer " + userToken},
			status: 200, backend: true, seen: map[string][]string{headerSubject: {"alice"}},
		},
		// The failure limit (3 per client address): these come last, as
		// every request here has nginx's client address.
		{name: "bad key 1", method: "GET", path: "/orders/1", header: []string{"X-API-Key", badKey}, status: 401, challenge: "ApiKey"},
		{name: "bad key 2", method: "GET", path: "/orders/1", header: []string{"X-API-Key", badKey}, status: 401, challenge: "ApiKey"},
		{name: "bad key 3", method: "GET", path: "/orders/1", header: []string{"X-API-Key", badKey}, status: 401, challenge: "ApiKey"},
		{
			name: "429 passed through, for a valid key of a locked-out client", method: "GET", path: "/orders/1", header: []string{"X-API-Key", editorKey},
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
			if reached := hits.Load() > before; reached != tt.backend {
				t.Fatalf("backend reached = %v, want %v", reached, tt.backend)
			}
			if tt.backend {
				var seen map[string]any
				if err := json.Unmarshal(body, &seen); err != nil {
					t.Fatalf("backend body %q: %v", body, err)
				}
				for h, want := range tt.seen {
					got, ok := seen[h]
					switch {
					case want == nil && ok:
						t.Errorf("backend got %s = %v, want it absent", h, got)
					case want != nil && fmt.Sprint(got) != fmt.Sprint(want):
						t.Errorf("backend got %s = %v, want %v", h, got, want)
					}
				}
				return
			}
			// A failure: authgate's answer, not nginx's.
			if chs := resp.Header.Values("WWW-Authenticate"); tt.challenge != "" && (len(chs) != 1 || !strings.Contains(chs[0], tt.challenge)) {
				t.Errorf("WWW-Authenticate = %q, want one holding %q", chs, tt.challenge)
			}
			if got := resp.Header.Get("Retry-After"); got != tt.retry {
				t.Errorf("Retry-After = %q, want %q", got, tt.retry)
			}
			if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("Content-Type = %q, want authgate's JSON", ct)
			}
			var eb authgate.ErrorBody
			if err := json.Unmarshal(body, &eb); err != nil || eb.Detail == "" {
				t.Fatalf("body %q is not authgate's JSON: %v", body, err)
			}
			if tt.detail != "" && eb.Detail != tt.detail {
				t.Errorf("detail = %q, want %q", eb.Detail, tt.detail)
			}
			if resp.Header.Get(headerErrorBody) != "" {
				t.Errorf("%s reached the client", headerErrorBody)
			}
		})
	}
}
