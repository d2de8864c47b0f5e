package grpcauth

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"net/netip"
	"net/textproto"
	"net/url"
	"strings"

	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"

	"github.com/authgate/authgate/internal/bytesconv"
)

// NewRequest returns the *http.Request the authenticators of a call to
// fullMethod ("/pkg.Service/Method") read: what a gRPC call is on the wire,
// an HTTP/2 POST to that path. Its Header is [Header] of the call's incoming
// metadata, its Host the ":authority", its RemoteAddr the peer's address,
// its TLS the connection state when the peer came over TLS, and its context
// ctx itself, so that a resolver or a key fetch is cancelled with the call.
// It has no body. Any ctx is accepted: without metadata or a peer the
// request simply carries no headers or no address.
//
// Every authgate provider reads the credential of a call from this request
// exactly as it reads it from an HTTP request, so providers never know the
// transport.
func NewRequest(ctx context.Context, fullMethod string) *http.Request {
	md, _ := metadata.FromIncomingContext(ctx)
	var host string
	if v := md[":authority"]; len(v) > 0 {
		host = v[0]
	}
	// The URL, the peer's address and the TLS state share one allocation.
	// With grpc's copy of the metadata (two, and one per key), the request
	// and the context value of the principal, a call from a grpc-go client
	// (five keys) costs ten allocations in the interceptor (alloc_test.go).
	var (
		v     *view
		state *tls.ConnectionState
	)
	p, _ := peer.FromContext(ctx)
	if p != nil {
		if info, ok := p.AuthInfo.(credentials.TLSInfo); ok {
			tv := &tlsView{tls: info.State}
			v, state = &tv.view, &tv.tls
		}
	}
	if v == nil {
		v = new(view)
	}
	v.url.Path = fullMethod
	r := (&http.Request{
		Method:     http.MethodPost,
		URL:        &v.url,
		Proto:      "HTTP/2.0",
		ProtoMajor: 2,
		Header:     header(md, true),
		Body:       http.NoBody,
		Host:       host,
		RequestURI: fullMethod,
		TLS:        state,
	}).WithContext(ctx)
	if p != nil && p.Addr != nil {
		r.RemoteAddr = v.remoteAddr(p.Addr)
	}
	return r
}

// view holds what a request built by [NewRequest] points into.
type view struct {
	url  url.URL
	addr [maxAddrLen]byte
}

// tlsView is a view for a call over TLS.
type tlsView struct {
	view
	tls tls.ConnectionState
}

// maxAddrLen is the length of the longest address remoteAddr formats into
// its buffer: an IPv6 address without a zone, and a port.
const maxAddrLen = len("[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535")

// remoteAddr returns a.String(). A TCP address without a zone, what a gRPC
// server's peer is, is formatted into v's buffer rather than into strings
// of its own; v must not be changed afterwards.
func (v *view) remoteAddr(a net.Addr) string {
	tcp, ok := a.(*net.TCPAddr)
	if !ok || tcp == nil || tcp.Zone != "" || tcp.Port < 0 || tcp.Port > 0xffff {
		return a.String()
	}
	ip, ok := netip.AddrFromSlice(tcp.IP)
	if !ok {
		return a.String()
	}
	// net.IP prints an IPv4-mapped address as IPv4.
	b := netip.AddrPortFrom(ip.Unmap(), uint16(tcp.Port)).AppendTo(v.addr[:0])
	if len(b) > len(v.addr) {
		return string(b) // cannot happen; never share memory that is not v's
	}
	return bytesconv.String(b)
}

// Header returns the HTTP header that gRPC metadata md stands for: each key
// in its canonical HTTP form ("authorization" → "Authorization",
// "x-goog-iap-jwt-assertion" → "X-Goog-Iap-Jwt-Assertion", which
// http.Header.Get finds under any spelling), every value kept in order, so
// two "authorization" values are two Authorization headers, which providers
// refuse as ambiguous. Binary keys (ending in "-bin") are never copied: their
// values are arbitrary bytes, not the text of a credential. Pseudo-headers
// (":authority", ":path", …) are not copied either; [NewRequest] puts
// ":authority" in Request.Host. The values are copied, so md is left as it
// was.
func Header(md metadata.MD) http.Header {
	return header(md, false)
}

// header builds the header of md. With owned, md is a copy no one else
// holds (metadata.FromIncomingContext returns one): it becomes the header
// itself, its keys renamed in place, so that no second map is built.
func header(md metadata.MD, owned bool) http.Header {
	if owned {
		for k, v := range md {
			// Keys inserted below are canonical and may be visited again:
			// they are kept as they are.
			if skipKey(k, v) {
				delete(md, k)
				continue
			}
			if ck := canonicalKey(k); ck != k {
				delete(md, k)
				if prev, ok := md[ck]; ok {
					v = append(prev[:len(prev):len(prev)], v...)
				}
				md[ck] = v
			}
		}
		return http.Header(md)
	}
	h := make(http.Header, len(md))
	for k, v := range md {
		if skipKey(k, v) {
			continue
		}
		key := canonicalKey(k)
		h[key] = append(h[key][:len(h[key]):len(h[key])], v...)
	}
	return h
}

// skipKey reports whether the metadata key k with values v stays out of
// the header: a pseudo-header, a binary key (in any case) or no value at
// all.
func skipKey(k string, v []string) bool {
	return len(v) == 0 || k == "" || k[0] == ':' || len(k) >= len("-bin") && strings.EqualFold(k[len(k)-len("-bin"):], "-bin")
}

// canonicalKey returns the canonical HTTP form of the metadata key k. The
// keys most calls carry are spelled out, so that building the header does
// not allocate a new key for each of them.
func canonicalKey(k string) string {
	switch k {
	case "authorization":
		return "Authorization"
	case "content-type":
		return "Content-Type"
	case "cookie":
		return "Cookie"
	case "grpc-accept-encoding":
		return "Grpc-Accept-Encoding"
	case "te":
		return "Te"
	case "traceparent":
		return "Traceparent"
	case "user-agent":
		return "User-Agent"
	case "x-api-key":
		return "X-Api-Key"
	case "x-forwarded-for":
		return "X-Forwarded-For"
	case "x-goog-iap-jwt-assertion":
		return "X-Goog-Iap-Jwt-Assertion"
	case "x-request-id":
		return "X-Request-Id"
	}
	return textproto.CanonicalMIMEHeaderKey(k)
}
