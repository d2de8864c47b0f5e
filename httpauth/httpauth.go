// Package httpauth plugs authgate authenticators into plain net/http (the
// standard mux, chi, anything that takes func(http.Handler) http.Handler):
// the same [Require], [Optional], [ByMethod] and guards as package ginauth,
// with the same rendering ([authgate.WriteError]) and the same logging.
//
// On success the principal is in the request's context
// ([authgate.FromContext], [PrincipalFrom], [User]). With [WithObserver],
// every decision is reported to an [authgate.Observer] (metrics, traces)
// with its provider, outcome, reason and latency. Failures are answered
// with 401 and a WWW-Authenticate challenge, 403 insufficient_scope, 400
// invalid_request or 503 with Retry-After, and a JSON body
// {"detail": …, "error": …}; the wrapped handler does not run.
//
// Constructors panic on a programming error (a nil authenticator, a guard
// with no values), as net/http does for a nil handler. The middleware never
// panics while serving: an authenticator that panics is recovered and the
// request is rejected with 401 invalid_token.
package httpauth

import (
	"context"
	"errors"
	"net/http"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/internal/adapter"
)

type contextKey int

const optionsKey contextKey = 0

// Require returns middleware that authenticates every request with a. A
// request that a rejects, or that carries no credentials, is answered with
// the error's response and next is not called.
//
// Require panics if a is nil.
func Require(a authgate.Authenticator, opts ...Option) func(http.Handler) http.Handler {
	m := newMiddleware("Require", a, false, newOptions(opts))
	return m.wrap
}

// Optional returns middleware that authenticates requests that carry
// credentials and passes those that carry none on anonymously
// ([PrincipalFrom] then reports false). Credentials that are present and bad
// (invalid, expired, or a bearer token no authenticator claims) are still
// rejected.
//
// Optional panics if a is nil.
func Optional(a authgate.Authenticator, opts ...Option) func(http.Handler) http.Handler {
	m := newMiddleware("Optional", a, true, newOptions(opts))
	return m.wrap
}

type middleware struct {
	a        authgate.Authenticator
	provider string
	scheme   string // non-Bearer challenge scheme of a, or ""
	optional bool
	o        *options
}

func newMiddleware(fn string, a authgate.Authenticator, optional bool, o *options) *middleware {
	if a == nil {
		panic("httpauth: " + fn + ": nil authenticator")
	}
	return &middleware{a: a, provider: adapter.Name(a, ""), scheme: adapter.Scheme(a), optional: optional, o: o}
}

func (m *middleware) wrap(next http.Handler) http.Handler {
	if next == nil {
		panic("httpauth: nil handler")
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m.serve(w, r, next)
	})
}

func (m *middleware) serve(w http.ResponseWriter, r *http.Request, next http.Handler) {
	start := m.o.Start()
	p, err := adapter.Authenticate(m.a, r, m.provider)
	if err != nil {
		if m.optional && authgate.IsNotMine(err) && !errors.Is(err, authgate.ErrUnrecognizedCredential) {
			m.o.Observe(r.Context(), authgate.EventAuthentication, start, authgate.OutcomeAnonymous, nil, err, m.provider)
			next.ServeHTTP(w, m.o.attach(r, nil))
			return
		}
		err = adapter.WithScheme(err, m.scheme, m.provider)
		m.o.Decided(r.Context(), start, nil, err, m.provider)
		m.o.fail(w, r, err, m.provider)
		return
	}
	m.o.Decided(r.Context(), start, p, nil, m.provider)
	next.ServeHTTP(w, m.o.attach(r, p))
}

// Methods maps HTTP methods ("GET", "POST", …; case-insensitive) to the
// authenticator for them. A method mapped to nil is public.
type Methods map[string]authgate.Authenticator

// ByMethod returns middleware that authenticates each request with the
// authenticator its method is mapped to in m, as [Require] does: a method
// mapped to nil is public (credentials are not looked at) and a method m
// does not name uses def. HEAD, when not mapped itself, takes GET's
// mapping: net/http's ServeMux answers HEAD with the GET handler, so HEAD
// must never be easier to get through than GET. OPTIONS is a method like
// any other.
//
// ByMethod panics if def is nil (map the public methods to nil instead), if
// a method name is empty, or if two keys name the same method.
func ByMethod(def authgate.Authenticator, m Methods, opts ...Option) func(http.Handler) http.Handler {
	if def == nil {
		panic("httpauth: ByMethod: nil default authenticator; map public methods to nil instead")
	}
	o := newOptions(opts)
	byMethod := make(map[string]*middleware, len(m))
	for method, a := range m {
		key, err := adapter.MethodKey(method)
		if err != nil {
			panic("httpauth: ByMethod: " + err.Error())
		}
		if _, dup := byMethod[key]; dup {
			panic("httpauth: ByMethod: method " + key + " mapped twice")
		}
		if a == nil {
			byMethod[key] = nil
			continue
		}
		byMethod[key] = newMiddleware("ByMethod", a, false, o)
	}
	if get, ok := byMethod[http.MethodGet]; ok {
		if _, headMapped := byMethod[http.MethodHead]; !headMapped {
			byMethod[http.MethodHead] = get
		}
	}
	fallback := newMiddleware("ByMethod", def, false, o)
	return func(next http.Handler) http.Handler {
		if next == nil {
			panic("httpauth: nil handler")
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mw, ok := byMethod[r.Method]
			switch {
			case !ok:
				fallback.serve(w, r, next)
			case mw == nil:
				next.ServeHTTP(w, r)
			default:
				mw.serve(w, r, next)
			}
		})
	}
}

// PrincipalFrom returns the principal stored in r's context by [Require],
// [Optional] or [ByMethod], and whether there is one.
func PrincipalFrom(r *http.Request) (*authgate.Principal, bool) {
	return authgate.FromContext(r.Context())
}

// User returns the application user that an [authgate.Resolve] resolver put
// into the principal (Principal.User), and whether there is one of type T.
func User[T any](r *http.Request) (T, bool) {
	var zero T
	p, ok := PrincipalFrom(r)
	if !ok {
		return zero, false
	}
	u, ok := p.User.(T)
	return u, ok
}

// optionsOf returns the options of the middleware that ran for r, so
// guards render with the same realm, error handler and logger.
func optionsOf(r *http.Request) *options {
	if o, ok := r.Context().Value(optionsKey).(*options); ok {
		return o
	}
	return defaultOptions
}

// attach returns r with p (when not nil) and the options in its context.
func (o *options) attach(r *http.Request, p *authgate.Principal) *http.Request {
	ctx := context.WithValue(r.Context(), optionsKey, o)
	if p != nil {
		ctx = authgate.NewContext(ctx, p)
	}
	return r.WithContext(ctx)
}
