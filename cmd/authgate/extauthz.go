package main

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	rpcstatus "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/metadata"

	"github.com/authgate/authgate/grpcauth"
)

// Limits of the ext_authz gRPC listener.
const (
	// extAuthzMaxRecv bounds one CheckRequest: its headers, and the body
	// Envoy adds only when with_request_body is configured.
	extAuthzMaxRecv = 1 << 20
	// extAuthzMaxStreams bounds the concurrent Check calls of one
	// connection (Envoy multiplexes them on a few).
	extAuthzMaxStreams = 1024
	// extAuthzHandshake bounds the HTTP/2 connection setup.
	extAuthzHandshake = readHeaderTimeout
)

// identityHeaders are the headers of a 200 answer that reach the upstream.
var identityHeaders = []string{headerSubject, headerProvider, headerRoles, headerScopes, headerPermissions, headerTenant, headerEmail}

// deniedHeaders are the headers of a failure answer that reach the client.
var deniedHeaders = []string{"Www-Authenticate", "Content-Type", "Retry-After", "Cache-Control"}

// extAuthz answers envoy.service.auth.v3.Authorization/Check with the
// handler's current generation, exactly as /verify answers.
type extAuthz struct {
	authv3.UnimplementedAuthorizationServer
	h *handler
}

// newExtAuthzServer returns the gRPC server of Envoy's ext_authz gRPC mode
// over h.
func newExtAuthzServer(h *handler) *grpc.Server {
	srv := grpc.NewServer(
		grpc.MaxRecvMsgSize(extAuthzMaxRecv),
		grpc.MaxConcurrentStreams(extAuthzMaxStreams),
		grpc.ConnectionTimeout(extAuthzHandshake),
		grpc.KeepaliveParams(keepalive.ServerParameters{MaxConnectionIdle: idleTimeout}),
	)
	authv3.RegisterAuthorizationServer(srv, &extAuthz{h: h})
	return srv
}

// Check decides one request Envoy holds. The request /verify would see is
// built from the CheckRequest's HTTP attributes: the original method, the
// original path (with its query) after /verify/ as in Envoy's HTTP mode
// with path_prefix /verify, the host and the headers, read as gRPC
// metadata is (binary "-bin" headers and pseudo-headers are not
// credentials). A 200 becomes an OK response setting the X-Auth-* headers
// (overwriting those the client sent, removing those left empty); any
// other answer becomes a denied response with the same status, challenge
// and JSON body. A CheckRequest without HTTP attributes is a 400.
func (x *extAuthz) Check(ctx context.Context, req *authv3.CheckRequest) (*authv3.CheckResponse, error) {
	gen := x.h.acquire()
	defer gen.release()
	rec := &errorRecorder{header: http.Header{}, status: http.StatusOK}
	r, err := checkHTTPRequest(ctx, req)
	if err != nil {
		err = errForwarded(err)
		gen.log.Decided(ctx, gen.log.Start(), nil, err, "authgate")
		gen.log.LogFailure(ctx, err, "authgate", req.GetAttributes().GetRequest().GetHttp().GetMethod(), "")
		writeError(rec, err, gen.realm)
		return denied(rec), nil
	}
	if gen.log.Observer != nil {
		r = withTraceContext(r)
	}
	gen.verify(rec, r)
	if rec.status != http.StatusOK {
		return denied(rec), nil
	}
	ok := &authv3.OkHttpResponse{}
	for _, k := range identityHeaders {
		v := rec.header.Get(k)
		if v == "" {
			// Envoy drops an empty value rather than set it (unless
			// keep_empty_value), which would leave the client's copy:
			// the header is removed instead.
			ok.HeadersToRemove = append(ok.HeadersToRemove, strings.ToLower(k))
			continue
		}
		ok.Headers = append(ok.Headers, &corev3.HeaderValueOption{
			Header:       &corev3.HeaderValue{Key: strings.ToLower(k), Value: v},
			AppendAction: corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD,
		})
	}
	return &authv3.CheckResponse{
		Status:       &rpcstatus.Status{Code: int32(codes.OK)},
		HttpResponse: &authv3.CheckResponse_OkResponse{OkResponse: ok},
	}, nil
}

// denied is the CheckResponse of the failure answer rec holds.
func denied(rec *errorRecorder) *authv3.CheckResponse {
	d := &authv3.DeniedHttpResponse{
		Status: &typev3.HttpStatus{Code: typev3.StatusCode(rec.status)},
		Body:   string(rec.body),
	}
	for _, k := range deniedHeaders {
		for _, v := range rec.header.Values(k) {
			d.Headers = append(d.Headers, &corev3.HeaderValueOption{
				Header:       &corev3.HeaderValue{Key: strings.ToLower(k), Value: v},
				AppendAction: corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD,
			})
		}
	}
	return &authv3.CheckResponse{
		Status:       &rpcstatus.Status{Code: int32(statusCode(rec.status))},
		HttpResponse: &authv3.CheckResponse_DeniedResponse{DeniedResponse: d},
	}
}

// statusCode is the gRPC code of a failure answer's HTTP status, as
// grpcauth.Code maps the error behind it. Envoy denies on any code but
// OK; the code shows in its logs and stats.
func statusCode(status int) codes.Code {
	switch status {
	case http.StatusForbidden:
		return codes.PermissionDenied
	case http.StatusBadRequest:
		return codes.InvalidArgument
	case http.StatusTooManyRequests:
		return codes.ResourceExhausted
	case http.StatusServiceUnavailable:
		return codes.Unavailable
	}
	return codes.Unauthenticated
}

var (
	errNoHTTPAttributes = errors.New("check request without http attributes")
	errBadPath          = errors.New("original path is not an origin-form path")
)

// checkHTTPRequest is the /verify request standing for the HTTP request
// req describes.
func checkHTTPRequest(ctx context.Context, req *authv3.CheckRequest) (*http.Request, error) {
	hr := req.GetAttributes().GetRequest().GetHttp()
	if hr == nil {
		return nil, errNoHTTPAttributes
	}
	uri := "/verify"
	switch p := hr.GetPath(); {
	case p == "":
		// No path: as a /verify request naming none.
	case p[0] != '/' || strings.HasPrefix(p, "//"):
		// "*" (OPTIONS), an absolute-form CONNECT target, or a path
		// that would read as a host.
		return nil, errBadPath
	default:
		uri += p
	}
	u, err := url.ParseRequestURI(uri)
	if err != nil {
		return nil, errBadPath
	}
	md := metadata.MD{}
	if hm := hr.GetHeaderMap(); hm != nil {
		for _, h := range hm.GetHeaders() {
			v := h.GetValue()
			if raw := h.GetRawValue(); len(raw) > 0 {
				v = string(raw)
			}
			k := strings.ToLower(h.GetKey())
			md[k] = append(md[k], v)
		}
	} else {
		for k, v := range hr.GetHeaders() {
			k = strings.ToLower(k)
			md[k] = append(md[k], v)
		}
	}
	r := (&http.Request{
		Method:     hr.GetMethod(),
		URL:        u,
		Proto:      "HTTP/1.1",
		ProtoMajor: 1,
		ProtoMinor: 1,
		Header:     grpcauth.Header(md),
		Body:       http.NoBody,
		Host:       hr.GetHost(),
		RequestURI: uri,
	}).WithContext(ctx)
	if sa := req.GetAttributes().GetSource().GetAddress().GetSocketAddress(); sa != nil {
		r.RemoteAddr = net.JoinHostPort(sa.GetAddress(), strconv.FormatUint(uint64(sa.GetPortValue()), 10))
	}
	return r, nil
}

// extAuthzListener is serve's ext_authz gRPC listener.
type extAuthzListener struct {
	srv  *grpc.Server
	ln   net.Listener
	errc chan error
}

// startExtAuthz listens on addr and serves Check over h until shutdown.
func startExtAuthz(addr string, h *handler) (*extAuthzListener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	l := &extAuthzListener{srv: newExtAuthzServer(h), ln: ln, errc: make(chan error, 1)}
	go func() { l.errc <- l.srv.Serve(ln) }()
	return l, nil
}

// shutdown lets the calls in flight finish, and cuts them off when ctx
// ends first.
func (l *extAuthzListener) shutdown(ctx context.Context) error {
	done := make(chan struct{})
	go func() {
		l.srv.GracefulStop()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
		l.srv.Stop()
		<-done
	}
	if err := <-l.errc; err != nil && !errors.Is(err, grpc.ErrServerStopped) {
		return err
	}
	return nil
}
