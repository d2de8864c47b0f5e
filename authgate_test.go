package authgate_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/authgate/authgate"
)

func TestSentinelHierarchy(t *testing.T) {
	for _, s := range []error{
		authgate.ErrMalformedToken, authgate.ErrTokenExpired, authgate.ErrTokenNotYetValid,
		authgate.ErrInvalidSignature, authgate.ErrInvalidIssuer, authgate.ErrInvalidAudience,
		authgate.ErrMissingClaim, authgate.ErrInvalidClaim, authgate.ErrUnsupportedAlgorithm, authgate.ErrRevoked,
	} {
		if !errors.Is(s, authgate.ErrInvalidCredentials) {
			t.Errorf("%v does not wrap ErrInvalidCredentials", s)
		}
		if errors.Is(s, authgate.ErrNoCredentials) {
			t.Errorf("%v wraps ErrNoCredentials", s)
		}
	}
	if !errors.Is(authgate.ErrUnrecognizedCredential, authgate.ErrNoCredentials) {
		t.Error("ErrUnrecognizedCredential does not wrap ErrNoCredentials")
	}
}

func TestErrorIsAndAs(t *testing.T) {
	cause := errors.New("exp passed")
	err := fmt.Errorf("wrapped: %w", &authgate.Error{Provider: "static", Kind: authgate.ErrTokenExpired, Err: cause})
	joined := errors.Join(errors.New("other"), err)
	for _, e := range []error{err, joined} {
		var ae *authgate.Error
		if !errors.As(e, &ae) || ae.Provider != "static" {
			t.Errorf("errors.As(%v) failed", e)
		}
		for _, target := range []error{authgate.ErrTokenExpired, authgate.ErrInvalidCredentials, cause} {
			if !errors.Is(e, target) {
				t.Errorf("errors.Is(%v, %v) = false", e, target)
			}
		}
	}
	if got := err.Error(); got != "wrapped: static: token has expired: exp passed" {
		t.Errorf("Error() = %q", got)
	}
}

func TestHTTPMapping(t *testing.T) {
	tests := []struct {
		name          string
		err           error
		wantStatus    int
		wantChallenge string
		wantDetail    string
		wantCode      string
	}{
		{"nil", nil, 200, "", "", ""},
		{"no credentials", authgate.ErrNoCredentials, 401, `Bearer realm="api"`, "Authentication credentials were not provided", ""},
		{"no credentials in chain", &authgate.Error{Kind: authgate.ErrNoCredentials, Schemes: []string{"Bearer", `ApiKey header="X-API-Key"`}}, 401,
			`Bearer realm="api", ApiKey realm="api", header="X-API-Key"`, "Authentication credentials were not provided", ""},
		{"unrecognized", authgate.ErrUnrecognizedCredential, 401, `Bearer realm="api", error="invalid_token", error_description="Invalid token"`, "Invalid token", "invalid_token"},
		{"expired", &authgate.Error{Provider: "p", Kind: authgate.ErrTokenExpired}, 401,
			`Bearer realm="api", error="invalid_token", error_description="Token has expired"`, "Token has expired", "invalid_token"},
		{"signature", authgate.ErrInvalidSignature, 401, `Bearer realm="api", error="invalid_token", error_description="Invalid token"`, "Invalid token", "invalid_token"},
		{"revoked", authgate.ErrRevoked, 401, `Bearer realm="api", error="invalid_token", error_description="Token has been revoked"`, "Token has been revoked", "invalid_token"},
		{"forbidden", &authgate.Error{Kind: authgate.ErrForbidden, Scope: []string{"read:x", "write:x"}}, 403,
			`Bearer realm="api", error="insufficient_scope", error_description="Insufficient permissions", scope="read:x write:x"`, "Insufficient permissions", "insufficient_scope"},
		{"malformed", authgate.ErrMalformedRequest, 400, `Bearer realm="api", error="invalid_request", error_description="Invalid authorization header"`, "Invalid authorization header", "invalid_request"},
		{"unavailable", authgate.ErrUnavailable, 503, "", "Authentication service unavailable", ""},
		{"rate limited", authgate.ErrRateLimited, 429, "", "Too many failed attempts", ""},
		{"rate limited beats invalid", errors.Join(authgate.ErrInvalidSignature, authgate.ErrRateLimited), 429, "", "Too many failed attempts", ""},
		{"unavailable joined with invalid", errors.Join(authgate.ErrInvalidSignature, authgate.ErrUnavailable), 503, "", "Authentication service unavailable", ""},
		{"unclassified", errors.New("db said no"), 401, `Bearer realm="api", error="invalid_token", error_description="Invalid token"`, "Invalid token", "invalid_token"},
		{"api key scheme", &authgate.Error{Kind: authgate.ErrInvalidCredentials, Schemes: []string{`ApiKey header="X-API-Key"`}}, 401,
			`ApiKey realm="api", header="X-API-Key", error="invalid_token", error_description="Invalid token"`, "Invalid token", "invalid_token"},
		{"injection in description", &authgate.Error{Kind: authgate.ErrInvalidClaim, Description: "bad \"x\"\r\nSet-Cookie: a=b\\ é"}, 401,
			`Bearer realm="api", error="invalid_token", error_description="bad xSet-Cookie: a=b "`, "bad \"x\"\r\nSet-Cookie: a=b\\ é", "invalid_token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := authgate.StatusCode(tt.err); got != tt.wantStatus {
				t.Errorf("StatusCode = %d, want %d", got, tt.wantStatus)
			}
			if got := authgate.Challenge(tt.err, "api"); got != tt.wantChallenge {
				t.Errorf("Challenge = %q, want %q", got, tt.wantChallenge)
			}
			if got := authgate.Detail(tt.err); got != tt.wantDetail {
				t.Errorf("Detail = %q, want %q", got, tt.wantDetail)
			}
			if got := authgate.ErrorCode(tt.err); got != tt.wantCode {
				t.Errorf("ErrorCode = %q, want %q", got, tt.wantCode)
			}
		})
	}
}

// TestChallengeCharset: whatever goes in, the challenge holds only the
// characters RFC 6750 §3 allows, and each attribute at most once.
func TestChallengeCharset(t *testing.T) {
	hostile := "x\"\\\r\n\x00é\u2028, error=\"evil\""
	err := &authgate.Error{Kind: authgate.ErrForbidden, Description: hostile, Scope: []string{hostile}}
	ch := authgate.Challenge(err, hostile)
	for i := 0; i < len(ch); i++ {
		if c := ch[i]; c < 0x20 || c > 0x7e {
			t.Fatalf("challenge %q has byte %#x", ch, c)
		}
	}
	for _, attr := range []string{"realm=", "error=", "error_description=", "scope="} {
		if n := strings.Count(ch, " "+attr+`"`); n > 1 {
			t.Errorf("challenge %q has %s %d times", ch, attr, n)
		}
	}
}

func TestWriteError(t *testing.T) {
	for _, tt := range []struct {
		err        error
		status     int
		retryAfter string
		body       authgate.ErrorBody
	}{
		{authgate.ErrNoCredentials, 401, "", authgate.ErrorBody{Detail: "Authentication credentials were not provided", Error: "not_authenticated"}},
		{authgate.ErrTokenExpired, 401, "", authgate.ErrorBody{Detail: "Token has expired", Error: "invalid_token"}},
		{authgate.ErrUnavailable, 503, authgate.RetryAfterSeconds, authgate.ErrorBody{Detail: "Authentication service unavailable", Error: "temporarily_unavailable"}},
		{authgate.ErrForbidden, 403, "", authgate.ErrorBody{Detail: "Insufficient permissions", Error: "insufficient_scope"}},
		{authgate.ErrRateLimited, 429, authgate.RateLimitRetryAfterSeconds, authgate.ErrorBody{Detail: "Too many failed attempts", Error: "rate_limited"}},
	} {
		w := httptest.NewRecorder()
		authgate.WriteError(w, tt.err, "api")
		var body authgate.ErrorBody
		if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
			t.Fatalf("body %q: %v", w.Body, err)
		}
		if w.Code != tt.status || body != tt.body || w.Header().Get("Retry-After") != tt.retryAfter ||
			w.Header().Get("Cache-Control") != "no-store" || !strings.HasPrefix(w.Header().Get("Content-Type"), "application/json") {
			t.Errorf("WriteError(%v) = %d %v %v", tt.err, w.Code, w.Header(), body)
		}
		if (tt.status == 401 || tt.status == 403) && w.Header().Get("WWW-Authenticate") == "" {
			t.Errorf("WriteError(%v): no WWW-Authenticate", tt.err)
		}
	}
}

func TestIsNotMine(t *testing.T) {
	for err, want := range map[error]bool{
		authgate.ErrNoCredentials:          true,
		authgate.ErrUnrecognizedCredential: true,
		authgate.ErrInvalidSignature:       false,
		authgate.ErrUnavailable:            false,
		authgate.ErrRateLimited:            false,
		errors.Join(authgate.ErrNoCredentials, authgate.ErrInvalidSignature): false,
		errors.New("x"): false,
	} {
		if got := authgate.IsNotMine(err); got != want {
			t.Errorf("IsNotMine(%v) = %v, want %v", err, got, want)
		}
	}
}

func fixed(p *authgate.Principal, err error) authgate.Authenticator {
	return authgate.AuthenticatorFunc(func(*http.Request) (*authgate.Principal, error) {
		if p == nil {
			return nil, err
		}
		c := *p
		return &c, err
	})
}

func TestResolve(t *testing.T) {
	type user struct{ ID int }
	r := httptest.NewRequest("GET", "/", nil)
	ok := fixed(&authgate.Principal{Provider: "static", Subject: "42"}, nil)

	a := authgate.Resolve(ok, func(ctx context.Context, p *authgate.Principal) (any, error) {
		return user{ID: 42}, nil
	})
	p, err := a.Authenticate(r)
	if err != nil || p.User != (user{ID: 42}) {
		t.Fatalf("Resolve = %v, %v", p, err)
	}

	for _, tt := range []struct {
		resolverErr error
		want        error
		status      int
	}{
		{errors.New("no such user"), authgate.ErrInvalidCredentials, 401},
		{authgate.ErrUnavailable, authgate.ErrUnavailable, 503},
		{authgate.ErrForbidden, authgate.ErrForbidden, 403},
		{authgate.ErrNoCredentials, authgate.ErrInvalidCredentials, 401},
	} {
		a := authgate.Resolve(ok, func(context.Context, *authgate.Principal) (any, error) { return nil, tt.resolverErr })
		p, err := a.Authenticate(r)
		if p != nil || !errors.Is(err, tt.want) || authgate.StatusCode(err) != tt.status || authgate.IsNotMine(err) {
			t.Errorf("resolver error %v: got %v, %v (status %d)", tt.resolverErr, p, err, authgate.StatusCode(err))
		}
	}

	called := false
	a = authgate.Resolve(fixed(nil, authgate.ErrTokenExpired), func(context.Context, *authgate.Principal) (any, error) {
		called = true
		return nil, nil
	})
	if _, err := a.Authenticate(r); !errors.Is(err, authgate.ErrTokenExpired) || called {
		t.Errorf("Resolve after a rejection: err %v, resolver called %v", err, called)
	}
}

func TestCheck(t *testing.T) {
	r := httptest.NewRequest("GET", "/", nil)
	ok := fixed(&authgate.Principal{Provider: "static", Tenant: "t1"}, nil)
	for _, tt := range []struct {
		checkErr error
		status   int
	}{
		{nil, 200},
		{errors.New("wrong tenant"), 403},
		{authgate.ErrInvalidClaim, 401},
		{authgate.ErrUnrecognizedCredential, 403},
	} {
		a := authgate.Check(ok, func(*http.Request, *authgate.Principal) error { return tt.checkErr })
		p, err := a.Authenticate(r)
		if authgate.StatusCode(err) != tt.status || (err == nil) != (p != nil) {
			t.Errorf("check error %v: got %v, %v", tt.checkErr, p, err)
		}
	}
}

func TestPrincipalHelpers(t *testing.T) {
	p := &authgate.Principal{
		Roles: []string{"admin"}, Scopes: []string{"read"}, Permissions: []string{"articles:delete"},
		Claims: authgate.NewObject(map[string]any{
			"realm_access":              map[string]any{"roles": []any{"user"}},
			"https://example.com/roles": []any{"editor"},
			"a":                         map[string]any{"b": map[string]any{"c": 1.0}},
		}),
	}
	if !p.HasRole("admin") || p.HasRole("Admin") || !p.HasScope("read") || !p.HasPermission("articles:delete") {
		t.Error("Has* helpers")
	}
	if v, ok := p.Claim("a.b.c"); !ok || v != 1.0 {
		t.Errorf(`Claim("a.b.c") = %v, %v`, v, ok)
	}
	if v, ok := p.Claim("https://example.com/roles"); !ok || len(v.([]any)) != 1 {
		t.Errorf("Claim(namespaced) = %v, %v", v, ok)
	}
	if _, ok := p.Claim("a.x"); ok {
		t.Error(`Claim("a.x") found`)
	}
	if _, ok := p.Claim("realm_access.roles.x"); ok {
		t.Error("Claim through an array found")
	}
	var nilP *authgate.Principal
	if nilP.HasRole("x") {
		t.Error("nil principal has a role")
	}
}

func TestContext(t *testing.T) {
	if _, ok := authgate.FromContext(context.Background()); ok {
		t.Error("FromContext on an empty context")
	}
	p := &authgate.Principal{Subject: "s"}
	got, ok := authgate.FromContext(authgate.NewContext(context.Background(), p))
	if !ok || got != p {
		t.Errorf("FromContext = %v, %v", got, ok)
	}
	if _, ok := authgate.FromContext(authgate.NewContext(context.Background(), nil)); ok {
		t.Error("FromContext found a nil principal")
	}
}
