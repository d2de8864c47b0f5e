package grpcauth_test

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/grpcauth"
)

// BenchmarkUnaryInterceptor measures the interceptor's own cost beyond
// verification: the authenticator returns a ready principal, the context
// carries the metadata and peer a call to a grpc-go server has (the five
// keys its transport puts into the incoming metadata), over plain TCP and
// over TLS.
//
// "floor" is what any gRPC authentication pays outside the interceptor:
// grpc's copy of the incoming metadata (metadata.FromIncomingContext), the
// authenticator on a ready request, the context value that carries the
// principal and the handler. Require − floor is the interceptor's own
// cost; "metadata" is grpc's copy alone.
//
//	go test -run '^$' -bench UnaryInterceptor -benchmem -count 6 ./grpcauth/
func BenchmarkUnaryInterceptor(b *testing.B) {
	p := &authgate.Principal{Provider: "bench", Subject: "alice"}
	a := authgate.AuthenticatorFunc(func(r *http.Request) (*authgate.Principal, error) {
		if r.Header.Get("Authorization") == "" {
			return nil, authgate.ErrNoCredentials
		}
		return p, nil
	})
	ctx := metadata.NewIncomingContext(context.Background(), benchMetadata())
	addr := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 50000}
	plain := peer.NewContext(ctx, &peer.Peer{Addr: addr})
	overTLS := peer.NewContext(ctx, &peer.Peer{Addr: addr, AuthInfo: credentials.TLSInfo{
		State: tls.ConnectionState{Version: tls.VersionTLS13, HandshakeComplete: true, ServerName: "api.example"},
	}})
	info := &grpc.UnaryServerInfo{FullMethod: unaryMethod}
	handler := func(ctx context.Context, _ any) (any, error) {
		if _, ok := authgate.FromContext(ctx); !ok {
			return nil, authgate.ErrNoCredentials
		}
		return nil, nil
	}

	b.Run("metadata", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if md, _ := metadata.FromIncomingContext(plain); len(md) != 5 {
				b.Fatal(md)
			}
		}
	})
	b.Run("floor", func(b *testing.B) {
		r := grpcauth.NewRequest(plain, unaryMethod)
		b.ReportAllocs()
		for b.Loop() {
			if md, _ := metadata.FromIncomingContext(plain); len(md) != 5 {
				b.Fatal(md)
			}
			got, err := a.Authenticate(r)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := handler(authgate.NewContext(plain, got), nil); err != nil {
				b.Fatal(err)
			}
		}
	})
	for _, bc := range []struct {
		name string
		ic   *grpcauth.Interceptor
		ctx  context.Context
	}{
		{"Require", grpcauth.Require(a, quiet), plain},
		{"RequireTLS", grpcauth.Require(a, quiet), overTLS},
		{"ByMethod", grpcauth.ByMethod(a, grpcauth.Methods{emptyMethod: nil, "/grpc.testing.TestService/*": a}, quiet), plain},
	} {
		b.Run(bc.name, func(b *testing.B) {
			in := opaque(bc.ic.UnaryServerInterceptor())
			b.ReportAllocs()
			for b.Loop() {
				if _, err := in(bc.ctx, nil, info, handler); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// ctxStream is a grpc.ServerStream of which only Context may be called.
type ctxStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (s *ctxStream) Context() context.Context { return s.ctx }

// BenchmarkStreamInterceptor is BenchmarkUnaryInterceptor's Require for a
// streaming call, which costs one allocation more: the stream whose
// Context carries the principal.
//
//	go test -run '^$' -bench StreamInterceptor -benchmem -count 6 ./grpcauth/
func BenchmarkStreamInterceptor(b *testing.B) {
	p := &authgate.Principal{Provider: "bench", Subject: "alice"}
	a := authgate.AuthenticatorFunc(func(r *http.Request) (*authgate.Principal, error) {
		if r.Header.Get("Authorization") == "" {
			return nil, authgate.ErrNoCredentials
		}
		return p, nil
	})
	ctx := metadata.NewIncomingContext(context.Background(), benchMetadata())
	ctx = peer.NewContext(ctx, &peer.Peer{Addr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 50000}})
	in := opaque(grpcauth.Require(a, quiet).StreamServerInterceptor())
	var ss grpc.ServerStream = &ctxStream{ctx: ctx}
	info := &grpc.StreamServerInfo{FullMethod: streamMethod, IsServerStream: true}
	handler := func(_ any, ss grpc.ServerStream) error {
		if _, ok := authgate.FromContext(ss.Context()); !ok {
			return authgate.ErrNoCredentials
		}
		return nil
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := in(nil, ss, info, handler); err != nil {
			b.Fatal(err)
		}
	}
}

// benchMetadata is the incoming metadata of a call from a grpc-go client:
// the keys its server transport keeps.
func benchMetadata() metadata.MD {
	return metadata.MD{
		":authority":           {"api.example:443"},
		"authorization":        {"Bearer eyJhbGciOiJSUzI1NiJ9.e30.c2ln"},
		"content-type":         {"application/grpc"},
		"user-agent":           {"grpc-go/1.85.0"},
		"grpc-accept-encoding": {"gzip"},
	}
}

// opaque returns v through a call the compiler does not inline, so that an
// interceptor is called as grpc calls it, through a function value, and
// nothing it allocates is kept on the benchmark's stack.
//
//go:noinline
func opaque[T any](v T) T { return v }
