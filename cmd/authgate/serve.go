package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/internal/adapter"
)

// Server limits.
const (
	readHeaderTimeout = 5 * time.Second
	readTimeout       = 10 * time.Second
	writeTimeout      = 30 * time.Second
	idleTimeout       = 2 * time.Minute
	maxHeaderBytes    = 64 << 10
	shutdownTimeout   = 10 * time.Second
	prefetchTimeout   = 15 * time.Second
	// maxIdentityValue bounds one X-Auth-* value.
	maxIdentityValue = 1024
)

const serveUsage = `usage: authgate serve --config FILE [--listen ADDR]

Serve the configured providers as a forward-auth server:

  /verify    200 with X-Auth-* identity headers, or 401/403/400/429/503
  /livez     200 "ok" while the process serves (also /healthz)
  /readyz    200 "ok" when every chained provider can answer (usable keys,
             a reachable API-key store), else 503 naming those that cannot

With ext_authz.listen in the file, serve also answers Envoy's ext_authz
gRPC Check (Istio CUSTOM, envoyExtAuthzGrpc) on that address, deciding
exactly as /verify does.

The original method and URI come from X-Forwarded-Method/X-Forwarded-Uri
(Traefik, Caddy), X-Original-Method/X-Original-URI (nginx), or the path
after /verify (Envoy ext_authz with path_prefix /verify, which also keeps
the method). When several are sent they must agree, else 400. nginx's
auth_request subrequest is always a GET: set X-Original-Method. Without an
original URI the rules cannot be applied (400 when the configuration has
rules), nor rules that name methods without an original method (400). URIs
with a fragment, a backslash or a ";" path parameter are refused (400).

SIGHUP re-reads the configuration file and every file it names: a valid
one replaces the running one (requests in flight finish with the old), an
invalid one is logged and refused. SIGTERM or SIGINT shuts the server down
gracefully.

Unless GOGC is set in the environment, serve lets the heap grow by about
32 MiB between garbage collections while it keeps less than that (GOGC
is raised accordingly), and uses the runtime's default pacing (GOGC=100)
once it keeps more, such as a large verified-token cache. GOGC=100 gives
the default pacing throughout; GOMEMLIMIT is honoured either way.

Flags:
`

func cmdServe(e *env, args []string) int {
	fs := newFlagSet("serve", serveUsage)
	config := fs.String("config", "authgate.yaml", "configuration `file`")
	listen := fs.String("listen", "", "listen on `addr` instead of the file's listen")
	if _, code, ok := parseFlags(e, fs, args, 0, 0); !ok {
		return code
	}
	cfg, err := LoadConfig(*config, e.getenv)
	if err != nil {
		return e.fail("serve", err)
	}
	var obs authgate.Observer
	var metrics *metricsServer
	if cfg.Metrics.Listen != "" {
		// Once for the process: a reload reports to the same observer.
		if metrics, err = startMetrics(cfg.Metrics.Listen, newLogger(cfg.Log, e.stderr)); err != nil {
			return e.fail("serve", err)
		}
		obs = metrics.obs
		defer metrics.srv.Close()
	}
	gen, err := newGeneration(e.ctx, cfg, e.stderr, obs)
	if err != nil {
		return e.fail("serve", err)
	}
	addr := cfg.Listen
	if *listen != "" {
		addr = *listen
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		gen.close()
		return e.fail("serve", err)
	}
	h := &handler{}
	h.cur.Store(gen)
	defer func() { h.cur.Load().close() }()
	var extAuthz *extAuthzListener
	if cfg.ExtAuthz.Listen != "" {
		if extAuthz, err = startExtAuthz(cfg.ExtAuthz.Listen, h); err != nil {
			ln.Close()
			return e.fail("serve", err)
		}
		defer extAuthz.srv.Stop()
		gen.base.Info("authgate: serving ext_authz", "addr", extAuthz.ln.Addr().String())
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(gen.base.Handler(), slog.LevelWarn),
	}
	gen.base.Info("authgate: serving", "addr", ln.Addr().String(), "chain", strings.Join(cfg.Chain, ","), "rules", len(gen.g.rules))
	go gen.ready.start(e.ctx, prefetchTimeout, false)
	if metrics != nil {
		gen.base.Info("authgate: serving metrics", "addr", metrics.ln.Addr().String())
		if e.metricsReady != nil {
			e.metricsReady(metrics.ln.Addr().String())
		}
	}
	if extAuthz != nil && e.extAuthzReady != nil {
		e.extAuthzReady(extAuthz.ln.Addr().String())
	}
	if e.ready != nil {
		e.ready(ln.Addr().String())
	}
	var hup <-chan struct{}
	if e.hangup != nil {
		c, stop := e.hangup()
		defer stop()
		hup = c
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
loop:
	for {
		select {
		case err := <-errc:
			return e.fail("serve", err)
		case <-hup:
			h.reload(e, *config, *listen, obs)
		case <-e.ctx.Done():
			break loop
		}
	}
	logger := h.cur.Load().base
	logger.Info("authgate: shutting down")
	ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		return e.fail("serve", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return e.fail("serve", err)
	}
	if extAuthz != nil {
		if err := extAuthz.shutdown(ctx); err != nil {
			return e.fail("serve", err)
		}
	}
	if metrics != nil {
		if err := metrics.shutdown(ctx); err != nil {
			return e.fail("serve", err)
		}
	}
	if err := h.cur.Load().close(); err != nil {
		return e.fail("serve", err)
	}
	logger.Info("authgate: stopped")
	return exitOK
}

func newLogger(c LogConfig, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(c.Level))
	opts := &slog.HandlerOptions{Level: level}
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// handler answers forward-auth requests with the current generation.
type handler struct {
	cur atomic.Pointer[generation]
}

// newHandler serves g (tests: the gateway is built and closed by them).
func newHandler(g *gateway, logger *slog.Logger) *handler {
	h := &handler{}
	h.cur.Store(wrapGateway(g, logger))
	return h
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	gen := h.acquire()
	defer gen.release()
	switch {
	case r.URL.Path == "/livez" || r.URL.Path == "/healthz":
		serveLive(w)
	case r.URL.Path == "/readyz":
		serveReady(w, r, gen.ready)
	case r.URL.Path == "/verify" || strings.HasPrefix(r.URL.Path, "/verify/"):
		if gen.log.Observer != nil {
			r = withTraceContext(r)
		}
		gen.verify(w, r)
	default:
		http.NotFound(w, r)
	}
}

// Identity headers of a 200 answer. All of them are always sent, empty when
// unknown, so a proxy that copies them replaces whatever the client sent.
const (
	headerSubject     = "X-Auth-Subject"
	headerProvider    = "X-Auth-Provider"
	headerRoles       = "X-Auth-Roles"
	headerScopes      = "X-Auth-Scopes"
	headerPermissions = "X-Auth-Permissions"
	headerTenant      = "X-Auth-Tenant"
	headerEmail       = "X-Auth-Email"
)

// errForwarded is the client-facing error for a forward-auth request whose
// original method or URI is missing, repeated, contradictory or invalid.
func errForwarded(cause error) error {
	return &authgate.Error{
		Provider:    "authgate",
		Kind:        authgate.ErrMalformedRequest,
		Description: "Invalid forwarded request",
		Err:         cause,
	}
}

func (h *generation) verify(w http.ResponseWriter, r *http.Request) {
	start := h.log.Start()
	method, uri, err := original(r)
	var rl *rule
	if err == nil && len(h.g.rules) > 0 {
		var p string
		switch p, err = rulePath(uri); {
		case uri == "":
			err = errNoURI
		case method == "" && h.g.methodRules:
			// Rules that name methods cannot be applied to an unknown
			// method: guessing would open or close the wrong routes.
			err = errNoMethod
		case err == nil:
			rl = matchRule(h.g.rules, method, p)
		}
	}
	if err != nil {
		err = errForwarded(err)
		h.log.Decided(r.Context(), start, nil, err, "authgate")
		h.fail(w, r, err, "authgate", method, "")
		return
	}
	route := ""
	if rl != nil {
		route = rl.route
	}
	if rl != nil && rl.anonymous {
		h.log.Observe(r.Context(), authgate.EventAuthentication, start, authgate.OutcomeAnonymous, nil, nil, "authgate")
		anonymous.write(w.Header())
		w.WriteHeader(http.StatusOK)
		return
	}
	p, err := h.g.chain.Authenticate(r)
	h.log.Decided(r.Context(), start, p, err, "chain")
	if err != nil {
		h.fail(w, r, err, "chain", method, route)
		return
	}
	if rl != nil {
		start := h.log.Start()
		if err := rl.check(p); err != nil {
			h.log.Observe(r.Context(), authgate.EventAuthorization, start, authgate.OutcomeDenied, p, err, p.Provider)
			h.fail(w, r, err, p.Provider, method, route)
			return
		}
		h.log.Observe(r.Context(), authgate.EventAuthorization, start, authgate.OutcomeAllowed, p, nil, p.Provider)
	}
	if h.logger.Enabled(r.Context(), slog.LevelDebug) {
		h.logger.LogAttrs(r.Context(), slog.LevelDebug, "authgate: authenticated",
			slog.String("provider", p.Provider), slog.String("method", adapter.Method(method)), slog.String("route", route))
	}
	h.identities.write(w.Header(), p)
	w.WriteHeader(http.StatusOK)
}

func (h *generation) fail(w http.ResponseWriter, r *http.Request, err error, provider, method, route string) {
	if isTechnical(err) {
		// LogFailure's line, with the bounded cause an operator needs.
		var e *authgate.Error
		if errors.As(err, &e) && e.Provider != "" {
			provider = e.Provider
		}
		attrs := []slog.Attr{slog.String("reason", authgate.Reason(err)), slog.String("provider", provider), slog.String("method", adapter.Method(method))}
		if route != "" {
			attrs = append(attrs, slog.String("route", route))
		}
		h.logger.LogAttrs(r.Context(), slog.LevelWarn, "authgate: authentication failed", append(attrs, slog.String("cause", causeOf(err)))...)
	} else {
		h.log.LogFailure(r.Context(), err, provider, method, route)
	}
	writeError(w, err, h.realm)
}

// headerErrorBody repeats the JSON body of a failure answer in a header:
// nginx's auth_request drops the subrequest's body, and its recipe
// (deploy/nginx.conf) answers the client with this header's value instead
// of nginx's own error page.
const headerErrorBody = "X-Authgate-Error-Body"

// writeError is authgate.WriteError, with the body in headerErrorBody too.
func writeError(w http.ResponseWriter, err error, realm string) {
	rec := &errorRecorder{header: w.Header(), status: http.StatusOK}
	authgate.WriteError(rec, err, realm)
	w.Header().Set(headerErrorBody, string(rec.body))
	w.WriteHeader(rec.status)
	w.Write(rec.body)
}

// errorRecorder keeps what authgate.WriteError writes.
type errorRecorder struct {
	header http.Header
	status int
	body   []byte
}

func (r *errorRecorder) Header() http.Header { return r.header }

func (r *errorRecorder) WriteHeader(status int) { r.status = status }

func (r *errorRecorder) Write(p []byte) (int, error) {
	r.body = append(r.body, p...)
	return len(p), nil
}

var (
	errNoURI          = errors.New("no original URI (X-Forwarded-Uri, X-Original-URI or /verify/<path>)")
	errNoMethod       = errors.New("no original method (X-Forwarded-Method or X-Original-Method) while rules name methods")
	errConflictURI    = errors.New("original URI sources disagree")
	errConflictMethod = errors.New("original method sources disagree")
	errRepeated       = errors.New("forwarded header repeated")
	errBadMethod      = errors.New("original method is not an HTTP token")
)

// original returns the original request's method and URI. Every source
// present must agree: X-Forwarded-Uri (Traefik, Caddy), X-Original-URI
// (nginx) and the path after /verify (Envoy ext_authz path_prefix); for the
// method X-Forwarded-Method and X-Original-Method. A client cannot steer the
// rules with a header the proxy does not set: the proxy's value and the
// client's then disagree, which is a 400.
//
// The /verify request's own method is the original one only in Envoy's
// path_prefix mode (/verify/<path>): nginx's auth_request subrequest is
// always a GET whatever the client sent. Otherwise method is "" when no
// header names it, and a /verify request that is not a GET or HEAD must
// agree with the header it carries. uri is "" when no source names one.
func original(r *http.Request) (method, uri string, err error) {
	uri, err = agree(r.Header, errConflictURI, "X-Forwarded-Uri", "X-Original-Uri")
	if err != nil {
		return "", "", err
	}
	rest, envoy := strings.CutPrefix(r.RequestURI, "/verify/")
	if envoy {
		suffix := "/" + rest
		if uri != "" && uri != suffix {
			return "", "", errConflictURI
		}
		uri = suffix
	}
	method, err = agree(r.Header, errConflictMethod, "X-Forwarded-Method", "X-Original-Method")
	if err != nil {
		return "", "", err
	}
	method = strings.ToUpper(method)
	own := strings.ToUpper(r.Method)
	switch {
	case method == "" && envoy:
		method = own
	case method == "":
		return "", uri, nil
	case own != http.MethodGet && own != http.MethodHead && own != method:
		return "", "", errConflictMethod
	}
	if _, err := adapter.MethodKey(method); err != nil {
		return "", "", errBadMethod
	}
	return method, uri, nil
}

// agree returns the one value the named headers carry, "" when none is
// set, and an error when one is repeated or two differ.
func agree(h http.Header, conflict error, names ...string) (string, error) {
	v := ""
	for _, n := range names {
		vs := h[n]
		switch {
		case len(vs) == 0:
			continue
		case len(vs) > 1:
			return "", errRepeated
		case v != "" && vs[0] != v:
			return "", conflict
		}
		v = vs[0]
	}
	return v, nil
}

// fail reports err for a subcommand and returns its exit code: 2 for a
// configuration or usage error, 1 otherwise.
func (e *env) fail(cmd string, err error) int {
	var ce *ConfigError
	if errors.As(err, &ce) {
		fmt.Fprintln(e.stderr, err)
		return exitUsage
	}
	var ue *usageErr
	if errors.As(err, &ue) {
		fmt.Fprintf(e.stderr, "authgate %s: %v\n", cmd, err)
		return exitUsage
	}
	fmt.Fprintf(e.stderr, "authgate %s: %v\n", cmd, err)
	return exitFailure
}
