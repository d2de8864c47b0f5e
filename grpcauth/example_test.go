package grpcauth_test

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/auth"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	testgrpc "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/authtest"
	"github.com/authgate/authgate/grpcauth"
	"github.com/authgate/authgate/providers"
	"github.com/authgate/authgate/static"
)

// exampleServer starts a gRPC server on loopback with the test service
// behind opts and returns its address and a stop function.
func exampleServer(opts ...grpc.ServerOption) (string, func()) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	srv := grpc.NewServer(opts...)
	testgrpc.RegisterTestServiceServer(srv, service{})
	go func() { _ = srv.Serve(lis) }()
	return lis.Addr().String(), srv.Stop
}

// exampleAuthenticator returns a static authenticator over the keys of a
// local issuer, in place of a real identity provider.
func exampleAuthenticator() (*static.Authenticator, *authtest.Issuer) {
	iss := authtest.NewIssuer(nil, authtest.WithAudience(audience))
	a, err := static.New(static.Config{
		Keys:         iss.Keys(),
		Issuer:       iss.Issuer(),
		TokenOptions: providers.TokenOptions{Algorithms: []string{"RS256"}, Audience: []string{audience}, RolesClaim: "roles"},
	})
	if err != nil {
		panic(err)
	}
	return a, iss
}

// A server that authenticates every call, and a client that sends its
// token with every call.
func Example() {
	jwt, iss := exampleAuthenticator()
	defer iss.Close()

	ic := grpcauth.Require(jwt, grpcauth.WithLogger(slog.New(slog.DiscardHandler)))
	addr, stop := exampleServer(
		grpc.ChainUnaryInterceptor(ic.UnaryServerInterceptor()),
		grpc.ChainStreamInterceptor(ic.StreamServerInterceptor()),
	)
	defer stop()

	// Over loopback only: elsewhere use TLS and leave InsecureTransport out.
	creds, err := grpcauth.Bearer(iss.Token(map[string]any{"sub": "alice"}), grpcauth.InsecureTransport())
	if err != nil {
		panic(err)
	}
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()), grpc.WithPerRPCCredentials(creds))
	if err != nil {
		panic(err)
	}
	defer conn.Close()
	resp, err := testgrpc.NewTestServiceClient(conn).UnaryCall(context.Background(), &testgrpc.SimpleRequest{})
	fmt.Println(resp.GetUsername(), err)

	// Without credentials: Unauthenticated, and the challenge in the trailer.
	anon, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		panic(err)
	}
	defer anon.Close()
	var trailer metadata.MD
	_, err = testgrpc.NewTestServiceClient(anon).UnaryCall(context.Background(), &testgrpc.SimpleRequest{}, grpc.Trailer(&trailer))
	st := status.Convert(err)
	fmt.Println(st.Code(), st.Message(), trailer.Get("www-authenticate"))
	// Output:
	// alice <nil>
	// Unauthenticated Authentication credentials were not provided [Bearer realm="api"]
}

// Per-method authentication: one method public, one for admins only, the
// health service public for probes; every other method needs a token.
func ExampleByMethod() {
	jwt, iss := exampleAuthenticator()
	defer iss.Close()

	ic := grpcauth.ByMethod(jwt, grpcauth.Methods{
		"/grpc.testing.TestService/EmptyCall":           nil,
		"/grpc.testing.TestService/StreamingOutputCall": authgate.RequireRoles(jwt, "admin"),
	}, grpcauth.WithPublicHealth(), grpcauth.WithLogger(slog.New(slog.DiscardHandler)))
	addr, stop := exampleServer(
		grpc.ChainUnaryInterceptor(ic.UnaryServerInterceptor()),
		grpc.ChainStreamInterceptor(ic.StreamServerInterceptor()),
	)
	defer stop()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		panic(err)
	}
	defer conn.Close()
	client := testgrpc.NewTestServiceClient(conn)

	_, err = client.EmptyCall(context.Background(), &testgrpc.Empty{})
	fmt.Println("EmptyCall:", status.Code(err))

	ctx := metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+iss.Token(map[string]any{"sub": "alice", "roles": []string{"editor"}}))
	s, err := client.StreamingOutputCall(ctx, &testgrpc.StreamingOutputCallRequest{ResponseParameters: []*testgrpc.ResponseParameters{{}}})
	if err == nil {
		_, err = s.Recv()
	}
	fmt.Println("StreamingOutputCall:", status.Code(err), status.Convert(err).Message())
	// Output:
	// EmptyCall: OK
	// StreamingOutputCall: PermissionDenied Insufficient permissions
}

// Teams that already use go-grpc-middleware's auth interceptors pass the
// Interceptor's AuthFunc to them.
func ExampleInterceptor_AuthFunc() {
	jwt, iss := exampleAuthenticator()
	defer iss.Close()

	ic := grpcauth.Require(jwt, grpcauth.WithLogger(slog.New(slog.DiscardHandler)))
	addr, stop := exampleServer(
		grpc.ChainUnaryInterceptor(auth.UnaryServerInterceptor(ic.AuthFunc)),
		grpc.ChainStreamInterceptor(auth.StreamServerInterceptor(ic.AuthFunc)),
	)
	defer stop()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		panic(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ctx = metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+iss.Token(map[string]any{"sub": "bob"}))
	resp, err := testgrpc.NewTestServiceClient(conn).UnaryCall(ctx, &testgrpc.SimpleRequest{})
	fmt.Println(resp.GetUsername(), err)
	// Output: bob <nil>
}

// Status and Trailer give the answer to a refused call, for a custom
// ErrorHandler or another transport.
func ExampleStatus() {
	err := &authgate.Error{Provider: "auth0", Kind: authgate.ErrForbidden, Scope: []string{"orders:write"}}
	st := grpcauth.Status(err)
	fmt.Println(st.Code(), st.Message())
	fmt.Println(grpcauth.Body(err).Error)
	fmt.Println(grpcauth.Trailer(err, "orders").Get(grpcauth.ChallengeKey))
	// Output:
	// PermissionDenied Insufficient permissions
	// insufficient_scope
	// [Bearer realm="orders", error="insufficient_scope", error_description="Insufficient permissions", scope="orders:write"]
}
