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

	"github.com/authgate/authgate/apikey"
	"github.com/authgate/authgate/internal/jwttest"
)

// nginxBinary is Debian's nginx (package "nginx", which has the
// auth_request module).
const nginxBinary = "/usr/sbin/nginx"

// nginxConf puts authgate in front of a backend with auth_request. The
// identity headers are copied from the auth answer to the proxied request,
// replacing whatever the client sent (an empty value removes the header).
// auth_request turns every status but 2xx, 401 and 403 into a 500: the
// @authgate_error location gives 503 (with Retry-After) and 400 back their
// own status. /broken/ asks a second authgate whose key store is down.
const nginxConf = `daemon off;
master_process off;
worker_processes 1;
pid {{dir}}/nginx.pid;
error_log {{dir}}/error.log info;
events { worker_connections 64; }
http {
    access_log {{dir}}/access.log;
    client_body_temp_path {{dir}}/client_body;
    proxy_temp_path {{dir}}/proxy;
    fastcgi_temp_path {{dir}}/fastcgi;
    uwsgi_temp_path {{dir}}/uwsgi;
    scgi_temp_path {{dir}}/scgi;

    upstream authgate { server {{authgate}}; }
    upstream authgate_broken { server {{broken}}; }
    upstream backend { server {{backend}}; }

    server {
        listen {{listen}};

        location = /_authgate {
            internal;
            proxy_pass http://authgate/verify;
            proxy_pass_request_body off;
            proxy_set_header Content-Length "";
            proxy_set_header X-Original-URI $request_uri;
            proxy_set_header X-Original-Method $request_method;
        }
        location = /_authgate_broken {
            internal;
            proxy_pass http://authgate_broken/verify;
            proxy_pass_request_body off;
            proxy_set_header Content-Length "";
            proxy_set_header X-Original-URI $request_uri;
            proxy_set_header X-Original-Method $request_method;
        }
        location @authgate_error {
            if ($auth_status = 503) {
                add_header Retry-After 5 always;
                return 503;
            }
            if ($auth_status = 400) {
                return 400;
            }
            return 500;
        }

        location / {
            auth_request /_authgate;
            {{identity}}
            proxy_pass http://backend;
        }
        location /broken/ {
            auth_request /_authgate_broken;
            {{identity}}
            proxy_pass http://backend;
        }
    }
}
`

// nginxIdentity is pasted into each protected location.
const nginxIdentity = `auth_request_set $auth_status $upstream_status;
            error_page 500 = @authgate_error;
            auth_request_set $auth_subject $upstream_http_x_auth_subject;
            auth_request_set $auth_provider $upstream_http_x_auth_provider;
            auth_request_set $auth_roles $upstream_http_x_auth_roles;
            auth_request_set $auth_scopes $upstream_http_x_auth_scopes;
            auth_request_set $auth_permissions $upstream_http_x_auth_permissions;
            auth_request_set $auth_tenant $upstream_http_x_auth_tenant;
            auth_request_set $auth_email $upstream_http_x_auth_email;
            proxy_set_header X-Auth-Subject $auth_subject;
            proxy_set_header X-Auth-Provider $auth_provider;
            proxy_set_header X-Auth-Roles $auth_roles;
            proxy_set_header X-Auth-Scopes $auth_scopes;
            proxy_set_header X-Auth-Permissions $auth_permissions;
            proxy_set_header X-Auth-Tenant $auth_tenant;
            proxy_set_header X-Auth-Email $auth_email;`

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

// startNginx runs nginx in the foreground with conf and stops it at the
// end of the test.
func startNginx(t *testing.T, bin, dir, conf, listen string) {
	t.Helper()
	path := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-p", dir, "-e", filepath.Join(dir, "error.log"), "-c", path)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
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
		case err := <-exited:
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

// TestNginxAuthRequest puts the serve command behind Debian's nginx
// auth_request, in front of an httptest backend that reports the identity
// headers it receives.
func TestNginxAuthRequest(t *testing.T) {
	bin := requireNginx(t)
	f := newFixture(t)
	path := f.write("authgate.yaml", serveConfig)
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

	// A second authgate whose key store is down.
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

	listen := freeAddr(t)
	dir := t.TempDir()
	conf := strings.NewReplacer(
		"{{dir}}", dir, "{{listen}}", listen, "{{authgate}}", authAddr,
		"{{broken}}", strings.TrimPrefix(broken.srv.URL, "http://"),
		"{{backend}}", strings.TrimPrefix(backend.URL, "http://"),
		"{{identity}}", nginxIdentity,
	).Replace(nginxConf)
	startNginx(t, bin, dir, conf, listen)

	userToken := f.token(func(c map[string]any) { c["scope"] = "read:orders" })
	adminToken := f.token(func(c map[string]any) { c["roles"] = []any{"admin"} })
	forged := jwttest.Token("RS256", "", jwttest.Key("RS256", "attacker"), map[string]any{"iss": testIssuer, "aud": testAudience, "sub": "admin", "tenant": "acme", "exp": time.Now().Add(time.Hour).Unix()})

	tests := []struct {
		name      string
		method    string
		path      string
		header    []string
		status    int
		backend   bool                // the request reached the backend
		seen      map[string][]string // identity headers the backend got; nil value: absent
		challenge string
		retry     bool
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
			status: 401, challenge: `Bearer realm="api", ApiKey realm="api", header="X-API-Key"`,
		},
		{
			name: "forged token", method: "GET", path: "/orders/1", header: []string{"Authorization", "Bearer " + forged, "X-Auth-Subject", "admin"},
			status: 401, challenge: `error="invalid_token"`,
		},
		{
			name: "role rule", method: "POST", path: "/admin/users", header: []string{"X-API-Key", editorKey},
			status: 403,
		},
		{
			name: "role rule passed", method: "DELETE", path: "/admin/users/7", header: []string{"Authorization", "Bearer " + adminToken},
			status: 200, backend: true, seen: map[string][]string{headerSubject: {"alice"}, headerRoles: {"admin"}},
		},
		{
			name: "dot segments do not escape the rule", method: "POST", path: "/public/../admin/users", header: []string{"X-API-Key", editorKey},
			status: 403,
		},
		{
			name: "anonymous rule clears spoofed identity", method: "GET", path: "/public/index.html", header: []string{"X-Auth-Subject", "admin", "X-Auth-Provider", "root"},
			status: 200, backend: true, seen: map[string][]string{headerSubject: nil, headerProvider: nil},
		},
		{
			name: "400 passed through: the client's URI header contradicts nginx's", method: "GET", path: "/admin/x",
			header: []string{"X-API-Key", editorKey, "X-Forwarded-Uri", "/public/x"},
			status: 400,
		},
		{
			name: "503 passed through: key store down", method: "GET", path: "/broken/x", header: []string{"X-API-Key", brokenKey},
			status: 503, retry: true,
		},
		{
			name: "token while the key store is down", method: "GET", path: "/broken/x", header: []string{"Authorization", "Bearer " + userToken},
			status: 200, backend: true, seen: map[string][]string{headerSubject: {"alice"}},
		},
	}
	client := &http.Client{Timeout: 10 * time.Second}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := hits.Load()
			req, err := http.NewRequest(tt.method, "http://"+listen+tt.path, nil)
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
			if ch := resp.Header.Get("WWW-Authenticate"); !strings.Contains(ch, tt.challenge) {
				t.Errorf("WWW-Authenticate = %q, want it to hold %q", ch, tt.challenge)
			}
			if tt.retry && resp.Header.Get("Retry-After") == "" {
				t.Error("503 without Retry-After")
			}
			if !tt.backend {
				return
			}
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
		})
	}
}
