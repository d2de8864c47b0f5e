package providers_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/internal/jwttest"
	"github.com/authgate/authgate/providers"
)

func TestNewRemoteKeySetConfig(t *testing.T) {
	rs := []string{providers.RS256}
	tests := []struct {
		name    string
		cfg     providers.RemoteKeySetConfig
		wantErr bool
	}{
		{"https", providers.RemoteKeySetConfig{URL: "https://idp.example/jwks", Algorithms: rs}, false},
		{"loopback v4", providers.RemoteKeySetConfig{URL: "http://127.0.0.1:8080/jwks", Algorithms: rs}, false},
		{"loopback 127/8", providers.RemoteKeySetConfig{URL: "http://127.9.8.7/jwks", Algorithms: rs}, false},
		{"loopback v6", providers.RemoteKeySetConfig{URL: "http://[::1]:8080/jwks", Algorithms: rs}, false},
		{"localhost", providers.RemoteKeySetConfig{URL: "http://localhost/jwks", Algorithms: rs}, false},
		{"issuer", providers.RemoteKeySetConfig{Issuer: "https://idp.example", Algorithms: rs}, false},
		{"nothing", providers.RemoteKeySetConfig{Algorithms: rs}, true},
		{"http", providers.RemoteKeySetConfig{URL: "http://idp.example/jwks", Algorithms: rs}, true},
		{"http issuer", providers.RemoteKeySetConfig{Issuer: "http://idp.example", Algorithms: rs}, true},
		{"metadata address", providers.RemoteKeySetConfig{URL: "http://169.254.169.254/latest", Algorithms: rs}, true},
		{"file", providers.RemoteKeySetConfig{URL: "file:///etc/passwd", Algorithms: rs}, true},
		{"user info", providers.RemoteKeySetConfig{URL: "https://u:p@idp.example/jwks", Algorithms: rs}, true},
		{"fragment", providers.RemoteKeySetConfig{URL: "https://idp.example/jwks#x", Algorithms: rs}, true},
		{"relative", providers.RemoteKeySetConfig{URL: "/jwks", Algorithms: rs}, true},
		{"no algorithms", providers.RemoteKeySetConfig{URL: "https://idp.example/jwks"}, true},
		{"HS256", providers.RemoteKeySetConfig{URL: "https://idp.example/jwks", Algorithms: []string{"RS256", "HS256"}}, true},
		{"none", providers.RemoteKeySetConfig{URL: "https://idp.example/jwks", Algorithms: []string{"none"}}, true},
		{"cooldown too short", providers.RemoteKeySetConfig{URL: "https://idp.example/jwks", Algorithms: rs, Cooldown: time.Millisecond}, true},
		{"refresh too short", providers.RemoteKeySetConfig{URL: "https://idp.example/jwks", Algorithms: rs, RefreshInterval: time.Minute}, true},
		{"max age too long", providers.RemoteKeySetConfig{URL: "https://idp.example/jwks", Algorithms: rs, MaxKeyAge: 30 * 24 * time.Hour}, true},
		{"timeout too long", providers.RemoteKeySetConfig{URL: "https://idp.example/jwks", Algorithms: rs, FetchTimeout: time.Minute}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := providers.NewRemoteKeySet(tc.cfg)
			if (err != nil) != tc.wantErr {
				t.Fatalf("NewRemoteKeySet(%s) = %v, want error %v", tc.name, err, tc.wantErr)
			}
			if err != nil && !strings.HasPrefix(err.Error(), "jwks: ") {
				t.Errorf("error %q does not start with the provider name", err)
			}
		})
	}
}

func TestRemoteKeySetNoIOInConstructor(t *testing.T) {
	srv := newKeyServer(t, set("k1"))
	clk := newClock()
	newRemote(t, srv.URL, clk, nil)
	if n := srv.hits.Load(); n != 0 {
		t.Fatalf("NewRemoteKeySet made %d requests, want 0", n)
	}
}

func TestRemoteKeySetRotation(t *testing.T) {
	srv := newKeyServer(t, set("k1"))
	clk := newClock()
	v, ks := newRemote(t, srv.URL, clk, nil)
	if err := ks.Prefetch(t.Context()); err != nil {
		t.Fatalf("Prefetch: %v", err)
	}
	k1 := token(clk, "RS256", "k1", "k1", nil)
	if err := verify(v, k1); err != nil {
		t.Fatalf("Verify(k1) = %v, want nil", err)
	}

	// k2 is published: its first token fetches the set once (153).
	srv.set(set("k2"), "")
	clk.Advance(31 * time.Second)
	k2 := token(clk, "RS256", "k2", "k2", nil)
	if err := verify(v, k2); err != nil {
		t.Fatalf("Verify(k2) after publication = %v, want nil", err)
	}
	if n := srv.hits.Load(); n != 2 {
		t.Fatalf("fetches = %d, want 2", n)
	}
	// k1 left the set: it no longer verifies, and asking costs no fetch
	// during the cooldown (152).
	if err := verify(v, k1); !errors.Is(err, authgate.ErrInvalidSignature) {
		t.Fatalf("Verify(k1) after removal = %v, want ErrInvalidSignature", err)
	}
	if n := srv.hits.Load(); n != 2 {
		t.Fatalf("fetches = %d, want 2", n)
	}
}

func TestRemoteKeySetPeriodicRefreshRemovesKeys(t *testing.T) {
	srv := newKeyServer(t, set("k1"))
	srv.set(set("k1"), "public, max-age=600")
	clk := newClock()
	v, _ := newRemote(t, srv.URL, clk, nil)
	k1 := token(clk, "RS256", "k1", "k1", nil)
	if err := verify(v, k1); err != nil {
		t.Fatalf("Verify(k1) = %v", err)
	}
	srv.set(set("k2"), "public, max-age=600")
	clk.Advance(599 * time.Second)
	if err := verify(v, k1); err != nil {
		t.Fatalf("Verify(k1) before max-age = %v", err)
	}
	if n := srv.hits.Load(); n != 1 {
		t.Fatalf("fetches before max-age = %d, want 1", n)
	}
	clk.Advance(2 * time.Second)
	// The set is due: this request is served from it and starts one
	// background refresh; after that k1 is gone.
	if err := verify(v, k1); err != nil {
		t.Fatalf("Verify(k1) while refreshing = %v, want the old set to serve", err)
	}
	eventually(t, "k1 to stop verifying", func() bool { return errors.Is(verify(v, k1), authgate.ErrInvalidSignature) })
	// The scheduled refresh started no unknown-kid cooldown: the first
	// token naming the removed k1 refetched once, the next ones did not.
	for range 10 {
		if err := verify(v, k1); !errors.Is(err, authgate.ErrInvalidSignature) {
			t.Fatalf("Verify(k1) after removal = %v, want ErrInvalidSignature", err)
		}
	}
	if n := srv.hits.Load(); n != 3 {
		t.Fatalf("fetches = %d, want 3 (first, scheduled, one unknown kid)", n)
	}
}

// TestRemoteKeySetCacheControl checks the refresh schedule (158): max-age
// clamped to [5 min, 24 h], 1 h when absent, 0, no-store or malformed.
func TestRemoteKeySetCacheControl(t *testing.T) {
	tests := []struct {
		cacheControl string
		want         time.Duration
	}{
		{"", time.Hour},
		{"max-age=0", time.Hour},
		{"no-store", time.Hour},
		{"no-cache, max-age=600", time.Hour},
		{"max-age=abc", time.Hour},
		{"max-age=60", 5 * time.Minute},
		{"public, max-age=7200, must-revalidate", 2 * time.Hour},
		{"max-age=999999999", 24 * time.Hour},
		{"max-age=99999999999999999999999", 24 * time.Hour},
	}
	for _, tc := range tests {
		t.Run(tc.cacheControl, func(t *testing.T) {
			srv := newKeyServer(t, set("k1"))
			srv.set(set("k1"), tc.cacheControl)
			clk := newClock()
			v, _ := newRemote(t, srv.URL, clk, nil)
			tok := token(clk, "RS256", "k1", "k1", func(c map[string]any) { c["exp"] = clk.Now().Add(48 * time.Hour).Unix() })
			if err := verify(v, tok); err != nil {
				t.Fatalf("Verify = %v", err)
			}
			clk.Advance(tc.want - time.Second)
			for range 100 { // many requests, still no fetch: never a busy loop
				if err := verify(v, tok); err != nil {
					t.Fatalf("Verify = %v", err)
				}
			}
			if n := srv.hits.Load(); n != 1 {
				t.Fatalf("fetches 1 s before %v = %d, want 1", tc.want, n)
			}
			clk.Advance(2 * time.Second)
			if err := verify(v, tok); err != nil {
				t.Fatalf("Verify = %v", err)
			}
			eventually(t, "the scheduled refresh", func() bool { return srv.hits.Load() == 2 })
		})
	}
}

// TestRemoteKeySetOutageAfterWarmUp: last good keys until MaxKeyAge, then
// 503 (146); new kids are 503 meanwhile (the key server cannot be asked
// about them); retries are backed off.
func TestRemoteKeySetOutageAfterWarmUp(t *testing.T) {
	srv := newKeyServer(t, set("k1"))
	clk := newClock()
	v, ks := newRemote(t, srv.URL, clk, nil)
	if err := ks.Prefetch(t.Context()); err != nil {
		t.Fatal(err)
	}
	srv.setHandler(func(w http.ResponseWriter, r *http.Request) { http.Error(w, "down", http.StatusInternalServerError) })
	exp := func(c map[string]any) { c["exp"] = clk.Now().Add(48 * time.Hour).Unix() }
	k1 := token(clk, "RS256", "k1", "k1", exp)
	k2 := token(clk, "RS256", "k2", "k2", exp)

	for step := 0; step < 23*60; step++ { // 23 hours, a request a minute
		clk.Advance(time.Minute)
		if err := verify(v, k1); err != nil {
			t.Fatalf("after %d min of outage: Verify(k1) = %v, want the last good key", step+1, err)
		}
		if err := verify(v, k2); !errors.Is(err, authgate.ErrUnavailable) || errors.Is(err, authgate.ErrInvalidCredentials) {
			t.Fatalf("after %d min of outage: Verify(k2) = %v, want ErrUnavailable only", step+1, err)
		}
		if step%60 == 0 {
			// Let the background refresh finish so the next minute can
			// start another (each is backed off, never a loop).
			eventually(t, "the refresh to end", func() bool { return srv.hits.Load() >= 2 })
		}
	}
	// Over 23 h, at most ~1 attempt per minute plus the unknown-kid ones
	// (also one per cooldown), never a request per verification.
	if n := srv.hits.Load(); n > 2*23*60+2 {
		t.Fatalf("fetches during the outage = %d, want ≤ %d", n, 2*23*60+2)
	}
	clk.Advance(time.Hour + time.Minute)
	err := verify(v, k1)
	if !errors.Is(err, authgate.ErrUnavailable) || authgate.StatusCode(err) != http.StatusServiceUnavailable {
		t.Fatalf("Verify(k1) after MaxKeyAge = %v (status %d), want ErrUnavailable (503)", err, authgate.StatusCode(err))
	}
	// The endpoint recovers: the next attempt after the backoff restores it.
	srv.set(set("k1"), "")
	clk.Advance(2 * time.Minute)
	if err := verify(v, k1); err != nil {
		t.Fatalf("Verify(k1) after recovery = %v", err)
	}
}

// TestRemoteKeySetColdOutage: no keys ever → 503, never accepted, retried
// with backoff, not on every request (145).
func TestRemoteKeySetColdOutage(t *testing.T) {
	srv := newKeyServer(t, set("k1"))
	srv.setHandler(func(w http.ResponseWriter, r *http.Request) { http.Error(w, "down", http.StatusBadGateway) })
	clk := newClock()
	v, ks := newRemote(t, srv.URL, clk, nil)
	tok := token(clk, "RS256", "k1", "k1", nil)
	for i := range 50 {
		err := verify(v, tok)
		if !errors.Is(err, authgate.ErrUnavailable) || errors.Is(err, authgate.ErrInvalidCredentials) {
			t.Fatalf("request %d: Verify = %v, want ErrUnavailable only", i, err)
		}
	}
	if n := srv.hits.Load(); n != 1 {
		t.Fatalf("fetches = %d, want 1 (backoff)", n)
	}
	if err := ks.Prefetch(t.Context()); !errors.Is(err, authgate.ErrUnavailable) {
		t.Fatalf("Prefetch = %v, want ErrUnavailable", err)
	}
	clk.Advance(1500 * time.Millisecond) // 2nd failure backs off 2 s
	verify(v, tok)
	if n := srv.hits.Load(); n != 2 {
		t.Fatalf("fetches = %d, want 2 (Prefetch ignores the backoff, requests honour it)", n)
	}
	srv.set(set("k1"), "")
	clk.Advance(time.Second)
	if err := verify(v, tok); err != nil {
		t.Fatalf("Verify after recovery = %v", err)
	}
}

func TestRemoteKeySetConnectionRefused(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	clk := newClock()
	v, _ := newRemote(t, url, clk, nil)
	if err := verify(v, token(clk, "RS256", "k1", "k1", nil)); !errors.Is(err, authgate.ErrUnavailable) {
		t.Fatalf("Verify with the endpoint down = %v, want ErrUnavailable", err)
	}
}

// TestRemoteKeySetBadAnswers runs every failure mode (147–151) cold and
// after a good set: cold → 503; warm → last good key verifies, the kid the
// bad answer might have named is 503, never accepted (164).
func TestRemoteKeySetBadAnswers(t *testing.T) {
	redirectTarget := newKeyServer(t, set("k1", "k2"))
	huge := append([]byte(`{"pad":"`), bytes.Repeat([]byte("a"), 10<<20)...)
	huge = append(huge, `","keys":[]}`...)
	var bomb bytes.Buffer
	zw := gzip.NewWriter(&bomb)
	zw.Write([]byte(`{"keys":[],"pad":"`))
	zw.Write(bytes.Repeat([]byte("0"), 20<<20))
	zw.Close()
	oct := `{"keys":[{"kty":"oct","kid":"k2","k":"` + jwttest.B64(bytes.Repeat([]byte("s"), 32)) + `","alg":"HS256"}]}`
	enc := jwttest.JWK(jwttest.Key("RS256", "k2"), "k2", "RS256")
	enc["use"] = "enc"
	body := func(status int, b string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(status)
			w.Write([]byte(b))
		}
	}
	redirect := func(to string, code int) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, to, code) }
	}
	tests := []struct {
		name    string
		handler http.HandlerFunc
	}{
		{"500", body(500, string(set("k2")))},
		{"404", body(404, "")},
		{"401", body(401, string(set("k2")))},
		{"204", body(204, "")},
		{"200 empty", body(200, "")},
		{"301 to another host", redirect(redirectTarget.URL, http.StatusMovedPermanently)},
		{"302 to metadata", redirect("http://169.254.169.254/latest/meta-data/", http.StatusFound)},
		{"307 to http", redirect("http://idp.example/jwks", http.StatusTemporaryRedirect)},
		{"html", body(200, "<html><body>Service Unavailable</body></html>")},
		{"truncated", body(200, string(set("k2"))[:40])},
		{"keys not array", body(200, `{"keys":"x"}`)},
		{"keys of numbers", body(200, `{"keys":[1]}`)},
		{"top-level array", body(200, `[`+string(set("k2"))+`]`)},
		{"trailing junk", body(200, string(set("k2"))+`{}`)},
		{"duplicate member", body(200, `{"keys":[],"keys":[]}`)},
		{"empty set", body(200, `{"keys":[]}`)},
		{"only unusable keys", body(200, `{"keys":[`+oct[10:len(oct)-2]+`,`+string(jwttest.JSON(enc))+`]}`)},
		{"10 MiB", body(200, string(huge))},
		{"endless stream", func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte(`{"keys":[],"pad":"`))
			chunk := bytes.Repeat([]byte("a"), 32<<10)
			for r.Context().Err() == nil {
				if _, err := w.Write(chunk); err != nil {
					return
				}
				w.(http.Flusher).Flush()
			}
		}},
		{"gzip bomb", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Encoding", "gzip")
			w.Write(bomb.Bytes())
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := newKeyServer(t, nil)
			srv.setHandler(tc.handler)
			clk := newClock()
			v, _ := newRemote(t, srv.URL, clk, nil)
			exp := func(c map[string]any) { c["exp"] = clk.Now().Add(48 * time.Hour).Unix() }
			k1 := token(clk, "RS256", "k1", "k1", exp)
			k2 := token(clk, "RS256", "k2", "k2", exp)
			if err := verify(v, k2); !errors.Is(err, authgate.ErrUnavailable) {
				t.Fatalf("cold: Verify = %v, want ErrUnavailable", err)
			}

			srv.set(set("k1"), "")
			clk.Advance(time.Hour) // past any backoff
			if err := verify(v, k1); err != nil {
				t.Fatalf("Verify(k1) with a good set = %v", err)
			}
			srv.setHandler(tc.handler)
			clk.Advance(time.Minute) // past the cooldown: k2 forces a fetch
			if err := verify(v, k2); !errors.Is(err, authgate.ErrUnavailable) || errors.Is(err, authgate.ErrInvalidCredentials) {
				t.Fatalf("warm: Verify(k2) = %v, want ErrUnavailable only", err)
			}
			if err := verify(v, k1); err != nil {
				t.Fatalf("warm: Verify(k1) after a bad answer = %v, want the last good key", err)
			}
			if n := srv.hits.Load(); n != 3 {
				t.Fatalf("fetches = %d, want 3", n)
			}
			if n := redirectTarget.hits.Load(); n != 0 {
				t.Fatalf("redirect target got %d requests, want 0", n)
			}
		})
	}
}

// TestRemoteKeySetInjectedClientRedirects: an injected client that follows
// redirects still does not, and is not modified (148).
func TestRemoteKeySetInjectedClientRedirects(t *testing.T) {
	target := newKeyServer(t, set("k1"))
	srv := newKeyServer(t, nil)
	srv.setHandler(func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, target.URL, http.StatusFound) })
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar}
	clk := newClock()
	v, _ := newRemote(t, srv.URL, clk, func(c *providers.RemoteKeySetConfig) { c.HTTPClient = client })
	if err := verify(v, token(clk, "RS256", "k1", "k1", nil)); !errors.Is(err, authgate.ErrUnavailable) {
		t.Fatalf("Verify = %v, want ErrUnavailable", err)
	}
	if n := target.hits.Load(); n != 0 {
		t.Fatalf("redirect followed: target got %d requests", n)
	}
	if client.CheckRedirect != nil || client.Timeout != 0 || client.Jar != jar {
		t.Fatalf("the injected client was modified")
	}
}

// TestRemoteKeySetRequestHygiene: no Authorization or Cookie, a fixed
// User-Agent, the JWKS Accept header (162).
func TestRemoteKeySetRequestHygiene(t *testing.T) {
	srv := newKeyServer(t, set("k1"))
	jar, _ := cookiejar.New(nil)
	u, _ := url.Parse(srv.URL)
	jar.SetCookies(u, []*http.Cookie{{Name: "session", Value: "secret"}})
	clk := newClock()
	v, _ := newRemote(t, srv.URL, clk, func(c *providers.RemoteKeySetConfig) { c.HTTPClient = &http.Client{Jar: jar} })
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Authorization", "Bearer incoming")
	r.Header.Set("Cookie", "incoming=1")
	if _, err := v.Verify(r.Context(), token(clk, "RS256", "k1", "k1", nil)); err != nil {
		t.Fatal(err)
	}
	h := srv.header()
	for _, name := range []string{"Authorization", "Cookie"} {
		if h.Get(name) != "" {
			t.Errorf("fetch sent %s", name)
		}
	}
	if got := h.Get("User-Agent"); !strings.HasPrefix(got, "authgate") {
		t.Errorf("User-Agent = %q, want authgate's", got)
	}
	if got, want := h.Get("Accept"), "application/json, application/jwk-set+json"; got != want {
		t.Errorf("Accept = %q, want %q", got, want)
	}
}

// TestRemoteKeySetSlow: a hung endpoint is abandoned at FetchTimeout;
// cached kids do not wait; no goroutine is left behind (144).
func TestRemoteKeySetSlow(t *testing.T) {
	base := runtime.NumGoroutine()
	release := make(chan struct{})
	srv := newKeyServer(t, set("k1"))
	clk := newClock()
	v, ks := newRemote(t, srv.URL, clk, func(c *providers.RemoteKeySetConfig) { c.FetchTimeout = 200 * time.Millisecond })
	if err := ks.Prefetch(t.Context()); err != nil {
		t.Fatal(err)
	}
	srv.setHandler(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	k1 := token(clk, "RS256", "k1", "k1", nil)
	k2 := token(clk, "RS256", "k2", "k2", nil)
	clk.Advance(time.Minute)

	start := time.Now()
	if err := verify(v, k2); !errors.Is(err, authgate.ErrUnavailable) {
		t.Fatalf("Verify(unknown kid) against a hung endpoint = %v, want ErrUnavailable", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("Verify(unknown kid) took %v, want about the 200 ms fetch timeout", d)
	}
	start = time.Now()
	if err := verify(v, k1); err != nil {
		t.Fatalf("Verify(k1) = %v", err)
	}
	if d := time.Since(start); d > 100*time.Millisecond {
		t.Fatalf("Verify(cached kid) took %v, want no wait", d)
	}
	close(release)
	srv.Close()
	checkNoLeak(t, base)
}

// TestRemoteKeySetCancel: the request's context ends while it waits for a
// cold fetch → 503 at once; the shared fetch goes on and fills the cache
// (163).
func TestRemoteKeySetCancel(t *testing.T) {
	base := runtime.NumGoroutine()
	srv := newKeyServer(t, set("k1"))
	release := make(chan struct{})
	srv.setHandler(func(w http.ResponseWriter, r *http.Request) {
		<-release
		w.Write(set("k1"))
	})
	clk := newClock()
	v, _ := newRemote(t, srv.URL, clk, nil)
	tok := token(clk, "RS256", "k1", "k1", nil)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error)
	go func() { _, err := v.Verify(ctx, tok); done <- err }()
	eventually(t, "the fetch to start", func() bool { return srv.hits.Load() == 1 })
	cancel()
	if err := <-done; !errors.Is(err, authgate.ErrUnavailable) || !errors.Is(err, context.Canceled) {
		t.Fatalf("Verify with a cancelled context = %v, want ErrUnavailable wrapping context.Canceled", err)
	}
	close(release)
	eventually(t, "the detached fetch to fill the cache", func() bool { return verify(v, tok) == nil })
	if n := srv.hits.Load(); n != 1 {
		t.Fatalf("fetches = %d, want 1", n)
	}
	srv.Close()
	checkNoLeak(t, base)
}

// TestRemoteKeySetUnknownKidFlood: 10,000 tokens with random kids over 60
// s → at most ⌈60 s / cooldown⌉ + 1 fetches, each rejected at once (154).
func TestRemoteKeySetUnknownKidFlood(t *testing.T) {
	srv := newKeyServer(t, set("k1"))
	clk := newClock()
	v, ks := newRemote(t, srv.URL, clk, nil) // cooldown 30 s
	if err := ks.Prefetch(t.Context()); err != nil {
		t.Fatal(err)
	}
	srv.hits.Store(0)
	// Valid-looking tokens: a real signature, under a header whose random
	// kid no key has (minting 10,000 RSA signatures would only slow the
	// test; the signature is never reached).
	real := strings.Split(token(clk, "RS256", "k1", "k1", func(c map[string]any) { c["exp"] = clk.Now().Add(2 * time.Hour).Unix() }), ".")
	for i := range 10_000 {
		clk.Advance(6 * time.Millisecond)
		kid := fmt.Sprintf("%016x", rand.Uint64())
		tok := jwttest.B64([]byte(`{"alg":"RS256","typ":"JWT","kid":"`+kid+`"}`)) + "." + real[1] + "." + real[2]
		if err := verify(v, tok); !errors.Is(err, authgate.ErrInvalidSignature) {
			t.Fatalf("request %d: Verify = %v, want ErrInvalidSignature", i, err)
		}
	}
	if n := srv.hits.Load(); n > 3 {
		t.Fatalf("fetches over 60 s with a 30 s cooldown = %d, want ≤ 3", n)
	}
	if n := srv.hits.Load(); n < 2 {
		t.Fatalf("fetches = %d, want the cooldown to allow 2 or 3 (the test would not notice a stuck manager)", n)
	}
}

// TestRemoteKeySetConcurrentUnknownKid: 100 goroutines, one new kid → one
// fetch, one outcome (155).
func TestRemoteKeySetConcurrentUnknownKid(t *testing.T) {
	srv := newKeyServer(t, set("k1"))
	clk := newClock()
	v, ks := newRemote(t, srv.URL, clk, nil)
	if err := ks.Prefetch(t.Context()); err != nil {
		t.Fatal(err)
	}
	gate := make(chan struct{})
	srv.setHandler(func(w http.ResponseWriter, r *http.Request) {
		<-gate
		w.Write(set("k1", "k2"))
	})
	clk.Advance(time.Minute)
	tok := token(clk, "RS256", "k2", "k2", nil)
	var wg sync.WaitGroup
	errs := make([]error, 100)
	for i := range errs {
		wg.Go(func() { errs[i] = verify(v, tok) })
	}
	eventually(t, "the fetch to start", func() bool { return srv.hits.Load() == 2 })
	close(gate)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("goroutine %d: Verify = %v, want nil", i, err)
		}
	}
	if n := srv.hits.Load(); n != 2 {
		t.Fatalf("fetches = %d, want 2 (warm-up + one shared)", n)
	}
}

// TestRemoteKeySetNoFetch: tokens that never reach the key set, a known
// kid with a bad signature, and kid-less tokens cause no fetch (156, 157,
// 159).
func TestRemoteKeySetNoFetch(t *testing.T) {
	srv := newKeyServer(t, set("k1"))
	clk := newClock()
	v, _ := newRemote(t, srv.URL, clk, nil)
	good := token(clk, "RS256", "k1", "k1", nil)
	badSig := good[:len(good)-4] + "AAAA"
	if strings.HasSuffix(good, "AAAA") {
		badSig = good[:len(good)-4] + "BBBB"
	}
	foreign := func(iss string) string {
		return token(clk, "RS256", "k9", "k9", func(c map[string]any) { c["iss"] = iss })
	}
	cold := []struct {
		name    string
		token   string
		wantErr error
	}{
		{"other issuer", foreign("https://attacker.example/"), authgate.ErrUnrecognizedCredential},
		{"metadata issuer", foreign("http://169.254.169.254/latest/meta-data/"), authgate.ErrUnrecognizedCredential},
		{"file issuer", foreign("file:///etc/passwd"), authgate.ErrUnrecognizedCredential},
		{"huge issuer", foreign(strings.Repeat("a", 10<<10)), authgate.ErrUnrecognizedCredential},
		{"alg not allowed", token(clk, "PS256", "k9", "k9", nil), authgate.ErrUnsupportedAlgorithm},
		{"alg none", jwttest.B64([]byte(`{"alg":"none"}`)) + "." + strings.Split(good, ".")[1] + ".", authgate.ErrUnrecognizedCredential},
		{"typ", jwttest.Sign("RS256", jwttest.Key("RS256", "k1"), []byte(`{"alg":"RS256","typ":"JWE","kid":"k9"}`), []byte(mustDecodeSeg(good, 1))), authgate.ErrInvalidCredentials},
		{"crit", jwttest.Sign("RS256", jwttest.Key("RS256", "k1"), []byte(`{"alg":"RS256","crit":["x"],"x":1,"kid":"k9"}`), []byte(mustDecodeSeg(good, 1))), authgate.ErrUnsupportedAlgorithm},
		{"jku", jwttest.Sign("RS256", jwttest.Key("RS256", "k1"), []byte(`{"alg":"RS256","jku":"https://attacker.example/jwks","kid":"k9"}`), []byte(mustDecodeSeg(good, 1))), authgate.ErrUnsupportedAlgorithm},
		{"framing", good + ".x", authgate.ErrUnrecognizedCredential},
	}
	for _, tc := range cold {
		if err := verify(v, tc.token); !errors.Is(err, tc.wantErr) {
			t.Errorf("%s: Verify = %v, want %v", tc.name, err, tc.wantErr)
		}
	}
	if n := srv.hits.Load(); n != 0 {
		t.Fatalf("cheaply rejected tokens caused %d fetches, want 0", n)
	}
	if err := verify(v, good); err != nil {
		t.Fatalf("Verify(good) = %v", err)
	}
	clk.Advance(time.Minute) // past the cooldown: only the kid decides
	warm := []struct {
		name    string
		token   string
		wantErr error
	}{
		{"known kid, bad signature", badSig, authgate.ErrInvalidSignature},
		{"known kid, other key", token(clk, "RS256", "k1", "other", nil), authgate.ErrInvalidSignature},
		{"no kid, other key", token(clk, "RS256", "", "other", nil), authgate.ErrInvalidSignature},
		{"no kid, no key of the alg", token(clk, "ES256", "", "k1", nil), authgate.ErrInvalidSignature},
		{"known kid, other alg", token(clk, "ES256", "k1", "k1", nil), authgate.ErrInvalidSignature},
	}
	for _, tc := range warm {
		if err := verify(v, tc.token); !errors.Is(err, tc.wantErr) {
			t.Errorf("%s: Verify = %v, want %v", tc.name, err, tc.wantErr)
		}
	}
	if n := srv.hits.Load(); n != 1 {
		t.Fatalf("fetches = %d, want 1 (the cold one)", n)
	}
}

func mustDecodeSeg(tok string, i int) string {
	b, err := base64RawURL(strings.Split(tok, ".")[i])
	if err != nil {
		panic(err)
	}
	return string(b)
}

// TestRemoteKeySetEmptyAfterGood pins 151: an empty set (or one with no
// usable key) after a good one is a failed fetch; the last good keys stay
// until MaxKeyAge.
func TestRemoteKeySetEmptyAfterGood(t *testing.T) {
	srv := newKeyServer(t, set("k1"))
	clk := newClock()
	v, _ := newRemote(t, srv.URL, clk, func(c *providers.RemoteKeySetConfig) { c.MaxKeyAge = 2 * time.Hour })
	exp := func(c map[string]any) { c["exp"] = clk.Now().Add(48 * time.Hour).Unix() }
	k1 := token(clk, "RS256", "k1", "k1", exp)
	if err := verify(v, k1); err != nil {
		t.Fatal(err)
	}
	srv.set([]byte(`{"keys":[]}`), "")
	clk.Advance(61 * time.Minute)
	verify(v, k1) // starts the refresh
	eventually(t, "the refresh", func() bool { return srv.hits.Load() == 2 })
	clk.Advance(30 * time.Minute)
	if err := verify(v, k1); err != nil {
		t.Fatalf("Verify(k1) after an empty set = %v, want the last good key", err)
	}
	clk.Advance(30 * time.Minute)
	if err := verify(v, k1); !errors.Is(err, authgate.ErrUnavailable) {
		t.Fatalf("Verify(k1) after MaxKeyAge = %v, want ErrUnavailable", err)
	}
}

// TestRemoteKeySetSkipsUnusable: a set mixing usable and unusable entries
// keeps the usable ones (point 1 of the issue).
func TestRemoteKeySetSkipsUnusable(t *testing.T) {
	ec := jwttest.JWK(jwttest.Key("ES256", "e1"), "e1", "ES256")
	noAlg := jwttest.JWK(jwttest.Key("ES256", "e2"), "e2", "")
	enc := jwttest.JWK(jwttest.Key("RS256", "enc"), "enc", "RSA-OAEP")
	enc["use"] = "enc"
	ops := jwttest.JWK(jwttest.Key("RS256", "ops"), "ops", "RS256")
	ops["key_ops"] = []string{"encrypt"}
	ps := jwttest.JWK(jwttest.Key("RS256", "ps"), "ps", "PS256") // not allowed
	doc := jwttest.JSON(map[string]any{"keys": []any{
		map[string]any{"kty": "oct", "kid": "hs", "k": jwttest.B64(bytes.Repeat([]byte{1}, 32))},
		map[string]any{"kty": "weird", "kid": "w"},
		enc, ops, ps, ec, noAlg,
		jwttest.JWK(jwttest.Key("RS256", "k1"), "k1", "RS256"),
	}})
	srv := newKeyServer(t, doc)
	clk := newClock()
	v, _ := newRemote(t, srv.URL, clk, nil)
	for _, tc := range []struct {
		alg, kid string
		ok       bool
	}{
		{"RS256", "k1", true}, {"ES256", "e1", true}, {"ES256", "e2", true},
		{"RS256", "enc", false}, {"RS256", "ops", false}, {"RS256", "ps", false},
	} {
		keyName := tc.kid
		err := verify(v, token(clk, tc.alg, tc.kid, keyName, nil))
		if (err == nil) != tc.ok {
			t.Errorf("Verify(%s kid %s) = %v, want ok %v", tc.alg, tc.kid, err, tc.ok)
		}
	}
}

// TestRemoteKeySetNoLeak runs a whole life cycle and counts goroutines.
func TestRemoteKeySetNoLeak(t *testing.T) {
	base := runtime.NumGoroutine()
	srv := newKeyServer(t, set("k1"))
	clk := newClock()
	v, ks := newRemote(t, srv.URL, clk, nil)
	ks.Prefetch(t.Context())
	tok := token(clk, "RS256", "k1", "k1", nil)
	for range 10 {
		clk.Advance(2 * time.Hour)
		verify(v, tok)
		verify(v, token(clk, "RS256", "zz", "k1", nil))
	}
	eventually(t, "fetches", func() bool { return srv.hits.Load() >= 10 })
	srv.Close()
	checkNoLeak(t, base)
}

// TestRemoteKeySetNewKidDuringOutage: with the key server failing after
// warm-up, a token naming a kid published since the last fetch is 503 —
// whether its refetch fails, is backed off or is cooling down after a
// failure — never "no key" (401); known kids keep verifying; once the
// server is back the new kid verifies, and a kid it does not publish is
// 401.
func TestRemoteKeySetNewKidDuringOutage(t *testing.T) {
	tests := []struct {
		name  string
		fault func(srv *keyServer, down *downServer, release chan struct{})
		heal  func(srv *keyServer, down *downServer)
	}{
		{"connection refused", func(_ *keyServer, d *downServer, _ chan struct{}) { d.down() }, func(_ *keyServer, d *downServer) { d.up() }},
		{"500", func(s *keyServer, _ *downServer, _ chan struct{}) {
			s.setHandler(func(w http.ResponseWriter, r *http.Request) { http.Error(w, "down", http.StatusInternalServerError) })
		}, nil},
		{"hang", func(s *keyServer, _ *downServer, release chan struct{}) { hang(s, release) }, nil},
		{"garbage", func(s *keyServer, _ *downServer, _ chan struct{}) {
			s.setHandler(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("<html>maintenance</html>")) })
		}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := newKeyServer(t, set("k1"))
			down := newDownServer(t, srv.Config.Handler)
			release := make(chan struct{})
			defer close(release)
			clk := newClock()
			v, ks := newRemote(t, down.URL, clk, func(c *providers.RemoteKeySetConfig) { c.FetchTimeout = 200 * time.Millisecond })
			if err := ks.Prefetch(t.Context()); err != nil {
				t.Fatal(err)
			}
			exp := func(c map[string]any) { c["exp"] = clk.Now().Add(48 * time.Hour).Unix() }
			k1 := token(clk, "RS256", "k1", "k1", exp)
			k2 := token(clk, "RS256", "k2", "k2", exp)
			tc.fault(srv, down, release)
			srv.set(set("k1", "k2"), "") // published, but not reachable
			tc.fault(srv, down, release)

			for _, step := range []struct {
				name    string
				advance time.Duration
			}{
				{"refetch fails", 0},
				{"backed off", 100 * time.Millisecond},
				{"cooling down after a failure", 5 * time.Second},
				{"next refetch fails", 31 * time.Second},
			} {
				clk.Advance(step.advance)
				err := verify(v, k2)
				if !errors.Is(err, authgate.ErrUnavailable) || errors.Is(err, authgate.ErrInvalidCredentials) || authgate.StatusCode(err) != http.StatusServiceUnavailable {
					t.Fatalf("%s: Verify(new kid) = %v (status %d), want ErrUnavailable (503)", step.name, err, authgate.StatusCode(err))
				}
				if err := verify(v, k1); err != nil {
					t.Fatalf("%s: Verify(known kid) = %v, want the last good key", step.name, err)
				}
			}

			if tc.heal != nil {
				tc.heal(srv, down)
			}
			srv.set(set("k1", "k2"), "")
			clk.Advance(31 * time.Second) // past the backoff and the cooldown
			if err := verify(v, k2); err != nil {
				t.Fatalf("Verify(new kid) after recovery = %v, want nil", err)
			}
			clk.Advance(31 * time.Second)
			if err := verify(v, token(clk, "RS256", "k9", "k9", nil)); !errors.Is(err, authgate.ErrInvalidSignature) {
				t.Fatalf("Verify(kid the healthy server does not publish) = %v, want ErrInvalidSignature", err)
			}
		})
	}
}

// TestRemoteKeySetRotationAfterFetch: a key published right after the
// start-up prefetch, the first lookup or a scheduled refresh verifies at
// once with one fetch (none of them starts the unknown-kid cooldown); the
// fetch it caused does start it.
func TestRemoteKeySetRotationAfterFetch(t *testing.T) {
	tests := []struct {
		name string
		warm func(t *testing.T, clk *fakeClock, srv *keyServer, v *providers.Verifier, ks *providers.RemoteKeySet)
	}{
		{"prefetch", func(t *testing.T, _ *fakeClock, _ *keyServer, _ *providers.Verifier, ks *providers.RemoteKeySet) {
			if err := ks.Prefetch(t.Context()); err != nil {
				t.Fatal(err)
			}
		}},
		{"first lookup", func(t *testing.T, clk *fakeClock, _ *keyServer, v *providers.Verifier, _ *providers.RemoteKeySet) {
			if err := verify(v, token(clk, "RS256", "k1", "k1", nil)); err != nil {
				t.Fatal(err)
			}
		}},
		{"scheduled refresh", func(t *testing.T, clk *fakeClock, srv *keyServer, v *providers.Verifier, _ *providers.RemoteKeySet) {
			if err := verify(v, token(clk, "RS256", "k1", "k1", nil)); err != nil {
				t.Fatal(err)
			}
			clk.Advance(time.Hour + time.Second)
			if err := verify(v, token(clk, "RS256", "k1", "k1", nil)); err != nil { // starts the refresh
				t.Fatal(err)
			}
			eventually(t, "the scheduled refresh", func() bool { return srv.hits.Load() == 2 })
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := newKeyServer(t, set("k1"))
			clk := newClock()
			v, ks := newRemote(t, srv.URL, clk, nil) // cooldown 30 s
			tc.warm(t, clk, srv, v, ks)
			fetches := srv.hits.Load()

			srv.set(set("k1", "k2"), "")
			clk.Advance(time.Second)
			if err := verify(v, token(clk, "RS256", "k2", "k2", nil)); err != nil {
				t.Fatalf("Verify(k2) 1 s after the %s = %v, want nil", tc.name, err)
			}
			if n := srv.hits.Load() - fetches; n != 1 {
				t.Fatalf("fetches for k2 = %d, want 1", n)
			}
			// The unknown-kid cooldown still holds for the next new kid.
			srv.set(set("k1", "k2", "k3"), "")
			clk.Advance(time.Second)
			if err := verify(v, token(clk, "RS256", "k3", "k3", nil)); !errors.Is(err, authgate.ErrInvalidSignature) {
				t.Fatalf("Verify(k3) within the cooldown = %v, want ErrInvalidSignature", err)
			}
			if n := srv.hits.Load() - fetches; n != 1 {
				t.Fatalf("fetches = %d, want 1 (cooldown)", n)
			}
		})
	}
}

// TestRemoteKeySetBackgroundRetry: while no usable key set is held (cold
// start, or keys older than MaxKeyAge), keys come back within seconds of
// the key server's return with no request and no clock movement: a
// background retry fetches them.
func TestRemoteKeySetBackgroundRetry(t *testing.T) {
	tests := []struct {
		name string
		warm bool
	}{{"cold", false}, {"past MaxKeyAge", true}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := newKeyServer(t, set("k1"))
			down := newDownServer(t, srv.Config.Handler)
			clk := newClock()
			v, ks := newRemote(t, down.URL, clk, nil)
			exp := func(c map[string]any) { c["exp"] = clk.Now().Add(48 * time.Hour).Unix() }
			k1 := token(clk, "RS256", "k1", "k1", exp)
			if tc.warm {
				if err := ks.Prefetch(t.Context()); err != nil {
					t.Fatal(err)
				}
			}
			down.down()
			clk.Advance(25 * time.Hour) // past MaxKeyAge (24 h)
			if err := verify(v, k1); !errors.Is(err, authgate.ErrUnavailable) {
				t.Fatalf("Verify with the key server down = %v, want ErrUnavailable", err)
			}
			fetches := srv.hits.Load()
			down.up()
			start := time.Now()
			eventually(t, "the background retry", func() bool { return srv.hits.Load() > fetches })
			if d := time.Since(start); d > remoteMaxRetry+time.Second {
				t.Fatalf("keys fetched %v after the server's return, want within %v", d, remoteMaxRetry)
			}
			eventually(t, "the fetched keys", func() bool { _, ok := peek(ks); return ok })
			if err := verify(v, k1); err != nil {
				t.Fatalf("Verify after the background retry = %v, want nil", err)
			}
		})
	}
}

// remoteMaxRetry is the longest wait between two background retries.
const remoteMaxRetry = 5 * time.Second

// peek reports whether ks holds a usable set, asking for a kid-less key
// of an algorithm it has no key for: it never fetches and never waits.
func peek(ks *providers.RemoteKeySet) ([]providers.Key, bool) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // a lookup that would wait fails at once
	keys, err := ks.VerificationKeys(ctx, "", providers.RS256)
	return keys, err == nil
}

// TestRemoteKeySetMaxWait: a hanging key server costs a request MaxWait at
// most — discovery and key set together, and for a refetch another
// request started — then 503; the default is well under one fetch
// timeout.
func TestRemoteKeySetMaxWait(t *testing.T) {
	t.Run("cold, default", func(t *testing.T) {
		release := make(chan struct{})
		defer close(release)
		srv := newKeyServer(t, nil)
		hang(srv, release)
		clk := newClock()
		v, _ := newRemote(t, srv.URL, clk, func(c *providers.RemoteKeySetConfig) { c.FetchTimeout = 10 * time.Second })
		start := time.Now()
		err := verify(v, token(clk, "RS256", "k1", "k1", nil))
		d := time.Since(start)
		if !errors.Is(err, authgate.ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Verify against a hanging key server = %v, want ErrUnavailable wrapping DeadlineExceeded", err)
		}
		if d < providers.DefaultMaxWait-100*time.Millisecond || d > providers.DefaultMaxWait+time.Second {
			t.Fatalf("Verify waited %v, want about DefaultMaxWait (%v)", d, providers.DefaultMaxWait)
		}
	})
	t.Run("discovery and keys together", func(t *testing.T) {
		release := make(chan struct{})
		var issuer string
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/.well-known/openid-configuration" {
				time.Sleep(300 * time.Millisecond)
				w.Write([]byte(`{"issuer":"` + issuer + `","jwks_uri":"` + issuer + `/keys"}`))
				return
			}
			select { // the key set hangs
			case <-release:
			case <-r.Context().Done():
			}
		}))
		defer srv.Close()
		defer close(release) // before Close, which waits for the handlers
		issuer = srv.URL
		ks, err := providers.NewRemoteKeySet(providers.RemoteKeySetConfig{
			Issuer: issuer, Algorithms: []string{providers.RS256}, MaxWait: 500 * time.Millisecond,
		})
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		_, err = ks.VerificationKeys(t.Context(), "k1", providers.RS256)
		d := time.Since(start)
		if !errors.Is(err, authgate.ErrUnavailable) {
			t.Fatalf("VerificationKeys = %v, want ErrUnavailable", err)
		}
		if d < 450*time.Millisecond || d > 750*time.Millisecond {
			t.Fatalf("VerificationKeys waited %v, want about MaxWait (500ms) for discovery and keys together", d)
		}
	})
	t.Run("someone else's unknown-kid refetch", func(t *testing.T) {
		release := make(chan struct{})
		defer close(release)
		srv := newKeyServer(t, set("k1"))
		clk := newClock()
		v, ks := newRemote(t, srv.URL, clk, func(c *providers.RemoteKeySetConfig) {
			c.FetchTimeout = 5 * time.Second
			c.MaxWait = 300 * time.Millisecond
		})
		if err := ks.Prefetch(t.Context()); err != nil {
			t.Fatal(err)
		}
		hang(srv, release)
		clk.Advance(time.Minute)
		first := make(chan error, 1)
		go func() { first <- verify(v, token(clk, "RS256", "k2", "k2", nil)) }()
		eventually(t, "the refetch to start", func() bool { return srv.hits.Load() == 2 })
		start := time.Now()
		err := verify(v, token(clk, "RS256", "k3", "k3", nil))
		d := time.Since(start)
		if !errors.Is(err, authgate.ErrUnavailable) || errors.Is(err, authgate.ErrInvalidCredentials) {
			t.Fatalf("Verify(second new kid) = %v, want ErrUnavailable only", err)
		}
		if d > 600*time.Millisecond {
			t.Fatalf("Verify(second new kid) waited %v for another request's refetch, want at most MaxWait (300ms)", d)
		}
		if err := <-first; !errors.Is(err, authgate.ErrUnavailable) {
			t.Fatalf("Verify(first new kid) = %v, want ErrUnavailable", err)
		}
		if err := verify(v, token(clk, "RS256", "k1", "k1", nil)); err != nil {
			t.Fatalf("Verify(known kid) during the refetch = %v, want nil", err)
		}
		if n := srv.hits.Load(); n != 2 {
			t.Fatalf("fetches = %d, want 2 (one refetch for both kids)", n)
		}
	})
}

func TestRemoteKeySetMaxWaitBounds(t *testing.T) {
	for _, tc := range []struct {
		maxWait time.Duration
		wantErr bool
	}{{0, false}, {time.Millisecond, false}, {providers.MaxMaxWait, false}, {-time.Second, true}, {providers.MaxMaxWait + 1, true}} {
		t.Run(tc.maxWait.String(), func(t *testing.T) {
			_, err := providers.NewRemoteKeySet(providers.RemoteKeySetConfig{URL: "https://idp.example/jwks", Algorithms: []string{providers.RS256}, MaxWait: tc.maxWait})
			if (err != nil) != tc.wantErr {
				t.Fatalf("NewRemoteKeySet(MaxWait %v) = %v, want error %v", tc.maxWait, err, tc.wantErr)
			}
		})
	}
}

// TestRemoteKeySetFailureLog: a failed fetch is logged with its cause; the
// same failure is logged once per 10 s with a count of the repeats; a
// recovery is logged once; nothing logged carries a token.
func TestRemoteKeySetFailureLog(t *testing.T) {
	var buf syncBuffer
	logger := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo}))
	srv := newKeyServer(t, set("k1"))
	srv.setHandler(func(w http.ResponseWriter, r *http.Request) { http.Error(w, "down", http.StatusServiceUnavailable) })
	clk := newClock()
	v, ks := newRemote(t, srv.URL, clk, func(c *providers.RemoteKeySetConfig) { c.Logger = logger })
	tok := token(clk, "RS256", "k1", "k1", nil)
	verify(v, tok)
	for range 19 {
		clk.Advance(100 * time.Millisecond)
		ks.Prefetch(t.Context()) // ignores the backoff: one failed fetch each
	}
	lines := buf.lines()
	if len(lines) != 1 {
		t.Fatalf("log after 20 identical failures in 2 s = %d lines, want 1:\n%s", len(lines), strings.Join(lines, "\n"))
	}
	if !strings.Contains(lines[0], `"level":"WARN"`) || !strings.Contains(lines[0], "status 503") || !strings.Contains(lines[0], `"provider":"remote"`) {
		t.Fatalf("log line = %s, want a WARN naming the provider and the cause", lines[0])
	}
	clk.Advance(10 * time.Second)
	// A Prefetch may join a background retry that failed before the
	// clock moved (its line is still suppressed): the next one is new.
	for range 3 {
		ks.Prefetch(t.Context())
		if lines = buf.lines(); len(lines) >= 2 {
			break
		}
	}
	var second struct{ Repeated int }
	if len(lines) == 2 {
		json.Unmarshal([]byte(lines[1]), &second)
	}
	// 19 repeats, give or take the background retry's fetches, which
	// fail the same way (or are joined by a Prefetch).
	if len(lines) != 2 || second.Repeated < 15 || second.Repeated > 30 {
		t.Fatalf("log 10 s later = %d lines, want a 2nd with about 19 repeats:\n%s", len(lines), strings.Join(lines, "\n"))
	}
	srv.set(set("k1"), "")
	if err := ks.Prefetch(t.Context()); err != nil {
		t.Fatal(err)
	}
	lines = buf.lines()
	if len(lines) != 3 || !strings.Contains(lines[2], `"level":"INFO"`) || !strings.Contains(lines[2], "recovered") {
		t.Fatalf("log after recovery = %d lines, want a 3rd saying recovered:\n%s", len(lines), strings.Join(lines, "\n"))
	}
	for _, l := range lines {
		if strings.Contains(l, tok) || len(l) > 1024 {
			t.Fatalf("log line carries the token or is unbounded: %s", l)
		}
	}
}

// syncBuffer is a bytes.Buffer for a logger written from several
// goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) lines() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := strings.TrimSpace(b.buf.String())
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// TestRemoteDocumentMaxWait: a hanging document server costs a lookup
// DefaultMaxWait, not the 5 s fetch timeout; the fetch goes on and serves
// later lookups.
func TestRemoteDocumentMaxWait(t *testing.T) {
	release := make(chan struct{})
	srv := newKeyServer(t, nil)
	srv.setHandler(func(w http.ResponseWriter, r *http.Request) {
		<-release
		w.Write([]byte(`{"n":7}`))
	})
	doc, err := providers.NewRemoteDocument(providers.RemoteDocumentConfig[string]{
		Name: "doc", URL: srv.URL,
		Parse:  func(b []byte) (string, time.Duration, error) { return string(b), 0, nil },
		Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = doc.Get(t.Context())
	d := time.Since(start)
	if !errors.Is(err, authgate.ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Get against a hanging server = %v, want ErrUnavailable wrapping DeadlineExceeded", err)
	}
	if d < providers.DefaultMaxWait-100*time.Millisecond || d > providers.DefaultMaxWait+time.Second {
		t.Fatalf("Get waited %v, want about DefaultMaxWait (%v)", d, providers.DefaultMaxWait)
	}
	close(release) // the fetch in flight answers now
	eventually(t, "the fetch to fill the document", func() bool { v, err := doc.Get(t.Context()); return err == nil && v == `{"n":7}` })
	if n := srv.hits.Load(); n != 1 {
		t.Fatalf("fetches = %d, want 1 (the one the first lookup started)", n)
	}
	if _, err := providers.NewRemoteDocument(providers.RemoteDocumentConfig[string]{
		URL: srv.URL, Parse: func(b []byte) (string, time.Duration, error) { return "", 0, nil }, MaxWait: time.Hour,
	}); err == nil {
		t.Fatal("NewRemoteDocument(MaxWait 1h) = nil error, want out of bounds")
	}
}

// TestRemoteKeySetNewKidAfterOutage: a kid published during an outage
// verifies within seconds of the key server's return, although its
// refetch failed and the unknown-kid cooldown has not passed (the clock
// does not move): the background retry fetched it.
func TestRemoteKeySetNewKidAfterOutage(t *testing.T) {
	srv := newKeyServer(t, set("k1"))
	down := newDownServer(t, srv.Config.Handler)
	clk := newClock()
	v, ks := newRemote(t, down.URL, clk, nil)
	if err := ks.Prefetch(t.Context()); err != nil {
		t.Fatal(err)
	}
	down.down()
	srv.set(set("k1", "k2"), "")
	k2 := token(clk, "RS256", "k2", "k2", nil)
	if err := verify(v, k2); !errors.Is(err, authgate.ErrUnavailable) {
		t.Fatalf("Verify(new kid) with the server down = %v, want ErrUnavailable", err)
	}
	down.up()
	start := time.Now()
	eventually(t, "the new kid to verify", func() bool { return verify(v, k2) == nil })
	if d := time.Since(start); d > remoteMaxRetry+time.Second {
		t.Fatalf("new kid verified %v after the server's return, want within %v", d, remoteMaxRetry)
	}
}

// TestRemoteKeySetReady: Ready answers from what the set holds, without a
// fetch: unavailable before the first fetch, ready while keys younger
// than MaxKeyAge are held (the key server may be down meanwhile), and
// unavailable with the fetch's failure once they are older.
func TestRemoteKeySetReady(t *testing.T) {
	srv := newKeyServer(t, set("k1"))
	clk := newClock()
	_, ks := newRemote(t, srv.URL, clk, func(c *providers.RemoteKeySetConfig) { c.MaxKeyAge = time.Hour })
	err := ks.Ready()
	if !errors.Is(err, authgate.ErrUnavailable) || !strings.Contains(err.Error(), "none fetched yet") {
		t.Fatalf("Ready before any fetch = %v, want ErrUnavailable saying none was fetched", err)
	}
	if n := srv.hits.Load(); n != 0 {
		t.Fatalf("Ready fetched (%d requests)", n)
	}
	if err := ks.Prefetch(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := ks.Ready(); err != nil {
		t.Fatalf("Ready after a fetch = %v", err)
	}
	srv.setHandler(func(w http.ResponseWriter, r *http.Request) { http.Error(w, "down", http.StatusServiceUnavailable) })
	clk.Advance(30 * time.Minute)
	ks.Prefetch(t.Context()) // fails: the keys held are still usable
	if err := ks.Ready(); err != nil {
		t.Fatalf("Ready with keys 30 min old and the server down = %v, want nil (MaxKeyAge 1 h)", err)
	}
	clk.Advance(31 * time.Minute)
	hits := srv.hits.Load()
	err = ks.Ready()
	if !errors.Is(err, authgate.ErrUnavailable) || !strings.Contains(err.Error(), "503") {
		t.Fatalf("Ready with keys older than MaxKeyAge = %v, want ErrUnavailable naming the failure", err)
	}
	if n := srv.hits.Load(); n != hits {
		t.Fatalf("Ready fetched (%d requests)", n-hits)
	}
	srv.set(set("k1"), "")
	if err := ks.Prefetch(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := ks.Ready(); err != nil {
		t.Fatalf("Ready after recovery = %v", err)
	}
}
