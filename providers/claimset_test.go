package providers_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/providers"
)

func TestParseClaimSet(t *testing.T) {
	tests := []struct {
		name string
		in   string
		ok   bool
	}{
		{"object", `{"active":true,"exp":1.5,"aud":["a"]}`, true},
		{"duplicate", `{"active":false,"active":true}`, false},
		{"case variant", `{"active":false,"Active":true}`, false},
		{"array", `[true]`, false},
		{"trailing", `{} {}`, false},
		{"empty", ``, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := providers.ParseClaimSet([]byte(tt.in))
			if (err == nil) != tt.ok {
				t.Fatalf("ParseClaimSet(%s) = %v, %v; want ok %v", tt.in, got, err, tt.ok)
			}
			if tt.ok && got["exp"] != 1.5 {
				t.Errorf("ParseClaimSet(%s)[exp] = %v, want 1.5", tt.in, got["exp"])
			}
		})
	}
}

func TestClaimsCompile(t *testing.T) {
	if _, err := (providers.Claims{"x": {}}).Compile(); err == nil {
		t.Errorf("Compile(rule without a check) = nil error")
	}
	check, err := providers.Claims{"scope": {Value: "admin"}, "tenant": {Essential: true}}.Compile()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		claims  map[string]any
		wantErr error
	}{
		{"met", map[string]any{"scope": "read admin", "tenant": "t"}, nil},
		{"missing", map[string]any{"scope": "admin"}, authgate.ErrMissingClaim},
		{"other value", map[string]any{"scope": "read", "tenant": "t"}, authgate.ErrInvalidClaim},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := check(tt.claims); !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Errorf("check(%v) = %v, want %v", tt.claims, err, tt.wantErr)
			}
		})
	}
	none, err := providers.Claims(nil).Compile()
	if err != nil {
		t.Fatal(err)
	}
	if err := none(map[string]any{}); err != nil {
		t.Errorf("Compile(nil) check = %v, want it to accept", err)
	}
}

func TestGuardedClient(t *testing.T) {
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer target.Close()
	redirect := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "c", Value: "v"})
		http.Redirect(w, r, target.URL, http.StatusFound)
	}))
	defer redirect.Close()
	base := &http.Client{Timeout: time.Hour}
	c := providers.GuardedClient(base, time.Second)
	if c == base || base.CheckRedirect != nil || base.Timeout != time.Hour {
		t.Fatalf("GuardedClient modified its argument")
	}
	if c.Timeout != time.Second || c.Jar != nil {
		t.Errorf("GuardedClient: timeout %v, jar %v; want 1s and none", c.Timeout, c.Jar)
	}
	resp, err := c.Get(redirect.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Errorf("GuardedClient followed a redirect: status %d, want 302", resp.StatusCode)
	}
	if d := providers.GuardedClient(nil, 0); d.Timeout != providers.DefaultFetchTimeout {
		t.Errorf("GuardedClient(nil, 0).Timeout = %v, want %v", d.Timeout, providers.DefaultFetchTimeout)
	}
}
