package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/authgate/authgate/authtest"
	"github.com/authgate/authgate/signin"
)

// TestRoutes: without a session, pages send the browser to sign in and the
// API answers 401; a bearer token of the same issuer reaches the API.
// (The whole sign-in runs in a real browser in browser_test.go.)
func TestRoutes(t *testing.T) {
	iss := authtest.NewIssuer(t)
	h, _, err := newHandler(options{Issuer: iss.Issuer(), ClientID: "webapp", ClientSecret: "s", URL: "http://127.0.0.1:8082",
		Keys: []signin.Key{signin.NewKey("k1")}})
	if err != nil {
		t.Fatal(err)
	}
	token := iss.Token(map[string]any{"aud": "webapp", "roles": []string{"admin"}})
	for _, tt := range []struct {
		method, path, accept, bearer string
		status                       int
		location, body               string
	}{
		{method: "GET", path: "/", accept: "text/html", status: 200, body: `href="/login?next=/me"`},
		{method: "GET", path: "/me", accept: "text/html", status: 303, location: "/login?next=%2Fme"},
		{method: "GET", path: "/admin", accept: "text/html", status: 303, location: "/login?next=%2Fadmin"},
		{method: "GET", path: "/api/me", accept: "application/json", status: 401},
		{method: "GET", path: "/api/me", accept: "text/html", status: 401},
		{method: "GET", path: "/api/me", bearer: token, status: 200, body: `"method":"jwt"`},
		{method: "GET", path: "/logout", status: 404},
		{method: "POST", path: "/logout", status: 303, location: "http://127.0.0.1:8082/"},
	} {
		t.Run(tt.method+" "+tt.path+" "+tt.accept, func(t *testing.T) {
			r := httptest.NewRequest(tt.method, tt.path, nil)
			if tt.accept != "" {
				r.Header.Set("Accept", tt.accept)
			}
			if tt.bearer != "" {
				r.Header.Set("Authorization", "Bearer "+tt.bearer)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			loc := w.Header().Get("Location")
			if w.Code != tt.status || loc != tt.location || !strings.Contains(w.Body.String(), tt.body) {
				t.Fatalf("= %d Location %q body %q; want %d %q containing %q", w.Code, loc, w.Body, tt.status, tt.location, tt.body)
			}
			if w.Code == http.StatusUnauthorized && w.Header().Get("WWW-Authenticate") == "" {
				t.Fatal("401 without WWW-Authenticate")
			}
		})
	}
}
