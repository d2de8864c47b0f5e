package authtest_test

import (
	"errors"
	"net/http"
	"testing"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/authtest"
)

func TestPrincipalAndReject(t *testing.T) {
	p := &authgate.Principal{Subject: "alice", Roles: []string{"admin"}, Claims: authgate.NewObject(map[string]any{"org": map[string]any{"id": "o1"}, "tags": []any{"a"}})}
	a := authtest.Principal(p)
	r, _ := http.NewRequest("GET", "/", nil)
	got, err := a.Authenticate(r)
	if err != nil || got.Subject != "alice" || !got.HasRole("admin") {
		t.Fatalf("Authenticate = %v, %v", got, err)
	}
	if got == p {
		t.Fatal("Authenticate returned p itself, want a copy")
	}
	// A handler that modifies its principal does not leak into the next
	// request, nor into p.
	got.Roles[0] = "root"
	got.Claims.Map()["org"].(map[string]any)["id"] = "o2"
	got.Claims.Map()["tags"].([]any)[0] = "b"
	again, _ := a.Authenticate(r)
	if again.Roles[0] != "admin" || again.Claims.Map()["org"].(map[string]any)["id"] != "o1" || again.Claims.Map()["tags"].([]any)[0] != "a" {
		t.Errorf("second principal = %+v, want the original", again)
	}
	if p.Roles[0] != "admin" {
		t.Error("p was modified")
	}
	p.Subject = "mallory"
	if again, _ := a.Authenticate(r); again.Subject != "alice" {
		t.Error("changing p after Principal changed what it returns")
	}

	for _, tt := range []struct {
		err, want error
	}{
		{authgate.ErrTokenExpired, authgate.ErrTokenExpired},
		{nil, authgate.ErrNoCredentials},
	} {
		if p, err := authtest.Reject(tt.err).Authenticate(r); p != nil || !errors.Is(err, tt.want) {
			t.Errorf("Reject(%v).Authenticate = %v, %v, want %v", tt.err, p, err, tt.want)
		}
	}
	if p, err := authtest.Principal(nil).Authenticate(r); p != nil || !errors.Is(err, authgate.ErrNoCredentials) {
		t.Errorf("Principal(nil).Authenticate = %v, %v", p, err)
	}
}
