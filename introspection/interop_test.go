package introspection_test

// Interop with a certified OpenID provider nobody here wrote: npm
// oidc-provider (interop/oidc-provider.mjs) issues an opaque access token
// by client credentials; authgate introspects it at the provider's RFC
// 7662 endpoint with client_secret_post and client_secret_basic and
// accepts it; after the token is revoked at the provider's RFC 7009
// endpoint, authgate refuses it once its cache entry ends.
//
// The test needs Node with interop/node_modules installed (npm ci), so it
// runs only when AUTHGATE_INTEROP=1 (.ci/run sets it, and
// AUTHGATE_INTEROP_DIR). Once switched on, a missing piece is a failure,
// never a skip.

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/introspection"
	"github.com/authgate/authgate/providers"
)

const opaqueResource = "https://api.example.test/opaque"

func TestInteropOIDCProvider(t *testing.T) {
	dir := interopDir(t)
	if _, err := exec.LookPath("node"); err != nil {
		t.Fatalf("AUTHGATE_INTEROP=1 but node is not on PATH: %v", err)
	}
	pkg, err := os.ReadFile(filepath.Join(dir, "node_modules", "oidc-provider", "package.json"))
	if err != nil {
		t.Fatalf("AUTHGATE_INTEROP=1 but npm oidc-provider is not installed (run npm ci in %s): %v", dir, err)
	}
	var v struct{ Version string }
	json.Unmarshal(pkg, &v)
	t.Logf("OpenID provider: npm oidc-provider %s", v.Version)

	issuer := startOIDCProvider(t, dir)
	var offset atomic.Int64
	clock := func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
	newAuth := func(t *testing.T, id, secret string, method introspection.AuthMethod) *introspection.Authenticator {
		t.Helper()
		return mustNew(t, introspection.Config{
			Issuer:       issuer,
			Endpoint:     issuer + "/token/introspection",
			ClientID:     id,
			ClientSecret: introspection.Secret(secret),
			AuthMethod:   method,
			TokenOptions: providers.TokenOptions{
				Name:      "op",
				Audience:  []string{opaqueResource},
				CacheSize: 16,
				CacheTTL:  30 * time.Second,
				Now:       clock,
				Logger:    slog.New(slog.DiscardHandler),
			},
		})
	}
	post := newAuth(t, "api", "api-secret", introspection.ClientSecretPost)
	basic := newAuth(t, "svc", "secret", introspection.ClientSecretBasic)

	tok := opaqueToken(t, issuer)
	if strings.Count(tok, ".") != 0 {
		t.Fatalf("oidc-provider issued %q-shaped token, want an opaque one", "a.b.c")
	}
	for name, a := range map[string]*introspection.Authenticator{"client_secret_post": post, "client_secret_basic": basic} {
		t.Run(name, func(t *testing.T) {
			r, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, "/", nil)
			r.Header.Set("Authorization", "Bearer "+tok)
			p, err := a.Authenticate(r)
			if err != nil {
				t.Fatalf("Authenticate(oidc-provider opaque token) = %v", err)
			}
			if p.Provider != "op" || p.Method != "introspection" || p.Subject != "svc" || p.Issuer != issuer ||
				!slices.Equal(p.Audience, []string{opaqueResource}) || !slices.Equal(p.Scopes, []string{"read"}) ||
				!slices.Equal(p.Roles, []string{"reader"}) || p.Tenant != "acme" || p.Claims.Map()["client_id"] != "svc" {
				t.Fatalf("principal = %+v", p)
			}
			bad := tok[:len(tok)-1] + flip(tok[len(tok)-1:])
			if _, err := a.Verify(t.Context(), bad); !errors.Is(err, authgate.ErrInvalidCredentials) || errors.Is(err, authgate.ErrUnavailable) {
				t.Fatalf("Verify(altered token) = %v, want ErrInvalidCredentials", err)
			}
		})
	}

	t.Run("wrong client secret", func(t *testing.T) {
		wrong := newAuth(t, "api", "not-the-secret", introspection.ClientSecretPost)
		_, err := wrong.Verify(t.Context(), tok)
		if !errors.Is(err, authgate.ErrUnavailable) || strings.Contains(err.Error(), "not-the-secret") {
			t.Fatalf("Verify(with a wrong client secret) = %v, want ErrUnavailable without the secret", err)
		}
	})

	// Revocation at the provider: the cached answer holds until its entry
	// ends, then the token is refused.
	revoke(t, issuer, tok)
	if _, err := post.Verify(t.Context(), tok); err != nil {
		t.Fatalf("Verify(revoked token, cached) = %v, want the cached answer", err)
	}
	offset.Store(int64(31 * time.Second))
	for name, a := range map[string]*introspection.Authenticator{"client_secret_post": post, "client_secret_basic": basic} {
		if _, err := a.Verify(t.Context(), tok); !errors.Is(err, authgate.ErrInvalidCredentials) || errors.Is(err, authgate.ErrUnavailable) {
			t.Fatalf("%s: Verify(revoked token, cache entry ended) = %v, want ErrInvalidCredentials", name, err)
		}
	}
}

func flip(c string) string {
	if c == "A" {
		return "B"
	}
	return "A"
}

// interopDir skips the test unless AUTHGATE_INTEROP=1 and returns the
// directory of the interop npm project.
func interopDir(t *testing.T) string {
	t.Helper()
	if os.Getenv("AUTHGATE_INTEROP") != "1" {
		t.Skip("AUTHGATE_INTEROP not set: interop with npm oidc-provider skipped (.ci/run sets it)")
	}
	dir := cmpOr(os.Getenv("AUTHGATE_INTEROP_DIR"), filepath.Join("..", "interop"))
	abs, err := filepath.Abs(dir)
	if err != nil {
		t.Fatalf("interop directory %q: %v", dir, err)
	}
	return abs
}

// startOIDCProvider starts interop/oidc-provider.mjs on a free loopback
// port, returns its issuer once it printed its ready line, and kills it at
// the end of the test.
func startOIDCProvider(t *testing.T, dir string) string {
	t.Helper()
	cmd := exec.Command("node", filepath.Join(dir, "oidc-provider.mjs"), "0")
	cmd.Dir = dir
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting oidc-provider: %v", err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if line := sc.Text(); strings.HasPrefix(line, "ready ") {
				lines <- line
				break
			}
		}
		io.Copy(io.Discard, out)
	}()
	select {
	case line := <-lines:
		fields := strings.Fields(line) // ready <issuer> kids=a,b
		if len(fields) < 2 {
			t.Fatalf("unexpected ready line %q", line)
		}
		return fields[1]
	case <-time.After(60 * time.Second):
		t.Fatal("oidc-provider did not print its ready line within 60 s")
	}
	return ""
}

// opaqueToken gets an opaque access token for the opaque resource by
// client credentials.
func opaqueToken(t *testing.T, issuer string) string {
	t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}, "scope": {"read"}, "resource": {opaqueResource}}
	var body struct {
		AccessToken string `json:"access_token"`
		Error       string `json:"error"`
	}
	status := post(t, issuer+"/token", form, &body)
	if status != http.StatusOK || body.AccessToken == "" {
		t.Fatalf("token request: status %d, error %q", status, body.Error)
	}
	return body.AccessToken
}

// revoke revokes token at the provider's RFC 7009 endpoint.
func revoke(t *testing.T, issuer, token string) {
	t.Helper()
	form := url.Values{"token": {token}, "token_type_hint": {"access_token"}}
	if status := post(t, issuer+"/token/revocation", form, nil); status != http.StatusOK {
		t.Fatalf("revocation: status %d, want 200", status)
	}
}

// post sends form as client "svc" (client_secret_basic) and decodes a JSON
// answer into v when v is not nil.
func post(t *testing.T, endpoint string, form url.Values, v any) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("svc", "secret")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", endpoint, err)
	}
	defer resp.Body.Close()
	if v != nil {
		if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(v); err != nil {
			t.Fatalf("POST %s: decoding the answer: %v", endpoint, err)
		}
	}
	return resp.StatusCode
}
