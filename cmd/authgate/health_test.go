package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/authtest"
)

// get returns the status and body of a GET.
func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// eventually polls url until it answers status, for up to 15 s.
func eventually(t *testing.T, url string, status int) string {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		code, body := get(t, url)
		if code == status {
			return body
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s = %d %q, want %d", url, code, body, status)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestServeHealth runs the serve command with an OpenID issuer that is
// down at start: /readyz is 503 naming it until the issuer answers, then
// 200, and stays 200 when the issuer fails again (the keys it served keep
// verifying); /livez and /healthz are 200 throughout.
func TestServeHealth(t *testing.T) {
	idp := authtest.NewIssuer(t, authtest.WithAudience(testAudience))
	idp.Fail(http.StatusServiceUnavailable)
	f := newFixture(t)
	path := f.write("authgate.yaml", fmt.Sprintf(`listen: 127.0.0.1:0
providers:
  - {name: local, type: static, keys: keys/jwks.json, algorithms: [RS256], issuer: %s, audience: %s}
  - {name: corp, type: oidc, issuer: %q, audience: %s}
  - {name: keys, type: apikey, prefix: ag, store: "sqlite:keys.db"}
`, testIssuer, testAudience, idp.Issuer(), testAudience))
	base := startServe(t, f, path)

	live := func() {
		t.Helper()
		for _, p := range []string{"/livez", "/healthz"} {
			if code, body := get(t, base+p); code != 200 || body != "ok\n" {
				t.Errorf("GET %s = %d %q, want 200 ok", p, code, body)
			}
		}
	}
	live()
	body := eventually(t, base+"/readyz", http.StatusServiceUnavailable)
	if body != "not ready: corp (unavailable)\n" {
		t.Errorf("/readyz body = %q, want only corp named", body)
	}
	live()

	idp.Recover()
	eventually(t, base+"/readyz", http.StatusOK)
	live()

	// The issuer fails again: its keys keep verifying, and the pod stays
	// ready (TestReadinessRule pins the rule once the probe reruns).
	idp.Fail(http.StatusInternalServerError)
	for range 3 {
		if code, body := get(t, base+"/readyz"); code != 200 {
			t.Fatalf("/readyz = %d %q after the issuer failed again, want 200: its keys still verify", code, body)
		}
	}
	if code := verifyStatus(t, base, idp.Token(nil)); code != 200 {
		t.Errorf("a token of the failing issuer = %d, want 200", code)
	}
	live()
}

// TestReadyAsksBeforeFetching: once a provider holds usable keys, a
// readiness recheck asks it (providers' Ready, no I/O) instead of fetching
// its keys again; without usable keys the recheck fetches.
func TestReadyAsksBeforeFetching(t *testing.T) {
	idp := authtest.NewIssuer(t, authtest.WithAudience(testAudience))
	gf := newGateway(t, fmt.Sprintf(`providers:
  - {name: corp, type: oidc, issuer: %q, audience: %s}
`, idp.Issuer(), testAudience))
	if code, body := get(t, gf.srv.URL+"/readyz"); code != 200 {
		t.Fatalf("/readyz = %d %q, want 200", code, body)
	}
	fetches := idp.JWKSRequests()
	rd := gf.srv.Config.Handler.(*handler).cur.Load().ready
	for i := range 5 {
		// Each check comes after the last answer's keysRecheck: a probe
		// reruns every time.
		later := time.Now().Add(time.Duration(i+1) * keysRecheck)
		rd.now = func() time.Time { return later }
		if code, body := get(t, gf.srv.URL+"/readyz"); code != 200 {
			t.Fatalf("/readyz #%d = %d %q, want 200", i+1, code, body)
		}
	}
	if n := idp.JWKSRequests() - fetches; n != 0 {
		t.Fatalf("%d key fetches for 5 readiness rechecks with usable keys held, want 0", n)
	}
}

// TestReadyDenyList: with a deny-list that cannot be confirmed current
// (its Redis out of reach), every guarded request would be 503, so the
// pod is not ready and /readyz names the deny-list.
func TestReadyDenyList(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	f := newFixture(t)
	path := f.write("authgate.yaml", fmt.Sprintf(`listen: 127.0.0.1:0
providers:
  - {name: local, type: static, keys: keys/jwks.json, algorithms: [RS256], issuer: %s, audience: %s}
redis: {address: %q, deny_list: {heartbeat: 100ms, grace: 1s}}
`, testIssuer, testAudience, addr))
	base := startServe(t, f, path)
	if code, body := get(t, base+"/readyz"); code != 503 || body != "not ready: deny-list (unavailable)\n" {
		t.Fatalf("/readyz = %d %q with the deny-list's Redis down, want 503 naming the deny-list", code, body)
	}
	if code, _ := get(t, base+"/livez"); code != 200 {
		t.Errorf("/livez = %d, want 200", code)
	}
}

// startServe runs the serve command on path until the end of the test and
// returns its base URL.
func startServe(t *testing.T, f *fixture, path string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	addrc := make(chan string, 1)
	done := make(chan result, 1)
	go func() { done <- f.runCtx(ctx, "", func(a string) { addrc <- a }, "serve", "--config", path) }()
	t.Cleanup(func() {
		cancel()
		if r := <-done; r.code != exitOK {
			t.Errorf("serve = %d\n%s", r.code, r.stderr)
		}
	})
	select {
	case addr := <-addrc:
		return "http://" + addr
	case r := <-done:
		t.Fatalf("serve exited: %d\n%s", r.code, r.stderr)
	}
	return ""
}

func verifyStatus(t *testing.T, base, token string) int {
	t.Helper()
	req, _ := http.NewRequest("GET", base+"/verify", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestReadyStoreDown: an API-key store that cannot be reached makes
// /readyz 503 naming its provider; /livez stays 200.
func TestReadyStoreDown(t *testing.T) {
	gf := newGateway(t, serveConfig)
	if code, body := get(t, gf.srv.URL+"/readyz"); code != 200 {
		t.Fatalf("/readyz = %d %q with the store up, want 200", code, body)
	}
	gf.g.byName["keys"].store.Close()
	// The first answer is cached for storeRecheck: move the clock past it
	// (the probe that gave it has ended; its answer came back with it).
	gf.srv.Config.Handler.(*handler).cur.Load().ready.now = func() time.Time { return time.Now().Add(storeRecheck) }
	if code, body := get(t, gf.srv.URL+"/readyz"); code != 503 || body != "not ready: keys (unavailable)\n" {
		t.Errorf("/readyz = %d %q with the store closed, want 503 naming keys", code, body)
	}
	if code, _ := get(t, gf.srv.URL+"/livez"); code != 200 {
		t.Errorf("/livez = %d, want 200", code)
	}
	assertNoCredentials(t, "logs", gf.logs.String())
}

// TestReadinessRule pins when a key-set provider is ready, with an
// injected clock: after a success, failures keep it ready until its last
// good keys are max_key_age old; a store is ready only while its last
// check succeeded; a check that hangs is answered within readyWait.
func TestReadinessRule(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var fail atomic.Bool
	var hang atomic.Bool
	release := make(chan struct{})
	check := func(ctx context.Context) error {
		if hang.Load() {
			select {
			case <-release:
			case <-ctx.Done():
			}
		}
		if fail.Load() {
			return &authgate.Error{Provider: "x", Kind: authgate.ErrUnavailable, Err: errors.New("connection refused")}
		}
		return nil
	}
	keys := &probe{name: "keys", check: check, every: keysRecheck, usable: time.Hour}
	store := &probe{name: "store", check: check, every: storeRecheck}
	rd := &readiness{probes: []*probe{keys, store}, logger: discardLogger(), now: func() time.Time { return now }}

	steps := []struct {
		name    string
		advance time.Duration
		fail    bool
		want    string
	}{
		{"first check succeeds", 0, false, ""},
		{"cached success, no new check", time.Second, true, ""},
		{"failures: the store is not ready, the keys still are", storeRecheck + keysRecheck, true, "store (unavailable)"},
		{"keys older than max_key_age", time.Hour, true, "keys (unavailable), store (unavailable)"},
		{"both back after a failure's short cache", probeRetry, false, ""},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			now = now.Add(s.advance)
			fail.Store(s.fail)
			if got := strings.Join(rd.check(context.Background()), ", "); got != s.want {
				t.Errorf("check() = %q, want %q", got, s.want)
			}
		})
	}
	t.Run("a hanging check is not waited for", func(t *testing.T) {
		hang.Store(true)
		defer close(release)
		now = now.Add(keysRecheck)
		start := time.Now()
		got := strings.Join(rd.check(context.Background()), ", ")
		if d := time.Since(start); d > readyWait+time.Second {
			t.Errorf("check() took %v, want about readyWait (%v)", d, readyWait)
		}
		if got != "" {
			t.Errorf("check() = %q while checks run, want the last answers (ready)", got)
		}
	})
}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }
