package main

// Regression tests for defects found in review. Each failed before its fix and
// pins the fixed behaviour; see the comments for the scenario.

import (
	"net/http"
	"strings"
	"testing"

	"github.com/authgate/authgate/apikey"
)

// reviewMethodConfig has an anonymous rule limited to read methods and an
// admin rule limited to write methods.
const reviewMethodConfig = `listen: 127.0.0.1:0
realm: api
providers:
  - name: local
    type: static
    keys: keys/jwks.json
    algorithms: [RS256]
    issuer: https://issuer.test
    audience: [orders-api]
  - {name: keys, type: apikey, prefix: ag, store: "sqlite:keys.db", cache_ttl: 0s}
chain: [local, keys]
rules:
  - {path: /files/, methods: [GET, HEAD], anonymous: true}
  - {path: /admin/, methods: [POST, DELETE], roles: [admin]}
`

// nginx's auth_request subrequest is always a GET, whatever the client's
// method (checked against Debian's nginx: a client DELETE reaches the auth
// server as "GET /verify"). serve's usage text says "nginx subrequests …
// keep it" and falls back to r.Method when no X-*-Method header is sent.
// With the common nginx snippet that only sets X-Original-URI, every
// request is therefore matched as GET: an anonymous GET-only rule opens
// DELETE/POST to everyone, and a POST/DELETE-only role rule never applies.
// When rules restrict methods, the original method must come from a header
// (or Envoy's path_prefix mode), not from the /verify request's own method.
func TestRegressionMethodFallbackToVerifyRequestMethod(t *testing.T) {
	gf := newGateway(t, reviewMethodConfig)
	// What nginx sends for "DELETE /files/report.pdf" without credentials
	// when the location sets only X-Original-URI.
	req, _ := http.NewRequest("GET", gf.srv.URL+"/verify", nil)
	req.Header.Set("X-Original-URI", "/files/report.pdf")
	resp, err := gf.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("request with rules restricted by method but no forwarded method: status 200 (anonymous), want 400: the original method is unknown and nginx subrequests are always GET")
	}
	// A client of a proxy that forwards client headers and sets no method
	// header chooses the method the rules see.
	editor := gf.issue(t, apikey.Key{Subject: "bot", Roles: []string{"editor"}})
	resp = gf.verify(t, "DELETE", "/verify", "X-API-Key", editor, "X-Original-URI", "/admin/users/1", "X-Forwarded-Method", "GET")
	if resp.StatusCode == http.StatusOK {
		t.Errorf("DELETE /verify with a client-sent X-Forwarded-Method: GET: status 200, want 400 (the request's own method and the header disagree) or 403")
	}
}

// Rule paths are matched on Go's reading of the URI, but nginx forwards the
// raw $request_uri to the backend, and common backends read it differently:
// Tomcat/Spring/Jetty strip ";params" from each segment (so "..;" is a dot
// segment and "/admin;x" is "/admin"), Node's url parsing drops "#…".
// serveConfig has {path: /admin/, methods: [POST, DELETE], roles: [admin]}
// and {path: /public/, anonymous: true}.
func TestRegressionRulePathParserDifferentials(t *testing.T) {
	gf := newGateway(t, serveConfig)
	editor := gf.issue(t, apikey.Key{Subject: "bot", Roles: []string{"editor"}, Tenant: "acme"})
	tests := []struct {
		name   string
		uri    string
		header []string
	}{
		{"dot-dot with path parameter escapes into anonymous /public/", "/public/..;/admin/users", nil},
		{"path parameter on the admin segment skips the admin rule", "/admin;jsessionid=1/users", []string{"X-API-Key", editor}},
		{"fragment after the admin segment skips the admin rule", "/admin#/users", []string{"X-API-Key", editor}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := append([]string{"X-Original-Method", "POST", "X-Original-URI", tt.uri}, tt.header...)
			resp := gf.verify(t, "GET", "/verify", h...)
			if resp.StatusCode == http.StatusOK {
				t.Errorf("POST %s: status 200 (subject %q), want 400/401/403", tt.uri, resp.Header.Get("X-Auth-Subject"))
			}
		})
	}
}

// writeIdentity "cleans" identity values by deleting control characters and
// trimming spaces instead of refusing them, so two different verified
// values become the same header value. A tenant claim "acme\u0007" (a
// claim the application may copy from user input, e.g. Firebase custom
// claims) is sent to the backend as X-Auth-Tenant: acme. The same happens
// for roles ("adm\u0000in" → "admin") while serve's own rules compare the
// raw value and deny: the gateway and the backend disagree on who the
// caller is. SECURITY.md#subject: no normalisation before use.
func TestRegressionIdentityHeadersCollideAfterCleaning(t *testing.T) {
	gf := newGateway(t, strings.Split(serveConfig, "rules:")[0])
	tok := gf.token(func(c map[string]any) {
		c["tenant"] = "acme\u0007"
		c["roles"] = []any{"adm\u0000in"}
	})
	resp := gf.verify(t, "GET", "/verify", "Authorization", "Bearer "+tok, "X-Original-URI", "/orders/1")
	if resp.StatusCode != http.StatusOK {
		t.Skipf("token not accepted (status %d): provider refuses control characters", resp.StatusCode)
	}
	if got := resp.Header.Get("X-Auth-Tenant"); got == "acme" {
		t.Errorf("X-Auth-Tenant = %q for verified tenant %q: another tenant's identity", got, "acme\u0007")
	}
	if got := resp.Header.Get("X-Auth-Roles"); got == "admin" {
		t.Errorf("X-Auth-Roles = %q for verified role %q", got, "adm\u0000in")
	}
}
