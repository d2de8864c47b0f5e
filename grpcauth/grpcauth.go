package grpcauth

import (
	"context"
	"errors"
	"strings"

	"google.golang.org/grpc"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/internal/adapter"
)

// Methods maps full gRPC method names to the authenticator for them. A key
// is either one method, "/pkg.Service/Method" (the FullMethod gRPC gives
// interceptors and grpc.Method returns), or every method of a service,
// "/pkg.Service/*"; a method's own entry wins over its service's. A method
// or service mapped to nil is public. A guard goes wherever an
// authenticator does:
//
//	grpcauth.Methods{
//		"/shop.v1.Catalog/*":          nil,                                  // public
//		"/shop.v1.Orders/DeleteOrder": authgate.RequireRoles(jwt, "admin"), // 403 without the role
//	}
type Methods map[string]authgate.Authenticator

// Interceptor authenticates gRPC calls: its [Interceptor.UnaryServerInterceptor]
// and [Interceptor.StreamServerInterceptor] go into grpc.NewServer, and its
// [Interceptor.AuthFunc] into go-grpc-middleware's auth interceptors. Build
// one with [Require] or [ByMethod]. It is immutable and safe for concurrent
// use.
type Interceptor struct {
	methods  map[string]*entry // full method → entry; a nil entry is public
	services map[string]*entry // "/pkg.Service/" → entry; a nil entry is public
	def      *entry
	o        *options
}

// entry is one authenticator with what is precomputed for it.
type entry struct {
	a        authgate.Authenticator
	provider string
	scheme   string // non-Bearer challenge scheme of a, or ""
}

func newEntry(fn string, a authgate.Authenticator) *entry {
	if a == nil {
		panic("grpcauth: " + fn + ": nil authenticator")
	}
	return &entry{a: a, provider: adapter.Name(a, ""), scheme: adapter.Scheme(a)}
}

// Require returns an Interceptor that authenticates every call with a. A
// call that a rejects, or that carries no credentials, ends with the
// error's status (see [Status]) and the handler does not run; on success
// the handler's context carries the principal ([authgate.FromContext]).
// The health and reflection services are authenticated too unless
// [WithPublicHealth] or [WithPublicReflection] says otherwise.
//
// Require panics if a is nil.
func Require(a authgate.Authenticator, opts ...Option) *Interceptor {
	return build("Require", a, nil, opts)
}

// ByMethod returns an Interceptor that authenticates each call with the
// authenticator its full method name is mapped to in m, as [Require] does:
// a method mapped to nil is public (its credentials are not looked at) and
// a method that m does not name, by itself or by its service, uses def.
// The health and reflection services are public only with
// [WithPublicHealth] or [WithPublicReflection] or when m maps them to nil.
//
// ByMethod panics if def is nil (map the public methods to nil instead, so
// that a method nobody thought of is never public), if a key is not of the
// form "/pkg.Service/Method" or "/pkg.Service/*", or if a key names a
// service that WithPublicHealth or WithPublicReflection already makes
// public.
func ByMethod(def authgate.Authenticator, m Methods, opts ...Option) *Interceptor {
	if def == nil {
		panic("grpcauth: ByMethod: nil default authenticator; map public methods to nil instead")
	}
	return build("ByMethod", def, m, opts)
}

func build(fn string, def authgate.Authenticator, m Methods, opts []Option) *Interceptor {
	o := newOptions(opts)
	ic := &Interceptor{methods: map[string]*entry{}, services: map[string]*entry{}, def: newEntry(fn, def), o: o}
	public := map[string]bool{}
	if o.publicHealth {
		public[healthService] = true
	}
	if o.publicReflection {
		public[reflectionService], public[reflectionV1Alpha] = true, true
	}
	for key := range public {
		ic.services[strings.TrimSuffix(key, "*")] = nil
	}
	for key, a := range m {
		name, service, err := methodKey(key)
		if err != nil {
			panic("grpcauth: " + fn + ": " + err.Error())
		}
		if public[key] {
			panic("grpcauth: " + fn + ": " + key + " is already public by an option")
		}
		var e *entry
		if a != nil {
			e = newEntry(fn, a)
		}
		if service {
			ic.services[name] = e
		} else {
			ic.methods[name] = e
		}
	}
	return ic
}

// methodKey checks a key of Methods and returns the name it is looked up
// by: the full method, or for "/pkg.Service/*" the prefix "/pkg.Service/".
func methodKey(key string) (name string, service bool, err error) {
	rest, ok := strings.CutPrefix(key, "/")
	svc, method, found := strings.Cut(rest, "/")
	if !ok || !found || !validName(svc, true) || (method != "*" && !validName(method, false)) {
		return "", false, errors.New(`method key ` + quoteKey(key) + ` is not "/pkg.Service/Method" or "/pkg.Service/*"`)
	}
	if method == "*" {
		return key[:len(key)-1], true, nil
	}
	return key, false, nil
}

func validName(s string, dots bool) bool {
	if s == "" || s[0] == '.' || s[len(s)-1] == '.' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !nameByte(s[i]) || (s[i] == '.' && !dots) {
			return false
		}
	}
	return true
}

// quoteKey quotes a configured key for a panic message, bounded in length.
func quoteKey(k string) string {
	if len(k) > 100 {
		k = k[:100] + "…"
	}
	return `"` + k + `"`
}

// lookup returns the entry for fullMethod and whether the method is
// public.
func (ic *Interceptor) lookup(fullMethod string) (*entry, bool) {
	if e, ok := ic.methods[fullMethod]; ok {
		return e, e == nil
	}
	if i := strings.LastIndexByte(fullMethod, '/'); i > 0 {
		if e, ok := ic.services[fullMethod[:i+1]]; ok {
			return e, e == nil
		}
	}
	return ic.def, false
}

// Authenticate authenticates a call to fullMethod whose server context is
// ctx. It returns ctx itself for a public method, ctx carrying the
// principal ([authgate.FromContext]) for an authenticated call, and for a
// refused one a gRPC status error (see [Status]), after setting the
// challenge trailer ([Trailer]) on the call when ctx belongs to one. The
// interceptors and [Interceptor.AuthFunc] are built on it.
func (ic *Interceptor) Authenticate(ctx context.Context, fullMethod string) (context.Context, error) {
	e, public := ic.lookup(fullMethod)
	if public {
		return ctx, nil
	}
	start := ic.o.Start()
	p, err := adapter.Authenticate(e.a, NewRequest(ctx, fullMethod), e.provider)
	if err != nil {
		err = adapter.WithScheme(err, e.scheme, e.provider)
		ic.o.Decided(ctx, start, nil, err, e.provider)
		return nil, ic.o.fail(ctx, fullMethod, err, e.provider)
	}
	ic.o.Decided(ctx, start, p, nil, e.provider)
	return authgate.NewContext(ctx, p), nil
}

// UnaryServerInterceptor returns the interceptor for unary calls:
//
//	grpc.NewServer(grpc.ChainUnaryInterceptor(ic.UnaryServerInterceptor()))
func (ic *Interceptor) UnaryServerInterceptor() grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		ctx, err := ic.Authenticate(ctx, info.FullMethod)
		if err != nil {
			return nil, err
		}
		return handler(ctx, req)
	}
}

// StreamServerInterceptor returns the interceptor for streaming calls; the
// handler's stream.Context() carries the principal:
//
//	grpc.NewServer(grpc.ChainStreamInterceptor(ic.StreamServerInterceptor()))
func (ic *Interceptor) StreamServerInterceptor() grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		base := ss.Context()
		ctx, err := ic.Authenticate(base, info.FullMethod)
		if err != nil {
			return err
		}
		if ctx == base {
			return handler(srv, ss)
		}
		return handler(srv, &serverStream{ServerStream: ss, ctx: ctx})
	}
}

// AuthFunc authenticates the call whose server context is ctx, for
// go-grpc-middleware v2's auth interceptors, which take it as their
// auth.AuthFunc:
//
//	auth.UnaryServerInterceptor(ic.AuthFunc)
//
// The method is found with grpc.Method(ctx); a context that names none is
// authenticated with the default authenticator, never treated as public.
// It returns what [Interceptor.Authenticate] returns.
func (ic *Interceptor) AuthFunc(ctx context.Context) (context.Context, error) {
	method, _ := grpc.Method(ctx)
	return ic.Authenticate(ctx, method)
}

// serverStream is a grpc.ServerStream whose context carries the principal.
type serverStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (s *serverStream) Context() context.Context { return s.ctx }

// User returns the application user that an [authgate.Resolve] resolver put
// into the principal of ctx (Principal.User), and whether there is one of
// type T.
func User[T any](ctx context.Context) (T, bool) {
	var zero T
	p, ok := authgate.FromContext(ctx)
	if !ok {
		return zero, false
	}
	u, ok := p.User.(T)
	return u, ok
}
