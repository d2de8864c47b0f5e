package chain_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/apikey"
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
	if p != nil || !errors.Is(err, authgate.ErrPanic) || !errors.Is(err, authgate.ErrInvalidCredentials) {
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
	if got, want := c.Schemes(), []string{"Bearer", `ApiKey header="X-API-Key"`}; strings.Join(got, "|") != strings.Join(want, "|") {
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
		{name: "token panics", header: []string{"Authorization", bearer(authfake.Claims{Issuer: issA, Outcome: "panic"}), "X-API-Key", "ak_svc"}, wantErr: authgate.ErrPanic, wantCalls: [2]int64{1, 0}},
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

// keyAuth is an API-key authenticator that only describes itself; the
// construction checks are all it is used for.
type keyAuth struct{ name, header, prefix string }

func (k *keyAuth) Authenticate(*http.Request) (*authgate.Principal, error) {
	return nil, authgate.NewError(k.name, authgate.ErrNoCredentials, nil)
}

func (k *keyAuth) Describe() authgate.Description {
	return authgate.Description{Name: k.name, Scheme: `ApiKey header="` + k.header + `"`, APIKeyPrefix: k.prefix}
}

func noUser(context.Context, *authgate.Principal) (any, error) { return nil, nil }

func noCheck(*http.Request, *authgate.Principal) error { return nil }

// TestNewChecksThroughDecorators: a decorated chain (Resolve, Check, a
// guard) is checked as its members are, also when nested twice.
func TestNewChecksThroughDecorators(t *testing.T) {
	a, b, k := members()
	c := &authfake.Bearer{Name: "c", Issuers: []string{"https://c.example/"}}
	dupA := &authfake.Bearer{Name: "a2", Issuers: []string{issA}}
	catchAll := &authfake.Bearer{Name: "catchall"}
	tests := []struct {
		name  string
		auths []authgate.Authenticator
		want  []string // substrings of the error; nil: no error
	}{
		{name: "resolved chain then c", auths: []authgate.Authenticator{authgate.Resolve(chain.Any(a, b), noUser), c}},
		{name: "resolved chain same issuer", auths: []authgate.Authenticator{authgate.Resolve(chain.Any(a, b), noUser), dupA},
			want: []string{"a and a2 both claim issuer", issA}},
		{name: "checked chain same issuer", auths: []authgate.Authenticator{dupA, authgate.Check(chain.Any(k, a), noCheck)},
			want: []string{"a2 and a both claim issuer"}},
		{name: "guarded chain same issuer", auths: []authgate.Authenticator{authgate.RequireRoles(chain.Any(a, b), "admin"), dupA},
			want: []string{"a and a2 both claim issuer"}},
		{name: "twice nested under decorators", auths: []authgate.Authenticator{
			authgate.Resolve(chain.Any(authgate.Check(chain.Any(a, k), noCheck), b), noUser), dupA},
			want: []string{"a and a2 both claim issuer"}},
		{name: "catch-all inside decorated chain", auths: []authgate.Authenticator{authgate.Resolve(chain.Any(a, catchAll), noUser), c},
			want: []string{"catchall claims every bearer token, so c after it"}},
		{name: "decorated single member same issuer", auths: []authgate.Authenticator{authgate.Resolve(a, noUser), dupA},
			want: []string{"a and a2 both claim issuer"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := chain.New(tt.auths...)
			if tt.want == nil {
				if err != nil || got == nil {
					t.Fatalf("New() = %v, %v, want a chain", got, err)
				}
				return
			}
			if err == nil || got != nil {
				t.Fatalf("New() = %v, %v, want an error", got, err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("New() error %q does not say %q", err, w)
				}
			}
		})
	}
}

// TestDecoratedChainKeepsSchemesAndCarriers: the outer chain offers the
// challenges of a decorated inner chain's members and sees their places.
func TestDecoratedChainKeepsSchemesAndCarriers(t *testing.T) {
	a, b, k := members()
	c := &authfake.Bearer{Name: "c", Issuers: []string{"https://c.example/"}}
	outer := chain.Any(authgate.Resolve(chain.Any(a, k), noUser), b, c)
	if got, want := outer.Schemes(), []string{"Bearer", `ApiKey header="X-API-Key"`}; strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("Schemes() = %q, want %q", got, want)
	}
	_, err := outer.Authenticate(request("Authorization", bearer(authfake.Claims{Issuer: issB, Subject: "bob"}), "X-API-Key", "ak_x"))
	if !errors.Is(err, chain.ErrAmbiguous) {
		t.Errorf("Authenticate(two credentials) = %v, want ErrAmbiguous", err)
	}
	p, err := outer.Authenticate(request("Authorization", bearer(authfake.Claims{Issuer: "https://c.example/", Subject: "carol"})))
	if err != nil || p.Subject != "carol" {
		t.Errorf("Authenticate(c's token) = %v, %v, want carol", p, err)
	}
}

func TestNewRejectsAPIKeyConflicts(t *testing.T) {
	live := &keyAuth{name: "live", header: "X-API-Key", prefix: "sk_live"}
	test := &keyAuth{name: "test", header: "X-API-Key", prefix: "sk_test"}
	liveAgain := &keyAuth{name: "live2", header: "X-Other-Key", prefix: "sk_live"}
	liveSameHeader := &keyAuth{name: "live3", header: "x-api-key", prefix: "sk_live"}
	anyKey := &keyAuth{name: "anykey", header: "X-API-Key"}
	otherHeaderAny := &keyAuth{name: "otherany", header: "X-Other-Key"}
	tests := []struct {
		name  string
		auths []authgate.Authenticator
		want  []string // substrings of the error; nil: no error
	}{
		{name: "distinct prefixes share a header", auths: []authgate.Authenticator{live, test}},
		{name: "same prefix, same header", auths: []authgate.Authenticator{live, liveSameHeader},
			want: []string{`live and live3 both claim API keys with prefix "sk_live"`}},
		{name: "same prefix, other header", auths: []authgate.Authenticator{live, liveAgain},
			want: []string{`live and live2 both claim API keys with prefix "sk_live"`}},
		{name: "same prefix under decorators", auths: []authgate.Authenticator{
			authgate.Resolve(chain.Any(live, test), noUser), authgate.RequireScopes(liveAgain, "x")},
			want: []string{`live and live2 both claim API keys with prefix "sk_live"`}},
		{name: "unprefixed ahead on the same header", auths: []authgate.Authenticator{anyKey, live},
			want: []string{"anykey claims every API key in X-Api-Key, so live after it never sees one"}},
		{name: "unprefixed last", auths: []authgate.Authenticator{live, test, anyKey}},
		{name: "unprefixed on another header", auths: []authgate.Authenticator{otherHeaderAny, live}},
		{name: "two unprefixed on one header", auths: []authgate.Authenticator{anyKey, &keyAuth{name: "anykey2", header: "X-API-Key"}},
			want: []string{"anykey claims every API key in X-Api-Key, so anykey2 after it"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := chain.New(tt.auths...)
			if tt.want == nil {
				if err != nil || got == nil {
					t.Fatalf("New() = %v, %v, want a chain", got, err)
				}
				return
			}
			if err == nil || got != nil {
				t.Fatalf("New() = %v, %v, want an error", got, err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("New() error %q does not say %q", err, w)
				}
			}
		})
	}
}

// TestNewRejectsTwoAPIKeyAuthenticatorsOfOnePrefix uses the apikey package
// itself, so its Description is the one checked.
func TestNewRejectsTwoAPIKeyAuthenticatorsOfOnePrefix(t *testing.T) {
	newKeys := func(name, header, prefix string) *apikey.Authenticator {
		t.Helper()
		k, err := apikey.New(apikey.NewMemoryStore(), apikey.Config{Name: name, Header: header, Prefix: prefix})
		if err != nil {
			t.Fatalf("apikey.New(%s) = %v", name, err)
		}
		t.Cleanup(func() { k.Close() })
		return k
	}
	tests := []struct {
		name    string
		a, b    *apikey.Authenticator
		wantErr bool
	}{
		{name: "same prefix", a: newKeys("live", "X-API-Key", "sk_live"), b: newKeys("live2", "X-Service-Key", "sk_live"), wantErr: true},
		{name: "same header, other prefix", a: newKeys("live", "X-API-Key", "sk_live"), b: newKeys("test", "X-API-Key", "sk_test")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := chain.New(tt.a, tt.b)
			if gotErr := err != nil; gotErr != tt.wantErr || (c == nil) != tt.wantErr {
				t.Fatalf("New() = %v, %v, want error %v", c, err, tt.wantErr)
			}
		})
	}
}

// TestAnyOrdered: Ordered is reachable from Any, and makes the order decide
// between two credentials instead of refusing them.
func TestAnyOrdered(t *testing.T) {
	a, b, k := members()
	two := request("Authorization", bearer(authfake.Claims{Issuer: issA, Subject: "alice"}), "X-API-Key", "ak_svc")
	if _, err := chain.Any(a, b, k).Authenticate(two); !errors.Is(err, chain.ErrAmbiguous) {
		t.Fatalf("Any().Authenticate(two credentials) = %v, want ErrAmbiguous", err)
	}
	p, err := chain.Any(k, a, b).Ordered().Authenticate(two)
	if err != nil || p.Subject != "svc" {
		t.Fatalf("Any(k, a, b).Ordered().Authenticate(two credentials) = %v, %v, want svc", p, err)
	}
}

func TestDescribe(t *testing.T) {
	a, b, k := members()
	c := chain.Any(authgate.Resolve(chain.Any(a, k), noUser), b)
	got := c.Describe()
	var names []string
	for _, m := range got.Members {
		names = append(names, m.Name)
	}
	if strings.Join(names, ",") != "a,apikey,b" || got.Name != "" || got.Scheme != "" || got.Issuers != nil {
		t.Errorf("Any(Resolve(Any(a, k)), b).Describe() = %+v, want the members a, apikey, b and nothing else", got)
	}
	got.Members[0].Issuers[0] = "changed"
	if again := c.Describe(); again.Members[0].Issuers[0] != issA {
		t.Errorf("Describe() shares its slices with the chain")
	}
	if all := chain.All(a, k).Describe(); all.Name != "" || all.Members != nil {
		t.Errorf("All().Describe() = %+v, want nothing", all)
	}
}
