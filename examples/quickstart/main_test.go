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
	for _, want := range []string{"listening on http://127.0.0.1:", "export TOKEN=eyJ", "export ADMIN_TOKEN=eyJ", "export API_KEY=ag_dev_", "curl -X POST"} {
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
