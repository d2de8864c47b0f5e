package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authgate/authgate/apikey"
	"github.com/authgate/authgate/apikey/sqlstore"
)

func newTestApp(t *testing.T) *app {
	t.Helper()
	a, err := newApp(context.Background(), "sqlite:"+filepath.Join(t.TempDir(), "keys.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.close() })
	return a
}

// do sends a request; token is a bearer token, or "key:<api key>" for the
// X-API-Key header.
func do(t *testing.T, h http.Handler, method, path, token, body string) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(method, path, strings.NewReader(body))
	if body != "" {
		r.Header.Set("Content-Type", "application/json")
	}
	if key, ok := strings.CutPrefix(token, "key:"); ok {
		r.Header.Set("X-API-Key", key)
	} else if token != "" {
		r.Header.Set("Authorization", "Bearer "+token)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// TestArticleViewSet walks the README's curl lines.
func TestArticleViewSet(t *testing.T) {
	a := newTestApp(t)
	h := a.handler
	key := "key:" + a.apiKey
	steps := []struct {
		method, path, token, body string
		want                      int
	}{
		{"GET", "/api/articles/", "", "", 200},
		{"POST", "/api/articles/", "", `{"title":"x"}`, 401},
		{"POST", "/api/articles/", "not-a-token", `{"title":"x"}`, 401},
		{"POST", "/api/articles/", a.token, `{"title":"Hello","body":"First post"}`, 201},
		{"GET", "/api/articles/1", "", "", 200},
		{"PATCH", "/api/articles/1", a.token, `{"title":"Hello again"}`, 200},
		{"PATCH", "/api/articles/1", "", `{"title":"no"}`, 401},
		{"DELETE", "/api/articles/1", a.token, "", 403},
		{"DELETE", "/api/articles/1", "", "", 401},
		{"DELETE", "/api/articles/1", a.adminToken, "", 204},
		{"GET", "/api/articles/1", "", "", 404},
		{"GET", "/api/me", a.token, "", 200},
		{"GET", "/api/me", "", "", 401},
		{"POST", "/api/articles/", key, `{"title":"By a service"}`, 201},
		{"PATCH", "/api/articles/2", key, `{"body":"edited"}`, 200},
		{"DELETE", "/api/articles/2", key, "", 403},
		{"POST", "/api/articles/", "key:ag_dev_" + strings.Repeat("A", 36), `{"title":"x"}`, 401},
		{"GET", "/api/me", key, "", 200},
	}
	for _, s := range steps {
		w := do(t, h, s.method, s.path, s.token, s.body)
		if w.Code != s.want {
			t.Fatalf("%s %s = %d %s, want %d", s.method, s.path, w.Code, w.Body, s.want)
		}
		if w.Code == 401 && w.Header().Get("WWW-Authenticate") == "" {
			t.Errorf("%s %s: 401 without WWW-Authenticate", s.method, s.path)
		}
	}

	w := do(t, h, "POST", "/api/articles/", a.token, `{"title":"Third"}`)
	var created Article
	if err := json.Unmarshal(w.Body.Bytes(), &created); err != nil || created.ID != 3 || created.Author != "static:ada" {
		t.Errorf("POST answered %s (%v)", w.Body, err)
	}
	w = do(t, h, "GET", "/api/me", a.adminToken, "")
	var me map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &me); err != nil || me["subject"] != "grace" || me["name"] != "Grace" {
		t.Errorf("/api/me = %s", w.Body)
	}

	// A token and an API key at once is ambiguous: 400, never "either".
	r := httptest.NewRequest("POST", "/api/articles/", strings.NewReader(`{"title":"x"}`))
	r.Header.Set("Authorization", "Bearer "+a.token)
	r.Header.Set("X-API-Key", a.apiKey)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	if rec.Code != http.StatusBadRequest {
		t.Errorf("token and API key = %d %s, want 400", rec.Code, rec.Body)
	}
}

// TestHEAD: HEAD is public wherever GET is, answers as GET does, and needs
// the same credentials on /api/me.
func TestHEAD(t *testing.T) {
	a := newTestApp(t)
	if w := do(t, a.handler, "POST", "/api/articles/", a.token, `{"title":"Hello"}`); w.Code != 201 {
		t.Fatalf("POST = %d %s", w.Code, w.Body)
	}
	tests := []struct {
		name, path, token string
		want              int
	}{
		{"list", "/api/articles/", "", 200},
		{"one", "/api/articles/1", "", 200},
		{"missing", "/api/articles/9", "", 404},
		{"me without credentials", "/api/me", "", 401},
		{"me with a token", "/api/me", a.token, 200},
		{"me with the API key", "/api/me", "key:" + a.apiKey, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			head := do(t, a.handler, "HEAD", tt.path, tt.token, "")
			get := do(t, a.handler, "GET", tt.path, tt.token, "")
			if head.Code != tt.want || get.Code != tt.want {
				t.Fatalf("HEAD %s = %d, GET = %d, want %d", tt.path, head.Code, get.Code, tt.want)
			}
			if h, g := head.Header().Get("Content-Type"), get.Header().Get("Content-Type"); h != g {
				t.Errorf("HEAD Content-Type = %q, GET = %q", h, g)
			}
		})
	}
}

// TestMeJSON: /api/me answers the principal's JSON, lists as [] when
// empty.
func TestMeJSON(t *testing.T) {
	a := newTestApp(t)
	tests := []struct {
		name, token string
		want        []string
	}{
		{"API key", "key:" + a.apiKey, []string{`"method":"apikey"`, `"roles":["editor"]`, `"scopes":[]`, `"audience":[]`, `"permissions":[]`}},
		{"token", a.token, []string{`"method":"jwt"`, `"subject":"ada"`, `"roles":["editor"]`, `"scopes":[]`, `"audience":["articles-api"]`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := do(t, a.handler, "GET", "/api/me", tt.token, "")
			if w.Code != 200 {
				t.Fatalf("/api/me = %d %s", w.Code, w.Body)
			}
			body := w.Body.String()
			for _, want := range tt.want {
				if !strings.Contains(body, want) {
					t.Errorf("/api/me = %s, want it to hold %s", body, want)
				}
			}
			if strings.Contains(body, "null") {
				t.Errorf("/api/me = %s, holds a null", body)
			}
		})
	}
}

// TestRepeatedRuns: every run replaces the key of the run before, so one
// live key remains in the file however often the quickstart starts, and it
// expires.
func TestRepeatedRuns(t *testing.T) {
	ctx := context.Background()
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "keys.db")

	// A key an earlier release left behind: same name, no expiry.
	store, err := sqlstore.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	m, err := apikey.NewManager(store, apikey.Config{Prefix: "ag_dev"})
	if err != nil {
		t.Fatal(err)
	}
	legacy, _, err := m.Issue(ctx, apikey.Key{Name: "quickstart", Subject: "quickstart-bot"})
	if err != nil {
		t.Fatal(err)
	}
	// A key of the user's own, which a run must leave alone.
	_, mine, err := m.Issue(ctx, apikey.Key{Name: "mine", Subject: "me", ExpiresAt: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	store.Close()

	var keys []string
	for run := range 3 {
		a, err := newApp(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		for i, k := range append([]string{legacy}, keys...) {
			if w := do(t, a.handler, "GET", "/api/me", "key:"+k, ""); w.Code != 401 {
				t.Errorf("run %d: key %d of an earlier run = %d, want 401", run, i, w.Code)
			}
		}
		if w := do(t, a.handler, "GET", "/api/me", "key:"+a.apiKey, ""); w.Code != 200 {
			t.Errorf("run %d: its own key = %d, want 200", run, w.Code)
		}
		keys = append(keys, a.apiKey)
		if err := a.close(); err != nil {
			t.Fatal(err)
		}
	}

	store, err = sqlstore.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if m, err = apikey.NewManager(store, apikey.Config{Prefix: "ag_dev"}); err != nil {
		t.Fatal(err)
	}
	listed, err := m.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	live := 0
	for _, k := range listed {
		switch {
		case k.ID == mine.ID && !k.RevokedAt.IsZero():
			t.Errorf("the user's own key %s was revoked", k.ID)
		case k.Name == "quickstart" && k.RevokedAt.IsZero():
			live++
			if k.ExpiresAt.IsZero() || k.ExpiresAt.After(time.Now().Add(lifetime)) {
				t.Errorf("live quickstart key expires %v, want within %v", k.ExpiresAt, lifetime)
			}
		}
	}
	if live != 1 {
		t.Errorf("%d live quickstart keys after 3 runs, want 1: %+v", live, listed)
	}
}

// TestAPIKeyStoredHashed: the SQLite file never holds the plaintext key.
func TestAPIKeyStoredHashed(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.db")
	a, err := newApp(context.Background(), "sqlite:"+path)
	if err != nil {
		t.Fatal(err)
	}
	if w := do(t, a.handler, "GET", "/api/me", "key:"+a.apiKey, ""); w.Code != 200 {
		t.Fatalf("/api/me with the key = %d", w.Code)
	}
	if err := a.close(); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{path, path + "-wal"} {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		if bytes.Contains(b, []byte(a.apiKey)) || bytes.Contains(b, []byte(a.apiKey[len("ag_dev_"):])) {
			t.Errorf("%s holds the plaintext API key", f)
		}
	}
}

// TestConcurrentWrites: many writers at once, each article gets its own id.
func TestConcurrentWrites(t *testing.T) {
	a := newTestApp(t)
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			if w := do(t, a.handler, "POST", "/api/articles/", a.token, `{"title":"t"}`); w.Code != 201 {
				t.Errorf("POST = %d", w.Code)
			}
		})
	}
	wg.Wait()
	w := do(t, a.handler, "GET", "/api/articles/", "", "")
	var list []Article
	if err := json.Unmarshal(w.Body.Bytes(), &list); err != nil || len(list) != 20 {
		t.Fatalf("list = %d articles (%v)", len(list), err)
	}
}

// TestRun starts the real server on a free loopback port and checks the
// printed lines a newcomer pastes.
func TestRun(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var out syncBuffer
	done := make(chan error, 1)
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "keys.db")
	go func() { done <- run(ctx, "127.0.0.1:0", dsn, &out) }()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(out.String(), "curl") && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	text := out.String()
	for _, want := range []string{"listening on http://127.0.0.1:", "export TOKEN=eyJ", "export ADMIN_TOKEN=eyJ", "export API_KEY=ag_dev_", "expire in 12 hours", "curl -I ", "curl -X POST"} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q:\n%s", want, text)
		}
	}
	base := strings.Fields(strings.SplitN(text, "listening on ", 2)[1])[0]
	resp, err := http.Get(base + "/api/articles/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("GET /api/articles/ = %d", resp.StatusCode)
	}
	resp, err = http.Head(base + "/api/articles/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("HEAD /api/articles/ = %d, want 200", resp.StatusCode)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("run = %v", err)
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
