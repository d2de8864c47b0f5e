package grpcauth

import (
	"context"
	"net/http"
	"net/textproto"
	"net/url"
	"strings"

	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
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
	r := (&http.Request{
		Method:     http.MethodPost,
		URL:        &url.URL{Path: fullMethod},
		Proto:      "HTTP/2.0",
		ProtoMajor: 2,
		Header:     header(md, true),
		Body:       http.NoBody,
		Host:       host,
		RequestURI: fullMethod,
	}).WithContext(ctx)
	if p, ok := peer.FromContext(ctx); ok {
		if p.Addr != nil {
			r.RemoteAddr = p.Addr.String()
		}
		if info, ok := p.AuthInfo.(credentials.TLSInfo); ok {
			state := info.State
			r.TLS = &state
		}
	}
	return r
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
			switch ck := canonicalKey(k); {
			case skipKey(k, v):
				delete(md, k)
			case ck != k:
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
// the header: a pseudo-header, a binary key or no value at all.
func skipKey(k string, v []string) bool {
	return len(v) == 0 || k == "" || k[0] == ':' || strings.HasSuffix(strings.ToLower(k), "-bin")
}

// commonKeys are the canonical forms of the keys most calls carry, so that
// building the header does not allocate a new key for each of them.
var commonKeys = map[string]string{
	"authorization":            "Authorization",
	"content-type":             "Content-Type",
	"cookie":                   "Cookie",
	"grpc-accept-encoding":     "Grpc-Accept-Encoding",
	"te":                       "Te",
	"user-agent":               "User-Agent",
	"x-api-key":                "X-Api-Key",
	"x-forwarded-for":          "X-Forwarded-For",
	"x-goog-iap-jwt-assertion": "X-Goog-Iap-Jwt-Assertion",
	"x-request-id":             "X-Request-Id",
}

func canonicalKey(k string) string {
	if c, ok := commonKeys[k]; ok {
		return c
	}
	return textproto.CanonicalMIMEHeaderKey(k)
}
