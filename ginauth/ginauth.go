// Package ginauth plugs authgate authenticators into Gin: globally
// (engine.Use), per route group, per HTTP method ([ByMethod], the seed's
// get_auth/post_auth/…) or per route, with role, scope and permission
// guards.
//
// [Require] authenticates every request and rejects those that fail with the
// one rendering of the authgate package ([authgate.WriteError]): 401 with a
// WWW-Authenticate challenge, 403 insufficient_scope, 400 invalid_request or
// 503 with Retry-After, and a JSON body {"detail": …, "error": …}. On
// success the principal is stored in the request's context
// ([authgate.FromContext]) and in the Gin context ([PrincipalFrom], [User]).
//
// Failed authentications are logged through log/slog with bounded fields
// (reason, provider, method, route) and never with a token, a key or any
// header value; see [WithLogger]. With [WithObserver], every decision is
// reported to an [authgate.Observer] (metrics, traces) with its provider,
// outcome, reason and latency.
//
// Constructors check their arguments and precompute what they can; they
// panic on a programming error (a nil authenticator, a guard with no
// values), as gin and net/http do for nil handlers. The middleware itself
// never panics: an authenticator that panics is recovered and the request
// is rejected with 401 invalid_token, like any other rejected credential.
package ginauth

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/internal/adapter"
)

// contextKey types the keys ginauth stores in the Gin context.
type contextKey int

const (
	principalKey contextKey = iota
	optionsKey
)

// Require returns middleware that authenticates every request with a. A
// request that a rejects, or that carries no credentials, is aborted with the
// error's response (see the package doc); the next handlers do not run.
//
// Require panics if a is nil.
func Require(a authgate.Authenticator, opts ...Option) gin.HandlerFunc {
	return newMiddleware("Require", a, false, opts).handle
}

// Optional returns middleware that authenticates requests that carry
// credentials and lets those that carry none through anonymously
// ([PrincipalFrom] then reports false). Credentials that are present and bad
// (invalid, expired, or a bearer token no authenticator claims) are still
// rejected: sending a bad credential is never the same as sending none.
//
// Optional panics if a is nil.
func Optional(a authgate.Authenticator, opts ...Option) gin.HandlerFunc {
	return newMiddleware("Optional", a, true, opts).handle
}

type middleware struct {
	a        authgate.Authenticator
	provider string
	scheme   string // non-Bearer challenge scheme of a, or ""
	optional bool
	o        *options
}

func newMiddleware(fn string, a authgate.Authenticator, optional bool, opts []Option) *middleware {
	if a == nil {
		panic("ginauth: " + fn + ": nil authenticator")
	}
	return &middleware{a: a, provider: adapter.Name(a, ""), scheme: adapter.Scheme(a), optional: optional, o: newOptions(opts)}
}

func (m *middleware) handle(c *gin.Context) {
	start := m.o.Start()
	p, err := adapter.Authenticate(m.a, c.Request, m.provider)
	c.Set(optionsKey, m.o)
	if err != nil {
		if m.optional && authgate.IsNotMine(err) && !isUnrecognized(err) {
			m.o.Observe(c.Request.Context(), authgate.EventAuthentication, start, authgate.OutcomeAnonymous, nil, err, m.provider)
			return
		}
		err = adapter.WithScheme(err, m.scheme, m.provider)
		m.o.Decided(c.Request.Context(), start, nil, err, m.provider)
		m.o.fail(c, err, m.provider)
		return
	}
	m.o.Decided(c.Request.Context(), start, p, nil, m.provider)
	c.Request = c.Request.WithContext(authgate.NewContext(c.Request.Context(), p))
	c.Set(principalKey, p)
}

func isUnrecognized(err error) bool {
	return errors.Is(err, authgate.ErrUnrecognizedCredential)
}

// Methods maps HTTP methods ("GET", "POST", …; case-insensitive) to the
// authenticator for them. A method mapped to nil is public.
type Methods map[string]authgate.Authenticator

// ByMethod returns middleware that authenticates each request with the
// authenticator its method is mapped to in m, as [Require] does: a method
// mapped to nil is public (credentials are not even looked at) and a method
// that m does not name uses def. HEAD, when not mapped itself, takes GET's
// mapping, so a HEAD route beside a GET route is never easier to get
// through. OPTIONS is a method like any other: map it to nil to make it
// public (CORS preflights are best answered by a CORS middleware placed
// before this one).
//
// ByMethod panics if def is nil (map the public methods to nil instead, so
// that a method nobody thought of is never public), if a method name is
// empty, or if two keys name the same method.
func ByMethod(def authgate.Authenticator, m Methods, opts ...Option) gin.HandlerFunc {
	byMethod := make(map[string]gin.HandlerFunc, len(m))
	if def == nil {
		panic("ginauth: ByMethod: nil default authenticator; map public methods to nil instead")
	}
	for method, a := range m {
		key, err := adapter.MethodKey(method)
		if err != nil {
			panic("ginauth: ByMethod: " + err.Error())
		}
		if _, dup := byMethod[key]; dup {
			panic("ginauth: ByMethod: method " + key + " mapped twice")
		}
		if a == nil {
			byMethod[key] = public
			continue
		}
		byMethod[key] = newMiddleware("ByMethod", a, false, opts).handle
	}
	if get, ok := byMethod[http.MethodGet]; ok {
		if _, headMapped := byMethod[http.MethodHead]; !headMapped {
			byMethod[http.MethodHead] = get
		}
	}
	fallback := newMiddleware("ByMethod", def, false, opts).handle
	return func(c *gin.Context) {
		if h, ok := byMethod[c.Request.Method]; ok {
			h(c)
			return
		}
		fallback(c)
	}
}

func public(*gin.Context) {}

// PrincipalFrom returns the principal that [Require], [Optional] or
// [ByMethod] stored for the request, and whether there is one.
func PrincipalFrom(c *gin.Context) (*authgate.Principal, bool) {
	if v, ok := c.Get(principalKey); ok {
		p, ok := v.(*authgate.Principal)
		return p, ok && p != nil
	}
	if c.Request == nil {
		return nil, false
	}
	return authgate.FromContext(c.Request.Context())
}

// User returns the application user that an [authgate.Resolve] resolver put
// into the principal (Principal.User), and whether there is one of type T.
func User[T any](c *gin.Context) (T, bool) {
	var zero T
	p, ok := PrincipalFrom(c)
	if !ok {
		return zero, false
	}
	u, ok := p.User.(T)
	return u, ok
}
