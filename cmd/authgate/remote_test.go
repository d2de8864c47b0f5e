package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/authgate/authgate/authtest"
)

// issueConfig is the example of issue 7, verbatim but for the key path.
const issueConfig = `listen: 127.0.0.1:9000
realm: api
providers:
  - {name: local, type: static, keys: keys/public.pem, algorithms: [RS256], issuer: https://issuer.test, audience: [orders-api], leeway: 30s, claims: {tenant: {essential: true}}}
  - {name: corp, type: oidc, issuer: https://login.example.com/, audience: [orders-api]}
  - {name: a0, type: auth0, domain: example.eu.auth0.com, audience: [orders-api]}
  - {name: kc, type: keycloak, base_url: https://kc.example.com, realm: demo, client_id: orders-api}
  - {name: fb, type: firebase, project_id: my-project}
  - {name: keys, type: apikey, prefix: ag, store: "sqlite:authgate.db"}
chain: [local, corp, keys]          # OR-composed in this order; default: all providers in order
rules:                              # optional, first match wins
  - {path: /admin/, methods: [POST, DELETE], roles: [admin]}
  - {path: /public/, anonymous: true}
`

// TestIssueExample builds the issue's configuration: every provider type
// through its real constructor, with no network I/O.
func TestIssueExample(t *testing.T) {
	f := newFixture(t)
	g := buildFromFile(t, f, f.write("authgate.yaml", issueConfig))
	defer g.Close()
	for _, name := range []string{"local", "corp", "a0", "kc", "fb", "keys"} {
		if p := g.byName[name]; p == nil || p.auth == nil {
			t.Errorf("provider %s not built", name)
		}
	}
	if got := len(g.rules); got != 2 {
		t.Errorf("rules = %d, want 2", got)
	}
	// Routing by issuer reaches the right provider, and an unknown issuer
	// none, without touching the network.
	for iss, want := range map[string]string{
		"https://login.example.com/":                "corp",
		"https://example.eu.auth0.com/":             "a0",
		"https://kc.example.com/realms/demo":        "kc",
		"https://securetoken.google.com/my-project": "fb",
		"https://issuer.test":                       "local",
		"https://nobody.test":                       "",
	} {
		var names []string
		for _, p := range g.route("x.y.z", iss, true) {
			names = append(names, p.cfg.Name)
		}
		if got := strings.Join(names, ","); got != want {
			t.Errorf("route(%s) = %q, want %q", iss, got, want)
		}
	}
}

// TestConstructorErrors: what only a provider's constructor knows comes
// back with the file, the line and the provider.
func TestConstructorErrors(t *testing.T) {
	tests := []struct {
		name, provider, want string
	}{
		{"oidc over http", "{name: corp, type: oidc, issuer: http://login.example.com/, audience: [a]}", "authgate.yaml:4: providers[0] (corp): oidc: "},
		{"auth0 domain with a scheme", "{name: a0, type: auth0, domain: https://example.eu.auth0.com, audience: [a]}", "authgate.yaml:4: providers[0] (a0): auth0: "},
		{"firebase project id", "{name: fb, type: firebase, project_id: Not_A_Project}", "authgate.yaml:4: providers[0] (fb): firebase: "},
		{"keycloak base URL", "{name: kc, type: keycloak, base_url: ftp://kc.example.com, realm: demo, client_id: api}", "authgate.yaml:4: providers[0] (kc): keycloak: "},
		{"apikey prefix", `{name: k, type: apikey, prefix: "a b", store: "sqlite:k.db"}`, "authgate.yaml:4: providers[0] (k): apikey: "},
		{"apikey DSN", `{name: k, type: apikey, prefix: ag, store: "mysql://x"}`, "authgate.yaml:4: providers[0].store (k): sqlstore: unsupported DSN"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			path := f.write("authgate.yaml", "listen: 127.0.0.1:0\nrealm: api\nproviders:\n  - "+tt.provider+"\n")
			r := f.runCtx(context.Background(), "", nil, "inspect", "--config", path, "a.b.c")
			if r.code != exitUsage || !strings.Contains(r.stderr, tt.want) {
				t.Errorf("inspect = %d %q, want 2 and %q", r.code, r.stderr, tt.want)
			}
		})
	}
}

// TestServeRemoteProviders serves tokens of a local OpenID issuer and a
// Keycloak realm (authtest) beside the static provider: each token is
// routed to its provider by issuer, and an issuer whose keys cannot be
// fetched is a 503.
func TestServeRemoteProviders(t *testing.T) {
	corp := authtest.NewIssuer(t, authtest.WithAudience(testAudience))
	kc := authtest.Keycloak(t, "demo")
	down := authtest.NewIssuer(t, authtest.WithAudience(testAudience))
	down.Fail(http.StatusInternalServerError)
	config := fmt.Sprintf(`providers:
  - {name: local, type: static, keys: keys/jwks.json, algorithms: [RS256], issuer: %s, audience: %s}
  - {name: corp, type: oidc, issuer: %q, audience: %s}
  - {name: kc, type: keycloak, base_url: %q, realm: demo, client_id: %s}
  - {name: down, type: oidc, issuer: %q, audience: %s}
`, testIssuer, testAudience, corp.Issuer(), testAudience, kc.BaseURL(), authtest.DefaultClientID, down.Issuer(), testAudience)
	gf := newGateway(t, config)

	tests := []struct {
		name     string
		token    string
		status   int
		provider string
		subject  string
	}{
		{"static", gf.token(nil), 200, "local", "alice"},
		{"oidc", corp.Token(map[string]any{"sub": "carol"}), 200, "corp", "carol"},
		{"keycloak access token", kc.Token(map[string]any{"sub": "dave", "realm_access": map[string]any{"roles": []any{"admin"}}}), 200, "kc", "dave"},
		{"keycloak refresh token", kc.RefreshToken(nil), 401, "", ""},
		{"issuer down", down.Token(nil), 503, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := gf.verify(t, "GET", "/verify", "Authorization", "Bearer "+tt.token)
			if resp.StatusCode != tt.status {
				t.Fatalf("status = %d, want %d (%s)", resp.StatusCode, tt.status, resp.Header.Get("WWW-Authenticate"))
			}
			if got := resp.Header.Get(headerProvider); got != tt.provider {
				t.Errorf("provider = %q, want %q", got, tt.provider)
			}
			if got := resp.Header.Get(headerSubject); got != tt.subject {
				t.Errorf("subject = %q, want %q", got, tt.subject)
			}
		})
	}
}
