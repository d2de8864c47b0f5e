package httpauth_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/chain"
	"github.com/authgate/authgate/httpauth"
	"github.com/authgate/authgate/internal/authfake"
)

// events is an Observer that keeps every event, with the context's marker
// value, so a test can check what was reported and on which request.
type events struct {
	mu   sync.Mutex
	list []authgate.Event
	ctxs []string
}

type markerKey struct{}

func (o *events) Observe(ctx context.Context, e authgate.Event) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.list = append(o.list, e)
	m, _ := ctx.Value(markerKey{}).(string)
	o.ctxs = append(o.ctxs, m)
}

func (o *events) take() []authgate.Event {
	o.mu.Lock()
	defer o.mu.Unlock()
	l := o.list
	o.list, o.ctxs = nil, nil
	return l
}

// ev is an Event without its duration, for comparison.
type ev struct {
	kind     authgate.EventKind
	provider string
	outcome  authgate.Outcome
	reason   string
}

func (e ev) String() string {
	return fmt.Sprintf("%s/%s/%s/%s", e.kind, e.provider, e.outcome, e.reason)
}

func strip(es []authgate.Event) []ev {
	out := make([]ev, 0, len(es))
	for _, e := range es {
		out = append(out, ev{e.Kind, e.Provider, e.Outcome, e.Reason})
	}
	return out
}

func TestObserverDecisions(t *testing.T) {
	a, b, k := members()
	obs := &events{}
	h := &handler{}
	mw := func(opt bool) func(http.Handler) http.Handler {
		if opt {
			return httpauth.Optional(chain.Any(a, b, k), httpauth.WithLogger(nil), httpauth.WithObserver(obs))
		}
		return httpauth.Require(chain.Any(a, b, k), httpauth.WithLogger(nil), httpauth.WithObserver(obs))
	}
	mux := http.NewServeMux()
	mux.Handle("GET /r", mw(false)(h))
	mux.Handle("GET /o", mw(true)(h))
	mux.Handle("GET /admin", mw(false)(httpauth.RequireRoles("admin")(h)))
	mux.Handle("/m", httpauth.ByMethod(chain.Any(a, b, k), httpauth.Methods{"GET": nil}, httpauth.WithLogger(nil), httpauth.WithObserver(obs))(h))

	authn := authgate.EventAuthentication
	authz := authgate.EventAuthorization
	alice := tok(authfake.Claims{Issuer: issA, Subject: "alice"})
	tests := []struct {
		name       string
		method     string
		path       string
		header     []string
		wantStatus int
		want       []ev
	}{
		{name: "valid token", path: "/r", header: []string{"Authorization", alice}, wantStatus: 200,
			want: []ev{{authn, "a", authgate.OutcomeAllowed, ""}}},
		{name: "valid key", path: "/r", header: []string{"X-API-Key", "ak_svc"}, wantStatus: 200,
			want: []ev{{authn, "apikey", authgate.OutcomeAllowed, ""}}},
		{name: "expired", path: "/r", header: []string{"Authorization", tok(authfake.Claims{Issuer: issB, Outcome: "expired"})}, wantStatus: 401,
			want: []ev{{authn, "b", authgate.OutcomeDenied, "expired"}}},
		{name: "revoked key", path: "/r", header: []string{"X-API-Key", "ak_bad"}, wantStatus: 401,
			want: []ev{{authn, "apikey", authgate.OutcomeDenied, "revoked"}}},
		{name: "unavailable", path: "/r", header: []string{"Authorization", tok(authfake.Claims{Issuer: issA, Outcome: "unavailable"})}, wantStatus: 503,
			want: []ev{{authn, "a", authgate.OutcomeError, "unavailable"}}},
		{name: "panic", path: "/r", header: []string{"Authorization", tok(authfake.Claims{Issuer: issA, Outcome: "panic"})}, wantStatus: 401,
			want: []ev{{authn, "a", authgate.OutcomeDenied, "panic"}}},
		{name: "malformed", path: "/r", header: []string{"Authorization", alice, "Authorization", alice}, wantStatus: 400,
			want: []ev{{authn, "a", authgate.OutcomeDenied, "malformed_request"}}},
		{name: "no credentials", path: "/r", wantStatus: 401,
			want: []ev{{authn, "chain", authgate.OutcomeDenied, "no_credentials"}}},
		{name: "unclaimed bearer", path: "/r", header: []string{"Authorization", "Bearer opaque"}, wantStatus: 401,
			want: []ev{{authn, "a", authgate.OutcomeDenied, "unrecognized"}}},
		{name: "optional without credentials", path: "/o", wantStatus: 200,
			want: []ev{{authn, "chain", authgate.OutcomeAnonymous, "no_credentials"}}},
		{name: "optional with a bad token", path: "/o", header: []string{"Authorization", tok(authfake.Claims{Issuer: issA, Outcome: "signature"})}, wantStatus: 401,
			want: []ev{{authn, "a", authgate.OutcomeDenied, "signature"}}},
		{name: "guard refuses", path: "/admin", header: []string{"Authorization", alice}, wantStatus: 403,
			want: []ev{{authn, "a", authgate.OutcomeAllowed, ""}, {authz, "a", authgate.OutcomeDenied, "forbidden"}}},
		{name: "guard allows", path: "/admin", header: []string{"Authorization", tok(authfake.Claims{Issuer: issA, Subject: "root", Roles: []string{"admin"}})}, wantStatus: 200,
			want: []ev{{authn, "a", authgate.OutcomeAllowed, ""}, {authz, "a", authgate.OutcomeAllowed, ""}}},
		{name: "public method", path: "/m", wantStatus: 200},
		{name: "default of ByMethod", method: http.MethodPost, path: "/m", header: []string{"X-API-Key", "ak_svc"}, wantStatus: 200,
			want: []ev{{authn, "apikey", authgate.OutcomeAllowed, ""}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			method := tt.method
			if method == "" {
				method = http.MethodGet
			}
			w := do(mux, method, tt.path, tt.header...)
			if w.Code != tt.wantStatus {
				t.Fatalf("%s %s: status = %d, want %d", method, tt.path, w.Code, tt.wantStatus)
			}
			got := strip(obs.take())
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("events = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestObserverNeverSeesTheCredential sends tokens and keys through every
// outcome and looks for them in everything an observer is given.
func TestObserverNeverSeesTheCredential(t *testing.T) {
	a, b, k := members()
	obs := &events{}
	srv := httpauth.Require(chain.Any(a, b, k), httpauth.WithLogger(nil), httpauth.WithObserver(obs))(httpauth.RequireRoles("admin")(&handler{}))
	var secrets []string
	for _, outcome := range []string{"", "expired", "signature", "unavailable", "panic", "nil", "other", "forbidden", "malformed"} {
		token := authfake.Token(authfake.Claims{Issuer: issA, Subject: "alice-" + outcome, Outcome: outcome})
		secrets = append(secrets, token, "alice-"+outcome)
		do(srv, http.MethodGet, "/", "Authorization", "Bearer "+token)
	}
	do(srv, http.MethodGet, "/", "X-API-Key", "ak_secretsvc")
	do(srv, http.MethodGet, "/", "X-API-Key", "ak_bad")
	secrets = append(secrets, "ak_secretsvc", "secretsvc", "ak_bad")
	got := obs.take()
	if len(got) < 11 {
		t.Fatalf("%d events, want at least 11", len(got))
	}
	dump := fmt.Sprintf("%+v", got)
	for _, s := range secrets {
		if strings.Contains(dump, s) {
			t.Errorf("events hold %q: %s", s, dump)
		}
	}
}

func TestObserverLatencyAndContext(t *testing.T) {
	const delay = 2 * time.Millisecond
	slow := authgate.AuthenticatorFunc(func(r *http.Request) (*authgate.Principal, error) {
		time.Sleep(delay)
		return &authgate.Principal{Provider: "slow", Subject: "s"}, nil
	})
	obs := &events{}
	srv := httpauth.Require(slow, httpauth.WithObserver(obs))(&handler{})
	r, _ := http.NewRequestWithContext(context.WithValue(context.Background(), markerKey{}, "req-1"), http.MethodGet, "/", nil)
	srv.ServeHTTP(httptest.NewRecorder(), r)
	if len(obs.list) != 1 {
		t.Fatalf("%d events, want 1", len(obs.list))
	}
	if d := obs.list[0].Duration; d < delay {
		t.Errorf("Duration = %v, want at least %v", d, delay)
	}
	if obs.ctxs[0] != "req-1" {
		t.Errorf("observer context marker = %q, want the request's context (req-1)", obs.ctxs[0])
	}
}

func TestObserverNilIsOff(t *testing.T) {
	a, _, _ := members()
	srv := httpauth.Require(a, httpauth.WithLogger(nil), httpauth.WithObserver(nil))(httpauth.RequireRoles("admin")(&handler{}))
	if w := do(srv, http.MethodGet, "/", "Authorization", tok(authfake.Claims{Issuer: issA, Subject: "alice"})); w.Code != http.StatusForbidden {
		t.Errorf("status = %d, want 403", w.Code)
	}
}
