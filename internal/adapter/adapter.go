// Package adapter holds what the HTTP adapters (ginauth, httpauth) and the
// chain share and no user should import: the panic guard around an
// authenticator, the options common to both adapters, failure logging,
// decision events for an authgate.Observer, and the role/scope/permission
// guards.
package adapter

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"

	"github.com/authgate/authgate"
)

// DefaultRealm is the realm of the WWW-Authenticate challenges when no
// WithRealm option is given.
const DefaultRealm = "api"

// ErrPanic is authgate.ErrPanic, the cause of the error returned for an
// authenticator that panicked.
var ErrPanic = authgate.ErrPanic

// PanicError records a recovered panic. It never holds the panic value (it
// may contain the credential), only the stack of the panicking goroutine,
// which holds function names, files and argument words, not their contents.
type PanicError struct {
	Stack []byte
}

func (e *PanicError) Error() string { return ErrPanic.Error() }

// Is makes errors.Is(err, ErrPanic) hold.
func (e *PanicError) Is(target error) bool { return target == ErrPanic }

// Authenticate calls a.Authenticate(r) and turns a panic into a rejection
// (fail closed). It also rejects a nil principal with a nil error, which
// would otherwise let a request through without an identity.
func Authenticate(a authgate.Authenticator, r *http.Request, provider string) (p *authgate.Principal, err error) {
	defer func() {
		if v := recover(); v != nil {
			p, err = nil, PanicErr(provider)
		}
	}()
	p, err = a.Authenticate(r)
	if err == nil && p == nil {
		return nil, &authgate.Error{Provider: provider, Kind: authgate.ErrInvalidCredentials, Err: errNilPrincipal}
	}
	if err != nil {
		p = nil
	}
	return p, err
}

var errNilPrincipal = errors.New("authgate: authenticator returned no principal and no error")

// PanicErr returns the error reported for a recovered panic. Call it from
// the deferred function that recovered, so the stack is the panic's.
func PanicErr(provider string) error {
	return &authgate.Error{
		Provider: provider,
		Kind:     authgate.ErrInvalidCredentials,
		Err:      &PanicError{Stack: debug.Stack()},
	}
}

// Name returns the provider name a's Description gives, or fallback.
func Name(a authgate.Authenticator, fallback string) string {
	if d, ok := a.(authgate.Describer); ok {
		if n := d.Describe().Name; n != "" {
			return n
		}
	}
	return fallback
}

// Config is the part of the adapter options both adapters share.
type Config struct {
	// Realm is the realm of every challenge.
	Realm string
	// Logger receives failed authentications; nil with LoggerSet means no
	// logging, nil without LoggerSet means slog.Default() at the time of
	// the failure.
	Logger    *slog.Logger
	LoggerSet bool
	// Observer receives every decision; nil reports nothing and costs
	// nothing.
	Observer authgate.Observer
}

// NewConfig returns the defaults.
func NewConfig() Config { return Config{Realm: DefaultRealm} }

// DefaultConfig is used by guards placed without a Require before them.
var DefaultConfig = NewConfig()

func (c *Config) logger() *slog.Logger {
	if c.LoggerSet {
		return c.Logger
	}
	return slog.Default()
}

// LogFailure logs a failed authentication or authorization. The record has
// only bounded values: the reason (authgate.Reason, or "panic"), the
// provider name, the HTTP method (standard methods only) and the route
// pattern. It never holds the credential, the request path or any header.
// No credentials at all is logged at Debug, rejections at Info, technical
// failures at Warn and panics at Error (with the stack). A refusal of an
// authenticated principal (ErrForbidden, 403) is logged as "authorization
// failed", every other failure as "authentication failed".
func (c *Config) LogFailure(ctx context.Context, err error, provider, method, route string) {
	l := c.logger()
	if l == nil {
		return
	}
	level := slog.LevelInfo
	reason := authgate.Reason(err)
	switch reason {
	case "no_credentials":
		level = slog.LevelDebug
	case "unavailable":
		level = slog.LevelWarn
	}
	var pe *PanicError
	if errors.As(err, &pe) {
		level, reason = slog.LevelError, authgate.ReasonPanic
	}
	if !l.Enabled(ctx, level) {
		return
	}
	provider = DecidedBy(nil, err, provider)
	attrs := make([]slog.Attr, 0, 5)
	attrs = append(attrs,
		slog.String("reason", reason),
		slog.String("provider", provider),
		slog.String("method", Method(method)),
	)
	if route != "" {
		attrs = append(attrs, slog.String("route", route))
	}
	if pe != nil {
		attrs = append(attrs, slog.String("stack", string(pe.Stack)))
	}
	msg := "authgate: authentication failed"
	if reason == "forbidden" {
		msg = "authgate: authorization failed"
	}
	l.LogAttrs(ctx, level, msg, attrs...)
}

// Method returns m when it is a standard HTTP method and "other" otherwise,
// so a client cannot write arbitrary text into the logs through the method.
func Method(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodConnect, http.MethodOptions, http.MethodTrace:
		return m
	}
	return "other"
}

// MethodKey returns the upper-case form of an HTTP method name used as a
// key of a Methods map, or an error for an empty or non-token name.
func MethodKey(m string) (string, error) {
	if m == "" {
		return "", errors.New("empty method")
	}
	b := []byte(m)
	for i, c := range b {
		switch {
		case 'a' <= c && c <= 'z':
			b[i] = c - 'a' + 'A'
		case 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '_':
		default:
			return "", errors.New("invalid method name")
		}
	}
	return string(b), nil
}

// Scheme returns the challenge scheme a's Description names when it is not
// the default Bearer, and "" otherwise.
func Scheme(a authgate.Authenticator) string {
	d, ok := a.(authgate.Describer)
	if !ok {
		return ""
	}
	s := strings.TrimSpace(d.Describe().Scheme)
	name, _, _ := strings.Cut(s, " ")
	if strings.EqualFold(name, "Bearer") && !strings.Contains(s, " ") {
		return ""
	}
	return s
}

// WithScheme returns err so that its challenge names scheme, when err does
// not name one already: an API-key authenticator's rejection is then
// challenged as `ApiKey realm="api", header="X-API-Key", error=…` rather
// than as Bearer. An empty scheme returns err unchanged; so does success.
func WithScheme(err error, scheme, provider string) error {
	if err == nil || scheme == "" {
		return err
	}
	if e, ok := err.(*authgate.Error); ok {
		if len(e.Schemes) > 0 {
			return err
		}
		cp := *e
		cp.Schemes = []string{scheme}
		return &cp
	}
	out := &authgate.Error{Provider: provider, Schemes: []string{scheme}, Err: err}
	var inner *authgate.Error
	if errors.As(err, &inner) {
		if len(inner.Schemes) > 0 {
			return err
		}
		out.Provider, out.Code, out.Description, out.Scope = inner.Provider, inner.Code, inner.Description, inner.Scope
	}
	return out
}
