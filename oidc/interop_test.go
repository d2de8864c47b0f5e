package oidc_test

// Interop with a certified OpenID provider nobody here wrote: npm
// oidc-provider (interop/oidc-provider.mjs) issues RFC 9068 JWT access
// tokens with client_credentials and resource indicators, signed RS256,
// PS256, ES256 and EdDSA, which package oidc must verify after discovery —
// and keep verifying across a key rotation (a restart with new keys).
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
	"net"
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
	"github.com/authgate/authgate/oidc"
	"github.com/authgate/authgate/providers"
)

var interopAlgorithms = []string{"RS256", "PS256", "ES256", "EdDSA"}

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

	issuer, kids := startProvider(t, dir, "0")
	port := issuer[strings.LastIndexByte(issuer, ':')+1:]

	// The clock runs on real time plus an offset the test moves forward to
	// get past the unknown-kid cooldown without sleeping.
	var offset atomic.Int64
	clock := func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
	var audience []string
	for _, alg := range interopAlgorithms {
		audience = append(audience, resource(alg))
	}
	a, err := oidc.New(oidc.Config{
		Issuer: issuer,
		TokenOptions: providers.TokenOptions{
			Name:       "op",
			Audience:   audience,
			Algorithms: interopAlgorithms,
			TokenTypes: []string{"at+jwt"},
			Now:        clock,
		},
	})
	if err != nil {
		t.Fatalf("oidc.New: %v", err)
	}
	if err := a.Prefetch(t.Context()); err != nil {
		t.Fatalf("Prefetch: %v", err)
	}

	old := map[string]string{}
	for _, alg := range interopAlgorithms {
		t.Run(alg, func(t *testing.T) {
			tok := clientCredentials(t, issuer, alg)
			old[alg] = tok
			p, err := a.Verify(t.Context(), tok)
			if err != nil {
				t.Fatalf("Verify(oidc-provider %s token) = %v", alg, err)
			}
			if p.Subject != "svc" || p.Issuer != issuer || !slices.Equal(p.Audience, []string{resource(alg)}) ||
				!slices.Equal(p.Roles, []string{"reader"}) || !slices.Equal(p.Scopes, []string{"read"}) || p.Tenant != "acme" ||
				p.Header.Map()["alg"] != alg || p.Header.Map()["typ"] != "at+jwt" || !slices.Contains(kids, p.Header.Map()["kid"].(string)) {
				t.Fatalf("principal = %+v, header %v", p, p.Header)
			}
			bad := tok[:len(tok)-6] + flip(tok[len(tok)-6:len(tok)-5]) + tok[len(tok)-5:]
			if _, err := a.Verify(t.Context(), bad); !errors.Is(err, authgate.ErrInvalidSignature) && !errors.Is(err, authgate.ErrMalformedToken) {
				t.Fatalf("Verify(tampered %s token) = %v, want a rejection", alg, err)
			}
		})
	}

	// Key rotation: the provider restarts on the same port with new keys.
	stopProvider(t)
	issuer2, kids2 := startProvider(t, dir, port)
	if issuer2 != issuer || slices.ContainsFunc(kids2, func(k string) bool { return slices.Contains(kids, k) }) {
		t.Fatalf("restart: issuer %s, kids %v; want %s and new kids", issuer2, kids2, issuer)
	}
	offset.Store(int64(2 * time.Minute)) // past the unknown-kid cooldown
	for _, alg := range interopAlgorithms {
		tok := clientCredentials(t, issuer, alg)
		if _, err := a.Verify(t.Context(), tok); err != nil {
			t.Fatalf("Verify(%s token after rotation) = %v", alg, err)
		}
		if _, err := a.Verify(t.Context(), old[alg]); !errors.Is(err, authgate.ErrInvalidSignature) {
			t.Fatalf("Verify(%s token of a removed key) = %v, want ErrInvalidSignature", alg, err)
		}
	}
}

func resource(alg string) string { return "https://api.example.test/" + strings.ToLower(alg) }

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
	dir := os.Getenv("AUTHGATE_INTEROP_DIR")
	if dir == "" {
		dir = filepath.Join("..", "interop")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		t.Fatalf("interop directory %q: %v", dir, err)
	}
	return abs
}

// running is the provider process this test started and its address.
var (
	running     *exec.Cmd
	runningAddr string
)

// startProvider starts interop/oidc-provider.mjs on 127.0.0.1:port (0: a
// free one) and returns its issuer and kids once it printed its ready line.
// The process is killed at the end of the test.
func startProvider(t *testing.T, dir, port string) (string, []string) {
	t.Helper()
	cmd := exec.Command("node", filepath.Join(dir, "oidc-provider.mjs"), port)
	cmd.Dir = dir
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting oidc-provider: %v", err)
	}
	running = cmd
	t.Cleanup(func() { stopProvider(t) })
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
		if len(fields) != 3 || !strings.HasPrefix(fields[2], "kids=") {
			t.Fatalf("unexpected ready line %q", line)
		}
		runningAddr = strings.TrimPrefix(fields[1], "http://")
		return fields[1], strings.Split(strings.TrimPrefix(fields[2], "kids="), ",")
	case <-time.After(60 * time.Second):
		t.Fatal("oidc-provider did not print its ready line within 60 s")
	}
	return "", nil
}

// stopProvider kills the provider this test started (by its process) and
// waits for it.
func stopProvider(t *testing.T) {
	if running == nil {
		return
	}
	cmd := running
	running = nil
	cmd.Process.Kill()
	cmd.Wait()
	// The port must be free again before a restart binds it.
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		c, err := net.DialTimeout("tcp", runningAddr, 50*time.Millisecond)
		if err != nil {
			return
		}
		c.Close()
	}
}

// clientCredentials gets an access token for the resource of alg.
func clientCredentials(t *testing.T, issuer, alg string) string {
	t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}, "scope": {"read"}, "resource": {resource(alg)}}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "POST", issuer+"/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("svc", "secret")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("token request: %v", err)
	}
	defer resp.Body.Close()
	var body struct {
		AccessToken string `json:"access_token"`
		Error       string `json:"error"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&body); err != nil || resp.StatusCode != 200 || body.AccessToken == "" {
		t.Fatalf("token request for %s: status %d, error %q, %v", alg, resp.StatusCode, body.Error, err)
	}
	return body.AccessToken
}
