package grpcauth_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/apikey"
	"github.com/authgate/authgate/chain"
	"github.com/authgate/authgate/grpcauth"
	"github.com/authgate/authgate/httpauth"
	"github.com/authgate/authgate/providers"
)

// httpCode is the gRPC code each HTTP status of the HTTP adapters stands
// for.
var httpCode = map[int]codes.Code{
	http.StatusOK:                 codes.OK,
	http.StatusUnauthorized:       codes.Unauthenticated,
	http.StatusForbidden:          codes.PermissionDenied,
	http.StatusBadRequest:         codes.InvalidArgument,
	http.StatusTooManyRequests:    codes.ResourceExhausted,
	http.StatusServiceUnavailable: codes.Unavailable,
}

// TestOutcomes calls a real gRPC server with real tokens and API keys and
// checks every outcome: its code, the client-safe message and details, the
// challenge trailer, and that the same credentials sent over HTTP through
// httpauth get the matching status, the same JSON body, the same
// WWW-Authenticate and the same Retry-After.
func TestOutcomes(t *testing.T) {
	st, iss := newStatic(t)
	keys, key := newAPIKey(t, apikey.Config{})
	both := chain.Any(st, keys)
	valid := token(iss, "alice", nil)
	expired := token(iss, "alice", map[string]any{"iat": epoch.Add(-10 * time.Minute).Unix(), "exp": epoch.Add(-2 * time.Minute).Unix()})
	tampered := valid[:len(valid)-4] + "AAAA"
	same := func(a authgate.Authenticator) func(*testing.T) authgate.Authenticator {
		return func(*testing.T) authgate.Authenticator { return a }
	}
	down := authgate.Resolve(st, func(context.Context, *authgate.Principal) (any, error) {
		return nil, authgate.NewError("users", authgate.ErrUnavailable, errors.New("user database: connection refused"))
	})
	limited := func(t *testing.T) authgate.Authenticator {
		a, _ := newAPIKey(t, apikey.Config{FailureLimit: 1})
		return a
	}

	tests := []struct {
		name          string
		auth          func(*testing.T) authgate.Authenticator
		md            []string
		before        int // calls with md made first, on each transport
		wantCode      codes.Code
		wantSubject   string
		wantDetail    string
		wantError     string
		wantChallenge string
		wantRetry     time.Duration
	}{
		{name: "valid bearer token", auth: same(both), md: []string{"authorization", "Bearer " + valid}, wantCode: codes.OK, wantSubject: "alice"},
		{name: "valid API key", auth: same(both), md: []string{"x-api-key", key}, wantCode: codes.OK, wantSubject: "svc-ci"},
		{name: "API key in authorization", auth: same(both), md: []string{"authorization", "ApiKey " + key}, wantCode: codes.OK, wantSubject: "svc-ci"},
		{name: "no credentials", auth: same(both), wantCode: codes.Unauthenticated,
			wantDetail: "Authentication credentials were not provided", wantError: "not_authenticated",
			wantChallenge: `Bearer realm="api", ApiKey realm="api", header="X-API-Key"`},
		{name: "another scheme", auth: same(st), md: []string{"authorization", "Basic YWxpY2U6c2VjcmV0"}, wantCode: codes.Unauthenticated,
			wantDetail: "Authentication credentials were not provided", wantError: "not_authenticated", wantChallenge: `Bearer realm="api"`},
		{name: "expired token", auth: same(both), md: []string{"authorization", "Bearer " + expired}, wantCode: codes.Unauthenticated,
			wantDetail: "Token has expired", wantError: "invalid_token",
			wantChallenge: `Bearer realm="api", error="invalid_token", error_description="Token has expired"`},
		{name: "tampered signature", auth: same(both), md: []string{"authorization", "Bearer " + tampered}, wantCode: codes.Unauthenticated,
			wantDetail: "Invalid token", wantError: "invalid_token",
			wantChallenge: `Bearer realm="api", error="invalid_token", error_description="Invalid token"`},
		{name: "unknown API key", auth: same(keys), md: []string{"x-api-key", "sk_test_" + strings.Repeat("A", 43)}, wantCode: codes.Unauthenticated,
			wantDetail: "Invalid API key", wantError: "invalid_token",
			wantChallenge: `ApiKey realm="api", header="X-API-Key", error="invalid_token", error_description="Invalid API key"`},
		{name: "missing role", auth: same(authgate.RequireRoles(both, "admin")), md: []string{"authorization", "Bearer " + valid}, wantCode: codes.PermissionDenied,
			wantDetail: "Insufficient permissions", wantError: "insufficient_scope",
			wantChallenge: `Bearer realm="api", error="insufficient_scope", error_description="Insufficient permissions", scope="admin"`},
		{name: "role present", auth: same(authgate.RequireRoles(both, "editor")), md: []string{"authorization", "Bearer " + valid}, wantCode: codes.OK, wantSubject: "alice"},
		{name: "two authorization values", auth: same(both), md: []string{"authorization", "Bearer " + valid, "authorization", "Bearer " + valid}, wantCode: codes.InvalidArgument,
			wantDetail: "Invalid authorization header", wantError: "invalid_request",
			wantChallenge: `Bearer realm="api", error="invalid_request", error_description="Invalid authorization header"`},
		{name: "bearer token and API key at once", auth: same(both), md: []string{"authorization", "Bearer " + valid, "x-api-key", key}, wantCode: codes.InvalidArgument,
			wantDetail: "More than one credential was sent", wantError: "invalid_request",
			wantChallenge: `Bearer realm="api", error="invalid_request", error_description="More than one credential was sent"`},
		{name: "oversized token", auth: same(st), md: []string{"authorization", "Bearer " + strings.Repeat("a", providers.MaxBearerLength+1)}, wantCode: codes.InvalidArgument,
			wantDetail: "Invalid authorization header", wantError: "invalid_request",
			wantChallenge: `Bearer realm="api", error="invalid_request", error_description="Invalid authorization header"`},
		{name: "unavailable", auth: same(down), md: []string{"authorization", "Bearer " + valid}, wantCode: codes.Unavailable,
			wantDetail: "Authentication service unavailable", wantError: "temporarily_unavailable", wantRetry: 5 * time.Second},
		{name: "rate limited", auth: limited, md: []string{"x-api-key", "sk_test_short"}, before: 1, wantCode: codes.ResourceExhausted,
			wantDetail: "Too many failed attempts", wantError: "rate_limited", wantRetry: 60 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conn := serveWith(t, grpcauth.Require(tt.auth(t), quiet))
			for range tt.before {
				unary(t, conn, tt.md...)
			}
			got := unary(t, conn, tt.md...)
			if code := status.Code(got.err); code != tt.wantCode {
				t.Fatalf("UnaryCall code = %v (%v), want %v", code, got.err, tt.wantCode)
			}
			if got.subject != tt.wantSubject {
				t.Errorf("UnaryCall subject = %q, want %q", got.subject, tt.wantSubject)
			}
			if got.challenge != tt.wantChallenge {
				t.Errorf("trailer %s = %q, want %q", grpcauth.ChallengeKey, got.challenge, tt.wantChallenge)
			}
			info, retry := errorInfo(got.err)
			if tt.wantCode != codes.OK {
				if msg := status.Convert(got.err).Message(); msg != tt.wantDetail {
					t.Errorf("status message = %q, want %q", msg, tt.wantDetail)
				}
				if info == nil {
					t.Fatal("status has no ErrorInfo")
				}
				if info.GetDomain() != grpcauth.ErrorDomain || info.GetReason() != strings.ToUpper(tt.wantError) ||
					info.GetMetadata()["detail"] != tt.wantDetail || info.GetMetadata()["error"] != tt.wantError {
					t.Errorf("ErrorInfo = %v, want domain %q, reason %q, detail %q, error %q", info, grpcauth.ErrorDomain, strings.ToUpper(tt.wantError), tt.wantDetail, tt.wantError)
				}
			}
			if retry != tt.wantRetry {
				t.Errorf("RetryInfo delay = %v, want %v", retry, tt.wantRetry)
			}

			// The same credentials over HTTP.
			h := httpauth.Require(tt.auth(t), httpauth.WithLogger(nil))(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				p, _ := httpauth.PrincipalFrom(r)
				_, _ = w.Write([]byte(p.Subject))
			}))
			var rec *httptest.ResponseRecorder
			for range tt.before + 1 {
				r := httptest.NewRequest(http.MethodPost, unaryMethod, nil)
				for i := 0; i+1 < len(tt.md); i += 2 {
					r.Header.Add(tt.md[i], tt.md[i+1])
				}
				rec = httptest.NewRecorder()
				h.ServeHTTP(rec, r)
			}
			if c := httpCode[rec.Code]; c != tt.wantCode {
				t.Errorf("HTTP status %d stands for %v, gRPC gave %v", rec.Code, c, tt.wantCode)
			}
			if wa := rec.Header().Get("WWW-Authenticate"); wa != got.challenge {
				t.Errorf("HTTP WWW-Authenticate = %q, gRPC trailer %q", wa, got.challenge)
			}
			if ra := rec.Header().Get("Retry-After"); ra != "" && ra != strconv.Itoa(int(retry/time.Second)) {
				t.Errorf("HTTP Retry-After = %s, gRPC RetryInfo %v", ra, retry)
			}
			if tt.wantCode == codes.OK {
				if rec.Body.String() != got.subject {
					t.Errorf("HTTP subject = %q, gRPC %q", rec.Body.String(), got.subject)
				}
				return
			}
			var body authgate.ErrorBody
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
				t.Fatalf("HTTP body %q: %v", rec.Body.String(), err)
			}
			if body.Detail != info.GetMetadata()["detail"] || body.Error != info.GetMetadata()["error"] {
				t.Errorf("HTTP body = %+v, gRPC ErrorInfo metadata %v", body, info.GetMetadata())
			}
		})
	}
}

// TestCode pins the mapping of every sentinel, including an error that
// carries none (fail closed).
func TestCode(t *testing.T) {
	tests := []struct {
		err  error
		want codes.Code
	}{
		{nil, codes.OK},
		{authgate.ErrNoCredentials, codes.Unauthenticated},
		{authgate.ErrUnrecognizedCredential, codes.Unauthenticated},
		{authgate.ErrTokenExpired, codes.Unauthenticated},
		{authgate.ErrRevoked, codes.Unauthenticated},
		{authgate.ErrForbidden, codes.PermissionDenied},
		{authgate.ErrMalformedRequest, codes.InvalidArgument},
		{authgate.ErrRateLimited, codes.ResourceExhausted},
		{authgate.ErrUnavailable, codes.Unavailable},
		{errors.Join(authgate.ErrInvalidSignature, authgate.ErrUnavailable), codes.Unavailable},
		{errors.New("resolver: no such user"), codes.Unauthenticated},
	}
	for _, tt := range tests {
		t.Run(authgate.Reason(tt.err), func(t *testing.T) {
			if got := grpcauth.Code(tt.err); got != tt.want {
				t.Errorf("Code(%v) = %v, want %v", tt.err, got, tt.want)
			}
			st := grpcauth.Status(tt.err)
			if st.Code() != tt.want {
				t.Errorf("Status(%v).Code() = %v, want %v", tt.err, st.Code(), tt.want)
			}
			if tt.err != nil && st.Message() != authgate.Detail(tt.err) {
				t.Errorf("Status(%v).Message() = %q, want %q", tt.err, st.Message(), authgate.Detail(tt.err))
			}
		})
	}
}
