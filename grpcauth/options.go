package grpcauth

import (
	"context"
	"log/slog"

	"google.golang.org/grpc"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/internal/adapter"
)

// Option configures the interceptors of this package.
type Option func(*options)

// ErrorHandler turns a failed authentication of a call to fullMethod into
// the error the client receives. err carries the authgate classification:
// build on [Code], [Status], [Trailer] and [authgate.Detail]. The handler
// does not run. A nil result is replaced by the default status, so a
// handler cannot let a refused call through.
type ErrorHandler func(ctx context.Context, fullMethod string, err error) error

type options struct {
	adapter.Config
	onError          ErrorHandler
	publicHealth     bool
	publicReflection bool
}

func newOptions(opts []Option) *options {
	o := &options{Config: adapter.NewConfig()}
	for _, opt := range opts {
		if opt != nil {
			opt(o)
		}
	}
	return o
}

// WithRealm sets the realm of the WWW-Authenticate challenges sent in the
// trailer (default "api"). Characters RFC 6750 does not allow in a quoted
// value are dropped.
func WithRealm(realm string) Option {
	return func(o *options) {
		if realm != "" {
			o.Realm = realm
		}
	}
}

// WithErrorHandler replaces the default answer to a refused call (the
// [Status] error and the [Trailer]). A nil h keeps the default.
func WithErrorHandler(h ErrorHandler) Option {
	return func(o *options) { o.onError = h }
}

// WithLogger sets the logger failed authentications are logged to; nil
// turns logging off. Without it, slog.Default() is used. Records are those
// of httpauth: the fields reason (authgate.Reason, or "panic"), provider,
// method (always "POST", what a gRPC call is on the wire) and route (the
// full gRPC method name, or "other" when it is not a well-formed one), at
// Debug for calls without credentials, Info for rejections, Warn for an
// unavailable provider and Error for a panic. They never hold a token, a
// key, a metadata value or a claim.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) { o.Logger, o.LoggerSet = l, true }
}

// WithObserver reports every decision to obs: an
// authgate.EventAuthentication per call the interceptor authenticates
// (provider, outcome, reason, time spent in the authenticator), as the
// HTTP adapters do. Public methods report nothing. A nil obs (the default)
// reports nothing and costs nothing.
func WithObserver(obs authgate.Observer) Option {
	return func(o *options) { o.Observer = obs }
}

// WithPublicHealth makes the gRPC health service (grpc.health.v1.Health:
// Check, Watch, List) public, so that load balancers and Kubernetes probes
// reach it without credentials. Without it, the health service is
// authenticated like any other method not mapped otherwise.
func WithPublicHealth() Option {
	return func(o *options) { o.publicHealth = true }
}

// WithPublicReflection makes the gRPC server reflection services
// (grpc.reflection.v1 and v1alpha ServerReflection) public, for grpcurl
// and similar tools. Reflection tells anyone every service and message the
// server has: turn it on only where that is no secret. Without it,
// reflection is authenticated like any other method not mapped otherwise.
func WithPublicReflection() Option {
	return func(o *options) { o.publicReflection = true }
}

// The services WithPublicHealth and WithPublicReflection make public.
const (
	healthService       = "/grpc.health.v1.Health/*"
	reflectionService   = "/grpc.reflection.v1.ServerReflection/*"
	reflectionV1Alpha   = "/grpc.reflection.v1alpha.ServerReflection/*"
	logMethod           = "POST"
	maxLoggedMethodName = 256
)

// fail logs a refusal and returns the error the client receives.
func (o *options) fail(ctx context.Context, fullMethod string, err error, provider string) error {
	o.LogFailure(ctx, err, provider, logMethod, route(fullMethod))
	if o.onError != nil {
		if out := o.onError(ctx, fullMethod, err); out != nil {
			return out
		}
	}
	if md := Trailer(err, o.Realm); md != nil {
		// A context without a server transport stream (a direct call of
		// Authenticate) has nowhere to put a trailer; the status stands
		// alone then.
		_ = grpc.SetTrailer(ctx, md)
	}
	return Status(err).Err()
}

// route returns fullMethod for the logs when it is a well-formed method
// name of bounded length, and "other" otherwise: with an unknown-service
// handler, the name is whatever the client sent.
func route(fullMethod string) string {
	if fullMethod == "" || len(fullMethod) > maxLoggedMethodName {
		return "other"
	}
	for i := 0; i < len(fullMethod); i++ {
		if !nameByte(fullMethod[i]) && fullMethod[i] != '/' {
			return "other"
		}
	}
	return fullMethod
}

// nameByte reports whether c may appear in a protobuf service or method
// name.
func nameByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '.'
}
