package main

import (
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/authgate/authgate/firebase"
	"github.com/authgate/authgate/providers"
)

// emulatorToken is an unsigned token shaped like the Auth emulator's.
func emulatorToken(t *testing.T, uid string, roles []string) string {
	t.Helper()
	now := time.Now().Unix()
	claims, err := json.Marshal(map[string]any{
		"iss": firebase.IDTokenIssuer("demo-test"), "aud": "demo-test", "sub": uid, "user_id": uid,
		"email": uid + "@example.com", "iat": now, "auth_time": now, "exp": now + 3600,
		"firebase": map[string]any{"sign_in_provider": "password"}, "roles": roles,
	})
	if err != nil {
		t.Fatal(err)
	}
	enc := base64.RawURLEncoding
	return enc.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + enc.EncodeToString(claims) + "."
}

func TestArticles(t *testing.T) {
	auth, err := firebase.New(firebase.Config{ProjectID: "demo-test", InsecureEmulator: true, TokenOptions: providers.TokenOptions{Logger: slog.New(slog.DiscardHandler)}})
	if err != nil {
		t.Fatal(err)
	}
	h := newHandler(auth, newAccounts())
	admin := emulatorToken(t, "ada", []string{"admin"})
	writer := emulatorToken(t, "bob", nil)
	tests := []struct {
		method, path, token string
		want                int
		body                string
	}{
		{"GET", "/api/articles", "", 200, "Hello"},
		{"POST", "/api/articles", "", 401, ""},
		{"POST", "/api/articles", writer, 201, `"author":"bob"`},
		{"DELETE", "/api/articles/1", writer, 403, ""},
		{"DELETE", "/api/articles/1", admin, 204, ""},
		{"GET", "/api/me", admin, 200, `"sign_in_provider":"password"`},
		{"GET", "/api/me", "not.a.token", 401, ""},
	}
	for _, tt := range tests {
		r := httptest.NewRequest(tt.method, tt.path, nil)
		if tt.token != "" {
			r.Header.Set("Authorization", "Bearer "+tt.token)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != tt.want || !strings.Contains(w.Body.String(), tt.body) {
			t.Errorf("%s %s = %d %s, want %d with %q", tt.method, tt.path, w.Code, w.Body, tt.want, tt.body)
		}
	}
}
