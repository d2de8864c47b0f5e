// Package grpcauth plugs authgate authenticators into gRPC servers and
// clients: the same providers, chains, outcomes and guards as the HTTP
// adapters (httpauth, ginauth), for unary and streaming calls.
//
// # Servers
//
// [Require] authenticates every call with one authenticator; [ByMethod]
// picks the authenticator by full method name ("/pkg.Service/Method", or
// "/pkg.Service/*" for a whole service), a method mapped to nil being
// public. Guards are authenticators (authgate.RequireRoles,
// RequireScopes, …), so a guard goes in a [Methods] entry. The health and
// reflection services are public only with [WithPublicHealth] and
// [WithPublicReflection]. Both constructors return an [Interceptor] whose
// UnaryServerInterceptor and StreamServerInterceptor go into
// grpc.NewServer, and whose AuthFunc goes into go-grpc-middleware's auth
// interceptors. In the handler, the principal is in the context:
// authgate.FromContext(ctx), or [User] for what a resolver returned.
//
// # How a call reaches the authenticators
//
// Providers read credentials from an *http.Request (authgate.Authenticator
// takes one), and a gRPC call is an HTTP/2 request: a POST to the full
// method name whose headers are the call's metadata. So grpcauth hands the
// authenticators that request, built from the call ([NewRequest]): the
// metadata as the Header (canonical keys, every value kept, binary "-bin"
// keys never copied), ":authority" as Host, the peer's address as
// RemoteAddr, its TLS state as TLS, and the call's context as the
// request's. "authorization", an API-key header, "cookie" and IAP's
// "x-goog-iap-jwt-assertion" then read exactly as they do over HTTP, with
// the same rules: two "authorization" values are as ambiguous as two
// Authorization headers (InvalidArgument). The Authenticator interface is
// unchanged and no provider knows the transport.
//
// Beyond what the authenticator itself costs, a unary call from a grpc-go
// client costs ten allocations (a stream eleven), seven of them grpc's own
// copy of the incoming metadata (one more per further metadata key), and
// about what the Gin middleware costs in time (docs/grpc-benchmarks.md in
// the repository).
//
// # Outcomes
//
// A refused call ends with the gRPC counterpart of the HTTP status
// ([Code]): no credentials or invalid ones → Unauthenticated, forbidden →
// PermissionDenied, malformed → InvalidArgument, rate-limited →
// ResourceExhausted, unavailable → Unavailable. The status message is the
// client-safe authgate.Detail; its details are an errdetails.ErrorInfo
// with the HTTP body's "detail" and "error" and, for Unavailable and
// ResourceExhausted, an errdetails.RetryInfo ([Status]). The
// WWW-Authenticate challenge goes in the "www-authenticate" trailer
// ([Trailer]), where a client finds the scheme to use and, for
// PermissionDenied, the scope it lacks. Failures are logged without the
// credential ([WithLogger]) and decisions reported to an authgate.Observer
// ([WithObserver]), as the HTTP adapters do.
//
// Constructors panic on a programming error (a nil authenticator, a
// malformed method key), as grpc and net/http do. The interceptors never
// panic while serving: an authenticator that panics is recovered and the
// call is refused with Unauthenticated.
//
// # Clients
//
// [Bearer] and [APIKey] are per-RPC credentials that attach a token or a
// key to every call, and refuse to send it over a connection without
// transport security unless [InsecureTransport] says so.
//
// examples/grpc in the repository is a runnable server and client: a
// public method, one guarded by a role, the public health service, and
// calls with and without credentials.
package grpcauth
