package main

import (
	"net/http/httptest"
	"strings"
	"testing"
)

func TestRBAC(t *testing.T) {
	h, tokens, err := newHandler()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		user, method, path string
		want               int
		wantScope          string
	}{
		{"admin", "GET", "/api/admin/users", 200, ""},
		{"editor", "GET", "/api/admin/users", 403, "admin"},
		{"editor", "GET", "/api/drafts", 200, ""},
		{"reader", "GET", "/api/drafts", 403, "admin editor"},
		{"reader", "GET", "/api/articles", 200, ""},
		{"reader", "POST", "/api/articles", 403, "articles:write"},
		{"editor", "POST", "/api/articles", 200, ""},
		{"admin", "DELETE", "/api/articles/1", 200, ""},
		{"editor", "DELETE", "/api/articles/1", 403, "articles:delete"},
		{"editor", "POST", "/api/articles/1/publish", 200, ""},
		{"", "GET", "/api/articles", 401, ""},
	}
	for _, tt := range tests {
		r := httptest.NewRequest(tt.method, tt.path, nil)
		if tt.user != "" {
			r.Header.Set("Authorization", "Bearer "+tokens[tt.user])
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != tt.want {
			t.Errorf("%s %s as %q = %d %s, want %d", tt.method, tt.path, tt.user, w.Code, w.Body, tt.want)
		}
		ch := w.Header().Get("WWW-Authenticate")
		if tt.want == 403 && (!strings.Contains(ch, `error="insufficient_scope"`) || !strings.Contains(ch, `scope="`+tt.wantScope+`"`)) {
			t.Errorf("%s %s as %q: challenge %q, want scope %q", tt.method, tt.path, tt.user, ch, tt.wantScope)
		}
	}
}
