package main

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/authgate/authgate/providers"
)

// baseConfig is valid; the error cases edit one thing in it. Line numbers
// matter to the tests.
const baseConfig = `listen: 127.0.0.1:0
realm: api
providers:
  - name: local
    type: static
    keys: keys/public.pem
    algorithms: [RS256]
    issuer: https://issuer.test
    audience: [orders-api]
    leeway: 30s
  - name: keys
    type: apikey
    prefix: ag
    store: "sqlite:keys.db"
`

func TestConfigErrors(t *testing.T) {
	tests := []struct {
		name    string
		edit    func(string) string
		env     map[string]string
		want    []string // substrings of stderr, in order
		wantNot []string // never in stderr (secrets)
		code    int
	}{
		{name: "valid", edit: func(s string) string { return s }, code: exitOK},
		{
			name: "unknown field",
			edit: after("    leeway: 30s\n", "    colour: blue\n"),
			want: []string{"authgate.yaml:11: providers[0].colour: unknown field"},
		},
		{
			name: "unknown top-level field",
			edit: after("realm: api\n", "listn: 127.0.0.1:1\n"),
			want: []string{"authgate.yaml:3: listn: unknown field"},
		},
		{
			name: "metrics listener",
			edit: after("realm: api\n", "metrics: {listen: 127.0.0.1:9090}\n"),
			code: exitOK,
		},
		{
			name: "metrics address without a port",
			edit: after("realm: api\n", "metrics:\n  listen: localhost\n"),
			want: []string{`authgate.yaml:4: metrics.listen: invalid address "localhost": want host:port`},
		},
		{
			name: "metrics without listen",
			edit: after("realm: api\n", "metrics: {}\n"),
			want: []string{"authgate.yaml:3: metrics: listen is required"},
		},
		{
			name: "metrics unknown field",
			edit: after("realm: api\n", "metrics:\n  path: /m\n"),
			want: []string{"authgate.yaml:4: metrics.path: unknown field (want one of listen)"},
		},
		{
			name: "metrics on the listen address",
			edit: after("realm: api\n", "metrics: {listen: 127.0.0.1:0}\n"),
			want: []string{`authgate.yaml:3: metrics.listen: must differ from listen "127.0.0.1:0"`},
		},
		{
			name: "bad duration",
			edit: replace("leeway: 30s", "leeway: 3x"),
			want: []string{`authgate.yaml:10: providers[0].leeway: invalid duration "3x"`},
		},
		{
			name: "duration without unit",
			edit: replace("leeway: 30s", "leeway: 30"),
			want: []string{`authgate.yaml:10: providers[0].leeway: invalid duration "30": add a unit`},
		},
		{
			name: "leeway over the maximum",
			edit: replace("leeway: 30s", "leeway: 10m"),
			want: []string{`authgate.yaml:10: providers[0].leeway: leeway "10m" is over the maximum of 5m0s`},
		},
		{
			name:    "literal secret",
			edit:    after("    leeway: 30s\n", "    secret: hunter2-hunter2-hunter2-hunter2-x\n"),
			want:    []string{"authgate.yaml:11: providers[0].secret: secrets are never read from the configuration file", "secret_env"},
			wantNot: []string{"hunter2"},
		},
		{
			name:    "literal pepper",
			edit:    after(`    store: "sqlite:keys.db"`+"\n", "    pepper: s3cr3t-pepper\n"),
			want:    []string{"authgate.yaml:15: providers[1].pepper: secrets are never read", "pepper_env"},
			wantNot: []string{"s3cr3t"},
		},
		{
			name:    "password in the store DSN",
			edit:    replace(`store: "sqlite:keys.db"`, `store: "postgres://app:pa55word@127.0.0.1/keys"`),
			want:    []string{"authgate.yaml:14: providers[1].store: the DSN holds a password", "store_env"},
			wantNot: []string{"pa55word"},
		},
		{
			name: "unknown provider type",
			edit: replace("type: apikey", "type: ldap"),
			want: []string{`authgate.yaml:12: providers[1].type: unknown provider type "ldap"`},
		},
		{
			name: "field of another type",
			edit: after("    leeway: 30s\n", "    domain: example.eu.auth0.com\n"),
			want: []string{"authgate.yaml:11: providers[0].domain: not a field of type static"},
		},
		{
			name: "missing secret_env variable",
			edit: replace("keys: keys/public.pem\n    algorithms: [RS256]", "secret_env: AG_TEST_SECRET\n    algorithms: [HS256]"),
			want: []string{"authgate.yaml:6: providers[0].secret_env: environment variable AG_TEST_SECRET is not set"},
		},
		{
			name: "missing pepper_env variable",
			edit: after(`    store: "sqlite:keys.db"`+"\n", "    pepper_env: AG_TEST_PEPPER\n"),
			want: []string{"authgate.yaml:15: providers[1].pepper_env: environment variable AG_TEST_PEPPER is not set"},
		},
		{
			name: "short secret from the environment",
			edit: replace("keys: keys/public.pem\n    algorithms: [RS256]", "secret_env: AG_TEST_SECRET\n    algorithms: [HS256]"),
			env:  map[string]string{"AG_TEST_SECRET": "short"},
			want: []string{"authgate.yaml:4: providers[0] (local): static: ", "shorter than the 32 bytes"},
		},
		{
			name: "duplicate names",
			edit: replace("name: keys", "name: local"),
			want: []string{`authgate.yaml:11: providers[1].name: duplicate provider name "local" (first at line 4)`},
		},
		{
			name: "chain names an unknown provider",
			edit: after(`    store: "sqlite:keys.db"`+"\n", "chain: [local, nope]\n"),
			want: []string{`authgate.yaml:15: chain: unknown provider "nope"`},
		},
		{
			name: "chain names a provider twice",
			edit: after(`    store: "sqlite:keys.db"`+"\n", "chain: [local, local]\n"),
			want: []string{`authgate.yaml:15: chain: provider "local" is listed twice`},
		},
		{
			name: "two providers claim one issuer",
			edit: after(`    store: "sqlite:keys.db"`+"\n", "  - {name: again, type: static, keys: keys/jwks.json, algorithms: [RS256], issuer: https://issuer.test, audience: x}\n"),
			want: []string{`authgate.yaml:4: chain: chain: local and again both claim issuer "https://issuer.test"`},
		},
		{
			name: "rule with an unknown method",
			edit: after(`    store: "sqlite:keys.db"`+"\n", "rules:\n  - {path: /admin/, methods: [GET, FETCH]}\n"),
			want: []string{`authgate.yaml:16: rules[0].methods: unknown HTTP method "FETCH"`},
		},
		{
			name: "anonymous rule with roles",
			edit: after(`    store: "sqlite:keys.db"`+"\n", "rules:\n  - {path: /x/, anonymous: true, roles: [admin]}\n"),
			want: []string{"authgate.yaml:16: rules[0]: an anonymous rule cannot require roles"},
		},
		{
			name: "rule path not absolute",
			edit: after(`    store: "sqlite:keys.db"`+"\n", "rules:\n  - path: admin/\n"),
			want: []string{`authgate.yaml:16: rules[0].path: invalid path "admin/"`},
		},
		{
			name: "unsupported algorithm",
			edit: replace("algorithms: [RS256]", "algorithms: [RS256, none]"),
			want: []string{`authgate.yaml:7: providers[0].algorithms: unsupported algorithm "none"`},
		},
		{
			name: "missing issuer",
			edit: replace("    issuer: https://issuer.test\n", ""),
			want: []string{"authgate.yaml:4: providers[0].issuer: an issuer is required"},
		},
		{
			name: "missing key file",
			edit: replace("keys/public.pem", "keys/nope.pem"),
			want: []string{"authgate.yaml:6: providers[0].keys (local): open ", "nope.pem: no such file"},
		},
		{
			name: "HMAC secret in a key file",
			edit: replace("keys/public.pem", "keys/oct.json"),
			want: []string{"authgate.yaml:6: providers[0].keys (local): oct.json holds an HMAC secret"},
		},
		{
			name: "bad listen address",
			edit: replace("listen: 127.0.0.1:0", "listen: nowhere"),
			want: []string{`authgate.yaml:1: listen: invalid address "nowhere"`},
		},
		{
			name: "YAML syntax error",
			edit: after("realm: api\n", "providers: [\n"),
			want: []string{"authgate.yaml:", "invalid YAML"},
		},
		{
			name: "wrong kind",
			edit: replace("audience: [orders-api]", "audience: {a: b}"),
			want: []string{"authgate.yaml:9: providers[0].audience: expected a list of strings, found a mapping"},
		},
		{
			name: "claim rule without a check",
			edit: after("    leeway: 30s\n", "    claims: {tenant: {essential: false}}\n"),
			want: []string{"authgate.yaml:11: providers[0].claims.tenant: a claim rule needs essential: true, value or values"},
		},
		{
			name: "duplicate key",
			edit: after("    leeway: 30s\n", "    leeway: 10s\n"),
			want: []string{"authgate.yaml:11: providers[0].leeway: duplicate key"},
		},
		{
			name: "string for a boolean",
			edit: after(`    store: "sqlite:keys.db"`+"\n", "    require_expiry: \"true\"\n"),
			want: []string{"authgate.yaml:15: providers[1].require_expiry: expected true or false, found a string"},
		},
		{
			name: "list for a claim value",
			edit: after("    leeway: 30s\n", "    claims: {tenant: {value: [a]}}\n"),
			want: []string{"authgate.yaml:11: providers[0].claims.tenant.value: expected a string, boolean or number, found a list"},
		},
		{
			name: "unknown log format",
			edit: after("realm: api\n", "log: {format: xml}\n"),
			want: []string{`authgate.yaml:3: log.format: unknown log format "xml"`},
		},
		{
			name: "invalid environment variable name",
			edit: after(`    store: "sqlite:keys.db"`+"\n", "    pepper_env: 1BAD\n"),
			want: []string{`authgate.yaml:15: providers[1].pepper_env: invalid environment variable name "1BAD"`},
		},
		{
			name: "store and store_env",
			edit: after(`    store: "sqlite:keys.db"`+"\n", "    store_env: AG_DSN\n"),
			env:  map[string]string{"AG_DSN": "sqlite:other.db"},
			want: []string{"authgate.yaml:15: providers[1].store_env: set store or store_env, not both"},
		},
		{
			name: "token cache size not an integer",
			edit: after("    leeway: 30s\n", "    cache_size: lots\n"),
			want: []string{"authgate.yaml:11: providers[0].cache_size: expected an integer, found a string"},
		},
		{
			name: "token cache TTL over the maximum",
			edit: after("    leeway: 30s\n", "    cache_size: 100\n    cache_ttl: 1h\n"),
			want: []string{"authgate.yaml:4: providers[0] (local): static: "},
		},
		{
			name: "no providers",
			edit: func(string) string { return "listen: 127.0.0.1:0\nproviders: []\n" },
			want: []string{"authgate.yaml:1: providers: at least one provider is required"},
		},
		{
			name: "several errors at once",
			edit: func(s string) string {
				return replace("type: apikey", "type: ldap")(replace("leeway: 30s", "leeway: 3x")(s))
			},
			want: []string{"authgate.yaml:10: providers[0].leeway", "\nauthgate.yaml:12: providers[1].type"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.write("keys/oct.json", `{"kty":"oct","k":"`+strings.Repeat("A", 43)+`","alg":"HS256"}`)
			for k, v := range tt.env {
				f.env[k] = v
			}
			path := f.write("authgate.yaml", tt.edit(baseConfig))
			// A valid configuration serves: stop it as soon as it listens.
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			r := f.runCtx(ctx, "", func(string) { cancel() }, "serve", "--config", path)
			code := tt.code
			if tt.want != nil {
				code = exitUsage
			}
			if r.code != code {
				t.Fatalf("serve = %d, want %d; stderr:\n%s", r.code, code, r.stderr)
			}
			at := 0
			for _, w := range tt.want {
				i := strings.Index(r.stderr[at:], w)
				if i < 0 {
					t.Fatalf("stderr does not hold %q (after offset %d):\n%s", w, at, r.stderr)
				}
				at += i + len(w)
			}
			for _, s := range tt.wantNot {
				if strings.Contains(r.stderr, s) {
					t.Errorf("stderr holds the secret %q:\n%s", s, r.stderr)
				}
			}
		})
	}
}

func after(anchor, insert string) func(string) string {
	return func(s string) string {
		if !strings.Contains(s, anchor) {
			panic("anchor not found: " + anchor)
		}
		return strings.Replace(s, anchor, anchor+insert, 1)
	}
}

func replace(old, new string) func(string) string {
	return func(s string) string {
		if !strings.Contains(s, old) {
			panic("text not found: " + old)
		}
		return strings.Replace(s, old, new, 1)
	}
}

// TestParseConfigValues checks what a valid file decodes to: relative
// paths anchored at the file, "0s" leeway meaning none, the default chain,
// flow-style claims, a single string as a one-element list.
func TestParseConfigValues(t *testing.T) {
	f := newFixture(t)
	f.env["AG_PEPPER"] = strings.Repeat("p", 32)
	cfg, err := ParseConfig(f.path("conf/authgate.yaml"), []byte(`
providers:
  - {name: local, type: static, keys: ../keys/public.pem, algorithms: RS256, issuer: https://i.test, audience: api, leeway: 0s, cache_size: 500,
     claims: {tenant: {essential: true}, plan: {values: [gold, 2, true]}, role: {value: admin}}}
  - {name: keys, type: apikey, prefix: ag, store: "sqlite:keys.db?_pragma=foreign_keys(1)", pepper_env: AG_PEPPER, cache_ttl: 5s}
rules:
  - {path: /admin/, methods: [post, delete], roles: [admin], scopes: [write]}
`), f.getenv)
	if err != nil {
		t.Fatal(err)
	}
	local, keys := cfg.Providers[0], cfg.Providers[1]
	checks := []struct {
		name      string
		got, want any
	}{
		{"listen", cfg.Listen, defaultListen},
		{"realm", cfg.Realm, "api"},
		{"chain", strings.Join(cfg.Chain, ","), "local,keys"},
		{"keys", settingsOf[staticSettings](local).Keys, f.path("keys/public.pem")},
		{"algorithms", strings.Join(local.Token.Algorithms, ","), "RS256"},
		{"audience", strings.Join(local.Token.Audience, ","), "api"},
		{"leeway", local.Token.Leeway, providers.NoLeeway},
		{"claims.tenant", local.Token.Claims["tenant"].Essential, true},
		{"claims.role", local.Token.Claims["role"].Value, "admin"},
		{"claims.plan", len(local.Token.Claims["plan"].Values), 3},
		{"claims.plan[1]", local.Token.Claims["plan"].Values[1], 2.0},
		{"claims.plan[2]", local.Token.Claims["plan"].Values[2], true},
		{"store", settingsOf[apikeySettings](keys).dsn, "sqlite:" + f.path("conf/keys.db") + "?_pragma=foreign_keys(1)"},
		{"pepper", string(settingsOf[apikeySettings](keys).pepper), strings.Repeat("p", 32)},
		{"cache_ttl", settingsOf[apikeySettings](keys).CacheTTL, 5 * time.Second},
		{"cache_size", local.Token.CacheSize, 500},
		{"rule methods", strings.Join(cfg.Rules[0].Methods, ","), "POST,DELETE"},
		{"rule line", cfg.Rules[0].Line, 7},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

func TestConfigErrorType(t *testing.T) {
	_, err := ParseConfig("x/authgate.yaml", []byte("providers: []\nbogus: 1\n"), func(string) string { return "" })
	var ce *ConfigError
	if !errors.As(err, &ce) {
		t.Fatalf("ParseConfig error = %v (%T), want *ConfigError", err, err)
	}
	if len(ce.Errors) != 1 || ce.Errors[0].Line != 2 || ce.Errors[0].File != "authgate.yaml" {
		t.Errorf("errors = %v, want one at authgate.yaml:2", err)
	}
}

// TestStoreUnavailableAtStart: a store that cannot be opened is a runtime
// failure (exit 1), still reported with the file and line.
func TestStoreUnavailableAtStart(t *testing.T) {
	f := newFixture(t)
	path := f.write("authgate.yaml", replace(`store: "sqlite:keys.db"`, `store: "sqlite:missing-dir/keys.db"`)(baseConfig))
	r := f.run("", "serve", "--config", path)
	if r.code != exitFailure || !strings.Contains(r.stderr, "authgate.yaml:14: providers[1].store (keys): sqlstore: ") {
		t.Errorf("serve = %d %q, want 1 and the store's line", r.code, r.stderr)
	}
}
