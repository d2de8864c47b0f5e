package main

import (
	"context"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/authgate/authgate/apikey"
	"github.com/authgate/authgate/authtest"
	"github.com/authgate/authgate/google"
)

// TestMain makes the process trust the certificate of httptest's TLS
// servers, which every https stand-in of authtest (Okta, Google, IAP,
// GitHub, Kubernetes) serves: serve fetches keys with the system's roots,
// which on Linux SSL_CERT_FILE names, the way an operator trusts a private
// CA. The roots are loaded on first use, so this must come before any test.
func TestMain(m *testing.M) {
	os.Exit(runWithTestCA(m))
}

func runWithTestCA(m *testing.M) int {
	srv := httptest.NewTLSServer(http.NotFoundHandler())
	cert := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	srv.Close()
	dir, err := os.MkdirTemp("", "authgate-test-ca")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(path, cert, 0o600); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	os.Setenv("SSL_CERT_FILE", path)
	return m.Run()
}

// newGatewayEnv is newGateway with environment variables for the file.
func newGatewayEnv(t *testing.T, env map[string]string, config string) *gatewayFixture {
	t.Helper()
	f := newFixture(t)
	for k, v := range env {
		f.env[k] = v
	}
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

const (
	testPool        = "eu-west-1_AbCdEfGhI"
	testIAPAudience = "/projects/123456789/global/backendServices/987654321"
	otherTenant     = "11111111-2222-3333-4444-555555555555"
	secretVar       = "AG_TEST_INTROSPECTION_SECRET"
)

// TestIdentityProviderTypes serves /verify for each preset type against
// its authtest stand-in: a good token is 200 with the provider's name and
// subject, and a token the type must refuse is 401.
func TestIdentityProviderTypes(t *testing.T) {
	pool := authtest.Cognito(t, testPool)
	org := authtest.Okta(t, "default")
	ms := authtest.Entra(t)
	accounts := authtest.Google(t)
	iap := authtest.IAP(t, testIAPAudience)
	actions := authtest.GitHub(t)
	cluster := authtest.Kubernetes(t, "")
	cluster.AllowAnonymous()
	pods := authtest.Kubernetes(t, "https://kubernetes.default.svc.cluster.local")
	mount := pods.MountServiceAccount(t, "kube-system", "authgate")
	opaque := authtest.NewIntrospectionServer(t)
	revoked := opaque.Token(nil)
	opaque.Revoke(revoked)

	tests := []struct {
		name     string
		provider string // the entry, as a flow mapping
		header   string // where the token goes (Authorization: Bearer by default)
		good     string
		subject  string
		bad      string // a token the entry must refuse with 401
		check    func(t *testing.T)
	}{
		{
			name:     "cognito access tokens",
			provider: fmt.Sprintf("{name: pool, type: cognito, user_pool_id: %s, region: eu-west-1, token_use: access, client_ids: [%s], base_url: %q}", testPool, pool.ClientID(), pool.BaseURL()),
			good:     pool.AccessToken(map[string]any{"cognito:groups": []any{"admins"}}),
			subject:  pool.Subject(),
			bad:      pool.IDToken(nil), // another token_use
		},
		{
			name:     "cognito ID tokens",
			provider: fmt.Sprintf("{name: pool, type: cognito, user_pool_id: %s, token_use: id, client_ids: %s, base_url: %q}", testPool, pool.ClientID(), pool.BaseURL()),
			good:     pool.IDToken(nil),
			subject:  pool.Subject(),
			bad:      pool.IDToken(map[string]any{"aud": "another-client"}),
		},
		{
			name:     "okta default server",
			provider: fmt.Sprintf("{name: okta, type: okta, domain: %q, client_ids: [%s]}", org.Domain(), org.ClientID()),
			good:     org.Token(nil),
			subject:  "alice@example.test",
			bad:      org.OrgToken(nil), // the org server's: refused, use introspection
		},
		{
			name:     "entra single tenant",
			provider: fmt.Sprintf("{name: corp, type: entra, tenant: %s, authority: %q, audience: %s}", ms.TenantID(), ms.URL(), ms.Audience()),
			good:     ms.Token(nil),
			subject:  ms.Subject(),
			bad:      ms.Token(map[string]any{"tid": otherTenant}),
		},
		{
			name:     "entra multi-tenant allow-list, v1 tokens",
			provider: fmt.Sprintf("{name: corp, type: entra, tenant: organizations, tenants: [%s], v1: true, authority: %q, v1_issuer_base: %q, audience: %q}", ms.TenantID(), ms.URL(), strings.TrimSuffix(ms.V1Issuer(ms.TenantID()), "/"+ms.TenantID()+"/"), ms.AppIDURI()),
			good:     ms.V1Token(nil),
			subject:  ms.Subject(),
			bad:      ms.V1Token(map[string]any{"tid": otherTenant}),
		},
		{
			name:     "google ID tokens, scheme-less issuer",
			provider: fmt.Sprintf("{name: g, type: google, audience: %q, hosted_domains: example.test, require_verified_email: true, certs_url: %q}", accounts.ClientID(), accounts.CertsURL()),
			good:     accounts.IDToken(map[string]any{"iss": google.SchemelessIssuer}),
			subject:  accounts.Subject(),
			bad:      accounts.IDToken(map[string]any{"hd": nil}), // a consumer account
		},
		{
			name:     "google IAP assertion in its header",
			provider: fmt.Sprintf("{name: iap, type: google_iap, audience: %q, hosted_domains: [example.test], keys_url: %q}", testIAPAudience, iap.KeysURL()),
			header:   google.IAPHeader,
			good:     iap.Assertion(map[string]any{"sub": "accounts.google.com:1234"}),
			subject:  "accounts.google.com:1234",
			bad:      iap.Assertion(map[string]any{"aud": "/projects/123456789/apps/another"}),
		},
		{
			name: "github actions",
			provider: fmt.Sprintf("{name: deploy, type: github, audience: https://github.com/octo-org, repositories: octo-org/octo-repo, refs: [refs/heads/main], environments: [prod], jwks_url: %q}",
				actions.JWKSURL()),
			good:    actions.Token(nil),
			subject: "repo:octo-org/octo-repo:environment:prod",
			bad:     actions.Token(map[string]any{"environment": "staging"}),
		},
		{
			name:     "kubernetes by discovery",
			provider: fmt.Sprintf("{name: k8s, type: kubernetes, issuer: %q, audience: %q, namespaces: [payments]}", cluster.Issuer(), authtest.DefaultAudience),
			good:     cluster.Token("payments", "api", nil),
			subject:  "system:serviceaccount:payments:api",
			bad:      cluster.Token("billing", "api", nil),
		},
		{
			name: "kubernetes in cluster",
			provider: fmt.Sprintf("{name: k8s, type: kubernetes, issuer: %q, audience: %q, service_accounts: [payments:api], in_cluster: true, api_server: %q, ca_file: %q, token_file: %q}",
				pods.Issuer(), authtest.DefaultAudience, pods.APIServer(), filepath.Join(mount, "ca.crt"), filepath.Join(mount, "token")),
			good:    pods.Token("payments", "api", nil),
			subject: "system:serviceaccount:payments:api",
			bad:     pods.APIAccessToken("payments", "api", nil), // the API server's audience
		},
		{
			name: "introspection",
			provider: fmt.Sprintf("{name: opaque, type: introspection, issuer: %q, endpoint: %q, client_id: %s, client_secret_env: %s, auth_method: client_secret_post, audience: %q, cache_size: 10, cache_ttl: 1m}",
				opaque.Issuer(), opaque.Endpoint(), opaque.ClientID(), secretVar, authtest.DefaultAudience),
			good:    opaque.Token(map[string]any{"sub": "carol"}),
			subject: "carol",
			bad:     revoked,
			check: func(t *testing.T) {
				if got := opaque.LastRequest().AuthMethod; got != "client_secret_post" {
					t.Errorf("auth method = %q, want client_secret_post", got)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gf := newGatewayEnv(t, map[string]string{secretVar: opaque.ClientSecret()}, "providers:\n  - "+tt.provider+"\n")
			name := gf.g.cfg.Providers[0].Name
			send := func(token string) *http.Response {
				if tt.header != "" {
					return gf.verify(t, "GET", "/verify", tt.header, token)
				}
				return gf.verify(t, "GET", "/verify", "Authorization", "Bearer "+token)
			}
			resp := send(tt.good)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("good token: status = %d, want 200 (%s)", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
			}
			if got := resp.Header.Get(headerProvider); got != name {
				t.Errorf("provider = %q, want %q", got, name)
			}
			if got := resp.Header.Get(headerSubject); got != tt.subject {
				t.Errorf("subject = %q, want %q", got, tt.subject)
			}
			if resp := send(tt.bad); resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("bad token: status = %d, want 401", resp.StatusCode)
			}
			if tt.check != nil {
				tt.check(t)
			}
			assertNoCredentials(t, "serve log", gf.logs.String(), opaque.ClientSecret())
		})
	}
}

// TestServeProviderChain serves one chain of Cognito, Okta, GitHub Actions,
// introspection and an API key: each credential reaches its provider, and
// a token of an identity provider the file does not configure is refused
// without a request to anyone.
func TestServeProviderChain(t *testing.T) {
	pool := authtest.Cognito(t, testPool)
	org := authtest.Okta(t, "default")
	actions := authtest.GitHub(t)
	opaque := authtest.NewIntrospectionServer(t)
	stranger := authtest.Google(t) // configured nowhere
	gf := newGatewayEnv(t, map[string]string{secretVar: opaque.ClientSecret()}, fmt.Sprintf(`providers:
  - {name: pool, type: cognito, user_pool_id: %s, token_use: access, client_ids: [%s], base_url: %q}
  - {name: okta, type: okta, domain: %q, org_tokens_not_mine: true}
  - {name: deploy, type: github, audience: https://github.com/octo-org, repository_owners: [octo-org], jwks_url: %q}
  - {name: opaque, type: introspection, issuer: %q, endpoint: %q, client_id: %s, client_secret_env: %s, audience: %q}
  - {name: keys, type: apikey, prefix: ag, store: "sqlite:keys.db"}
chain: [pool, okta, deploy, opaque, keys]
rules:
  - {path: /admin/, roles: [admins]}
`, testPool, pool.ClientID(), pool.BaseURL(), org.Domain(), actions.JWKSURL(), opaque.Issuer(), opaque.Endpoint(), opaque.ClientID(), secretVar, authtest.DefaultAudience))
	key := gf.issue(t, apikey.Key{Subject: "bot", Roles: []string{"admins"}})

	tests := []struct {
		name     string
		header   []string
		path     string
		status   int
		provider string
	}{
		{"cognito", []string{"Authorization", "Bearer " + pool.AccessToken(map[string]any{"cognito:groups": []any{"admins"}})}, "/admin/x", 200, "pool"},
		{"cognito without the group", []string{"Authorization", "Bearer " + pool.AccessToken(nil)}, "/admin/x", 403, ""},
		{"okta", []string{"Authorization", "Bearer " + org.Token(nil)}, "/orders", 200, "okta"},
		{"github", []string{"Authorization", "Bearer " + actions.Token(nil)}, "/orders", 200, "deploy"},
		{"github of another owner", []string{"Authorization", "Bearer " + actions.Token(map[string]any{"repository_owner": "evil", "repository": "evil/repo"})}, "/orders", 401, ""},
		{"opaque token", []string{"Authorization", "Bearer " + opaque.Token(nil)}, "/orders", 200, "opaque"},
		{"API key", []string{"X-API-Key", key}, "/admin/x", 200, "keys"},
		// With org_tokens_not_mine, the org server's token goes on to
		// introspection, which refuses a JWT of another issuer unasked.
		{"okta org server", []string{"Authorization", "Bearer " + org.OrgToken(nil)}, "/orders", 401, ""},
		{"google, not configured", []string{"Authorization", "Bearer " + stranger.IDToken(nil)}, "/orders", 401, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := opaque.Requests()
			resp := gf.verify(t, "GET", "/verify", append(tt.header, "X-Forwarded-Uri", tt.path)...)
			if resp.StatusCode != tt.status {
				t.Fatalf("status = %d, want %d (%s)", resp.StatusCode, tt.status, resp.Header.Get("WWW-Authenticate"))
			}
			if got := resp.Header.Get(headerProvider); got != tt.provider {
				t.Errorf("provider = %q, want %q", got, tt.provider)
			}
			if tt.provider != "opaque" && opaque.Requests() != before {
				t.Errorf("the introspection endpoint was called for a credential that is not its own")
			}
		})
	}
	if n := stranger.CertsRequests(); n != 0 {
		t.Errorf("the unconfigured provider's keys were fetched %d times, want 0", n)
	}
	if n := org.OrgJWKSRequests(); n != 0 {
		t.Errorf("the Okta org server's keys were fetched %d times, want 0", n)
	}
}

// TestIdentityProviderConfigErrors: a missing required field is reported
// at the entry's line, an invalid value at its own line, with the field's
// path and a reason in the file's vocabulary.
func TestIdentityProviderConfigErrors(t *testing.T) {
	tests := []struct {
		name   string
		entry  string // lines after "  - name: p" (line 2), each indented by 4
		want   string
		noEnvs bool
	}{
		{"cognito without token_use", "type: cognito\nuser_pool_id: eu-west-1_AbCdEfGhI\nclient_ids: [app]",
			"authgate.yaml:2: providers[0].token_use: a token_use is required", false},
		{"cognito token_use", "type: cognito\nuser_pool_id: eu-west-1_AbCdEfGhI\ntoken_use: both\nclient_ids: [app]",
			`authgate.yaml:5: providers[0].token_use: unknown token_use "both" (want access or id)`, false},
		{"cognito pool id", "type: cognito\nuser_pool_id: AbCdEfGhI\ntoken_use: id\nclient_ids: [app]",
			`authgate.yaml:4: providers[0].user_pool_id: "AbCdEfGhI" is not a user pool ID`, false},
		{"cognito region", "type: cognito\nuser_pool_id: eu-west-1_AbCdEfGhI\nregion: us-east-1\ntoken_use: id\nclient_ids: [app]",
			`authgate.yaml:5: providers[0].region: "us-east-1" is not the user pool's region (eu-west-1)`, false},
		{"cognito audience of ID tokens", "type: cognito\nuser_pool_id: eu-west-1_AbCdEfGhI\ntoken_use: id\nclient_ids: [app]\naudience: api",
			"authgate.yaml:7: providers[0].audience: only for token_use: access", false},
		{"cognito authorized parties", "type: cognito\nuser_pool_id: eu-west-1_AbCdEfGhI\ntoken_use: access\nclient_ids: [app]\nauthorized_parties: web",
			"authgate.yaml:7: providers[0].authorized_parties: not a field of type cognito", false},
		{"okta without domain", "type: okta\nserver_id: default",
			"authgate.yaml:2: providers[0].domain: a domain is required", false},
		{"okta org_tokens_not_mine", "type: okta\ndomain: example.okta.com\norg_tokens_not_mine: \"yes\"",
			"authgate.yaml:5: providers[0].org_tokens_not_mine: expected true or false", false},
		{"okta custom server without audience", "type: okta\ndomain: example.okta.com\nserver_id: aus1a2b3c4d5e6f7g8h9",
			"authgate.yaml:5: providers[0].audience: an audience is required for a server other than \"default\"", false},
		{"okta domain", "type: okta\ndomain: https://example.okta.com",
			"authgate.yaml:2: providers[0] (p): okta: ", false},
		{"entra without audience", "type: entra\ntenant: organizations\nany_tenant: true",
			"authgate.yaml:2: providers[0].audience: an audience is required", false},
		{"entra tenant by domain", "type: entra\ntenant: contoso.com\naudience: api",
			`authgate.yaml:4: providers[0].tenant: "contoso.com" is not a tenant ID (a GUID), organizations or common`, false},
		{"entra tenants and any_tenant", "type: entra\ntenant: common\ntenants: [" + otherTenant + "]\nany_tenant: true\naudience: api",
			"authgate.yaml:6: providers[0].any_tenant: set tenants or any_tenant, not both", false},
		{"entra multi-tenant without allow-list", "type: entra\ntenant: organizations\naudience: api",
			"authgate.yaml:4: providers[0].tenants: a multi-tenant tenant needs tenants", false},
		{"entra authority", "type: entra\ntenant: " + otherTenant + "\nauthority: http://login.example.com\naudience: api",
			"authgate.yaml:5: providers[0].authority: URL \"http://login.example.com\" is not https", false},
		{"google without audience", "type: google\nhosted_domains: example.com",
			"authgate.yaml:2: providers[0].audience: an audience is required", false},
		{"google certs_url", "type: google\naudience: app.apps.googleusercontent.com\ncerts_url: ftp://www.googleapis.com/oauth2/v3/certs",
			`authgate.yaml:5: providers[0].certs_url: URL "ftp://www.googleapis.com/oauth2/v3/certs": scheme "ftp" not allowed`, false},
		{"google_iap without audience", "type: google_iap\nkeys_url: https://www.gstatic.com/iap/verify/public_key-jwk",
			"authgate.yaml:2: providers[0].audience: an audience is required", false},
		{"google_iap audience shape", "type: google_iap\naudience: my-project",
			"authgate.yaml:2: providers[0] (p): google: iap: audience", false},
		{"github without audience", "type: github\nrepositories: [octo-org/octo-repo]",
			"authgate.yaml:2: providers[0].audience: an audience is required", false},
		{"github without repository restriction", "type: github\naudience: https://github.com/octo-org\nrefs: [refs/heads/main]",
			"authgate.yaml:2: providers[0].repositories: repositories or repository_owners is required", false},
		{"github insecure_any_repository", "type: github\naudience: https://github.com/octo-org\nrepository_owners: octo-org\ninsecure_any_repository: 1",
			"authgate.yaml:6: providers[0].insecure_any_repository: expected true or false", false},
		{"kubernetes without issuer", "type: kubernetes\naudience: payments\nnamespaces: [payments]",
			"authgate.yaml:2: providers[0].issuer: an issuer is required", false},
		{"kubernetes without allow-list", "type: kubernetes\nissuer: https://k8s.example.com\naudience: payments",
			"authgate.yaml:2: providers[0].namespaces: namespaces or service_accounts is required", false},
		{"kubernetes ca_file outside the cluster", "type: kubernetes\nissuer: https://k8s.example.com\naudience: payments\nnamespaces: [payments]\nca_file: ca.crt",
			"authgate.yaml:7: providers[0].ca_file: needs in_cluster: true", false},
		{"kubernetes allow-all with a list", "type: kubernetes\nissuer: https://k8s.example.com\naudience: payments\nnamespaces: [payments]\nallow_all_service_accounts: true",
			"authgate.yaml:7: providers[0].allow_all_service_accounts: cannot be combined", false},
		{"introspection without client_secret_env", "type: introspection\nissuer: https://as.example.com\nendpoint: https://as.example.com/introspect\nclient_id: api\naudience: api",
			"authgate.yaml:2: providers[0].client_secret_env: a client_secret_env is required", false},
		{"introspection literal secret", "type: introspection\nissuer: https://as.example.com\nendpoint: https://as.example.com/introspect\nclient_id: api\nclient_secret: s3cr3t-value\nclient_secret_env: " + secretVar + "\naudience: api",
			"authgate.yaml:7: providers[0].client_secret: secrets are never read from the configuration file: put the value in an environment variable and name it with client_secret_env", false},
		{"introspection unset secret variable", "type: introspection\nissuer: https://as.example.com\nendpoint: https://as.example.com/introspect\nclient_id: api\nclient_secret_env: " + secretVar + "\naudience: api",
			"authgate.yaml:7: providers[0].client_secret_env: environment variable " + secretVar + " is not set", true},
		{"introspection auth_method", "type: introspection\nissuer: https://as.example.com\nendpoint: https://as.example.com/introspect\nclient_id: api\nclient_secret_env: " + secretVar + "\nauth_method: private_key_jwt\naudience: api",
			`authgate.yaml:8: providers[0].auth_method: unknown auth_method "private_key_jwt" (want client_secret_basic or client_secret_post)`, false},
		{"introspection endpoint", "type: introspection\nissuer: https://as.example.com\nendpoint: http://as.example.com/introspect\nclient_id: api\nclient_secret_env: " + secretVar + "\naudience: api",
			"authgate.yaml:5: providers[0].endpoint: URL \"http://as.example.com/introspect\" is not https", false},
		{"introspection algorithms", "type: introspection\nissuer: https://as.example.com\nendpoint: https://as.example.com/introspect\nclient_id: api\nclient_secret_env: " + secretVar + "\naudience: api\nalgorithms: [RS256]",
			"authgate.yaml:9: providers[0].algorithms: not a field of type introspection", false},
		{"introspection timeout 0s", "type: introspection\nissuer: https://as.example.com\nendpoint: https://as.example.com/introspect\nclient_id: api\nclient_secret_env: " + secretVar + "\naudience: api\ntimeout: 0s",
			"authgate.yaml:9: providers[0].timeout: must be positive", false},
		{"introspection timeout over the maximum", "type: introspection\nissuer: https://as.example.com\nendpoint: https://as.example.com/introspect\nclient_id: api\nclient_secret_env: " + secretVar + "\naudience: api\ntimeout: 1m",
			"authgate.yaml:2: providers[0] (p): introspection: ", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			if !tt.noEnvs {
				f.env[secretVar] = "s3cr3t-value"
			}
			config := "providers:\n  - name: p\n    " + strings.ReplaceAll(tt.entry, "\n", "\n    ") + "\n"
			_, err := ParseConfig(f.path("authgate.yaml"), []byte(config), f.getenv)
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("ParseConfig error = %v, want a *ConfigError", err)
			}
			if len(ce.Errors) != 1 || !strings.HasPrefix(ce.Errors[0].Error(), tt.want) {
				t.Errorf("ParseConfig error =\n%v\nwant one error starting\n%s", err, tt.want)
			}
			assertNoCredentials(t, "the error", err.Error(), "s3cr3t-value")
		})
	}
}

// TestInspectIdentityProviders: inspect names the provider of an IAP
// assertion and of an opaque token, and checks each where serve would
// find it (IAP's header, the bearer token).
func TestInspectIdentityProviders(t *testing.T) {
	iap := authtest.IAP(t, testIAPAudience)
	opaque := authtest.NewIntrospectionServer(t)
	stranger := authtest.Google(t)
	f := newFixture(t)
	f.env[secretVar] = opaque.ClientSecret()
	path := f.write("authgate.yaml", fmt.Sprintf(`providers:
  - {name: iap, type: google_iap, audience: %q, keys_url: %q}
  - {name: opaque, type: introspection, issuer: %q, endpoint: %q, client_id: %s, client_secret_env: %s, audience: %q}
`, testIAPAudience, iap.KeysURL(), opaque.Issuer(), opaque.Endpoint(), opaque.ClientID(), secretVar, authtest.DefaultAudience))
	tests := []struct {
		name  string
		token string
		code  int
		want  []string
	}{
		{"IAP assertion", iap.Assertion(nil), exitOK, []string{"provider: iap (type google_iap, in the chain)", "verdict: accepted"}},
		{"opaque token", opaque.Token(nil), exitOK, []string{"provider: opaque (type introspection, in the chain)", "verdict: accepted"}},
		{"JWT of another issuer", stranger.IDToken(nil), exitFailure, []string{"provider: none (no provider is configured for issuer", "verdict: rejected"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := f.run("", "inspect", "--config", path, "--", tt.token) // an opaque token may start with "-"
			if r.code != tt.code {
				t.Fatalf("inspect = %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, tt.code, r.stdout, r.stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(r.stdout, w) {
					t.Errorf("inspect output lacks %q:\n%s", w, r.stdout)
				}
			}
			assertNoCredentials(t, "inspect output", r.stdout+r.stderr, opaque.ClientSecret())
		})
	}
}

// TestREADMEConfiguration parses the configuration README.md shows: every
// provider type in it builds, and the chain composes.
func TestREADMEConfiguration(t *testing.T) {
	data, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(data), "## Configuration\n\n```yaml\n")
	config, _, closed := strings.Cut(rest, "```")
	if !ok || !closed {
		t.Fatal("README.md has no yaml block under ## Configuration")
	}
	f := newFixture(t)
	f.env["AS_CLIENT_SECRET"] = "s3cr3t-value"
	if _, err := ParseConfig(f.path("authgate.yaml"), []byte(config), f.getenv); err != nil {
		t.Fatalf("the README's configuration: %v", err)
	}
}
