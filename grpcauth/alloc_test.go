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

// maxAllocs bounds the allocations of one authenticated unary call with
// the metadata a grpc-go client sends: seven are grpc's copy of the
// incoming metadata (metadata.FromIncomingContext), the rest the request
// the authenticators read and the context value of the principal.
const maxAllocs = 10

// TestInterceptorAllocations keeps the interceptor's allocations per call
// within maxAllocs, over plain TCP and over TLS.
func TestInterceptorAllocations(t *testing.T) {
	p := &authgate.Principal{Provider: "test", Subject: "alice"}
	a := authgate.AuthenticatorFunc(func(r *http.Request) (*authgate.Principal, error) {
		if r.Header.Get("Authorization") == "" || r.RemoteAddr == "" {
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
	addr := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 50000}
	tests := []struct {
		name string
		peer *peer.Peer
	}{
		{"TCP", &peer.Peer{Addr: addr}},
		{"TLS", &peer.Peer{Addr: addr, AuthInfo: credentials.TLSInfo{State: tls.ConnectionState{Version: tls.VersionTLS13}}}},
		{"IPv6", &peer.Peer{Addr: &net.TCPAddr{IP: net.ParseIP("2001:db8::1"), Port: 50000}}},
	}
	in := opaque(grpcauth.Require(a, quiet).UnaryServerInterceptor())
	info := &grpc.UnaryServerInfo{FullMethod: unaryMethod}
	handler := func(ctx context.Context, _ any) (any, error) {
		if _, ok := authgate.FromContext(ctx); !ok {
			return nil, authgate.ErrNoCredentials
		}
		return nil, nil
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := peer.NewContext(ctx, tt.peer)
			var err error
			got := testing.AllocsPerRun(100, func() { _, err = in(ctx, nil, info, handler) })
			if err != nil {
				t.Fatalf("interceptor = %v, want the handler's nil", err)
			}
			if got > maxAllocs {
				t.Errorf("interceptor allocations per call = %v, want ≤ %d", got, maxAllocs)
			}
		})
	}
}
