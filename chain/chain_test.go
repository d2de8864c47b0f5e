package chain_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/chain"
	"github.com/authgate/authgate/internal/authfake"
)

const (
	issA = "https://a.example/"
	issB = "https://b.example/"
)

// members returns a fresh OR-chain setup: two issuer-bound bearer
// authenticators and an API-key authenticator.
func members() (a, b *authfake.Bearer, k *authfake.APIKey) {
	return &authfake.Bearer{Name: "a", Issuers: []string{issA}},
		&authfake.Bearer{Name: "b", Issuers: []string{issB}},
		&authfake.APIKey{Name: "apikey"}
}

func request(header ...string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Add(header[i], header[i+1])
	}
	return r
}

func bearer(c authfake.Claims) string { return "Bearer " + authfake.Token(c) }

func TestNewRejectsConfigurationsThatCannotWork(t *testing.T) {
	catchAll := &authfake.Bearer{Name: "catchall"}
	a, b, k := members()
	dupA := &authfake.Bearer{Name: "a2", Issuers: []string{"https://x.example/", issA}}
	tests := []struct {
		name  string
		auths []authgate.Authenticator
		want  []string // substrings of the error; nil: no error
	}{
		{name: "empty", want: []string{"no authenticators"}},
		{name: "nil member", auths: []authgate.Authenticator{a, nil}, want: []string{"authenticator 1 is nil"}},
		{name: "same issuer twice", auths: []authgate.Authenticator{a, dupA}, want: []string{"a and a2 both claim issuer", issA}},
		{name: "catch-all ahead", auths: []authgate.Authenticator{catchAll, a, k, b}, want: []string{"catchall claims every bearer token, so a after it", "so b after it"}},
		{name: "catch-all last", auths: []authgate.Authenticator{a, k, b, catchAll}},
		{name: "nested chain same issuer", auths: []authgate.Authenticator{chain.Any(k, a), dupA}, want: []string{"a and a2 both claim issuer"}},
		{name: "undescribed members", auths: []authgate.Authenticator{authfake.Fixed(nil), authfake.Fixed(nil)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := chain.New(tt.auths...)
			if tt.want == nil {
				if err != nil || c == nil {
					t.Fatalf("New() = %v, %v, want a chain", c, err)
				}
				return
			}
			if err == nil || c != nil {
				t.Fatalf("New() = %v, %v, want an error", c, err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("New() error %q does not say %q", err, w)
				}
			}
			if !strings.HasPrefix(err.Error(), "chain: ") {
				t.Errorf("New() error %q lacks the package prefix", err)
			}
		})
	}
}

func TestAnyAndAllPanicOnlyAtConstruction(t *testing.T) {
	a, _, _ := members()
	for name, f := range map[string]func(){
		"Any duplicate": func() { chain.Any(a, a) },
		"Any empty":     func() { chain.Any() },
		"All nil":       func() { chain.All(a, nil) },
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("%s did not panic", name)
				}
			}()
			f()
		})
	}
	if _, err := chain.NewAll(); err == nil {
		t.Error("NewAll() = nil error, want one")
	}
}

func TestAny(t *testing.T) {
	alice := authfake.Claims{Issuer: issA, Subject: "alice"}
	bob := authfake.Claims{Issuer: issB, Subject: "bob"}
	tests := []struct {
		name        string
		ordered     bool
		header      []string
		wantErr     error
		wantSubject string
		wantCalls   [3]int64 // a, b, apikey
		wantStatus  int
		wantChall   string
	}{
		{
			name: "no credentials", wantErr: authgate.ErrNoCredentials, wantCalls: [3]int64{1, 1, 1},
			wantStatus: 401, wantChall: `Bearer realm="api", ApiKey realm="api", header="X-API-Key"`,
		},
		{
			name: "unsupported scheme is no credentials", header: []string{"Authorization", "Basic dXNlcjpwYXNz"},
			wantErr: authgate.ErrNoCredentials, wantCalls: [3]int64{1, 1, 1},
			wantStatus: 401, wantChall: `Bearer realm="api", ApiKey realm="api", header="X-API-Key"`,
		},
		{
			name: "first decides", header: []string{"Authorization", bearer(alice)},
			wantSubject: "alice", wantCalls: [3]int64{1, 0, 0}, wantStatus: 200,
		},
		{
			name: "not mine is skipped", header: []string{"Authorization", bearer(bob)},
			wantSubject: "bob", wantCalls: [3]int64{1, 1, 0}, wantStatus: 200,
		},
		{
			name: "api key", header: []string{"X-API-Key", "ak_svc"},
			wantSubject: "svc", wantCalls: [3]int64{1, 1, 1}, wantStatus: 200,
		},
		{
			name: "mine but expired is final", header: []string{"Authorization", bearer(authfake.Claims{Issuer: issA, Outcome: "expired"})},
			wantErr: authgate.ErrTokenExpired, wantCalls: [3]int64{1, 0, 0},
			wantStatus: 401, wantChall: `Bearer realm="api", error="invalid_token", error_description="Token has expired"`,
		},
		{
			name: "mine but unavailable is final", header: []string{"Authorization", bearer(authfake.Claims{Issuer: issB, Outcome: "unavailable"})},
			wantErr: authgate.ErrUnavailable, wantCalls: [3]int64{1, 1, 0}, wantStatus: 503,
		},
		{
			name: "revoked api key", header: []string{"X-API-Key", "ak_bad"},
			wantErr: authgate.ErrRevoked, wantCalls: [3]int64{1, 1, 1}, wantStatus: 401,
			wantChall: `ApiKey realm="api", header="X-API-Key", error="invalid_token", error_description="Token has been revoked"`,
		},
		{
			name: "bearer nobody claims", header: []string{"Authorization", bearer(authfake.Claims{Issuer: "https://evil.example/", Subject: "root"})},
			wantErr: authgate.ErrUnrecognizedCredential, wantCalls: [3]int64{1, 1, 1},
			wantStatus: 401, wantChall: `Bearer realm="api", error="invalid_token", error_description="Invalid token"`,
		},
		{
			name: "opaque bearer nobody claims", header: []string{"Authorization", "Bearer sk_live_0123"},
			wantErr: authgate.ErrUnrecognizedCredential, wantCalls: [3]int64{1, 1, 1}, wantStatus: 401,
		},
		{
			name:    "expired token beside valid api key is ambiguous",
			header:  []string{"Authorization", bearer(authfake.Claims{Issuer: issA, Outcome: "expired"}), "X-API-Key", "ak_svc"},
			wantErr: authgate.ErrMalformedRequest, wantCalls: [3]int64{0, 0, 0},
			wantStatus: 400, wantChall: `Bearer realm="api", error="invalid_request", error_description="More than one credential was sent"`,
		},
		{
			name: "ordered: expired token beside valid api key is still 401", ordered: true,
			header:  []string{"Authorization", bearer(authfake.Claims{Issuer: issA, Outcome: "expired"}), "X-API-Key", "ak_svc"},
			wantErr: authgate.ErrTokenExpired, wantCalls: [3]int64{1, 0, 0}, wantStatus: 401,
		},
		{
			name: "ordered: valid token wins over the api key", ordered: true,
			header:      []string{"Authorization", bearer(bob), "X-API-Key", "ak_svc"},
			wantSubject: "bob", wantCalls: [3]int64{1, 1, 0}, wantStatus: 200,
		},
		{
			name:        "Basic beside an api key is not ambiguous",
			header:      []string{"Authorization", "Basic dXNlcjpwYXNz", "X-API-Key", "ak_svc"},
			wantSubject: "svc", wantCalls: [3]int64{1, 1, 1}, wantStatus: 200,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b, k := members()
			c, err := chain.New(a, b, k)
			if err != nil {
				t.Fatal(err)
			}
			if tt.ordered {
				c = c.Ordered()
			}
			p, err := c.Authenticate(request(tt.header...))
			if tt.wantErr == nil {
				if err != nil || p == nil || p.Subject != tt.wantSubject {
					t.Fatalf("Authenticate() = %+v, %v, want subject %q", p, err, tt.wantSubject)
				}
			} else {
				if p != nil || !errors.Is(err, tt.wantErr) {
					t.Fatalf("Authenticate() = %+v, %v, want %v", p, err, tt.wantErr)
				}
			}
			if got := [3]int64{a.Calls.Load(), b.Calls.Load(), k.Calls.Load()}; got != tt.wantCalls {
				t.Errorf("calls (a, b, apikey) = %v, want %v", got, tt.wantCalls)
			}
			if got := authgate.StatusCode(err); got != tt.wantStatus {
				t.Errorf("StatusCode = %d, want %d", got, tt.wantStatus)
			}
			if tt.wantChall != "" {
				if got := authgate.Challenge(err, "api"); got != tt.wantChall {
					t.Errorf("Challenge = %s, want %s", got, tt.wantChall)
				}
			}
		})
	}
}

func TestAnyFailsClosedOnPanic(t *testing.T) {
	a, b, k := members()
	c := chain.Any(a, b, k)
	tok := authfake.Token(authfake.Claims{Issuer: issA, Outcome: "panic"})
	p, err := c.Authenticate(request("Authorization", "Bearer "+tok))
	if p != nil || !errors.Is(err, chain.ErrPanic) || !errors.Is(err, authgate.ErrInvalidCredentials) {
		t.Fatalf("Authenticate(panicking) = %v, %v, want ErrPanic and ErrInvalidCredentials", p, err)
	}
	if got := authgate.StatusCode(err); got != http.StatusUnauthorized {
		t.Errorf("StatusCode(panic) = %d, want 401", got)
	}
	if authgate.IsNotMine(err) {
		t.Error("IsNotMine(panic) = true: the next authenticator could rescue a panicking owner")
	}
	if b.Calls.Load() != 0 || k.Calls.Load() != 0 {
		t.Errorf("after a panic, b and apikey were called %d and %d times, want 0", b.Calls.Load(), k.Calls.Load())
	}
	if strings.Contains(err.Error(), tok) || regexp.MustCompile(`eyJ[\w-]+\.[\w-]+\.[\w-]*`).MatchString(err.Error()) {
		t.Errorf("panic error %q holds the token", err)
	}
	var e *authgate.Error
	if !errors.As(err, &e) || e.Provider != "a" {
		t.Errorf("panic error provider = %v, want a", e)
	}
	// The chain keeps working.
	p, err = c.Authenticate(request("Authorization", bearer(authfake.Claims{Issuer: issA, Subject: "alice"})))
	if err != nil || p.Subject != "alice" {
		t.Errorf("after a panic, Authenticate() = %v, %v, want alice", p, err)
	}
}

func TestAnyRejectsNilPrincipal(t *testing.T) {
	a, _, k := members()
	c := chain.Any(a, k)
	p, err := c.Authenticate(request("Authorization", bearer(authfake.Claims{Issuer: issA, Outcome: "nil"})))
	if p != nil || !errors.Is(err, authgate.ErrInvalidCredentials) {
		t.Fatalf("Authenticate(nil, nil member) = %v, %v, want ErrInvalidCredentials", p, err)
	}
}

func TestAnyNested(t *testing.T) {
	a, b, k := members()
	c := chain.Any(chain.Any(a, b), k)
	if got, want := c.(*chain.Chain).Schemes(), []string{"Bearer", `ApiKey header="X-API-Key"`}; strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("Schemes() = %q, want %q", got, want)
	}
	p, err := c.Authenticate(request("Authorization", bearer(authfake.Claims{Issuer: issB, Subject: "bob"})))
	if err != nil || p.Subject != "bob" {
		t.Fatalf("nested Authenticate() = %v, %v, want bob", p, err)
	}
	_, err = c.Authenticate(request("Authorization", bearer(authfake.Claims{Issuer: issB, Subject: "bob"}), "X-API-Key", "ak_x"))
	if !errors.Is(err, chain.ErrAmbiguous) {
		t.Errorf("nested Authenticate(two credentials) = %v, want ErrAmbiguous", err)
	}
}

func TestAll(t *testing.T) {
	user := authfake.Claims{Issuer: issA, Subject: "alice", Roles: []string{"editor"}}
	tests := []struct {
		name        string
		header      []string
		wantErr     error
		wantSubject string
		wantCalls   [2]int64
		wantChall   string
	}{
		{name: "both", header: []string{"Authorization", bearer(user), "X-API-Key", "ak_svc"}, wantSubject: "alice", wantCalls: [2]int64{1, 1}},
		{
			name: "api key missing", header: []string{"Authorization", bearer(user)},
			wantErr: authgate.ErrNoCredentials, wantCalls: [2]int64{1, 1},
			wantChall: `Bearer realm="api", ApiKey realm="api", header="X-API-Key"`,
		},
		{name: "api key revoked", header: []string{"Authorization", bearer(user), "X-API-Key", "ak_bad"}, wantErr: authgate.ErrRevoked, wantCalls: [2]int64{1, 1}},
		{name: "token expired", header: []string{"Authorization", bearer(authfake.Claims{Issuer: issA, Outcome: "expired"}), "X-API-Key", "ak_svc"}, wantErr: authgate.ErrTokenExpired, wantCalls: [2]int64{1, 0}},
		{name: "token of another issuer", header: []string{"Authorization", bearer(authfake.Claims{Issuer: issB}), "X-API-Key", "ak_svc"}, wantErr: authgate.ErrUnrecognizedCredential, wantCalls: [2]int64{1, 0}},
		{name: "token panics", header: []string{"Authorization", bearer(authfake.Claims{Issuer: issA, Outcome: "panic"}), "X-API-Key", "ak_svc"}, wantErr: chain.ErrPanic, wantCalls: [2]int64{1, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, _, k := members()
			c, err := chain.NewAll(a, k)
			if err != nil {
				t.Fatal(err)
			}
			p, err := c.Authenticate(request(tt.header...))
			if tt.wantErr == nil {
				if err != nil || p.Subject != tt.wantSubject || !p.HasRole("editor") || p.HasRole("service") {
					t.Fatalf("Authenticate() = %+v, %v, want the first member's principal, unmerged", p, err)
				}
			} else if p != nil || !errors.Is(err, tt.wantErr) {
				t.Fatalf("Authenticate() = %+v, %v, want %v", p, err, tt.wantErr)
			}
			if got := [2]int64{a.Calls.Load(), k.Calls.Load()}; got != tt.wantCalls {
				t.Errorf("calls (a, apikey) = %v, want %v", got, tt.wantCalls)
			}
			if tt.wantChall != "" {
				if got := authgate.Challenge(err, "api"); got != tt.wantChall {
					t.Errorf("Challenge = %s, want %s", got, tt.wantChall)
				}
			}
		})
	}
}

func TestAnyConcurrent(t *testing.T) {
	a, b, k := members()
	c := chain.Any(a, b, k)
	var wg sync.WaitGroup
	for i := range 64 {
		wg.Go(func() {
			sub := strings.Repeat("u", i%7+1) + string(rune('a'+i%26))
			var r *http.Request
			switch i % 3 {
			case 0:
				r = request("Authorization", bearer(authfake.Claims{Issuer: issA, Subject: sub}))
			case 1:
				r = request("Authorization", bearer(authfake.Claims{Issuer: issB, Subject: sub}))
			default:
				r = request("X-API-Key", "ak_"+sub)
			}
			p, err := c.Authenticate(r)
			if err != nil || p.Subject != sub {
				t.Errorf("request %d: Authenticate() = %v, %v, want %s", i, p, err, sub)
			}
		})
	}
	wg.Wait()
}

func BenchmarkAny(b *testing.B) {
	x, y, k := members()
	c := chain.Any(x, y, k)
	for _, bc := range []struct {
		name   string
		header []string
	}{
		{"first", []string{"Authorization", bearer(authfake.Claims{Issuer: issA, Subject: "alice"})}},
		{"last", []string{"X-API-Key", "ak_svc"}},
		{"none", nil},
	} {
		b.Run(bc.name, func(b *testing.B) {
			r := request(bc.header...)
			b.ReportAllocs()
			for b.Loop() {
				_, _ = c.Authenticate(r)
			}
		})
	}
}
