package httpauth_test

// Regression tests for defects found in review: each failed before its fix.

import (
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/httpauth"
)

// The standard mux (Go 1.22+) serves HEAD with a "GET /path" handler, so
// the handler mapped for GET runs for HEAD too. ByMethod looks HEAD up on
// its own and falls back to the default authenticator: a route whose GET
// needs an admin runs its GET handler for any user who sends HEAD
// (side effects run; status, headers and Content-Length leak).
// SECURITY.md#chains: GET and HEAD with the same credential behave the same.
func TestRegressionByMethodHEADBypassesGETAuthenticator(t *testing.T) {
	user := authgate.AuthenticatorFunc(func(r *http.Request) (*authgate.Principal, error) {
		if r.Header.Get("Authorization") == "Bearer user" {
			return &authgate.Principal{Provider: "t", Subject: "user"}, nil
		}
		return nil, authgate.ErrNoCredentials
	})
	admin := authgate.AuthenticatorFunc(func(r *http.Request) (*authgate.Principal, error) {
		if r.Header.Get("Authorization") == "Bearer admin" {
			return &authgate.Principal{Provider: "t", Subject: "admin"}, nil
		}
		return nil, &authgate.Error{Kind: authgate.ErrForbidden}
	})
	var runs atomic.Int64
	mux := http.NewServeMux()
	mux.Handle("GET /reports/export", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		runs.Add(1)
		w.Write([]byte("secret export"))
	}))
	h := httpauth.ByMethod(user, httpauth.Methods{"GET": admin})(mux)

	get := httptest.NewRequest("GET", "/reports/export", nil)
	get.Header.Set("Authorization", "Bearer user")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, get)
	if w.Code != http.StatusForbidden {
		t.Fatalf("GET as user: %d, want 403", w.Code)
	}
	head := httptest.NewRequest("HEAD", "/reports/export", nil)
	head.Header.Set("Authorization", "Bearer user")
	w = httptest.NewRecorder()
	h.ServeHTTP(w, head)
	if runs.Load() != 0 || w.Code == http.StatusOK {
		t.Errorf("HEAD as user: status %d, GET handler ran %d times; want the GET authenticator to apply (403)", w.Code, runs.Load())
	}
}
