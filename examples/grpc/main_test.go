package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/authgate/authgate/grpcauth"
)

// serveApp starts the example's server on a free loopback port.
func serveApp(t *testing.T) (*app, string) {
	t.Helper()
	a, err := newApp(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- a.srv.Serve(ln) }()
	t.Cleanup(func() {
		a.srv.Stop()
		<-done
		a.close()
	})
	return a, ln.Addr().String()
}

// TestDemo runs the client's calls against the real server over loopback
// and checks every outcome.
func TestDemo(t *testing.T) {
	a, addr := serveApp(t)
	var out bytes.Buffer
	got, err := a.demo(context.Background(), addr, &out)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		method, as string
		code       codes.Code
		detail     string // substring
		challenge  string // substring; "" means none
	}{
		{methodList, "no credentials", codes.OK, `["welcome"]`, ""},
		{methodAdd, "no credentials", codes.Unauthenticated, "credentials were not provided", `Bearer realm="notes", ApiKey realm="notes", header="X-API-Key"`},
		{methodAdd, "forged token", codes.Unauthenticated, "Invalid token", `error="invalid_token"`},
		{methodAdd, "editor token", codes.OK, "note 2 by static:ada", ""},
		{methodAdd, "API key", codes.OK, "note 3 by apikey:notes-bot", ""},
		{methodList, "no credentials", codes.OK, `["welcome" "buy milk" "rotate logs"]`, ""},
		{methodPurge, "editor token", codes.PermissionDenied, "Insufficient permissions", `error="insufficient_scope"`},
		{methodPurge, "API key", codes.PermissionDenied, "Insufficient permissions", `error="insufficient_scope"`},
		{methodPurge, "admin token", codes.OK, "3 notes purged by grace", ""},
		{methodHealth, "no credentials", codes.OK, "SERVING", ""},
	}
	if len(got) != len(want)+1 {
		t.Fatalf("demo made %d calls, want %d:\n%s", len(got), len(want)+1, out.String())
	}
	for i, w := range want {
		g := got[i]
		t.Run(w.method+" "+w.as, func(t *testing.T) {
			if g.method != w.method || g.as != w.as {
				t.Fatalf("call %d = %s as %s, want %s as %s", i, g.method, g.as, w.method, w.as)
			}
			if !g.sent || g.code != w.code || !strings.Contains(g.detail, w.detail) {
				t.Errorf("%s as %s = %v %q (sent %v), want %v and %q", w.method, w.as, g.code, g.detail, g.sent, w.code, w.detail)
			}
			if (w.challenge == "") != (g.challenge == "") || !strings.Contains(g.challenge, w.challenge) {
				t.Errorf("%s as %s: challenge %q, want %q", w.method, w.as, g.challenge, w.challenge)
			}
		})
	}
	if last := got[len(got)-1]; last.sent || !strings.Contains(last.detail, "transport level security") {
		t.Errorf("token without TLS = sent %v, %q; want refused by the client", last.sent, last.detail)
	}
	if strings.Contains(out.String(), a.token) || strings.Contains(out.String(), a.apiKey) {
		t.Errorf("the demo printed a credential:\n%s", out.String())
	}
}

// TestPublicIgnoresCredentials: a public method answers whatever
// credentials the call carries; the others look at them.
func TestPublicIgnoresCredentials(t *testing.T) {
	a, addr := serveApp(t)
	creds, err := grpcauth.Bearer(a.forged, grpcauth.InsecureTransport())
	if err != nil {
		t.Fatal(err)
	}
	conn, err := grpc.NewClient("passthrough:///"+addr, grpc.WithTransportCredentials(insecure.NewCredentials()), grpc.WithPerRPCCredentials(creds))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	tests := []struct {
		name, method string
		want         codes.Code
	}{
		{"List streams to a forged token", methodList, codes.OK},
		{"health answers a forged token", methodHealth, codes.OK},
		{"Add refuses it", methodAdd, codes.Unauthenticated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := call(ctx, conn, tt.method, "x")
			if code := status.Code(err); code != tt.want {
				t.Errorf("%s with a forged token = %v (%v), want %v", tt.method, code, err, tt.want)
			}
		})
	}
}

// TestRun runs the program as go run does, on a free loopback port.
func TestRun(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), "127.0.0.1:0", &out); err != nil {
		t.Fatal(err)
	}
	text := out.String()
	for _, want := range []string{
		"listening on 127.0.0.1:",
		"/notes.v1.Notes/Add            no credentials  Unauthenticated",
		`www-authenticate: Bearer realm="notes"`,
		"/notes.v1.Notes/Purge          editor token    PermissionDenied",
		"/notes.v1.Notes/Purge          admin token     OK",
		"/grpc.health.v1.Health/Check   no credentials  OK                SERVING",
		"token, no TLS   not sent",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q:\n%s", want, text)
		}
	}
}

// TestRunLoopbackOnly: the client sends credentials without TLS, so the
// program listens on loopback addresses only.
func TestRunLoopbackOnly(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", ":0", "192.0.2.1:0", "localhost:0", "127.0.0.1"} {
		t.Run(addr, func(t *testing.T) {
			var out bytes.Buffer
			err := run(context.Background(), addr, &out)
			if err == nil || !strings.Contains(err.Error(), "not a loopback address") {
				t.Errorf("run(%q) = %v, want a refusal of the address", addr, err)
			}
			if out.Len() != 0 {
				t.Errorf("run(%q) printed %q, want nothing", addr, out.String())
			}
		})
	}
	if err := run(context.Background(), "[::1]:0", io.Discard); err != nil && !strings.Contains(err.Error(), "cannot assign") && !strings.Contains(err.Error(), "address not available") {
		t.Errorf("run([::1]:0) = %v, want IPv6 loopback accepted", err)
	}
}
