package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authgate/authgate/apikey"
	"github.com/authgate/authgate/internal/jwttest"
)

// serveConfig is the configuration the serve tests run: a static RS256
// provider and an API-key store, chained, with rules.
const serveConfig = `listen: 127.0.0.1:0
realm: api
log: {format: json, level: debug}
providers:
  - name: local
    type: static
    keys: keys/jwks.json
    algorithms: [RS256]
    issuer: https://issuer.test
    audience: [orders-api]
    leeway: 5s
    claims: {tenant: {essential: true}}
  - {name: keys, type: apikey, prefix: ag, store: "sqlite:keys.db", cache_ttl: 0s}
chain: [local, keys]
rules:
  - {path: /admin/, methods: [POST, DELETE], roles: [admin]}
  - {path: /public/, anonymous: true}
  - {path: /reports, scopes: [read:reports]}
`

// gatewayFixture is a built gateway behind an httptest server.
type gatewayFixture struct {
	*fixture
	g    *gateway
	srv  *httptest.Server
	logs *lockedBuffer
}

func newGateway(t *testing.T, config string) *gatewayFixture {
	t.Helper()
	f := newFixture(t)
	cfg, err := LoadConfig(f.write("authgate.yaml", config), f.getenv)
	if err != nil {
		t.Fatal(err)
	}
	logs := &lockedBuffer{}
	logger := newLogger(cfg.Log, logs)
	g, err := build(context.Background(), cfg, buildOptions{logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.Close() })
	srv := httptest.NewServer(newHandler(g, logger))
	t.Cleanup(srv.Close)
	return &gatewayFixture{fixture: f, g: g, srv: srv, logs: logs}
}

// issue creates an API key in the fixture's store.
func (gf *gatewayFixture) issue(t *testing.T, k apikey.Key) string {
	t.Helper()
	key, _, err := gf.g.byName["keys"].keys.Manager().Issue(context.Background(), k)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

// verify sends a forward-auth request: method and path of the /verify
// request itself, then header name/value pairs.
func (gf *gatewayFixture) verify(t *testing.T, method, path string, header ...string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, gf.srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Add(header[i], header[i+1])
	}
	// A GET /verify carrying an original URI stands for nginx's subrequest,
	// whose configuration forwards the method too (cmd/authgate/README.md).
	if method == http.MethodGet && req.Header.Values("X-Forwarded-Method") == nil && req.Header.Values("X-Original-Method") == nil {
		switch {
		case req.Header.Get("X-Original-Uri") != "":
			req.Header.Set("X-Original-Method", http.MethodGet)
		case req.Header.Get("X-Forwarded-Uri") != "":
			req.Header.Set("X-Forwarded-Method", http.MethodGet)
		}
	}
	resp, err := gf.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

func TestServeVerify(t *testing.T) {
	gf := newGateway(t, serveConfig)
	editorKey := gf.issue(t, apikey.Key{Subject: "bot", Roles: []string{"editor"}, Scopes: []string{"read:reports"}, Tenant: "acme"})
	adminToken := gf.token(func(c map[string]any) { c["roles"] = []any{"admin", "x,y", "ops\r\n"} })
	userToken := gf.token(func(c map[string]any) {
		c["email"] = "alice@example.test\u0007"
		c["scope"] = "read:orders write:orders"
	})
	otherKey := jwttest.Key("RS256", "attacker")
	forged := jwttest.Token("RS256", "", otherKey, map[string]any{"iss": testIssuer, "aud": testAudience, "sub": "admin", "tenant": "acme", "exp": time.Now().Add(time.Hour).Unix()})
	expired := gf.token(func(c map[string]any) {
		c["iat"] = time.Now().Add(-2 * time.Hour).Unix()
		c["exp"] = time.Now().Add(-time.Minute).Unix()
	})
	noTenant := gf.token(func(c map[string]any) { delete(c, "tenant") })
	foreign := gf.token(func(c map[string]any) { c["iss"] = "https://elsewhere.test" })
	bearer := func(tok string) string { return "Bearer " + tok }

	tests := []struct {
		name          string
		method, path  string
		header        []string
		status        int
		want          map[string]string // response headers; "" means present and empty
		challenge     string            // substring of WWW-Authenticate
		notInResponse string
	}{
		{
			name: "valid RS256 token", method: "GET", path: "/verify",
			header: []string{"Authorization", bearer(userToken), "X-Original-URI", "/orders/1"},
			status: 200,
			want: map[string]string{"X-Auth-Subject": "alice", "X-Auth-Provider": "local", "X-Auth-Tenant": "acme",
				"X-Auth-Email": "", "X-Auth-Scopes": "read:orders,write:orders", "X-Auth-Roles": "", "Cache-Control": "no-store"},
		},
		{
			name: "roles are comma-joined, values with commas or controls left out", method: "GET", path: "/verify",
			header: []string{"Authorization", bearer(adminToken), "X-Original-URI", "/orders/1"},
			status: 200, want: map[string]string{"X-Auth-Roles": "admin"},
		},
		{
			name: "API key in X-API-Key", method: "GET", path: "/verify",
			header: []string{"X-API-Key", editorKey, "X-Original-URI", "/orders/1"},
			status: 200, want: map[string]string{"X-Auth-Subject": "bot", "X-Auth-Provider": "keys", "X-Auth-Roles": "editor", "X-Auth-Scopes": "read:reports", "X-Auth-Tenant": "acme"},
		},
		{
			name: "API key as a bearer credential", method: "GET", path: "/verify",
			header: []string{"Authorization", bearer(editorKey), "X-Original-URI", "/orders/1"},
			status: 200, want: map[string]string{"X-Auth-Subject": "bot"},
		},
		{
			name: "forged signature", method: "GET", path: "/verify",
			header: []string{"Authorization", bearer(forged), "X-Original-URI", "/orders/1"},
			status: 401, challenge: `Bearer realm="api", error="invalid_token"`, notInResponse: "admin",
		},
		{
			name: "expired token", method: "GET", path: "/verify",
			header: []string{"Authorization", bearer(expired), "X-Original-URI", "/orders/1"},
			status: 401, challenge: `error_description="Token has expired"`,
		},
		{
			name: "essential claim missing", method: "GET", path: "/verify",
			header: []string{"Authorization", bearer(noTenant), "X-Original-URI", "/orders/1"},
			status: 401, challenge: `error="invalid_token"`,
		},
		{
			name: "token of an unconfigured issuer", method: "GET", path: "/verify",
			header: []string{"Authorization", bearer(foreign), "X-Original-URI", "/orders/1"},
			status: 401, challenge: `error="invalid_token"`,
		},
		{
			name: "unknown API key", method: "GET", path: "/verify",
			header: []string{"X-API-Key", "ag_" + strings.Repeat("0", 36), "X-Original-URI", "/orders/1"},
			status: 401, challenge: "ApiKey",
		},
		{
			name: "no credentials: one challenge per scheme", method: "GET", path: "/verify",
			header: []string{"X-Original-URI", "/orders/1"},
			status: 401, challenge: `Bearer realm="api", ApiKey realm="api", header="X-API-Key"`,
		},
		{
			name: "a token and an API key at once", method: "GET", path: "/verify",
			header: []string{"Authorization", bearer(userToken), "X-API-Key", editorKey, "X-Original-URI", "/orders/1"},
			status: 400, challenge: `error="invalid_request"`,
		},
		{
			name: "spoofed identity without credentials", method: "GET", path: "/verify",
			header: []string{"X-Auth-Subject", "admin", "X-Auth-Roles", "admin", "X-Original-URI", "/orders/1"},
			status: 401, notInResponse: "admin",
		},
		{
			name: "spoofed identity with a valid token", method: "GET", path: "/verify",
			header: []string{"Authorization", bearer(userToken), "X-Auth-Subject", "admin", "X-Auth-Roles", "admin", "X-Auth-Provider", "root", "X-Original-URI", "/orders/1"},
			status: 200, want: map[string]string{"X-Auth-Subject": "alice", "X-Auth-Roles": "", "X-Auth-Provider": "local"}, notInResponse: "admin",
		},
		{
			name: "rule: role missing", method: "GET", path: "/verify",
			header: []string{"X-API-Key", editorKey, "X-Original-Method", "POST", "X-Original-URI", "/admin/users"},
			status: 403, challenge: `error="insufficient_scope"`,
		},
		{
			name: "rule: role present", method: "GET", path: "/verify",
			header: []string{"Authorization", bearer(adminToken), "X-Original-Method", "DELETE", "X-Original-URI", "/admin/users/7"},
			status: 200, want: map[string]string{"X-Auth-Subject": "alice"},
		},
		{
			name: "rule: other method", method: "GET", path: "/verify",
			header: []string{"X-API-Key", editorKey, "X-Original-Method", "GET", "X-Original-URI", "/admin/users"},
			status: 200,
		},
		{
			name: "rule: no forwarded method while rules name methods", method: "POST", path: "/verify",
			header: []string{"X-API-Key", editorKey, "X-Original-URI", "/admin/users"},
			status: 400,
		},
		{
			name: "rule: /admin/ covers /admin", method: "GET", path: "/verify",
			header: []string{"X-API-Key", editorKey, "X-Forwarded-Method", "POST", "X-Forwarded-Uri", "/admin?x=1"},
			status: 403,
		},
		{
			name: "rule: dot segments do not escape it", method: "GET", path: "/verify",
			header: []string{"X-API-Key", editorKey, "X-Forwarded-Method", "POST", "X-Forwarded-Uri", "/public/..%2fadmin/users"},
			status: 403,
		},
		{
			name: "rule: double slashes do not escape it", method: "GET", path: "/verify",
			header: []string{"X-API-Key", editorKey, "X-Forwarded-Method", "POST", "X-Forwarded-Uri", "//admin//users"},
			status: 403,
		},
		{
			name: "rule: segment boundary", method: "GET", path: "/verify",
			header: []string{"X-API-Key", editorKey, "X-Forwarded-Method", "POST", "X-Forwarded-Uri", "/administrator"},
			status: 200,
		},
		{
			name: "rule: scope present", method: "GET", path: "/verify",
			header: []string{"X-API-Key", editorKey, "X-Forwarded-Uri", "/reports/2024"},
			status: 200,
		},
		{
			name: "rule: scope missing", method: "GET", path: "/verify",
			header: []string{"Authorization", bearer(userToken), "X-Forwarded-Uri", "/reports"},
			status: 403, challenge: `scope="read:reports"`,
		},
		{
			name: "anonymous rule", method: "GET", path: "/verify",
			header: []string{"X-Original-URI", "/public/index.html", "X-Auth-Subject", "admin"},
			status: 200, want: map[string]string{"X-Auth-Subject": "", "X-Auth-Provider": ""}, notInResponse: "admin",
		},
		{
			name: "anonymous rule ignores even bad credentials", method: "GET", path: "/verify",
			header: []string{"Authorization", bearer(forged), "X-Original-URI", "/public/x"},
			status: 200, want: map[string]string{"X-Auth-Subject": ""},
		},
		{
			name: "Envoy path prefix", method: "POST", path: "/verify/admin/users",
			header: []string{"X-API-Key", editorKey},
			status: 403,
		},
		{
			name: "Envoy path prefix, anonymous", method: "GET", path: "/verify/public/x?y=1",
			status: 200,
		},
		{
			name: "no original URI while rules exist", method: "GET", path: "/verify",
			header: []string{"Authorization", bearer(userToken)},
			status: 400, challenge: `error="invalid_request"`,
		},
		{
			name: "contradicting URIs (a client's header beside the proxy's)", method: "GET", path: "/verify",
			header: []string{"X-API-Key", editorKey, "X-Forwarded-Uri", "/public/x", "X-Original-URI", "/admin/x"},
			status: 400,
		},
		{
			name: "contradicting methods", method: "GET", path: "/verify",
			header: []string{"X-API-Key", editorKey, "X-Forwarded-Method", "GET", "X-Original-Method", "POST", "X-Original-URI", "/admin/x"},
			status: 400,
		},
		{
			name: "repeated URI header", method: "GET", path: "/verify",
			header: []string{"X-API-Key", editorKey, "X-Original-URI", "/public/x", "X-Original-URI", "/admin/x"},
			status: 400,
		},
		{
			name: "relative URI", method: "GET", path: "/verify",
			header: []string{"X-API-Key", editorKey, "X-Original-URI", "admin/x"},
			status: 400,
		},
		{
			name: "agreeing URIs", method: "GET", path: "/verify",
			header: []string{"X-API-Key", editorKey, "X-Forwarded-Uri", "/orders", "X-Original-URI", "/orders"},
			status: 200,
		},
		{name: "health", method: "GET", path: "/healthz", status: 200},
		{name: "unknown path", method: "GET", path: "/nope", status: 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := gf.verify(t, tt.method, tt.path, tt.header...)
			if resp.StatusCode != tt.status {
				t.Fatalf("status = %d, want %d (WWW-Authenticate %q)", resp.StatusCode, tt.status, resp.Header.Get("WWW-Authenticate"))
			}
			for k, want := range tt.want {
				vs, ok := resp.Header[http.CanonicalHeaderKey(k)]
				if !ok || len(vs) != 1 || vs[0] != want {
					t.Errorf("%s = %q (present %v), want %q", k, vs, ok, want)
				}
			}
			if ch := resp.Header.Get("WWW-Authenticate"); !strings.Contains(ch, tt.challenge) {
				t.Errorf("WWW-Authenticate = %q, want it to hold %q", ch, tt.challenge)
			}
			if tt.status == 200 && strings.HasPrefix(tt.path, "/verify") {
				for _, h := range []string{headerSubject, headerProvider, headerRoles, headerScopes, headerPermissions, headerTenant, headerEmail} {
					if _, ok := resp.Header[h]; !ok {
						t.Errorf("%s missing: every identity header is always sent", h)
					}
				}
			}
			if tt.notInResponse != "" {
				for k, vs := range resp.Header {
					for _, v := range vs {
						if strings.Contains(v, tt.notInResponse) {
							t.Errorf("response header %s: %q echoes %q", k, v, tt.notInResponse)
						}
					}
				}
			}
		})
	}
	assertNoCredentials(t, "logs", gf.logs.String(), editorKey)
	if !strings.Contains(gf.logs.String(), `"reason":"expired"`) {
		t.Errorf("logs lack the expired rejection:\n%s", gf.logs.String())
	}
}

// TestServeStoreDown: an API-key store that fails is a 503 with Retry-After,
// never a 401 and never a pass.
func TestServeStoreDown(t *testing.T) {
	gf := newGateway(t, serveConfig)
	key := gf.issue(t, apikey.Key{Subject: "bot"})
	if resp := gf.verify(t, "GET", "/verify", "X-API-Key", key, "X-Original-URI", "/x"); resp.StatusCode != 200 {
		t.Fatalf("before: status = %d, want 200", resp.StatusCode)
	}
	if err := gf.g.byName["keys"].store.Close(); err != nil {
		t.Fatal(err)
	}
	resp := gf.verify(t, "GET", "/verify", "X-API-Key", key, "X-Original-URI", "/x")
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("status = %d, want 503", resp.StatusCode)
	}
	if ra := resp.Header.Get("Retry-After"); ra == "" {
		t.Error("503 without Retry-After")
	}
	if resp.Header.Get("X-Auth-Subject") != "" {
		t.Error("503 carries an identity")
	}
	// Tokens do not need the store.
	if resp := gf.verify(t, "GET", "/verify", "Authorization", "Bearer "+gf.token(nil), "X-Original-URI", "/x"); resp.StatusCode != 200 {
		t.Errorf("token while the store is down: status = %d, want 200", resp.StatusCode)
	}
	if !strings.Contains(gf.logs.String(), `"reason":"unavailable"`) {
		t.Errorf("logs lack the unavailable failure:\n%s", gf.logs.String())
	}
}

// TestServeWithoutRules: without rules the original URI is not needed.
func TestServeWithoutRules(t *testing.T) {
	gf := newGateway(t, strings.Split(serveConfig, "rules:")[0])
	if resp := gf.verify(t, "GET", "/verify", "Authorization", "Bearer "+gf.token(nil)); resp.StatusCode != 200 {
		t.Errorf("status = %d, want 200", resp.StatusCode)
	}
	if resp := gf.verify(t, "GET", "/verify"); resp.StatusCode != 401 {
		t.Errorf("no credentials: status = %d, want 401", resp.StatusCode)
	}
}

func TestSanitize(t *testing.T) {
	tests := []struct{ in, want string }{
		{"alice", "alice"},
		// Values that would need cleaning are left out, never rewritten: two
		// identities must not reach the backend as one header value.
		{"a\r\nX-Evil: 1", ""},
		{"a\x00b\x7fc", ""},
		{"  padded  ", ""},
		{"caf\u00e9", "caf\u00e9"},
		{"c1\u0085x", ""},
		{"bad\xffutf8", ""},
		{strings.Repeat("é", 512), strings.Repeat("é", 512)},
		{strings.Repeat("é", 513), ""},
	}
	for _, tt := range tests {
		if got := sanitize(tt.in); got != tt.want {
			t.Errorf("sanitize(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if got, want := joinList([]string{"a", "b,c", "", "d\n", "e"}), "a,e"; got != want {
		t.Errorf("joinList = %q, want %q", got, want)
	}
}

// TestServeCommand runs the serve subcommand on a real socket and stops it
// by cancelling its context.
func TestServeCommand(t *testing.T) {
	f := newFixture(t)
	path := f.write("authgate.yaml", baseConfig)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addrc := make(chan string, 1)
	done := make(chan result, 1)
	go func() { done <- f.runCtx(ctx, "", func(a string) { addrc <- a }, "serve", "--config", path) }()
	var addr string
	select {
	case addr = <-addrc:
	case r := <-done:
		t.Fatalf("serve exited early: %d\n%s", r.code, r.stderr)
	}
	tok := f.token(nil)
	req, _ := http.NewRequest("GET", "http://"+addr+"/verify", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("X-Auth-Subject") != "alice" {
		t.Errorf("verify = %d %q, want 200 alice", resp.StatusCode, resp.Header.Get("X-Auth-Subject"))
	}
	cancel()
	r := <-done
	if r.code != exitOK {
		t.Fatalf("serve = %d, want 0\n%s", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, "authgate: stopped") {
		t.Errorf("no orderly stop in the log:\n%s", r.stderr)
	}
	assertNoCredentials(t, "serve log", r.stderr, tok)
}

func TestNewLoggerFormats(t *testing.T) {
	for _, format := range []string{"json", "text"} {
		var b strings.Builder
		newLogger(LogConfig{Format: format, Level: "warn"}, &b).Info("hidden")
		newLogger(LogConfig{Format: format, Level: "warn"}, &b).Warn("shown")
		out := b.String()
		if strings.Contains(out, "hidden") || !strings.Contains(out, "shown") {
			t.Errorf("%s logger at warn wrote %q", format, out)
		}
		if format == "json" && !strings.HasPrefix(out, "{") {
			t.Errorf("json logger wrote %q", out)
		}
	}
}

// TestServeFailureLimit: with failure_limit and the header the proxy sets
// to the client's address, a client that keeps failing gets 429 while
// others keep working (they all reach serve from the proxy's address).
func TestServeFailureLimit(t *testing.T) {
	config := strings.Replace(serveConfig,
		`{name: keys, type: apikey, prefix: ag, store: "sqlite:keys.db", cache_ttl: 0s}`,
		`{name: keys, type: apikey, prefix: ag, store: "sqlite:keys.db", cache_ttl: 0s, failure_limit: 2, failure_window: 1m, client_ip_header: X-Real-IP}`, 1)
	gf := newGateway(t, config)
	good := gf.issue(t, apikey.Key{Subject: "bot", Tenant: "acme"})
	// Another last character breaks the checksum.
	repl := "A"
	if strings.HasSuffix(good, "A") {
		repl = "B"
	}
	bad := good[:len(good)-1] + repl
	at := func(ip, key string) int {
		return gf.verify(t, "GET", "/verify", "X-API-Key", key, "X-Real-IP", ip, "X-Original-URI", "/orders").StatusCode
	}
	for range 2 {
		if s := at("10.0.0.1", bad); s != http.StatusUnauthorized {
			t.Fatalf("bad key = %d, want 401", s)
		}
	}
	if s := at("10.0.0.1", good); s != http.StatusTooManyRequests {
		t.Fatalf("good key after the limit = %d, want 429", s)
	}
	if s := at("10.0.0.2", good); s != http.StatusOK {
		t.Fatalf("another client = %d, want 200", s)
	}
}

// TestServeBuildsOnlyTheChain: serve builds the providers the chain names
// and no other: an unused provider's issuer is never fetched, and an
// unused API-key store is never opened (this one cannot be).
func TestServeBuildsOnlyTheChain(t *testing.T) {
	var usedHits, unusedHits atomic.Int32
	used := make(chan struct{}, 1)
	usedSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		usedHits.Add(1)
		select {
		case used <- struct{}{}:
		default:
		}
		http.Error(w, "down", http.StatusInternalServerError)
	}))
	defer usedSrv.Close()
	unusedSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		unusedHits.Add(1)
		http.Error(w, "down", http.StatusInternalServerError)
	}))
	defer unusedSrv.Close()

	f := newFixture(t)
	path := f.write("authgate.yaml", fmt.Sprintf(`listen: 127.0.0.1:0
providers:
  - {name: local, type: static, keys: keys/public.pem, algorithms: [RS256], issuer: %s, audience: %s}
  - {name: used, type: oidc, issuer: %q, audience: %s}
  - {name: unused, type: oidc, issuer: %q, audience: %s}
  - {name: keys, type: apikey, prefix: ag, store: "sqlite:missing-dir/keys.db"}
chain: [local, used]
`, testIssuer, testAudience, usedSrv.URL, testAudience, unusedSrv.URL, testAudience))

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	status := make(chan int, 1)
	// ready runs before serve accepts requests: ask from another goroutine.
	r := f.runCtx(ctx, "", func(addr string) {
		go func() {
			defer cancel()
			defer close(status)
			select {
			case <-used: // the chain's remote provider was prefetched
			case <-time.After(10 * time.Second):
				t.Error("the chain's oidc provider was not prefetched")
			}
			req, _ := http.NewRequest("GET", "http://"+addr+"/verify", nil)
			req.Header.Set("Authorization", "Bearer "+f.token(nil))
			resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			status <- resp.StatusCode
			time.Sleep(200 * time.Millisecond) // time for a stray prefetch to arrive
		}()
	}, "serve", "--config", path)
	if r.code != exitOK {
		t.Fatalf("serve = %d, want 0; stderr:\n%s", r.code, r.stderr)
	}
	if got := <-status; got != http.StatusOK {
		t.Errorf("a token of the chain's static provider: status %d, want 200", got)
	}
	if n := unusedHits.Load(); n != 0 {
		t.Errorf("the issuer of a provider outside the chain got %d requests, want 0", n)
	}
	if strings.Contains(r.stderr, "unused") {
		t.Errorf("serve logged the unused provider:\n%s", r.stderr)
	}
}
