package ginauth

import (
	"log/slog"

	"github.com/gin-gonic/gin"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/internal/adapter"
)

// Option configures the middleware of this package.
type Option func(*options)

// ErrorHandler renders a failed authentication or authorization. err
// carries the authgate classification: build on authgate.StatusCode,
// authgate.Challenge and authgate.Detail. The request is already aborted
// when it is called.
type ErrorHandler func(c *gin.Context, err error)

type options struct {
	adapter.Config
	onError ErrorHandler
}

var defaultOptions = &options{Config: adapter.NewConfig()}

func newOptions(opts []Option) *options {
	o := &options{Config: adapter.NewConfig()}
	for _, opt := range opts {
		if opt != nil {
			opt(o)
		}
	}
	return o
}

// WithRealm sets the realm of the WWW-Authenticate challenges (default
// "api"). Characters RFC 6750 does not allow in a quoted value are dropped.
func WithRealm(realm string) Option {
	return func(o *options) {
		if realm != "" {
			o.Realm = realm
		}
	}
}

// WithErrorHandler replaces the default rendering (authgate.WriteError) of
// failures. A nil h keeps the default.
func WithErrorHandler(h ErrorHandler) Option {
	return func(o *options) { o.onError = h }
}

// WithLogger sets the logger failed authentications are logged to; nil
// turns logging off. Without it, slog.Default() is used. Records have the
// fields reason (authgate.Reason, or "panic"), provider, method and route
// (the Gin route pattern, never the request path), are logged at Debug for
// requests without credentials, Info for rejections, Warn for an
// unavailable provider and Error for a panic, and never hold a token, a key,
// a header value or a claim.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) { o.Logger, o.LoggerSet = l, true }
}

// WithObserver reports every decision to obs: an
// authgate.EventAuthentication per request the middleware authenticates
// (provider, outcome, reason, time spent in the authenticator) and an
// authgate.EventAuthorization per guard check after it. Events never hold
// the credential. A nil obs (the default) reports nothing and costs
// nothing.
func WithObserver(obs authgate.Observer) Option {
	return func(o *options) { o.Observer = obs }
}

// fail logs err, aborts the request and renders err.
func (o *options) fail(c *gin.Context, err error, provider string) {
	o.LogFailure(c.Request.Context(), err, provider, c.Request.Method, c.FullPath())
	c.Abort()
	if o.onError != nil {
		o.onError(c, err)
		return
	}
	authgate.WriteError(c.Writer, err, o.Realm)
}

// optionsOf returns the options of the middleware that ran for c, so guards
// render with the same realm, error handler and logger.
func optionsOf(c *gin.Context) *options {
	if v, ok := c.Get(optionsKey); ok {
		if o, ok := v.(*options); ok {
			return o
		}
	}
	return defaultOptions
}
