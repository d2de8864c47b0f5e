package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/providers"
	"github.com/authgate/authgate/static"
)

func TestUsage(t *testing.T) {
	tests := []struct {
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{args: nil, code: exitUsage, stderr: "usage: authgate COMMAND"},
		{args: []string{"--help"}, code: exitOK, stdout: "Commands:"},
		{args: []string{"frobnicate"}, code: exitUsage, stderr: `unknown command "frobnicate"`},
		{args: []string{"serve", "--help"}, code: exitOK, stdout: "usage: authgate serve"},
		{args: []string{"keygen", "-h"}, code: exitOK, stdout: "usage: authgate keygen"},
		{args: []string{"token", "--help"}, code: exitOK, stdout: "usage: authgate token"},
		{args: []string{"inspect", "--help"}, code: exitOK, stdout: "usage: authgate inspect"},
		{args: []string{"apikey", "--help"}, code: exitOK, stdout: "usage: authgate apikey"},
		{args: []string{"apikey", "create", "--help"}, code: exitOK, stdout: "-subject"},
		{args: []string{"apikey"}, code: exitUsage, stderr: "usage: authgate apikey"},
		{args: []string{"apikey", "rotate"}, code: exitUsage, stderr: `unknown subcommand "rotate"`},
		{args: []string{"serve", "--bogus"}, code: exitUsage, stderr: "flag provided but not defined: -bogus"},
		{args: []string{"serve", "extra"}, code: exitUsage, stderr: "too many arguments"},
		{args: []string{"serve", "--config", "/nonexistent/authgate.yaml"}, code: exitFailure, stderr: "no such file"},
		{args: []string{"version"}, code: exitOK, stdout: "authgate "},
		{args: []string{"--version"}, code: exitOK, stdout: "authgate "},
		{args: []string{"version", "--help"}, code: exitOK, stdout: "usage: authgate version"},
		{args: []string{"version", "extra"}, code: exitUsage, stderr: "too many arguments"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var out, errb bytes.Buffer
			code := run(tt.args, &out, &errb)
			if code != tt.code {
				t.Fatalf("run(%q) = %d, want %d\nstdout: %s\nstderr: %s", tt.args, code, tt.code, out.String(), errb.String())
			}
			if !strings.Contains(out.String(), tt.stdout) || !strings.Contains(errb.String(), tt.stderr) {
				t.Errorf("run(%q): stdout %q, stderr %q; want %q and %q", tt.args, out.String(), errb.String(), tt.stdout, tt.stderr)
			}
		})
	}
}

// TestKeygenToken generates each kind of key pair, mints a token with it
// and verifies the token through the static provider, once with the PEM
// public key and once with the JWKS (with kid).
func TestKeygenToken(t *testing.T) {
	for _, alg := range []string{"RS256", "RS512", "PS256", "ES256", "ES384", "ES512", "EdDSA"} {
		t.Run(alg, func(t *testing.T) {
			f := newFixture(t)
			out := filepath.Join(f.dir, "gen", alg)
			r := f.run("", "keygen", "--alg", alg, "--out", out)
			if r.code != exitOK {
				t.Fatalf("keygen = %d: %s", r.code, r.stderr)
			}
			st, err := os.Stat(filepath.Join(out, privateFile))
			if err != nil {
				t.Fatal(err)
			}
			if st.Mode().Perm() != 0o600 {
				t.Errorf("private key mode = %v, want 0600", st.Mode().Perm())
			}
			jwks := readKeys(t, filepath.Join(out, jwksFile))
			if len(jwks) != 1 || jwks[0].ID == "" || jwks[0].Algorithm != alg {
				t.Fatalf("jwks.json = %+v, want one key with a kid and alg %s", jwks, alg)
			}
			if !strings.Contains(r.stdout, "kid "+jwks[0].ID) {
				t.Errorf("keygen output %q does not name kid %s", r.stdout, jwks[0].ID)
			}
			pem := readKeys(t, filepath.Join(out, publicFile))
			for _, c := range []struct {
				name string
				keys []providers.Key
				kid  string
			}{{"pem", pem, ""}, {"jwks", jwks, jwks[0].ID}, {"jwks without kid", jwks, ""}} {
				args := []string{"token", "--key", filepath.Join(out, privateFile), "--alg", alg, "--iss", testIssuer, "--aud", testAudience, "--sub", "alice", "--claim", "tenant=acme"}
				if c.kid != "" {
					args = append(args, "--kid", c.kid)
				}
				r := f.run("", args...)
				if r.code != exitOK {
					t.Fatalf("%s: token = %d: %s", c.name, r.code, r.stderr)
				}
				a, err := static.New(static.Config{Keys: c.keys, Issuer: testIssuer, TokenOptions: providers.TokenOptions{Algorithms: []string{alg}, Audience: []string{testAudience}}})
				if err != nil {
					t.Fatal(err)
				}
				p, err := a.Verify(context.Background(), strings.TrimSpace(r.stdout))
				if err != nil {
					t.Fatalf("%s: verify = %v", c.name, err)
				}
				if p.Subject != "alice" || p.Tenant != "acme" {
					t.Errorf("%s: principal = %+v", c.name, p)
				}
			}
		})
	}
}

func readKeys(t *testing.T, path string) []providers.Key {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := providers.ParseKeys(data)
	if err != nil {
		t.Fatalf("%s: %v", filepath.Base(path), err)
	}
	return keys
}

func TestKeygenErrors(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"no --out", []string{"keygen"}, exitUsage, "--out is required"},
		{"HMAC", []string{"keygen", "--alg", "HS256", "--out", f.path("h")}, exitUsage, "secret_env"},
		{"unknown alg", []string{"keygen", "--alg", "RS1", "--out", f.path("h")}, exitUsage, `unsupported algorithm "RS1"`},
		{"small RSA", []string{"keygen", "--bits", "1024", "--out", f.path("h")}, exitUsage, "at least 2048"},
		{"existing files", []string{"keygen", "--out", f.path("keys")}, exitUsage, "exists (use --force"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := f.run("", tt.args...)
			if r.code != tt.code || !strings.Contains(r.stderr, tt.stderr) {
				t.Errorf("%q = %d %q, want %d and %q", tt.args, r.code, r.stderr, tt.code, tt.stderr)
			}
		})
	}
	before, _ := os.ReadFile(f.path("keys/private.pem"))
	if r := f.run("", "keygen", "--alg", "ES256", "--out", f.path("keys"), "--force", "--kid", "mine"); r.code != exitOK {
		t.Fatalf("keygen --force = %d: %s", r.code, r.stderr)
	}
	after, _ := os.ReadFile(f.path("keys/private.pem"))
	if bytes.Equal(before, after) {
		t.Error("--force did not replace the private key")
	}
	if st, _ := os.Stat(f.path("keys/private.pem")); st.Mode().Perm() != 0o600 {
		t.Errorf("replaced private key mode = %v, want 0600", st.Mode().Perm())
	}
	if keys := readKeys(t, f.path("keys/jwks.json")); keys[0].ID != "mine" {
		t.Errorf("kid = %q, want mine", keys[0].ID)
	}
}

func TestTokenClaims(t *testing.T) {
	f := newFixture(t)
	f.env["AG_HS"] = strings.Repeat("s", 48)
	key := f.path("keys/private.pem")
	tests := []struct {
		name   string
		args   []string
		code   int
		stderr string
		check  func(t *testing.T, header, claims map[string]any)
	}{
		{
			name: "JSON claim values",
			args: []string{"--key", key, "--iss", "i", "--aud", "a", "--aud", "b", "--sub", "s", "--ttl", "10m",
				"--claim", "n=42", "--claim", "big=9007199254740993", "--claim", "admin=true", "--claim", `roles=["x","y"]`, "--claim", "plain=hello world", "--claim", `q="7"`},
			check: func(t *testing.T, h, c map[string]any) {
				if h["alg"] != "RS256" || h["typ"] != "JWT" || h["kid"] != nil {
					t.Errorf("header = %v", h)
				}
				want := map[string]string{"n": "42", "big": "9007199254740993", "admin": "true", "roles": `["x","y"]`, "plain": `"hello world"`, "q": `"7"`, "aud": `["a","b"]`}
				for k, w := range want {
					if got, _ := json.Marshal(c[k]); string(got) != w {
						t.Errorf("claim %s = %s, want %s", k, got, w)
					}
				}
				exp, _ := c["exp"].(json.Number).Int64()
				iat, _ := c["iat"].(json.Number).Int64()
				if exp-iat != 600 {
					t.Errorf("exp - iat = %d, want 600", exp-iat)
				}
			},
		},
		{
			name: "HMAC secret from the environment",
			args: []string{"--secret-env", "AG_HS", "--alg", "HS384", "--kid", "k", "--iss", "i", "--aud", "a", "--sub", "s"},
			check: func(t *testing.T, h, c map[string]any) {
				if h["alg"] != "HS384" || h["kid"] != "k" {
					t.Errorf("header = %v", h)
				}
			},
		},
		{name: "registered claim through --claim", args: []string{"--key", key, "--iss", "i", "--aud", "a", "--sub", "s", "--claim", "exp=1"}, code: exitUsage, stderr: `claim "exp" is set with --ttl`},
		{name: "no issuer", args: []string{"--key", key, "--aud", "a", "--sub", "s"}, code: exitUsage, stderr: "--iss is required"},
		{name: "key and secret", args: []string{"--key", key, "--secret-env", "AG_HS", "--iss", "i", "--aud", "a", "--sub", "s"}, code: exitUsage, stderr: "exactly one of --key and --secret-env"},
		{name: "algorithm of another family", args: []string{"--key", key, "--alg", "ES256", "--iss", "i", "--aud", "a", "--sub", "s"}, code: exitUsage, stderr: "an RSA key cannot sign ES256"},
		{name: "secret too short", args: []string{"--secret-env", "AG_HS", "--alg", "HS512", "--iss", "i", "--aud", "a", "--sub", "s"}, code: exitUsage, stderr: "at least 64 bytes"},
		{name: "secret missing", args: []string{"--secret-env", "AG_NOPE", "--iss", "i", "--aud", "a", "--sub", "s"}, code: exitUsage, stderr: "AG_NOPE is not set"},
		{name: "public key given", args: []string{"--key", f.path("keys/public.pem"), "--iss", "i", "--aud", "a", "--sub", "s"}, code: exitFailure, stderr: "not a private key"},
		{name: "negative ttl", args: []string{"--key", key, "--iss", "i", "--aud", "a", "--sub", "s", "--ttl", "-1h"}, code: exitUsage, stderr: "--ttl must be positive"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := f.run("", append([]string{"token"}, tt.args...)...)
			if r.code != tt.code || !strings.Contains(r.stderr, tt.stderr) {
				t.Fatalf("token = %d %q, want %d and %q", r.code, r.stderr, tt.code, tt.stderr)
			}
			if tt.check == nil {
				return
			}
			parts := strings.Split(strings.TrimSpace(r.stdout), ".")
			if len(parts) != 3 {
				t.Fatalf("token has %d parts", len(parts))
			}
			tt.check(t, decodePart(t, parts[0]), decodePart(t, parts[1]))
		})
	}
	assertNoCredentials(t, "token stderr", f.run("", "token", "--secret-env", "AG_HS", "--alg", "HS512", "--iss", "i", "--aud", "a", "--sub", "s").stderr, f.env["AG_HS"])
}

func decodePart(t *testing.T, s string) map[string]any {
	t.Helper()
	data, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestInspect(t *testing.T) {
	f := newFixture(t)
	path := f.write("authgate.yaml", baseConfig)
	valid := f.token(func(c map[string]any) { c["roles"] = []any{"admin"} })
	expired := f.token(func(c map[string]any) { c["iat"], c["exp"] = 1_000_000, 1_000_100 })
	foreign := f.token(func(c map[string]any) { c["iss"] = "https://elsewhere.test" })
	key := createKey(t, f, path, "--subject", "bot")

	tests := []struct {
		name    string
		stdin   string
		args    []string
		code    int
		want    []string
		secrets []string
	}{
		{
			name: "valid token", args: []string{"--config", path, valid}, code: exitOK,
			want: []string{"credential: JWT", `"alg": "RS256"`, "claims (unverified)", `"sub": "alice"`, "exp: ", "provider: local (type static, in the chain)", "verdict: accepted", `"roles": [`, `"subject": "alice"`},
		},
		{
			name: "token on stdin", stdin: valid + "\n", args: []string{"--config", path}, code: exitOK,
			want: []string{"provider: local", "verdict: accepted"},
		},
		{
			name: "token on stdin with -", stdin: expired, args: []string{"--config", path, "-"}, code: exitFailure,
			want: []string{"verdict: rejected", "status: 401", "reason: expired", "detail: Token has expired", "error: invalid_token", "cause: local: token has expired"},
		},
		{
			name: "unconfigured issuer", args: []string{"--config", path, foreign}, code: exitFailure,
			want: []string{`provider: none (no provider is configured for issuer "https://elsewhere.test")`, "verdict: rejected", "reason: unrecognized"},
		},
		{
			name: "API key", args: []string{key, "--config", path}, code: exitOK,
			want: []string{`credential: API key with prefix "ag"`, "provider: keys (type apikey, in the chain)", "verdict: accepted", `"subject": "bot"`},
		},
		{
			name: "garbage", args: []string{"--config", path, "not-a-token"}, code: exitFailure,
			want: []string{"credential: not a JWT", "provider: none", "verdict: rejected"},
		},
		{
			name: "no configuration: decode only", args: []string{valid}, code: exitOK,
			want: []string{`"iss": "https://issuer.test"`, "verdict: not checked"},
		},
		{name: "no token", stdin: "  \n", args: []string{"--config", path}, code: exitUsage},
		{name: "two tokens", args: []string{valid, valid}, code: exitUsage, secrets: []string{valid}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := f.run(tt.stdin, append([]string{"inspect"}, tt.args...)...)
			if r.code != tt.code {
				t.Fatalf("inspect = %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, tt.code, r.stdout, r.stderr)
			}
			at := 0
			for _, w := range tt.want {
				i := strings.Index(r.stdout[at:], w)
				if i < 0 {
					t.Fatalf("output lacks %q (after offset %d):\n%s", w, at, r.stdout)
				}
				at += i + len(w)
			}
			// The credential itself is never printed back.
			assertNoCredentials(t, "inspect output", r.stdout+r.stderr, append(tt.secrets, key)...)
		})
	}
}

// createKey runs apikey create and returns the key it printed.
func createKey(t *testing.T, f *fixture, config string, args ...string) string {
	t.Helper()
	r := f.run("", append([]string{"apikey", "create", "--config", config}, args...)...)
	if r.code != exitOK {
		t.Fatalf("apikey create = %d: %s", r.code, r.stderr)
	}
	key := strings.TrimSpace(r.stdout)
	if strings.Count(r.stdout, "\n") != 1 || !strings.Contains(key, "_") {
		t.Fatalf("apikey create printed %q, want one key line", r.stdout)
	}
	if strings.Contains(r.stderr, key) {
		t.Error("the key is printed twice")
	}
	return key
}

func TestAPIKeyCommands(t *testing.T) {
	f := newFixture(t)
	f.env["AG_PEPPER"] = strings.Repeat("p", 40)
	path := f.write("authgate.yaml", strings.Replace(baseConfig, `store: "sqlite:keys.db"`, `store: "sqlite:keys.db"`+"\n    pepper_env: AG_PEPPER", 1))

	key := createKey(t, f, path, "--subject", "bot", "--name", "deploy bot", "--role", "editor", "--role", "ops", "--scope", "read", "--tenant", "acme", "--ttl", "24h", "--id", "key_deploy")
	other := createKey(t, f, path, "--subject", "carol", "--provider", "keys")

	r := f.run("", "apikey", "list", "--config", path)
	if r.code != exitOK {
		t.Fatalf("list = %d: %s", r.code, r.stderr)
	}
	for _, w := range []string{"ID", "LAST USED", "key_deploy", "deploy bot", "bot", "editor,ops", "acme", "carol"} {
		if !strings.Contains(r.stdout, w) {
			t.Errorf("list lacks %q:\n%s", w, r.stdout)
		}
	}
	assertNoCredentials(t, "list", r.stdout, key, other)

	r = f.run("", "apikey", "list", "--config", path, "--json")
	var listed []keyView
	if err := json.Unmarshal([]byte(r.stdout), &listed); err != nil || len(listed) != 2 {
		t.Fatalf("list --json = %q (%v), want two keys", r.stdout, err)
	}
	if listed[0].ID != "key_deploy" || listed[0].ExpiresAt == nil || listed[0].RevokedAt != nil {
		t.Errorf("listed[0] = %+v", listed[0])
	}

	// The key works (hashed with the pepper) until it is revoked.
	g := buildFromFile(t, f, path)
	if _, err := authenticate(g, key); err != nil {
		t.Fatalf("key before revoke: %v", err)
	}
	g.Close()
	if r := f.run("", "apikey", "revoke", "--config", path, "key_deploy"); r.code != exitOK || !strings.Contains(r.stdout, "revoked key key_deploy") {
		t.Fatalf("revoke = %d %q %q", r.code, r.stdout, r.stderr)
	}
	g = buildFromFile(t, f, path)
	defer g.Close()
	if _, err := authenticate(g, key); !errors.Is(err, authgate.ErrRevoked) {
		t.Errorf("key after revoke: %v, want ErrRevoked", err)
	}
	if _, err := authenticate(g, other); err != nil {
		t.Errorf("other key after revoke: %v", err)
	}

	errs := []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"revoke unknown", []string{"revoke", "--config", path, "key_nope"}, exitFailure, "key not found"},
		{"revoke without ID", []string{"revoke", "--config", path}, exitUsage, "missing argument"},
		{"create without subject", []string{"create", "--config", path}, exitUsage, "--subject is required"},
		{"create duplicate ID", []string{"create", "--config", path, "--subject", "x", "--id", "key_deploy"}, exitUsage, "already exists"},
		{"provider not apikey", []string{"list", "--config", path, "--provider", "local"}, exitUsage, `provider "local" is of type static`},
		{"provider unknown", []string{"list", "--config", path, "--provider", "nope"}, exitUsage, `no provider "nope"`},
		{"ttl and expires", []string{"create", "--config", path, "--subject", "x", "--ttl", "1h", "--expires", "2030-01-01T00:00:00Z"}, exitUsage, "not both"},
	}
	for _, tt := range errs {
		t.Run(tt.name, func(t *testing.T) {
			r := f.run("", append([]string{"apikey"}, tt.args...)...)
			if r.code != tt.code || !strings.Contains(r.stderr, tt.stderr) {
				t.Errorf("apikey %q = %d %q, want %d and %q", tt.args, r.code, r.stderr, tt.code, tt.stderr)
			}
		})
	}
}

func TestAPIKeySeveralProviders(t *testing.T) {
	f := newFixture(t)
	path := f.write("authgate.yaml", baseConfig+"  - {name: more, type: apikey, prefix: mo, store: \"sqlite:more.db\"}\n")
	r := f.run("", "apikey", "list", "--config", path)
	if r.code != exitUsage || !strings.Contains(r.stderr, "several apikey providers (keys, more)") {
		t.Errorf("list = %d %q, want 2 and a request for --provider", r.code, r.stderr)
	}
	key := createKey(t, f, path, "--provider", "more", "--subject", "m")
	if !strings.HasPrefix(key, "mo_") {
		t.Errorf("key %q does not have the provider's prefix", key[:3])
	}
}

func buildFromFile(t *testing.T, f *fixture, path string) *gateway {
	t.Helper()
	cfg, err := LoadConfig(path, f.getenv)
	if err != nil {
		t.Fatal(err)
	}
	g, err := build(context.Background(), cfg, buildOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func authenticate(g *gateway, key string) (*authgate.Principal, error) {
	r, _ := http.NewRequest("GET", "/", nil)
	r.Header.Set("X-API-Key", key)
	return g.chain.Authenticate(r)
}
