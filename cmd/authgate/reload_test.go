package main

import (
	"context"
	"crypto/rsa"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authgate/authgate/apikey"
	"github.com/authgate/authgate/authtest"
	"github.com/authgate/authgate/internal/jwttest"
)

// reloadConfig is the configuration of the reload tests: realm, and an
// extra provider, set per version.
const reloadConfig = `listen: 127.0.0.1:0
realm: %s
log: {format: json, level: info}
providers:
  - {name: local, type: static, keys: keys/jwks.json, algorithms: [RS256], issuer: %s, audience: %s}
  - {name: opaque, type: introspection, issuer: %q, endpoint: %q, client_id: %s, client_secret_env: %s, audience: %q}
  - {name: keys, type: apikey, prefix: ag, store: "sqlite:keys.db", cache_ttl: 0s}
%s`

// TestReload swaps configurations under load: requests in flight during a
// reload finish with the old configuration's answer, the old one is closed
// only after them, the new realm, provider and key file take effect, and
// an invalid file is refused with its errors logged while the running
// configuration keeps serving.
func TestReload(t *testing.T) {
	opaque := authtest.NewIntrospectionServer(t)
	f := newFixture(t)
	f.env[secretVar] = opaque.ClientSecret()
	write := func(realm, extra string) string {
		return f.write("authgate.yaml", fmt.Sprintf(reloadConfig, realm, testIssuer, testAudience, opaque.Issuer(), opaque.Endpoint(), opaque.ClientID(), secretVar, authtest.DefaultAudience, extra))
	}
	path := write("v1", "")
	cfg, err := LoadConfig(path, f.getenv)
	if err != nil {
		t.Fatal(err)
	}
	var logs lockedBuffer
	gen, err := newGeneration(context.Background(), cfg, &logs, nil)
	if err != nil {
		t.Fatal(err)
	}
	h := &handler{}
	h.cur.Store(gen)
	t.Cleanup(func() { h.cur.Load().close() })
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	e := &env{ctx: context.Background(), stderr: &logs, getenv: f.getenv}
	apiKey, _, err := gen.g.byName["keys"].keys.Manager().Issue(context.Background(), apikey.Key{Subject: "bot"})
	if err != nil {
		t.Fatal(err)
	}

	send := func(header ...string) (*http.Response, error) {
		req, _ := http.NewRequest("GET", srv.URL+"/verify", nil)
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		resp, err := srv.Client().Do(req)
		if err == nil {
			resp.Body.Close()
		}
		return resp, err
	}
	status := func(header ...string) int {
		t.Helper()
		resp, err := send(header...)
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode
	}
	bearer := func(tok string) []string { return []string{"Authorization", "Bearer " + tok} }
	challenge := func() string {
		t.Helper()
		resp, err := send()
		if err != nil {
			t.Fatal(err)
		}
		return resp.Header.Get("WWW-Authenticate")
	}

	// Continuous load with credentials both configurations accept, and
	// slow requests (the introspection endpoint takes 3 s) in flight when
	// the reload happens.
	local := f.token(nil)
	slow := opaque.Token(map[string]any{"sub": "carol"})
	opaque.Delay(3 * time.Second) // long enough to outlast a reload on a loaded machine
	stop := make(chan struct{})
	var load sync.WaitGroup
	var sent, wrong atomic.Int64
	var firstWrong atomic.Value
	for _, hdr := range [][]string{bearer(local), {"X-API-Key", apiKey}} {
		load.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				resp, err := send(hdr...)
				sent.Add(1)
				switch {
				case err != nil:
					wrong.Add(1)
					firstWrong.CompareAndSwap(nil, err.Error())
				case resp.StatusCode != 200:
					wrong.Add(1)
					firstWrong.CompareAndSwap(nil, fmt.Sprint(resp.StatusCode, " ", resp.Header.Get("WWW-Authenticate")))
				}
			}
		})
	}
	var inflight sync.WaitGroup
	slowStatus := make(chan int, 20)
	for range 20 {
		inflight.Go(func() {
			resp, err := send(bearer(slow)...)
			if err != nil {
				t.Error(err)
				return
			}
			slowStatus <- resp.StatusCode
		})
	}
	time.Sleep(300 * time.Millisecond) // the slow requests are at the endpoint

	// v2: a new realm and a new provider with its own key file.
	key2 := jwttest.Key("RS256", "reload-2").(*rsa.PrivateKey)
	files, _, err := keyFiles(key2, "RS256", "k2")
	if err != nil {
		t.Fatal(err)
	}
	if err := writeKeyFiles(filepath.Join(f.dir, "next"), files, false); err != nil {
		t.Fatal(err)
	}
	old := h.cur.Load()
	write("v2", "  - {name: next, type: static, keys: next/jwks.json, algorithms: [RS256], issuer: https://next.test, audience: api}\nchain: [local, next, opaque, keys]\n")
	h.reload(e, path, "", nil)
	if h.cur.Load() == old {
		t.Fatalf("reload did not swap the configuration:\n%s", logs.String())
	}
	// The old configuration is kept open for the requests still in flight
	// (for more than 2 s more).
	time.Sleep(200 * time.Millisecond)
	if _, err := old.g.byName["keys"].store.Lookup(context.Background(), apikey.Digest{}); !errors.Is(err, apikey.ErrNotFound) {
		t.Errorf("old store during its requests: %v, want it open", err)
	}
	inflight.Wait()
	close(slowStatus)
	for code := range slowStatus {
		if code != 200 {
			t.Errorf("a request in flight during the reload = %d, want 200", code)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, err := old.g.byName["keys"].store.Lookup(context.Background(), apikey.Digest{})
		if err != nil && !errors.Is(err, apikey.ErrNotFound) {
			break // closed once its requests ended
		}
		if time.Now().After(deadline) {
			t.Fatal("the old configuration's store is still open after its requests ended")
		}
		time.Sleep(10 * time.Millisecond)
	}
	opaque.Delay(0)
	close(stop)
	load.Wait()
	if wrong.Load() > 0 || sent.Load() == 0 {
		t.Errorf("%d of %d requests under load went wrong (first: %v)", wrong.Load(), sent.Load(), firstWrong.Load())
	}
	if ch := challenge(); !strings.Contains(ch, `realm="v2"`) {
		t.Errorf("after the reload the challenge is %q, want realm v2", ch)
	}
	tok2 := jwttest.Token("RS256", "k2", key2, map[string]any{"iss": "https://next.test", "aud": "api", "sub": "dan", "exp": time.Now().Add(time.Hour).Unix()})
	if code := status(bearer(tok2)...); code != 200 {
		t.Errorf("token of the new provider = %d, want 200", code)
	}

	// A changed key file is re-read: local now holds key 3 only.
	key3 := jwttest.Key("RS256", "reload-3").(*rsa.PrivateKey)
	files, _, err = keyFiles(key3, "RS256", "k1")
	if err != nil {
		t.Fatal(err)
	}
	if err := writeKeyFiles(filepath.Join(f.dir, "keys"), files, true); err != nil {
		t.Fatal(err)
	}
	h.reload(e, path, "", nil)
	tok3 := jwttest.Token("RS256", "k1", key3, map[string]any{"iss": testIssuer, "aud": testAudience, "sub": "eve", "exp": time.Now().Add(time.Hour).Unix()})
	if code := status(bearer(tok3)...); code != 200 {
		t.Errorf("token of the new key = %d, want 200", code)
	}
	if code := status(bearer(local)...); code != 401 {
		t.Errorf("token of the replaced key = %d, want 401", code)
	}

	// An invalid file is refused, each error logged; v2 keeps serving.
	cur := h.cur.Load()
	f.write("authgate.yaml", strings.Replace(fmt.Sprintf(reloadConfig, "v3", testIssuer, testAudience, opaque.Issuer(), opaque.Endpoint(), opaque.ClientID(), secretVar, authtest.DefaultAudience, ""), "algorithms: [RS256]", "algorithms: [RS256], leeway: 3x, colour: blue", 1))
	h.reload(e, path, "", nil)
	if h.cur.Load() != cur {
		t.Fatal("an invalid configuration replaced the running one")
	}
	lines := logLines(t, logs.String())
	refused := count(lines, "authgate: reload refused, configuration kept", nil)
	if len(refused) != 2 || !strings.Contains(fmt.Sprint(refused), "authgate.yaml:5: providers[0].leeway") || !strings.Contains(fmt.Sprint(refused), "providers[0].colour") {
		t.Errorf("refused reload: want its two errors logged, got %v", refused)
	}
	if ch := challenge(); !strings.Contains(ch, `realm="v2"`) {
		t.Errorf("after a refused reload the challenge is %q, want realm v2", ch)
	}
	if code := status(bearer(tok3)...); code != 200 {
		t.Errorf("after a refused reload: token = %d, want 200", code)
	}
	assertNoCredentials(t, "log", logs.String(), apiKey, slow, opaque.ClientSecret())
}
