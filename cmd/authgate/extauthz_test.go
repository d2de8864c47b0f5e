package main

import (
	"context"
	"encoding/json"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/authgate/authgate/apikey"
)

// extAuthzClient serves gf's gateway over ext_authz gRPC on loopback and
// returns a client of it built from go-control-plane's stubs.
func extAuthzClient(t *testing.T, gf *gatewayFixture) authv3.AuthorizationClient {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := newExtAuthzServer(newHandler(gf.g, newLogger(LogConfig{Format: "json", Level: "debug"}, gf.logs)))
	go srv.Serve(ln)
	t.Cleanup(srv.Stop)
	conn, err := grpc.NewClient("passthrough:///"+ln.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return authv3.NewAuthorizationClient(conn)
}

// envoyCheck is a CheckRequest shaped as Envoy's ext_authz filter sends
// it: lower-case header names, pseudo-headers among them, the path with
// its query, and the downstream peer. header holds name/value pairs.
func envoyCheck(method, path string, header ...string) *authv3.CheckRequest {
	h := map[string]string{
		":authority":        "orders.example.test",
		":method":           method,
		":path":             path,
		":scheme":           "https",
		"user-agent":        "curl/8.5.0",
		"x-forwarded-proto": "https",
		"x-request-id":      "0b7c3a0e-5f0e-4a55-9a42-3c1c0c2c3d4e",
	}
	for i := 0; i+1 < len(header); i += 2 {
		h[strings.ToLower(header[i])] = header[i+1]
	}
	return &authv3.CheckRequest{Attributes: &authv3.AttributeContext{
		Source: &authv3.AttributeContext_Peer{Address: &corev3.Address{Address: &corev3.Address_SocketAddress{
			SocketAddress: &corev3.SocketAddress{Address: "10.0.0.7", PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: 51234}},
		}}},
		Request: &authv3.AttributeContext_Request{Http: &authv3.AttributeContext_HttpRequest{
			Id:       "12345",
			Method:   method,
			Path:     path,
			Host:     "orders.example.test",
			Scheme:   "https",
			Protocol: "HTTP/1.1",
			Headers:  h,
		}},
	}}
}

// okHeaders returns the headers an OK response sets and those it removes.
func okHeaders(t *testing.T, resp *authv3.CheckResponse) (set map[string]string, removed []string) {
	t.Helper()
	ok := resp.GetOkResponse()
	if ok == nil {
		t.Fatalf("response = %v, want an OK response", resp)
	}
	set = map[string]string{}
	for _, h := range ok.GetHeaders() {
		if h.GetAppendAction() != corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD {
			t.Errorf("header %s: append action %v, want OVERWRITE_IF_EXISTS_OR_ADD", h.GetHeader().GetKey(), h.GetAppendAction())
		}
		if h.GetAppend() != nil && h.GetAppend().GetValue() {
			t.Errorf("header %s is appended", h.GetHeader().GetKey())
		}
		set[h.GetHeader().GetKey()] = h.GetHeader().GetValue()
	}
	return set, ok.GetHeadersToRemove()
}

func TestExtAuthzCheck(t *testing.T) {
	gf := newGateway(t, serveConfig)
	client := extAuthzClient(t, gf)
	editorKey := gf.issue(t, apikey.Key{Subject: "bot", Roles: []string{"editor"}, Scopes: []string{"read:reports"}, Tenant: "acme"})
	adminToken := gf.token(func(c map[string]any) { c["roles"] = []any{"admin"} })
	userToken := gf.token(func(c map[string]any) { c["scope"] = "read:orders" })
	expired := gf.token(func(c map[string]any) {
		c["iat"] = time.Now().Add(-2 * time.Hour).Unix()
		c["exp"] = time.Now().Add(-time.Minute).Unix()
	})
	bearer := func(tok string) string { return "Bearer " + tok }
	anyIdentity := []string{"x-auth-subject", "x-auth-provider", "x-auth-roles", "x-auth-scopes", "x-auth-permissions", "x-auth-tenant", "x-auth-email"}

	tests := []struct {
		name      string
		req       *authv3.CheckRequest
		status    int               // 0: allowed
		set       map[string]string // allowed: headers set
		removed   []string          // allowed: headers removed
		code      codes.Code        // denied: CheckResponse status
		challenge string            // denied: substring of www-authenticate
		errCode   string            // denied: "error" of the JSON body
	}{
		{
			name: "valid token, client's identity headers overwritten",
			req:  envoyCheck("GET", "/orders/1?x=1", "authorization", bearer(userToken), "x-auth-subject", "admin", "x-auth-roles", "admin"),
			set:  map[string]string{"x-auth-subject": "alice", "x-auth-provider": "local", "x-auth-tenant": "acme", "x-auth-scopes": "read:orders"},
			// Empty values are removed, so the client's "admin" role is gone.
			removed: []string{"x-auth-roles", "x-auth-permissions", "x-auth-email"},
		},
		{
			name: "API key in x-api-key",
			req:  envoyCheck("GET", "/reports", "x-api-key", editorKey),
			set:  map[string]string{"x-auth-subject": "bot", "x-auth-provider": "keys", "x-auth-roles": "editor", "x-auth-scopes": "read:reports", "x-auth-tenant": "acme"},
		},
		{
			name: "rule by method: admin may DELETE under /admin/",
			req:  envoyCheck("DELETE", "/admin/users/7", "authorization", bearer(adminToken)),
			set:  map[string]string{"x-auth-subject": "alice", "x-auth-roles": "admin"},
		},
		{
			name: "rule by method: a GET under /admin/ needs no role",
			req:  envoyCheck("GET", "/admin/users/7", "authorization", bearer(userToken)),
			set:  map[string]string{"x-auth-subject": "alice"},
		},
		{
			name:    "anonymous rule by path: every identity header removed",
			req:     envoyCheck("GET", "/public/logo.png", "x-auth-subject", "admin"),
			removed: anyIdentity,
		},
		{
			name:   "no credentials",
			req:    envoyCheck("GET", "/orders/1"),
			status: 401, code: codes.Unauthenticated,
			challenge: `Bearer realm="api", ApiKey realm="api", header="X-API-Key"`, errCode: "not_authenticated",
		},
		{
			name:   "expired token",
			req:    envoyCheck("GET", "/orders/1", "authorization", bearer(expired)),
			status: 401, code: codes.Unauthenticated,
			challenge: `error_description="Token has expired"`, errCode: "invalid_token",
		},
		{
			name:   "a bearer in a binary header is no credential",
			req:    envoyCheck("GET", "/orders/1", "authorization-bin", bearer(userToken)),
			status: 401, code: codes.Unauthenticated, errCode: "not_authenticated",
		},
		{
			name:   "rule by method and path: POST under /admin/ without the role",
			req:    envoyCheck("POST", "/admin/users", "authorization", bearer(userToken)),
			status: 403, code: codes.PermissionDenied, errCode: "insufficient_scope",
		},
		{
			name:   "rule by path: /reports without the scope",
			req:    envoyCheck("GET", "/reports", "authorization", bearer(userToken)),
			status: 403, code: codes.PermissionDenied, errCode: "insufficient_scope",
		},
		{
			name:   "a token and an API key at once",
			req:    envoyCheck("GET", "/orders/1", "authorization", bearer(userToken), "x-api-key", editorKey),
			status: 400, code: codes.InvalidArgument, challenge: `error="invalid_request"`, errCode: "invalid_request",
		},
		{
			name:   "a client's x-forwarded-uri disagreeing with the path",
			req:    envoyCheck("POST", "/admin/users", "authorization", bearer(userToken), "x-forwarded-uri", "/public/x"),
			status: 400, code: codes.InvalidArgument, errCode: "invalid_request",
		},
		{
			name:   "asterisk-form path",
			req:    envoyCheck("OPTIONS", "*", "authorization", bearer(userToken)),
			status: 400, code: codes.InvalidArgument, errCode: "invalid_request",
		},
		{
			name:   "no HTTP attributes",
			req:    &authv3.CheckRequest{Attributes: &authv3.AttributeContext{}},
			status: 400, code: codes.InvalidArgument, errCode: "invalid_request",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := client.Check(context.Background(), tt.req)
			if err != nil {
				t.Fatalf("Check: %v", err)
			}
			if tt.status == 0 {
				if c := codes.Code(resp.GetStatus().GetCode()); c != codes.OK {
					t.Fatalf("status code = %v, want OK", c)
				}
				set, removed := okHeaders(t, resp)
				for k, v := range tt.set {
					if set[k] != v {
						t.Errorf("header %s = %q, want %q", k, set[k], v)
					}
				}
				for _, k := range tt.removed {
					if !slices.Contains(removed, k) {
						t.Errorf("header %s not removed (removed %v)", k, removed)
					}
				}
				// Every identity header is either set or removed.
				for _, k := range anyIdentity {
					if _, ok := set[k]; ok == slices.Contains(removed, k) {
						t.Errorf("header %s: set %v, removed %v", k, ok, !ok)
					}
				}
				return
			}
			d := resp.GetDeniedResponse()
			if d == nil {
				t.Fatalf("response = %v, want a denied response", resp)
			}
			if got := int(d.GetStatus().GetCode()); got != tt.status {
				t.Errorf("http status = %d, want %d", got, tt.status)
			}
			if c := codes.Code(resp.GetStatus().GetCode()); c != tt.code {
				t.Errorf("status code = %v, want %v", c, tt.code)
			}
			hs := map[string]string{}
			for _, h := range d.GetHeaders() {
				hs[h.GetHeader().GetKey()] = h.GetHeader().GetValue()
			}
			if tt.status == 401 && hs["www-authenticate"] == "" {
				t.Error("401 without www-authenticate")
			}
			if !strings.Contains(hs["www-authenticate"], tt.challenge) {
				t.Errorf("www-authenticate = %q, want %q in it", hs["www-authenticate"], tt.challenge)
			}
			if !strings.HasPrefix(hs["content-type"], "application/json") {
				t.Errorf("content-type = %q, want application/json", hs["content-type"])
			}
			var body struct{ Error, Detail string }
			if err := json.Unmarshal([]byte(d.GetBody()), &body); err != nil {
				t.Fatalf("body %q: %v", d.GetBody(), err)
			}
			if body.Error != tt.errCode || body.Detail == "" {
				t.Errorf("body = %+v, want error %q and a detail", body, tt.errCode)
			}
			for _, tok := range []string{userToken, adminToken, expired, editorKey} {
				if strings.Contains(d.GetBody(), tok) || strings.Contains(hs["www-authenticate"], tok) {
					t.Error("denied response carries the credential")
				}
			}
		})
	}
}

// TestExtAuthzMatchesVerify: a denied Check answers with the status,
// challenge and body /verify sends for the same request.
func TestExtAuthzMatchesVerify(t *testing.T) {
	gf := newGateway(t, serveConfig)
	client := extAuthzClient(t, gf)
	tok := gf.token(func(c map[string]any) { c["iss"] = "https://elsewhere.test" })
	resp := gf.verify(t, "POST", "/verify/orders/1", "Authorization", "Bearer "+tok)
	check, err := client.Check(context.Background(), envoyCheck("POST", "/orders/1", "authorization", "Bearer "+tok))
	if err != nil {
		t.Fatal(err)
	}
	d := check.GetDeniedResponse()
	if got := int(d.GetStatus().GetCode()); got != resp.StatusCode {
		t.Errorf("Check status = %d, /verify %d", got, resp.StatusCode)
	}
	for _, h := range d.GetHeaders() {
		if h.GetHeader().GetKey() == "www-authenticate" && h.GetHeader().GetValue() != resp.Header.Get("WWW-Authenticate") {
			t.Errorf("Check challenge = %q, /verify %q", h.GetHeader().GetValue(), resp.Header.Get("WWW-Authenticate"))
		}
	}
	if got, want := d.GetBody(), resp.Header.Get(headerErrorBody); got != want || got == "" {
		t.Errorf("Check body = %q, /verify %q", got, want)
	}
}

// TestExtAuthzStoreDown: an API-key store that fails is a 503 with
// Retry-After, never an OK.
func TestExtAuthzStoreDown(t *testing.T) {
	gf := newGateway(t, serveConfig)
	client := extAuthzClient(t, gf)
	key := gf.issue(t, apikey.Key{Subject: "bot"})
	if err := gf.g.byName["keys"].store.Close(); err != nil {
		t.Fatal(err)
	}
	resp, err := client.Check(context.Background(), envoyCheck("GET", "/x", "x-api-key", key))
	if err != nil {
		t.Fatal(err)
	}
	d := resp.GetDeniedResponse()
	if d == nil || d.GetStatus().GetCode() != 503 || codes.Code(resp.GetStatus().GetCode()) != codes.Unavailable {
		t.Fatalf("response = %v, want denied 503 Unavailable", resp)
	}
	var retry string
	for _, h := range d.GetHeaders() {
		if h.GetHeader().GetKey() == "retry-after" {
			retry = h.GetHeader().GetValue()
		}
	}
	if retry == "" {
		t.Error("503 without retry-after")
	}
}

// TestServeExtAuthz runs serve with an ext_authz listener: Check answers
// on it, and it stops with serve.
func TestServeExtAuthz(t *testing.T) {
	f := newFixture(t)
	path := f.write("authgate.yaml", strings.Replace(baseConfig, "realm: api\n", "realm: api\next_authz: {listen: "+freeAddr(t)+"}\n", 1))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addrc, gaddrc := make(chan string, 1), make(chan string, 1)
	done := make(chan result, 1)
	go func() {
		var out, errb lockedBuffer
		e := &env{ctx: ctx, stdin: strings.NewReader(""), stdout: &out, stderr: &errb, getenv: f.getenv,
			ready:         func(a string) { addrc <- a },
			extAuthzReady: func(a string) { gaddrc <- a },
		}
		done <- result{runEnv(e, []string{"serve", "--config", path}), out.String(), errb.String()}
	}()
	var gaddr string
	for gaddr == "" {
		select {
		case gaddr = <-gaddrc:
		case r := <-done:
			t.Fatalf("serve exited early: %d\n%s", r.code, r.stderr)
		}
	}
	<-addrc
	conn, err := grpc.NewClient("passthrough:///"+gaddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	resp, err := authv3.NewAuthorizationClient(conn).Check(ctx, envoyCheck("GET", "/orders/1", "authorization", "Bearer "+f.token(nil)))
	if err != nil {
		t.Fatal(err)
	}
	if set, _ := okHeaders(t, resp); set["x-auth-subject"] != "alice" {
		t.Errorf("x-auth-subject = %q, want alice", set["x-auth-subject"])
	}
	cancel()
	if r := <-done; r.code != exitOK || !strings.Contains(r.stderr, "authgate: serving ext_authz") {
		t.Fatalf("serve = %d, want 0 and the ext_authz address logged\n%s", r.code, r.stderr)
	}
	if _, err := net.DialTimeout("tcp", gaddr, time.Second); err == nil {
		t.Error("ext_authz listener still open after serve stopped")
	}
}

func TestExtAuthzConfig(t *testing.T) {
	tests := []struct {
		name    string
		edit    func(string) string
		want    string // the error, at its line; "" for a valid file
		wantAdr string // ExtAuthz.Listen of a valid file
	}{
		{name: "no section", edit: func(s string) string { return s }},
		{name: "listener", edit: after("realm: api\n", "ext_authz: {listen: 127.0.0.1:9191}\n"), wantAdr: "127.0.0.1:9191"},
		{
			name: "address without a port",
			edit: after("realm: api\n", "ext_authz:\n  listen: localhost\n"),
			want: `authgate.yaml:4: ext_authz.listen: invalid address "localhost": want host:port`,
		},
		{
			name: "listen missing",
			edit: after("realm: api\n", "ext_authz: {}\n"),
			want: "authgate.yaml:3: ext_authz: listen is required",
		},
		{
			name: "unknown field",
			edit: after("realm: api\n", "ext_authz: {listen: 127.0.0.1:9191, path: /x}\n"),
			want: "authgate.yaml:3: ext_authz.path: unknown field (want one of listen)",
		},
		{
			name: "same address as listen",
			edit: after("realm: api\n", "ext_authz: {listen: 127.0.0.1:0}\n"),
			want: `authgate.yaml:3: ext_authz.listen: must differ from listen "127.0.0.1:0"`,
		},
		{
			name: "same address as metrics",
			edit: after("realm: api\n", "metrics: {listen: 127.0.0.1:9090}\next_authz: {listen: 127.0.0.1:9090}\n"),
			want: `authgate.yaml:4: ext_authz.listen: must differ from metrics.listen "127.0.0.1:9090"`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			cfg, err := LoadConfig(f.write("authgate.yaml", tt.edit(baseConfig)), f.getenv)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("LoadConfig: %v", err)
				}
				if cfg.ExtAuthz.Listen != tt.wantAdr {
					t.Errorf("ExtAuthz.Listen = %q, want %q", cfg.ExtAuthz.Listen, tt.wantAdr)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("LoadConfig error = %v, want %q", err, tt.want)
			}
		})
	}
}

// TestExtAuthzReload: each Check runs the configuration of the moment, and
// a reload that moves ext_authz.listen says a restart is needed.
func TestExtAuthzReload(t *testing.T) {
	f := newFixture(t)
	write := func(realm, listen string) string {
		return f.write("authgate.yaml", strings.Replace(baseConfig, "realm: api\n", "realm: "+realm+"\next_authz: {listen: "+listen+"}\n", 1))
	}
	path := write("v1", "127.0.0.1:9191")
	cfg, err := LoadConfig(path, f.getenv)
	if err != nil {
		t.Fatal(err)
	}
	var logs lockedBuffer
	gen, err := newGeneration(context.Background(), cfg, &logs, nil)
	if err != nil {
		t.Fatal(err)
	}
	h := &handler{}
	h.cur.Store(gen)
	t.Cleanup(func() { h.cur.Load().close() })
	l, err := startExtAuthz("127.0.0.1:0", h)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.shutdown(context.Background()) })
	conn, err := grpc.NewClient("passthrough:///"+l.ln.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	client := authv3.NewAuthorizationClient(conn)
	challenge := func() string {
		t.Helper()
		resp, err := client.Check(context.Background(), envoyCheck("GET", "/orders/1"))
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range resp.GetDeniedResponse().GetHeaders() {
			if h.GetHeader().GetKey() == "www-authenticate" {
				return h.GetHeader().GetValue()
			}
		}
		return ""
	}
	if ch := challenge(); !strings.Contains(ch, `realm="v1"`) {
		t.Fatalf("challenge = %q, want realm v1", ch)
	}
	write("v2", "127.0.0.1:9292")
	h.reload(&env{ctx: context.Background(), stderr: &logs, getenv: f.getenv}, path, "", nil)
	if ch := challenge(); !strings.Contains(ch, `realm="v2"`) {
		t.Errorf("after the reload the challenge is %q, want realm v2", ch)
	}
	if !strings.Contains(logs.String(), "authgate: ext_authz.listen changed: restart to apply it") {
		t.Errorf("moved ext_authz.listen not reported:\n%s", logs.String())
	}
}
