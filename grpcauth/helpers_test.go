package grpcauth_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	testgrpc "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/reflection"
	"google.golang.org/grpc/status"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/apikey"
	"github.com/authgate/authgate/authtest"
	"github.com/authgate/authgate/grpcauth"
	"github.com/authgate/authgate/providers"
	"github.com/authgate/authgate/static"
)

const audience = "https://api.example/"

var epoch = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func clock() time.Time { return epoch }

// Full method names of the test service.
const (
	unaryMethod  = "/grpc.testing.TestService/UnaryCall"
	streamMethod = "/grpc.testing.TestService/StreamingOutputCall"
	emptyMethod  = "/grpc.testing.TestService/EmptyCall"
)

// newStatic returns a static RS256 authenticator and the issuer whose keys
// it holds; tokens carry the role "editor".
func newStatic(tb testing.TB) (*static.Authenticator, *authtest.Issuer) {
	tb.Helper()
	iss := authtest.NewIssuer(tb, authtest.WithAudience(audience), authtest.WithNow(clock))
	a, err := static.New(static.Config{
		Keys:   iss.Keys(),
		Issuer: iss.Issuer(),
		TokenOptions: providers.TokenOptions{
			Algorithms: []string{"RS256"},
			Audience:   []string{audience},
			RolesClaim: "roles",
			Now:        clock,
		},
	})
	if err != nil {
		tb.Fatal(err)
	}
	return a, iss
}

// token mints a token of sub with the role editor, valid at epoch.
func token(iss *authtest.Issuer, sub string, extra map[string]any) string {
	c := map[string]any{"sub": sub, "roles": []string{"editor"}}
	for k, v := range extra {
		c[k] = v
	}
	return iss.Token(c)
}

// newAPIKey returns an API-key authenticator over a memory store with one
// key of subject "svc-ci", and that key.
func newAPIKey(tb testing.TB, cfg apikey.Config) (*apikey.Authenticator, string) {
	tb.Helper()
	if cfg.Prefix == "" {
		cfg.Prefix = "sk_test"
	}
	a, err := apikey.New(apikey.NewMemoryStore(), cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = a.Close() })
	key, _, err := a.Manager().Issue(context.Background(), apikey.Key{Name: "ci", Subject: "svc-ci", Scopes: []string{"deploy"}})
	if err != nil {
		tb.Fatal(err)
	}
	return a, key
}

// service answers with the principal of the call: UnaryCall puts its
// subject in Username and its provider in OauthScope, StreamingOutputCall
// streams the subject once per requested response.
type service struct {
	testgrpc.UnimplementedTestServiceServer
}

func (service) EmptyCall(context.Context, *testgrpc.Empty) (*testgrpc.Empty, error) {
	return &testgrpc.Empty{}, nil
}

func (service) UnaryCall(ctx context.Context, _ *testgrpc.SimpleRequest) (*testgrpc.SimpleResponse, error) {
	p, ok := authgate.FromContext(ctx)
	if !ok {
		return &testgrpc.SimpleResponse{Username: "anonymous"}, nil
	}
	return &testgrpc.SimpleResponse{Username: p.Subject, OauthScope: p.Provider}, nil
}

func (service) StreamingOutputCall(req *testgrpc.StreamingOutputCallRequest, stream testgrpc.TestService_StreamingOutputCallServer) error {
	who := "anonymous"
	if p, ok := authgate.FromContext(stream.Context()); ok {
		who = p.Subject
	}
	for range req.GetResponseParameters() {
		if err := stream.Send(&testgrpc.StreamingOutputCallResponse{Payload: &testgrpc.Payload{Body: []byte(who)}}); err != nil {
			return err
		}
	}
	return nil
}

// serve starts a gRPC server on 127.0.0.1 with the given server options,
// the test service, the health service and reflection, and returns a
// plaintext client connection to it. Both are closed with t.Cleanup.
func serve(t *testing.T, opts ...grpc.ServerOption) *grpc.ClientConn {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer(opts...)
	testgrpc.RegisterTestServiceServer(srv, service{})
	healthpb.RegisterHealthServer(srv, health.NewServer())
	reflection.Register(srv)
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}

// serveWith starts a server with ic's unary and stream interceptors.
func serveWith(t *testing.T, ic *grpcauth.Interceptor) *grpc.ClientConn {
	t.Helper()
	return serve(t, grpc.ChainUnaryInterceptor(ic.UnaryServerInterceptor()), grpc.ChainStreamInterceptor(ic.StreamServerInterceptor()))
}

// outcome is what a client saw of one call.
type outcome struct {
	subject   string
	provider  string
	err       error
	challenge string
}

// unary makes a UnaryCall with the metadata pairs md.
func unary(t *testing.T, conn *grpc.ClientConn, md ...string) outcome {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ctx = metadata.AppendToOutgoingContext(ctx, md...)
	var trailer metadata.MD
	resp, err := testgrpc.NewTestServiceClient(conn).UnaryCall(ctx, &testgrpc.SimpleRequest{}, grpc.Trailer(&trailer))
	o := outcome{err: err, challenge: first(trailer, grpcauth.ChallengeKey)}
	if err == nil {
		o.subject, o.provider = resp.GetUsername(), resp.GetOauthScope()
	}
	return o
}

// stream makes a StreamingOutputCall asking for two responses with the
// metadata pairs md and returns the subjects received.
func stream(t *testing.T, conn *grpc.ClientConn, md ...string) ([]string, outcome) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ctx = metadata.AppendToOutgoingContext(ctx, md...)
	req := &testgrpc.StreamingOutputCallRequest{ResponseParameters: []*testgrpc.ResponseParameters{{}, {}}}
	s, err := testgrpc.NewTestServiceClient(conn).StreamingOutputCall(ctx, req)
	if err != nil {
		return nil, outcome{err: err}
	}
	var got []string
	for {
		resp, err := s.Recv()
		if err != nil {
			o := outcome{challenge: first(s.Trailer(), grpcauth.ChallengeKey)}
			if !errors.Is(err, io.EOF) {
				o.err = err
			}
			return got, o
		}
		got = append(got, string(resp.GetPayload().GetBody()))
	}
}

func first(md metadata.MD, key string) string {
	if v := md.Get(key); len(v) > 0 {
		return v[0]
	}
	return ""
}

// errorInfo returns the ErrorInfo and the RetryInfo delay of err's status.
func errorInfo(err error) (*errdetails.ErrorInfo, time.Duration) {
	var info *errdetails.ErrorInfo
	var retry time.Duration
	for _, d := range status.Convert(err).Details() {
		switch d := d.(type) {
		case *errdetails.ErrorInfo:
			info = d
		case *errdetails.RetryInfo:
			retry = d.GetRetryDelay().AsDuration()
		}
	}
	return info, retry
}

// quiet is the option that keeps test logs clean.
var quiet = grpcauth.WithLogger(slog.New(slog.DiscardHandler))

// callContext returns a context with a timeout and the metadata pairs md.
func callContext(md []string) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	return metadata.AppendToOutgoingContext(ctx, md...), cancel
}

func newTestClient(conn *grpc.ClientConn) testgrpc.TestServiceClient {
	return testgrpc.NewTestServiceClient(conn)
}

func emptyMsg() *testgrpc.Empty { return &testgrpc.Empty{} }
