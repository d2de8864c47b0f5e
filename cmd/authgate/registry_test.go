package main

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/authgate/authgate/authtest"
	"github.com/authgate/authgate/providers"
)

// TestAllErrorsAtOnce: mistakes of every kind in one file (a bad value, an
// unknown field, a missing field, a duplicate name, an unknown chain
// member, a constructor's refusal, two providers claiming one issuer) are
// reported in one run, in the order of the file, each at the line of the
// entry at fault.
func TestAllErrorsAtOnce(t *testing.T) {
	f := newFixture(t)
	config := `listen: 127.0.0.1:0
providers:
  - {name: keys, type: apikey, prefix: ag, store: "sqlite:keys.db"}
  - {name: one, type: static, keys: keys/public.pem, algorithms: [RS256], issuer: https://issuer.test, audience: api}
  - {name: two, type: static, keys: keys/jwks.json, algorithms: [RS256], issuer: https://issuer.test, audience: api}
  - {name: corp, type: oidc, issuer: http://login.example.com/, audience: api}
  - {name: bad, type: static, keys: keys/public.pem, algorithms: [RS256], issuer: https://x.test, audience: api, leeway: 3x}
  - {name: one, type: auth0, domain: example.eu.auth0.com, audience: api}
  - {name: kc, type: keycloak, realm: demo, client_id: api, colour: blue}
chain: [keys, one, two, corp, nope]
`
	want := []struct {
		line   int
		path   string
		reason string
	}{
		{4, "chain", `chain: one and two both claim issuer "https://issuer.test" (two at line 5)`},
		{6, "providers[3] (corp)", "oidc: "},
		{7, "providers[4].leeway", `invalid duration "3x"`},
		{8, "providers[5].name", `duplicate provider name "one" (first at line 4)`},
		{9, "providers[6].colour", "unknown field"},
		{9, "providers[6].base_url", "a base_url is required"},
		{10, "chain", `unknown provider "nope"`},
	}
	_, err := ParseConfig(f.path("authgate.yaml"), []byte(config), f.getenv)
	var ce *ConfigError
	if !errors.As(err, &ce) {
		t.Fatalf("ParseConfig error = %v, want a *ConfigError", err)
	}
	if len(ce.Errors) != len(want) {
		t.Fatalf("ParseConfig reported %d errors, want %d:\n%v", len(ce.Errors), len(want), err)
	}
	for i, w := range want {
		got := ce.Errors[i]
		if got.Line != w.line || got.Path != w.path || !strings.Contains(got.Reason, w.reason) {
			t.Errorf("error %d = %v, want authgate.yaml:%d: %s: …%s…", i, got, w.line, w.path, w.reason)
		}
	}
	// serve reports the same, and exits 2.
	r := f.run("", "serve", "--config", f.write("authgate.yaml", config))
	if r.code != exitUsage || strings.Count(r.stderr, "authgate.yaml:") != len(want) {
		t.Errorf("serve = %d, want 2 and %d errors; stderr:\n%s", r.code, len(want), r.stderr)
	}
}

// TestChainConflictLine: a conflict between two members of the chain is
// reported at the line of the earlier of the two, whatever comes first in
// the file, and names the line of the other.
func TestChainConflictLine(t *testing.T) {
	const providers = `providers:
  - {name: keys, type: apikey, prefix: ag, store: "sqlite:keys.db"}
  - {name: one, type: static, keys: keys/public.pem, algorithms: [RS256], issuer: https://issuer.test, audience: api}
  - {name: two, type: static, keys: keys/jwks.json, algorithms: [RS256], issuer: https://issuer.test, audience: api}
`
	tests := []struct {
		name  string
		chain string
		want  string
	}{
		{"default chain", "", `authgate.yaml:3: chain: chain: one and two both claim issuer "https://issuer.test" (two at line 4)`},
		{"explicit chain", "chain: [keys, one, two]\n", `authgate.yaml:3: chain: chain: one and two both claim issuer "https://issuer.test" (two at line 4)`},
		{"reversed chain", "chain: [two, keys, one]\n", `authgate.yaml:4: chain: chain: two and one both claim issuer "https://issuer.test" (one at line 3)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			_, err := ParseConfig(f.path("authgate.yaml"), []byte(providers+tt.chain), f.getenv)
			if err == nil || err.Error() != tt.want {
				t.Errorf("ParseConfig error =\n%v\nwant\n%s", err, tt.want)
			}
		})
	}
}

// TestStringForList: wherever a list is expected, a single string is a
// list of one, claim values included.
func TestStringForList(t *testing.T) {
	gf := newGateway(t, `providers:
  - {name: local, type: static, keys: keys/public.pem, algorithms: RS256, issuer: https://issuer.test, audience: orders-api,
     authorized_parties: web, token_types: JWT, claims: {plan: {values: pro}}}
chain: local
rules:
  - {path: /admin/, methods: post, roles: admin, scopes: write, permissions: delete}
`)
	local := gf.g.cfg.Providers[0]
	rule := gf.g.cfg.Rules[0]
	checks := []struct {
		name      string
		got, want []any
	}{
		{"algorithms", anys(local.Token.Algorithms), anys([]string{"RS256"})},
		{"audience", anys(local.Token.Audience), anys([]string{"orders-api"})},
		{"authorized_parties", anys(local.Token.AuthorizedParties), anys([]string{"web"})},
		{"token_types", anys(local.Token.TokenTypes), anys([]string{"JWT"})},
		{"claims.plan.values", local.Token.Claims["plan"].Values, []any{"pro"}},
		{"chain", anys(gf.g.cfg.Chain), anys([]string{"local"})},
		{"methods", anys(rule.Methods), anys([]string{"POST"})},
		{"roles", anys(rule.Roles), anys([]string{"admin"})},
		{"scopes", anys(rule.Scopes), anys([]string{"write"})},
		{"permissions", anys(rule.Permissions), anys([]string{"delete"})},
	}
	for _, c := range checks {
		if !slices.Equal(c.got, c.want) {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	for plan, status := range map[string]int{"pro": 200, "free": 401} {
		token := gf.token(func(c map[string]any) { c["plan"] = plan })
		if resp := gf.verify(t, "GET", "/verify", "Authorization", "Bearer "+token, "X-Forwarded-Uri", "/"); resp.StatusCode != status {
			t.Errorf("plan %s: status = %d, want %d", plan, resp.StatusCode, status)
		}
	}
}

func anys[T any](s []T) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

// TestSharedOptions: the shared token and fetch options reach every type
// that takes them, and the types' own new fields reach their packages.
func TestSharedOptions(t *testing.T) {
	tests := []struct {
		name     string
		provider string
		want     string // substring of the error; "" for none
	}{
		{"keycloak token cache and roles claim", "{name: kc, type: keycloak, base_url: https://kc.example.com, realm: demo, client_id: api, cache_size: 100, cache_ttl: 1m, roles_claim: groups}", ""},
		{"firebase token cache", "{name: fb, type: firebase, project_id: my-project, cache_size: 100}", ""},
		{"static authorized parties", "{name: s, type: static, keys: keys/public.pem, algorithms: [RS256], issuer: https://i.test, audience: api, authorized_parties: web}", ""},
		{"cache_size at the SDK's maximum", fmt.Sprintf("{name: s, type: static, keys: keys/public.pem, algorithms: [RS256], issuer: https://i.test, audience: api, cache_size: %d}", providers.MaxCacheSize), ""},
		{"cache_size over the SDK's maximum", fmt.Sprintf("{name: s, type: static, keys: keys/public.pem, algorithms: [RS256], issuer: https://i.test, audience: api, cache_size: %d}", providers.MaxCacheSize+1), fmt.Sprintf("providers[0].cache_size: %d is not an integer between 0 and %d", providers.MaxCacheSize+1, providers.MaxCacheSize)},
		{"fetch options", "{name: corp, type: oidc, issuer: https://login.example.com/, audience: api, cooldown: 30s, max_key_age: 1h, refresh_interval: 10m}", ""},
		{"cooldown reaches the key set", "{name: corp, type: oidc, issuer: https://login.example.com/, audience: api, cooldown: 2h}", "authgate.yaml:4: providers[0] (corp): oidc: corp: "},
		{"keycloak cache TTL reaches the verifier", "{name: kc, type: keycloak, base_url: https://kc.example.com, realm: demo, client_id: api, cache_size: 10, cache_ttl: 1h}", "authgate.yaml:4: providers[0] (kc): keycloak: kc: "},
		{"zero cooldown", "{name: a0, type: auth0, domain: example.eu.auth0.com, audience: api, cooldown: 0s}", "authgate.yaml:4: providers[0].cooldown: must be positive"},
		{"no fetch options for static keys", "{name: s, type: static, keys: keys/public.pem, algorithms: [RS256], issuer: https://i.test, audience: api, cooldown: 1m}", "providers[0].cooldown: not a field of type static"},
		{"firebase fixes the audience", "{name: fb, type: firebase, project_id: my-project, audience: api}", "providers[0].audience: not a field of type firebase"},
		{"keycloak tokens_not_before_refresh alone", "{name: kc, type: keycloak, base_url: https://kc.example.com, realm: demo, client_id: api, tokens_not_before_refresh: 5m}", "providers[0].tokens_not_before_refresh: needs tokens_not_before: true"},
		{"keycloak refresh out of bounds", "{name: kc, type: keycloak, base_url: https://kc.example.com, realm: demo, client_id: api, tokens_not_before: true, tokens_not_before_refresh: 2s}", "providers[0] (kc): keycloak: TokensNotBeforeRefresh"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			_, err := ParseConfig(f.path("authgate.yaml"), []byte("listen: 127.0.0.1:0\nrealm: api\nproviders:\n  - "+tt.provider+"\n"), f.getenv)
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("ParseConfig error = %v, want none", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("ParseConfig error = %v, want %q", err, tt.want)
			}
		})
	}
}

// TestKeycloakOwnFields: legacy_auth_prefix and tokens_not_before reach
// the Keycloak provider.
func TestKeycloakOwnFields(t *testing.T) {
	kc := authtest.Keycloak(t, "demo")
	kc.SetTokensNotBefore(time.Now().Add(-time.Minute))
	old := kc.Token(map[string]any{"sub": "dave", "iat": time.Now().Add(-time.Hour).Unix(), "exp": time.Now().Add(time.Hour).Unix()})
	tests := []struct {
		name   string
		extra  string
		status int
	}{
		{"tokens_not_before unset", "", 200},
		{"tokens_not_before", ", tokens_not_before: true, tokens_not_before_refresh: 30s", 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gf := newGateway(t, fmt.Sprintf("providers:\n  - {name: kc, type: keycloak, base_url: %q, realm: demo, client_id: %s%s}\n",
				kc.BaseURL(), authtest.DefaultClientID, tt.extra))
			if resp := gf.verify(t, "GET", "/verify", "Authorization", "Bearer "+old); resp.StatusCode != tt.status {
				t.Errorf("a token issued before tokens-not-before: status = %d, want %d", resp.StatusCode, tt.status)
			}
		})
	}

	f := newFixture(t)
	g := buildFromFile(t, f, f.write("authgate.yaml", "providers:\n  - {name: kc, type: keycloak, base_url: https://kc.example.com, realm: demo, client_id: api, legacy_auth_prefix: true}\n"))
	defer g.Close()
	for iss, want := range map[string]int{"https://kc.example.com/auth/realms/demo": 1, "https://kc.example.com/realms/demo": 0} {
		if got := len(g.route("x.y.z", iss, true)); got != want {
			t.Errorf("legacy_auth_prefix: route(%s) = %d providers, want %d", iss, got, want)
		}
	}
}

// TestRegistry checks the entries' data: no key twice in a type, no
// secret-looking key, every required key one of the type's, every type
// constructible.
func TestRegistry(t *testing.T) {
	for _, typ := range registry {
		t.Run(typ.name, func(t *testing.T) {
			keys := keysOf(typ.specs(&ProviderConfig{}))
			seen := map[string]bool{"name": true, "type": true}
			for _, k := range keys {
				if seen[k] {
					t.Errorf("key %s twice", k)
				}
				seen[k] = true
				if _, secret := secretFields[k]; secret {
					t.Errorf("key %s is refused as a secret", k)
				}
			}
			for _, r := range typ.required {
				for _, k := range r.keys {
					if !seen[k] {
						t.Errorf("required key %s is not a key of the type", k)
					}
				}
			}
			if typ.build == nil || typ.settings == nil {
				t.Error("entry without settings or build")
			}
			// Every type whose keys come from the network takes the fetch
			// options, the unknown-kid cooldown among them.
			remote := !slices.Contains([]string{"static", "introspection", "apikey"}, typ.name)
			if remote != seen["cooldown"] || remote != seen["max_key_age"] || remote != seen["refresh_interval"] {
				t.Errorf("fetch options settable = %v, want %v", seen["cooldown"], remote)
			}
		})
	}
}
