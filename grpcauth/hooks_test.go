package grpcauth_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/auth"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/grpcauth"
)

// TestAuthFunc runs the interceptor's AuthFunc inside go-grpc-middleware
// v2's auth interceptors: the per-method mapping, the principal and the
// codes are those of the interceptors of this package.
func TestAuthFunc(t *testing.T) {
	st, iss := newStatic(t)
	ic := grpcauth.ByMethod(st, grpcauth.Methods{emptyMethod: nil}, quiet)
	conn := serve(t,
		grpc.ChainUnaryInterceptor(auth.UnaryServerInterceptor(ic.AuthFunc)),
		grpc.ChainStreamInterceptor(auth.StreamServerInterceptor(ic.AuthFunc)))
	valid := "Bearer " + token(iss, "alice", nil)

	if got := unary(t, conn, "authorization", valid); got.err != nil || got.subject != "alice" {
		t.Errorf("UnaryCall with a valid token = %q, %v; want alice", got.subject, got.err)
	}
	got := unary(t, conn)
	if status.Code(got.err) != codes.Unauthenticated || got.challenge != `Bearer realm="api"` {
		t.Errorf("UnaryCall without credentials = %v, challenge %q; want Unauthenticated with a Bearer challenge", got.err, got.challenge)
	}
	if got := emptyCall(t, conn)(); got.err != nil {
		t.Errorf("EmptyCall (public) = %v, want success", got.err)
	}
	subjects, o := stream(t, conn, "authorization", valid)
	if o.err != nil || len(subjects) != 2 || subjects[0] != "alice" {
		t.Errorf("stream with a valid token = %v, %v; want [alice alice]", subjects, o.err)
	}
	if _, o := stream(t, conn); status.Code(o.err) != codes.Unauthenticated {
		t.Errorf("stream without credentials = %v, want Unauthenticated", o.err)
	}

	// A context that names no method is never public.
	if _, err := ic.AuthFunc(context.Background()); status.Code(err) != codes.Unauthenticated {
		t.Errorf("AuthFunc(context without a method) = %v, want Unauthenticated", err)
	}
}

type recorder struct {
	mu     sync.Mutex
	events []authgate.Event
}

func (r *recorder) Observe(_ context.Context, e authgate.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
}

func (r *recorder) take() []authgate.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.events
	r.events = nil
	return out
}

// TestObserver checks the decision events: one per authenticated call,
// with the provider, outcome and reason, none for a public method, and
// none that holds the credential.
func TestObserver(t *testing.T) {
	st, iss := newStatic(t)
	obs := &recorder{}
	conn := serveWith(t, grpcauth.ByMethod(st, grpcauth.Methods{emptyMethod: nil}, quiet, grpcauth.WithObserver(obs)))
	valid := token(iss, "alice", nil)
	tests := []struct {
		name        string
		call        func() outcome
		wantEvents  int
		wantOutcome authgate.Outcome
		wantReason  string
	}{
		{name: "allowed", call: func() outcome { return unary(t, conn, "authorization", "Bearer "+valid) }, wantEvents: 1, wantOutcome: authgate.OutcomeAllowed},
		{name: "no credentials", call: func() outcome { return unary(t, conn) }, wantEvents: 1, wantOutcome: authgate.OutcomeDenied, wantReason: "no_credentials"},
		{name: "tampered", call: func() outcome { return unary(t, conn, "authorization", "Bearer "+valid[:len(valid)-4]+"AAAA") }, wantEvents: 1, wantOutcome: authgate.OutcomeDenied, wantReason: "signature"},
		{name: "stream allowed", call: func() outcome { _, o := stream(t, conn, "authorization", "Bearer "+valid); return o }, wantEvents: 1, wantOutcome: authgate.OutcomeAllowed},
		{name: "public method", call: func() outcome { return emptyCall(t, conn)() }, wantEvents: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			obs.take()
			tt.call()
			events := obs.take()
			if len(events) != tt.wantEvents {
				t.Fatalf("events = %+v, want %d", events, tt.wantEvents)
			}
			for _, e := range events {
				if e.Kind != authgate.EventAuthentication || e.Provider != "static" || e.Outcome != tt.wantOutcome || e.Reason != tt.wantReason {
					t.Errorf("event = %+v, want authentication by static, %s, reason %q", e, tt.wantOutcome, tt.wantReason)
				}
			}
		})
	}
}

// TestLogger checks the failure log: bounded fields, the gRPC method as
// the route, and never the credential.
func TestLogger(t *testing.T) {
	st, iss := newStatic(t)
	var buf bytes.Buffer
	l := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	conn := serveWith(t, grpcauth.Require(st, grpcauth.WithLogger(l)))
	tok := token(iss, "alice", map[string]any{"exp": epoch.Add(-time.Hour).Unix(), "iat": epoch.Add(-2 * time.Hour).Unix()})
	unary(t, conn, "authorization", "Bearer "+tok, "x-secret", "hunter2")
	out := buf.String()
	for _, want := range []string{`"msg":"authgate: authentication failed"`, `"reason":"expired"`, `"provider":"static"`, `"method":"POST"`, `"route":"` + unaryMethod + `"`} {
		if !strings.Contains(out, want) {
			t.Errorf("log %s lacks %s", out, want)
		}
	}
	for _, secret := range []string{tok, tok[:20], "hunter2", "alice"} {
		if strings.Contains(out, secret) {
			t.Errorf("log %s holds request data %q", out, secret)
		}
	}

	buf.Reset()
	conn = serveWith(t, grpcauth.Require(st, grpcauth.WithLogger(nil)))
	unary(t, conn)
	if buf.Len() != 0 {
		t.Errorf("WithLogger(nil) logged %s", buf.String())
	}
}

// TestPanicFailsClosed checks that an authenticator that panics refuses
// the call with Unauthenticated and the server goes on serving.
func TestPanicFailsClosed(t *testing.T) {
	calls := 0
	boom := authgate.AuthenticatorFunc(func(r *http.Request) (*authgate.Principal, error) {
		calls++
		if calls == 1 {
			panic("boom " + r.Header.Get("Authorization"))
		}
		return nil, nil // neither a principal nor an error: also refused
	})
	conn := serveWith(t, grpcauth.Require(boom, quiet))
	for i := range 2 {
		got := unary(t, conn, "authorization", "Bearer x")
		if status.Code(got.err) != codes.Unauthenticated || got.subject != "" {
			t.Errorf("call %d = %q, %v; want Unauthenticated", i, got.subject, got.err)
		}
		if strings.Contains(status.Convert(got.err).Message(), "boom") {
			t.Errorf("call %d: status %v shows the panic value", i, got.err)
		}
	}
}

// TestErrorHandler checks that a custom handler decides what the client
// receives, and that a handler returning nil cannot let a call through.
func TestErrorHandler(t *testing.T) {
	st, _ := newStatic(t)
	var seen error
	custom := grpcauth.WithErrorHandler(func(_ context.Context, method string, err error) error {
		seen = err
		return status.Error(codes.NotFound, "no such thing: "+method)
	})
	conn := serveWith(t, grpcauth.Require(st, quiet, custom))
	got := unary(t, conn)
	if status.Code(got.err) != codes.NotFound || status.Convert(got.err).Message() != "no such thing: "+unaryMethod {
		t.Errorf("UnaryCall = %v, want the handler's NotFound", got.err)
	}
	if !errors.Is(seen, authgate.ErrNoCredentials) {
		t.Errorf("handler saw %v, want ErrNoCredentials", seen)
	}
	if got.challenge != "" {
		t.Errorf("trailer challenge = %q, want none: the handler answers", got.challenge)
	}

	permissive := grpcauth.WithErrorHandler(func(context.Context, string, error) error { return nil })
	conn = serveWith(t, grpcauth.Require(st, quiet, permissive))
	if got := unary(t, conn); status.Code(got.err) != codes.Unauthenticated || got.subject != "" {
		t.Errorf("UnaryCall with a handler returning nil = %q, %v; want Unauthenticated", got.subject, got.err)
	}
}

// TestUser checks the accessor for what a resolver returned.
func TestUser(t *testing.T) {
	type account struct{ ID int }
	st, iss := newStatic(t)
	resolved := authgate.Resolve(st, func(_ context.Context, p *authgate.Principal) (any, error) {
		return account{ID: len(p.Subject)}, nil
	})
	var got account
	var ok bool
	ic := grpcauth.Require(resolved, quiet)
	conn := serve(t, grpc.ChainUnaryInterceptor(ic.UnaryServerInterceptor(), func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
		got, ok = grpcauth.User[account](ctx)
		return h(ctx, req)
	}))
	if o := unary(t, conn, "authorization", "Bearer "+token(iss, "alice", nil)); o.err != nil {
		t.Fatal(o.err)
	}
	if !ok || got.ID != 5 {
		t.Errorf("User[account] = %+v, %v; want {ID:5}, true", got, ok)
	}
	if _, ok := grpcauth.User[string](context.Background()); ok {
		t.Error("User on a context without a principal reports true")
	}
}
