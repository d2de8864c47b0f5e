package admin_test

// Interop with the real Firebase Auth emulator (npm firebase-tools, pinned
// in interop/firebase/package.json): a user signs up through the REST API,
// firebase-admin-go sets custom claims, the user signs in, and the
// emulator's ID token is verified in emulator mode and mapped to a
// principal; then firebase-admin-go revokes, disables and deletes users and
// the revocation check rejects their tokens.
//
// The test runs only when AUTHGATE_INTEROP=1 (.ci/run sets it, and
// AUTHGATE_INTEROP_DIR); it needs Node and `npm ci` in
// $AUTHGATE_INTEROP_DIR/firebase. Once switched on, a missing emulator is a
// failure, never a skip.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	fbadmin "firebase.google.com/go/v4"
	"firebase.google.com/go/v4/auth"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/firebase"
	"github.com/authgate/authgate/firebase/admin"
	"github.com/authgate/authgate/providers"
)

const (
	emulatorProject = "demo-test"
	emulatorStart   = 90 * time.Second
)

func TestInteropFirebaseEmulator(t *testing.T) {
	dir := interopDir(t)
	bin := filepath.Join(dir, "firebase", "node_modules", ".bin", "firebase")
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("AUTHGATE_INTEROP=1 but firebase-tools is not installed (run npm ci in %s): %v", filepath.Join(dir, "firebase"), err)
	}
	if _, err := exec.LookPath("node"); err != nil {
		t.Fatalf("AUTHGATE_INTEROP=1 but node is not on PATH: %v", err)
	}
	host := startEmulator(t, bin)
	emu := &emulatorClient{base: "http://" + host}
	ctx := t.Context()

	// The Admin SDK talks to the emulator through the variable (it is what
	// the variable is for); authgate must not be switched by it.
	t.Setenv("FIREBASE_AUTH_EMULATOR_HOST", host)
	app, err := fbadmin.NewApp(ctx, &fbadmin.Config{ProjectID: emulatorProject})
	if err != nil {
		t.Fatalf("firebase.NewApp: %v", err)
	}
	client, err := app.Auth(ctx)
	if err != nil {
		t.Fatalf("app.Auth: %v", err)
	}

	alice := emu.signUp(t, "alice@example.com")
	if err := client.SetCustomUserClaims(ctx, alice, map[string]any{"roles": []string{"admin", "editor"}, "plan": "pro"}); err != nil {
		t.Fatalf("SetCustomUserClaims: %v", err)
	}
	token := emu.signIn(t, "alice@example.com")

	newAuth := func(t *testing.T, edit func(*firebase.Config)) *firebase.Authenticator {
		t.Helper()
		cfg := firebase.Config{
			ProjectID:        emulatorProject,
			InsecureEmulator: true,
			Revocation:       firebase.Revocation{Users: admin.Users(client)},
			TokenOptions: providers.TokenOptions{
				Logger: slog.New(slog.DiscardHandler),
			},
		}
		if edit != nil {
			edit(&cfg)
		}
		a, err := firebase.New(cfg)
		if err != nil {
			t.Fatalf("New: %v", err)
		}
		return a
	}

	cached := newAuth(t, nil)
	t.Run("verify and map", func(t *testing.T) {
		r, _ := http.NewRequest(http.MethodGet, "/", nil)
		r.Header.Set("Authorization", "Bearer "+token)
		p, err := cached.Authenticate(r)
		if err != nil {
			t.Fatalf("Authenticate(emulator ID token) = %v", err)
		}
		checks := []struct {
			field     string
			got, want any
		}{
			{"Provider", p.Provider, "firebase"},
			{"Method", p.Method, firebase.MethodIDToken},
			{"Subject", p.Subject, alice},
			{"Issuer", p.Issuer, firebase.IDTokenIssuer(emulatorProject)},
			{"Email", p.Email, "alice@example.com"},
			{"SignInProvider", firebase.SignInProvider(p), "password"},
			{"Claims[plan]", p.Claims.Map()["plan"], "pro"},
			{"Claims[user_id]", p.Claims.Map()["user_id"], alice},
		}
		for _, c := range checks {
			if c.got != c.want {
				t.Errorf("Principal.%s = %v, want %v", c.field, c.got, c.want)
			}
		}
		if !slices.Equal(p.Roles, []string{"admin", "editor"}) {
			t.Errorf("Principal.Roles = %v, want [admin editor]", p.Roles)
		}
	})

	t.Run("signature checks stay on without InsecureEmulator", func(t *testing.T) {
		// FIREBASE_AUTH_EMULATOR_HOST is set, and firebase-admin-go accepts
		// the unsigned token; authgate in production mode does not, and
		// needs no network to say so.
		if _, err := client.VerifyIDToken(ctx, token); err != nil {
			t.Logf("firebase-admin-go VerifyIDToken in emulator mode: %v", err)
		}
		prod, err := firebase.New(firebase.Config{
			ProjectID: emulatorProject,
			CertsURL:  "https://127.0.0.1:1/certs",
			TokenOptions: providers.TokenOptions{
				Logger: slog.New(slog.DiscardHandler),
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		if p, err := prod.Verify(ctx, token); err == nil || authgate.StatusCode(err) != http.StatusUnauthorized {
			t.Fatalf("Verify(unsigned) in production mode = %v, %v; want a 401 rejection", p, err)
		}
	})

	t.Run("revoked", func(t *testing.T) {
		// Tokens issued in the second of the revocation stay valid (both
		// SDKs compare whole seconds): revoke in the next one.
		iat := time.Unix(int64(claimOf(t, token, "iat").(float64)), 0)
		for !time.Now().After(iat.Add(time.Second)) {
			time.Sleep(50 * time.Millisecond)
		}
		if err := client.RevokeRefreshTokens(ctx, alice); err != nil {
			t.Fatalf("RevokeRefreshTokens: %v", err)
		}
		_, err := newAuth(t, nil).Verify(ctx, token)
		if !errors.Is(err, authgate.ErrRevoked) {
			t.Fatalf("Verify(revoked) = %v, want ErrRevoked", err)
		}
		// The first authenticator looked alice up before the revocation and
		// trusts that record for its CacheTTL (30 s): documented.
		if _, err := cached.Verify(ctx, token); err != nil {
			t.Fatalf("Verify(revoked) with a cached record = %v, want success within CacheTTL", err)
		}
		// A new sign-in is valid again.
		if _, err := newAuth(t, nil).Verify(ctx, emu.signIn(t, "alice@example.com")); err != nil {
			t.Fatalf("Verify(token after re-sign-in) = %v", err)
		}
	})

	t.Run("disabled", func(t *testing.T) {
		bob := emu.signUp(t, "bob@example.com")
		tok := emu.signIn(t, "bob@example.com")
		a := newAuth(t, nil)
		if _, err := a.Verify(ctx, tok); err != nil {
			t.Fatalf("Verify(bob) = %v", err)
		}
		if _, err := client.UpdateUser(ctx, bob, (&auth.UserToUpdate{}).Disabled(true)); err != nil {
			t.Fatalf("UpdateUser(disabled): %v", err)
		}
		if _, err := newAuth(t, nil).Verify(ctx, tok); !errors.Is(err, authgate.ErrRevoked) {
			t.Fatalf("Verify(disabled user) = %v, want ErrRevoked", err)
		}
	})

	t.Run("deleted", func(t *testing.T) {
		carol := emu.signUp(t, "carol@example.com")
		tok := emu.signIn(t, "carol@example.com")
		if err := client.DeleteUser(ctx, carol); err != nil {
			t.Fatalf("DeleteUser: %v", err)
		}
		if _, err := newAuth(t, nil).Verify(ctx, tok); !errors.Is(err, authgate.ErrRevoked) {
			t.Fatalf("Verify(deleted user) = %v, want ErrRevoked", err)
		}
	})

	t.Run("Admin API down", func(t *testing.T) {
		// A lookup client pointed at a closed port: 503, never accepted.
		t.Setenv("FIREBASE_AUTH_EMULATOR_HOST", closedAddr(t))
		deadApp, err := fbadmin.NewApp(ctx, &fbadmin.Config{ProjectID: emulatorProject})
		if err != nil {
			t.Fatal(err)
		}
		dead, err := deadApp.Auth(ctx)
		if err != nil {
			t.Fatal(err)
		}
		a := newAuth(t, func(c *firebase.Config) {
			c.Revocation = firebase.Revocation{Users: admin.Users(dead), Timeout: 2 * time.Second}
		})
		_, err = a.Verify(ctx, emu.signIn(t, "alice@example.com"))
		if !errors.Is(err, authgate.ErrUnavailable) || authgate.StatusCode(err) != http.StatusServiceUnavailable {
			t.Fatalf("Verify() with the Admin API down = %v, want ErrUnavailable (503)", err)
		}
	})
}

// interopDir skips the test unless AUTHGATE_INTEROP=1 and returns the
// interop directory.
func interopDir(t *testing.T) string {
	t.Helper()
	if os.Getenv("AUTHGATE_INTEROP") != "1" {
		t.Skip("AUTHGATE_INTEROP not set: interop with the Firebase Auth emulator skipped (.ci/run sets it)")
	}
	dir := os.Getenv("AUTHGATE_INTEROP_DIR")
	if dir == "" {
		dir = filepath.Join("..", "..", "interop")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		t.Fatalf("interop directory %q: %v", dir, err)
	}
	return abs
}

// startEmulator starts the auth emulator on free loopback ports in its own
// process group, waits until it is ready and returns its host:port. The
// group is killed when the test ends.
func startEmulator(t *testing.T, bin string) string {
	t.Helper()
	work := t.TempDir()
	authPort, hubPort, logPort := freePort(t), freePort(t), freePort(t)
	conf := map[string]any{"emulators": map[string]any{
		"auth":    map[string]any{"host": "127.0.0.1", "port": authPort},
		"hub":     map[string]any{"host": "127.0.0.1", "port": hubPort},
		"logging": map[string]any{"host": "127.0.0.1", "port": logPort},
		"ui":      map[string]any{"enabled": false},
	}}
	b, _ := json.Marshal(conf)
	if err := os.WriteFile(filepath.Join(work, "firebase.json"), b, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "emulators:start", "--only", "auth", "--project", emulatorProject)
	cmd.Dir = work
	cmd.Env = append(os.Environ(), "CI=true", "NO_UPDATE_NOTIFIER=1", "HOME="+work)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting the emulator: %v", err)
	}
	var logMu sync.Mutex
	var log bytes.Buffer
	ready := make(chan struct{})
	go func() {
		s := bufio.NewScanner(out)
		once := sync.Once{}
		for s.Scan() {
			logMu.Lock()
			log.WriteString(s.Text() + "\n")
			logMu.Unlock()
			if strings.Contains(s.Text(), "All emulators ready") {
				once.Do(func() { close(ready) })
			}
		}
	}()
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()
	t.Cleanup(func() {
		pgid := cmd.Process.Pid
		_ = syscall.Kill(-pgid, syscall.SIGTERM)
		select {
		case <-waited:
		case <-time.After(10 * time.Second):
			_ = syscall.Kill(-pgid, syscall.SIGKILL)
			<-waited
		}
	})
	select {
	case <-ready:
	case err := <-waited:
		logMu.Lock()
		defer logMu.Unlock()
		t.Fatalf("the emulator exited before it was ready: %v\n%s", err, log.String())
	case <-time.After(emulatorStart):
		logMu.Lock()
		defer logMu.Unlock()
		t.Fatalf("the emulator was not ready after %v\n%s", emulatorStart, log.String())
	}
	return fmt.Sprintf("127.0.0.1:%d", authPort)
}

// freePort returns a loopback port that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// closedAddr returns a loopback address nobody listens on.
func closedAddr(t *testing.T) string {
	return fmt.Sprintf("127.0.0.1:%d", freePort(t))
}

// emulatorClient calls the emulator's Identity Toolkit REST API.
type emulatorClient struct{ base string }

const emulatorPassword = "correct horse battery staple"

func (c *emulatorClient) call(t *testing.T, method string, body any) map[string]any {
	t.Helper()
	b, _ := json.Marshal(body)
	u := c.base + "/identitytoolkit.googleapis.com/v1/accounts:" + method + "?key=fake-api-key"
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("accounts:%s: %v", method, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("accounts:%s: %s: %s", method, resp.Status, data)
	}
	var out map[string]any
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatalf("accounts:%s: %v", method, err)
	}
	return out
}

// signUp creates a password user and returns its uid.
func (c *emulatorClient) signUp(t *testing.T, email string) string {
	t.Helper()
	out := c.call(t, "signUp", map[string]any{"email": email, "password": emulatorPassword, "returnSecureToken": true})
	id, _ := out["localId"].(string)
	if id == "" {
		t.Fatalf("accounts:signUp returned no localId: %v", out)
	}
	return id
}

// signIn signs a password user in and returns its ID token.
func (c *emulatorClient) signIn(t *testing.T, email string) string {
	t.Helper()
	out := c.call(t, "signInWithPassword", map[string]any{"email": email, "password": emulatorPassword, "returnSecureToken": true})
	tok, _ := out["idToken"].(string)
	if tok == "" {
		t.Fatalf("accounts:signInWithPassword returned no idToken")
	}
	return tok
}

// claimOf decodes one claim of a token's payload (test inspection only).
func claimOf(t *testing.T, token, name string) any {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("token has %d segments", len(parts))
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	return c[name]
}
