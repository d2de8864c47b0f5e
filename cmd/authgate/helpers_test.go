package main

import (
	"bytes"
	"context"
	"crypto/rsa"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authgate/authgate/internal/jwttest"
)

const (
	testIssuer   = "https://issuer.test"
	testAudience = "orders-api"
)

// fixture is a directory with keys and a configuration, and the
// environment commands run with.
type fixture struct {
	t   testing.TB
	dir string
	key *rsa.PrivateKey
	env map[string]string
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	f := &fixture{t: t, dir: t.TempDir(), key: jwttest.Key("RS256", "cmd").(*rsa.PrivateKey), env: map[string]string{}}
	files, _, err := keyFiles(f.key, "RS256", "k1")
	if err != nil {
		t.Fatal(err)
	}
	if err := writeKeyFiles(filepath.Join(f.dir, "keys"), files, false); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) getenv(name string) string { return f.env[name] }

// path returns a path inside the fixture directory.
func (f *fixture) path(name string) string { return filepath.Join(f.dir, name) }

// write writes a file of the fixture (a configuration) and returns its path.
func (f *fixture) write(name, content string) string {
	f.t.Helper()
	p := f.path(name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		f.t.Fatal(err)
	}
	return p
}

// result is what a command printed and returned.
type result struct {
	code           int
	stdout, stderr string
}

// run runs a command line in-process with the fixture's environment.
func (f *fixture) run(stdin string, args ...string) result {
	f.t.Helper()
	return f.runCtx(context.Background(), stdin, nil, args...)
}

func (f *fixture) runCtx(ctx context.Context, stdin string, ready func(string), args ...string) result {
	var out, errb lockedBuffer
	code := runEnv(&env{ctx: ctx, stdin: strings.NewReader(stdin), stdout: &out, stderr: &errb, getenv: f.getenv, ready: ready}, args)
	return result{code, out.String(), errb.String()}
}

// token mints an RS256 token with the fixture's key: valid claims for the
// test issuer and audience, changed by edit.
func (f *fixture) token(edit func(map[string]any)) string {
	c := map[string]any{
		"iss": testIssuer, "aud": testAudience, "sub": "alice", "tenant": "acme",
		"iat": time.Now().Unix(), "exp": time.Now().Add(time.Hour).Unix(),
	}
	if edit != nil {
		edit(c)
	}
	return jwttest.Token("RS256", "", f.key, c)
}

// lockedBuffer is a bytes.Buffer safe for concurrent writers (a server's
// logger and the test).
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// jwtRE finds anything shaped like a JWT (SECURITY.md#attacks-http).
var jwtRE = regexp.MustCompile(`eyJ[\w-]+\.[\w-]+\.[\w-]*`)

// assertNoCredentials fails when out holds a JWT or one of the secrets.
func assertNoCredentials(t testing.TB, where, out string, secrets ...string) {
	t.Helper()
	if m := jwtRE.FindString(out); m != "" {
		t.Errorf("%s holds a token: %.40s…", where, m)
	}
	for _, s := range secrets {
		if s != "" && strings.Contains(out, s) {
			t.Errorf("%s holds a secret (%.6s…)", where, s)
		}
	}
}

// freeAddr returns a loopback address nothing listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}
