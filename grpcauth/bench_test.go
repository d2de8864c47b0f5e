package grpcauth_test

import (
	"context"
	"net"
	"net/http"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/grpcauth"
)

// BenchmarkUnaryInterceptor measures the interceptor's own cost beyond
// verification: the authenticator returns a ready principal, the context
// carries the metadata and peer a typical call has.
func BenchmarkUnaryInterceptor(b *testing.B) {
	p := &authgate.Principal{Provider: "bench", Subject: "alice"}
	a := authgate.AuthenticatorFunc(func(r *http.Request) (*authgate.Principal, error) {
		if r.Header.Get("Authorization") == "" {
			return nil, authgate.ErrNoCredentials
		}
		return p, nil
	})
	ctx := metadata.NewIncomingContext(context.Background(), metadata.MD{
		":authority":           {"api.example:443"},
		"authorization":        {"Bearer eyJhbGciOiJSUzI1NiJ9.e30.c2ln"},
		"content-type":         {"application/grpc"},
		"user-agent":           {"grpc-go/1.85.0"},
		"grpc-accept-encoding": {"gzip"},
	})
	ctx = peer.NewContext(ctx, &peer.Peer{Addr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 50000}})
	info := &grpc.UnaryServerInfo{FullMethod: unaryMethod}
	handler := func(ctx context.Context, _ any) (any, error) { return nil, nil }

	for _, bc := range []struct {
		name string
		ic   *grpcauth.Interceptor
	}{
		{"Require", grpcauth.Require(a, quiet)},
		{"ByMethod", grpcauth.ByMethod(a, grpcauth.Methods{emptyMethod: nil, "/grpc.testing.TestService/*": a}, quiet)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			in := bc.ic.UnaryServerInterceptor()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := in(ctx, nil, info, handler); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
