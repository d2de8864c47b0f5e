package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

func do(t *testing.T, h http.Handler, method, path, token, body string) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(method, path, strings.NewReader(body))
	if body != "" {
		r.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		r.Header.Set("Authorization", "Bearer "+token)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// TestArticleViewSet walks the README's curl lines.
func TestArticleViewSet(t *testing.T) {
	a, err := newApp()
	if err != nil {
		t.Fatal(err)
	}
	h := a.handler
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

	w := do(t, h, "POST", "/api/articles/", a.token, `{"title":"Second"}`)
	var created Article
	if err := json.Unmarshal(w.Body.Bytes(), &created); err != nil || created.ID != 2 || created.Author != "static:ada" {
		t.Errorf("POST answered %s (%v)", w.Body, err)
	}
	w = do(t, h, "GET", "/api/me", a.adminToken, "")
	var me map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &me); err != nil || me["subject"] != "grace" || me["name"] != "Grace" {
		t.Errorf("/api/me = %s", w.Body)
	}
}

// TestConcurrentWrites: many writers at once, each article gets its own id.
func TestConcurrentWrites(t *testing.T) {
	a, err := newApp()
	if err != nil {
		t.Fatal(err)
	}
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
	go func() { done <- run(ctx, "127.0.0.1:0", &out) }()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(out.String(), "curl") && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	text := out.String()
	for _, want := range []string{"listening on http://127.0.0.1:", "export TOKEN=eyJ", "export ADMIN_TOKEN=eyJ", "curl -X POST"} {
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
