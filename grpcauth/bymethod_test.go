package grpcauth_test

import (
	"context"
	"io"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	reflectionpb "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/grpc/status"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/grpcauth"
)

// TestByMethod maps methods and services of a real server to
// authenticators, guards and nil, and checks what each call needs.
func TestByMethod(t *testing.T) {
	st, iss := newStatic(t)
	editor := "Bearer " + token(iss, "alice", nil)
	admin := "Bearer " + token(iss, "root", map[string]any{"roles": []string{"admin"}})
	ic := grpcauth.ByMethod(st, grpcauth.Methods{
		unaryMethod:                   nil,                                // public
		streamMethod:                  authgate.RequireRoles(st, "admin"), // a guard
		"/grpc.testing.TestService/*": authgate.RequireRoles(st, "editor"),
	}, quiet)
	conn := serveWith(t, ic)

	tests := []struct {
		name        string
		call        func(md ...string) outcome
		md          []string
		wantCode    codes.Code
		wantSubject string
	}{
		{name: "public method, no credentials", call: func(md ...string) outcome { return unary(t, conn, md...) }, wantSubject: "anonymous"},
		{name: "public method ignores credentials", call: func(md ...string) outcome { return unary(t, conn, md...) }, md: []string{"authorization", "Bearer bad"}, wantSubject: "anonymous"},
		{name: "guarded method, no credentials", call: streamCall(t, conn), wantCode: codes.Unauthenticated},
		{name: "guarded method, missing role", call: streamCall(t, conn), md: []string{"authorization", editor}, wantCode: codes.PermissionDenied},
		{name: "guarded method, role present", call: streamCall(t, conn), md: []string{"authorization", admin}, wantSubject: "root"},
		{name: "service entry, missing role", call: emptyCall(t, conn), md: []string{"authorization", admin}, wantCode: codes.PermissionDenied},
		{name: "service entry, role present", call: emptyCall(t, conn), md: []string{"authorization", editor}},
		{name: "unmapped service uses the default", call: healthCall(t, conn), wantCode: codes.Unauthenticated},
		{name: "unmapped service with credentials", call: healthCall(t, conn), md: []string{"authorization", editor}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.call(tt.md...)
			if code := status.Code(got.err); code != tt.wantCode {
				t.Fatalf("code = %v (%v), want %v", code, got.err, tt.wantCode)
			}
			if got.subject != tt.wantSubject {
				t.Errorf("subject = %q, want %q", got.subject, tt.wantSubject)
			}
		})
	}
}

func streamCall(t *testing.T, conn *grpc.ClientConn) func(md ...string) outcome {
	return func(md ...string) outcome {
		got, o := stream(t, conn, md...)
		if o.err == nil && len(got) != 2 {
			t.Errorf("stream received %v, want two responses", got)
		}
		if len(got) > 0 {
			o.subject = got[0]
		}
		return o
	}
}

func emptyCall(t *testing.T, conn *grpc.ClientConn) func(md ...string) outcome {
	return func(md ...string) outcome {
		ctx, cancel := callContext(md)
		defer cancel()
		_, err := newTestClient(conn).EmptyCall(ctx, emptyMsg())
		return outcome{err: err}
	}
}

func healthCall(t *testing.T, conn *grpc.ClientConn) func(md ...string) outcome {
	return func(md ...string) outcome {
		ctx, cancel := callContext(md)
		defer cancel()
		_, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{})
		return outcome{err: err}
	}
}

// TestPublicHealthAndReflection checks that the health and reflection
// services need credentials unless an option or a nil entry makes them
// public, and that making them public opens nothing else.
func TestPublicHealthAndReflection(t *testing.T) {
	st, _ := newStatic(t)
	tests := []struct {
		name           string
		ic             *grpcauth.Interceptor
		wantHealth     codes.Code
		wantReflection codes.Code
	}{
		{name: "Require", ic: grpcauth.Require(st, quiet), wantHealth: codes.Unauthenticated, wantReflection: codes.Unauthenticated},
		{name: "ByMethod without options", ic: grpcauth.ByMethod(st, nil, quiet), wantHealth: codes.Unauthenticated, wantReflection: codes.Unauthenticated},
		{name: "WithPublicHealth", ic: grpcauth.Require(st, quiet, grpcauth.WithPublicHealth()), wantHealth: codes.OK, wantReflection: codes.Unauthenticated},
		{name: "WithPublicReflection", ic: grpcauth.Require(st, quiet, grpcauth.WithPublicReflection()), wantHealth: codes.Unauthenticated, wantReflection: codes.OK},
		{name: "both", ic: grpcauth.ByMethod(st, nil, quiet, grpcauth.WithPublicHealth(), grpcauth.WithPublicReflection()), wantHealth: codes.OK, wantReflection: codes.OK},
		{name: "health mapped to nil", ic: grpcauth.ByMethod(st, grpcauth.Methods{"/grpc.health.v1.Health/*": nil}, quiet), wantHealth: codes.OK, wantReflection: codes.Unauthenticated},
		{name: "only Check mapped to nil", ic: grpcauth.ByMethod(st, grpcauth.Methods{healthpb.Health_Check_FullMethodName: nil}, quiet), wantHealth: codes.OK, wantReflection: codes.Unauthenticated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conn := serveWith(t, tt.ic)
			if got := status.Code(healthCall(t, conn)().err); got != tt.wantHealth {
				t.Errorf("Health/Check code = %v, want %v", got, tt.wantHealth)
			}
			if got := reflectionCode(t, conn); got != tt.wantReflection {
				t.Errorf("ServerReflectionInfo code = %v, want %v", got, tt.wantReflection)
			}
			if got := status.Code(unary(t, conn).err); got != codes.Unauthenticated {
				t.Errorf("UnaryCall code = %v, want Unauthenticated: only health and reflection may be public", got)
			}
		})
	}
}

// reflectionCode lists the services through the v1 reflection stream.
func reflectionCode(t *testing.T, conn *grpc.ClientConn) codes.Code {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := reflectionpb.NewServerReflectionClient(conn).ServerReflectionInfo(ctx)
	if err != nil {
		return status.Code(err)
	}
	if err := s.Send(&reflectionpb.ServerReflectionRequest{MessageRequest: &reflectionpb.ServerReflectionRequest_ListServices{}}); err != nil && err != io.EOF {
		return status.Code(err)
	}
	resp, err := s.Recv()
	if err != nil {
		return status.Code(err)
	}
	if len(resp.GetListServicesResponse().GetService()) == 0 {
		t.Errorf("reflection listed no services")
	}
	return codes.OK
}

func TestByMethodPanics(t *testing.T) {
	st, _ := newStatic(t)
	tests := []struct {
		name string
		fn   func()
	}{
		{"Require nil", func() { grpcauth.Require(nil) }},
		{"ByMethod nil default", func() { grpcauth.ByMethod(nil, grpcauth.Methods{unaryMethod: st}) }},
		{"no leading slash", func() { grpcauth.ByMethod(st, grpcauth.Methods{"grpc.testing.TestService/UnaryCall": nil}) }},
		{"no method", func() { grpcauth.ByMethod(st, grpcauth.Methods{"/grpc.testing.TestService/": nil}) }},
		{"no service", func() { grpcauth.ByMethod(st, grpcauth.Methods{"//UnaryCall": nil}) }},
		{"service only", func() { grpcauth.ByMethod(st, grpcauth.Methods{"/grpc.testing.TestService": nil}) }},
		{"extra segment", func() { grpcauth.ByMethod(st, grpcauth.Methods{"/a.B/C/D": nil}) }},
		{"partial wildcard", func() { grpcauth.ByMethod(st, grpcauth.Methods{"/a.B/Get*": nil}) }},
		{"space", func() { grpcauth.ByMethod(st, grpcauth.Methods{"/a.B/Get ": nil}) }},
		{"dot in method", func() { grpcauth.ByMethod(st, grpcauth.Methods{"/a.B/c.d": nil}) }},
		{"health twice", func() {
			grpcauth.ByMethod(st, grpcauth.Methods{"/grpc.health.v1.Health/*": st}, grpcauth.WithPublicHealth())
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", tt.name)
				}
			}()
			tt.fn()
		})
	}
}

// TestStream checks the stream interceptor: the principal is in the
// handler's stream context, and a refused stream ends with the code and
// the challenge trailer before any message.
func TestStream(t *testing.T) {
	st, iss := newStatic(t)
	conn := serveWith(t, grpcauth.Require(st, quiet))
	got, o := stream(t, conn, "authorization", "Bearer "+token(iss, "alice", nil))
	if o.err != nil || len(got) != 2 || got[0] != "alice" || got[1] != "alice" {
		t.Errorf("stream with a valid token = %v, %v; want [alice alice]", got, o.err)
	}
	got, o = stream(t, conn, "authorization", "Bearer "+token(iss, "alice", map[string]any{"exp": epoch.Add(-time.Hour).Unix(), "iat": epoch.Add(-2 * time.Hour).Unix()}))
	if status.Code(o.err) != codes.Unauthenticated || len(got) != 0 {
		t.Errorf("stream with an expired token = %v, %v; want no message and Unauthenticated", got, o.err)
	}
	if want := `Bearer realm="api", error="invalid_token", error_description="Token has expired"`; o.challenge != want {
		t.Errorf("stream trailer %s = %q, want %q", grpcauth.ChallengeKey, o.challenge, want)
	}
}
