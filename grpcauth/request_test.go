package grpcauth_test

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"slices"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/apikey"
	"github.com/authgate/authgate/grpcauth"
)

type ctxKey struct{}

func TestNewRequest(t *testing.T) {
	md := metadata.MD{
		":authority":               {"api.example:443"},
		"authorization":            {"Bearer a", "Bearer b"},
		"x-api-key":                {"sk_test_x"},
		"x-key-bin":                {"\x00\x01binary"},
		"x-goog-iap-jwt-assertion": {"assertion"},
		"cookie":                   {"a=1", "b=2"},
	}
	addr := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 50123}
	state := tls.ConnectionState{Version: tls.VersionTLS13, ServerName: "api.example"}
	ctx := context.WithValue(context.Background(), ctxKey{}, "call")
	ctx = metadata.NewIncomingContext(ctx, md)
	ctx = peer.NewContext(ctx, &peer.Peer{Addr: addr, AuthInfo: credentials.TLSInfo{State: state}})

	r := grpcauth.NewRequest(ctx, unaryMethod)
	checks := []struct {
		name      string
		got, want any
	}{
		{"Method", r.Method, http.MethodPost},
		{"URL.Path", r.URL.Path, unaryMethod},
		{"RequestURI", r.RequestURI, unaryMethod},
		{"ProtoMajor", r.ProtoMajor, 2},
		{"Host", r.Host, "api.example:443"},
		{"RemoteAddr", r.RemoteAddr, "127.0.0.1:50123"},
		{"context", r.Context().Value(ctxKey{}), "call"},
		{"TLS.ServerName", r.TLS != nil && r.TLS.ServerName == "api.example", true},
		{"Authorization values", r.Header.Values("Authorization"), []string{"Bearer a", "Bearer b"}},
		{"X-API-Key", r.Header.Get("X-API-Key"), "sk_test_x"},
		{"IAP header", r.Header.Get("X-Goog-IAP-JWT-Assertion"), "assertion"},
		{"cookies", len(r.Cookies()), 2},
		{"binary key", r.Header.Values("X-Key-Bin"), []string(nil)},
		{"pseudo-header", r.Header.Values(":authority"), []string(nil)},
		{"header keys", len(r.Header), 4},
	}
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			if !equal(c.got, c.want) {
				t.Errorf("NewRequest(…).%s = %#v, want %#v", c.name, c.got, c.want)
			}
		})
	}

	t.Run("without metadata or peer", func(t *testing.T) {
		r := grpcauth.NewRequest(context.Background(), unaryMethod)
		if len(r.Header) != 0 || r.Host != "" || r.RemoteAddr != "" || r.TLS != nil {
			t.Errorf("NewRequest(background) = header %v, host %q, addr %q, tls %v; want all empty", r.Header, r.Host, r.RemoteAddr, r.TLS)
		}
	})
}

func equal(a, b any) bool {
	if as, ok := a.([]string); ok {
		bs, _ := b.([]string)
		return slices.Equal(as, bs)
	}
	return a == b
}

func TestHeader(t *testing.T) {
	tests := []struct {
		name string
		md   metadata.MD
		want http.Header
	}{
		{name: "canonical keys", md: metadata.MD{"authorization": {"Bearer x"}, "x-request-id": {"1"}, "x-custom-thing": {"y"}},
			want: http.Header{"Authorization": {"Bearer x"}, "X-Request-Id": {"1"}, "X-Custom-Thing": {"y"}}},
		{name: "several values in order", md: metadata.MD{"authorization": {"Bearer a", "Bearer b"}},
			want: http.Header{"Authorization": {"Bearer a", "Bearer b"}}},
		{name: "binary keys dropped", md: metadata.MD{"authorization-bin": {"Bearer x"}, "x-api-key-bin": {"k"}, "X-Trace-BIN": {"t"}},
			want: http.Header{}},
		{name: "pseudo-headers dropped", md: metadata.MD{":authority": {"h"}, ":path": {"/p"}},
			want: http.Header{}},
		{name: "two spellings of one key kept", md: metadata.MD{"authorization": {"Bearer a"}, "Authorization": {"Bearer b"}},
			want: http.Header{"Authorization": {"Bearer a", "Bearer b"}}},
		{name: "empty value list dropped", md: metadata.MD{"x-a": {}},
			want: http.Header{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := grpcauth.Header(tt.md)
			if len(got) != len(tt.want) {
				t.Fatalf("Header(%v) = %v, want %v", tt.md, got, tt.want)
			}
			for k, v := range tt.want {
				g := got[k]
				if k == "Authorization" && len(g) == 2 && len(tt.md) == 2 {
					slices.Sort(g) // two spellings: map order
				}
				if !slices.Equal(g, v) {
					t.Errorf("Header(%v)[%q] = %v, want %v", tt.md, k, g, v)
				}
			}
		})
	}

	t.Run("values are copied", func(t *testing.T) {
		md := metadata.MD{"authorization": {"Bearer a"}}
		h := grpcauth.Header(md)
		h["Authorization"][0] = "changed"
		if md["authorization"][0] != "Bearer a" {
			t.Errorf("changing Header(md) changed md to %v", md)
		}
	})
}

// TestBinaryMetadataIgnored sends an API key in a binary ("-bin") key whose
// name is the very header the provider reads: it must not count as a
// credential.
func TestBinaryMetadataIgnored(t *testing.T) {
	keys, key := newAPIKey(t, apikey.Config{Header: "X-Key-Bin"})
	conn := serveWith(t, grpcauth.Require(keys, quiet))
	got := unary(t, conn, "x-key-bin", key)
	if code := status.Code(got.err); code != codes.Unauthenticated {
		t.Fatalf("UnaryCall with the key in x-key-bin: code %v (%v), want Unauthenticated", code, got.err)
	}
	if got.challenge != `ApiKey realm="api", header="X-Key-Bin"` {
		t.Errorf("challenge = %q, want the bare ApiKey challenge of no credentials", got.challenge)
	}
	// A text key beside it is read as usual.
	keys2, key2 := newAPIKey(t, apikey.Config{})
	conn2 := serveWith(t, grpcauth.Require(keys2, quiet))
	if got := unary(t, conn2, "x-api-key", key2, "x-api-key-bin", "ignored"); got.err != nil || got.subject != "svc-ci" {
		t.Errorf("UnaryCall with x-api-key and x-api-key-bin = %q, %v; want svc-ci", got.subject, got.err)
	}
}

// TestAuthorityAndPeer checks over a real connection that the request the
// authenticators see has the call's :authority as Host and the client's
// loopback address as RemoteAddr.
func TestAuthorityAndPeer(t *testing.T) {
	var host, addr string
	seen := authgate.AuthenticatorFunc(func(r *http.Request) (*authgate.Principal, error) {
		host, addr = r.Host, r.RemoteAddr
		return &authgate.Principal{Provider: "test", Subject: "s"}, nil
	})
	conn := serveWith(t, grpcauth.Require(seen, quiet))
	if got := unary(t, conn); got.err != nil {
		t.Fatal(got.err)
	}
	if host != conn.Target() {
		t.Errorf("Request.Host = %q, want the target %q", host, conn.Target())
	}
	if ip, _, err := net.SplitHostPort(addr); err != nil || ip != "127.0.0.1" {
		t.Errorf("Request.RemoteAddr = %q, want 127.0.0.1:PORT", addr)
	}
}

// TestNewRequestRemoteAddr: RemoteAddr is the peer address's String(),
// whatever the address, including those NewRequest formats itself.
func TestNewRequestRemoteAddr(t *testing.T) {
	tests := []struct {
		name string
		addr net.Addr
	}{
		{"IPv4", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 50123}},
		{"IPv4 in 4 bytes", &net.TCPAddr{IP: net.IP{10, 1, 2, 3}, Port: 443}},
		{"IPv6", &net.TCPAddr{IP: net.ParseIP("2001:db8::1"), Port: 8443}},
		{"IPv6 longest", &net.TCPAddr{IP: net.ParseIP("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"), Port: 65535}},
		{"IPv6 loopback", &net.TCPAddr{IP: net.IPv6loopback, Port: 1}},
		{"IPv4-mapped IPv6", &net.TCPAddr{IP: net.ParseIP("::ffff:192.0.2.7"), Port: 80}},
		{"IPv6 with zone", &net.TCPAddr{IP: net.ParseIP("fe80::1"), Port: 9000, Zone: "eth0"}},
		{"unspecified", &net.TCPAddr{IP: net.IPv4zero, Port: 0}},
		{"no IP", &net.TCPAddr{Port: 50000}},
		{"IP of a bad length", &net.TCPAddr{IP: net.IP{1, 2, 3}, Port: 50000}},
		{"negative port", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: -1}},
		{"port out of range", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 70000}},
		{"nil TCP address", (*net.TCPAddr)(nil)},
		{"Unix socket", &net.UnixAddr{Name: "/run/app.sock", Net: "unix"}},
		{"UDP", &net.UDPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 53}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := peer.NewContext(context.Background(), &peer.Peer{Addr: tt.addr})
			if got, want := grpcauth.NewRequest(ctx, unaryMethod).RemoteAddr, tt.addr.String(); got != want {
				t.Errorf("NewRequest(…).RemoteAddr = %q, want %q", got, want)
			}
		})
	}

	t.Run("each request its own", func(t *testing.T) {
		var reqs []*http.Request
		for port := range 100 {
			ctx := peer.NewContext(context.Background(), &peer.Peer{Addr: &net.TCPAddr{IP: net.IPv4(192, 0, 2, byte(port)), Port: 1000 + port}})
			reqs = append(reqs, grpcauth.NewRequest(ctx, unaryMethod))
		}
		for port, r := range reqs {
			want := (&net.TCPAddr{IP: net.IPv4(192, 0, 2, byte(port)), Port: 1000 + port}).String()
			if r.RemoteAddr != want {
				t.Fatalf("request %d: RemoteAddr = %q, want %q", port, r.RemoteAddr, want)
			}
		}
	})
}

// TestNewRequestTLSCopied: the request's TLS is a copy of the peer's state,
// so an authenticator that changes it changes no other call's.
func TestNewRequestTLSCopied(t *testing.T) {
	info := credentials.TLSInfo{State: tls.ConnectionState{Version: tls.VersionTLS13, ServerName: "api.example"}}
	ctx := peer.NewContext(context.Background(), &peer.Peer{Addr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1}, AuthInfo: info})
	r1 := grpcauth.NewRequest(ctx, unaryMethod)
	r1.TLS.ServerName = "changed"
	r2 := grpcauth.NewRequest(ctx, unaryMethod)
	if r2.TLS == nil || r2.TLS.ServerName != "api.example" || r2.TLS.Version != tls.VersionTLS13 {
		t.Errorf("NewRequest(…).TLS after another request's was changed = %+v, want ServerName api.example", r2.TLS)
	}
}
