package signin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/providers"
	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// provider is what discovery found: the OAuth endpoints, the end-session
// endpoint, and authgate's verifier over the provider's key set.
type provider struct {
	oauth      oauth2.Config
	endSession string // "" when the provider offers no RP-initiated logout
	verifier   *providers.TokenAuthenticator
}

// discovery runs go-oidc's discovery once, on first use, and keeps its
// result; after a failure it retries, backing off from 1 s to 1 min.
type discovery struct {
	h       *Handler
	done    atomic.Pointer[provider]
	mu      sync.Mutex
	err     error
	retryAt time.Time
	backoff time.Duration
}

// discoveryTimeout bounds one discovery, detached from the request that
// started it.
const discoveryTimeout = 10 * time.Second

// get returns the provider, discovering it if need be. Its error wraps
// authgate.ErrUnavailable.
func (d *discovery) get(ctx context.Context) (*provider, error) {
	if p := d.done.Load(); p != nil {
		return p, nil
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if p := d.done.Load(); p != nil {
		return p, nil
	}
	now := d.h.now()
	if now.Before(d.retryAt) {
		return nil, &authgate.Error{Provider: d.h.name, Kind: authgate.ErrUnavailable, Err: d.err}
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), discoveryTimeout)
	defer cancel()
	p, err := d.h.discover(ctx)
	if err != nil {
		d.backoff = min(max(2*d.backoff, time.Second), time.Minute)
		d.retryAt, d.err = now.Add(d.backoff), err
		d.h.logger.Warn("signin: discovery failed", "provider", d.h.name, "issuer", d.h.cfg.Issuer, "retry_in", d.backoff, "error", err)
		return nil, &authgate.Error{Provider: d.h.name, Kind: authgate.ErrUnavailable, Err: err}
	}
	d.done.Store(p)
	return p, nil
}

// Prefetch runs discovery now, to find a misconfiguration at start-up
// rather than at the first sign-in. Its error wraps
// authgate.ErrUnavailable.
func (h *Handler) Prefetch(ctx context.Context) error {
	p, err := h.disc.get(ctx)
	if err != nil {
		return err
	}
	return p.verifier.Prefetch(ctx)
}

// metadata is what authgate reads from the discovery document besides
// go-oidc's endpoints.
type metadata struct {
	JWKSURI     string   `json:"jwks_uri"`
	EndSession  string   `json:"end_session_endpoint"`
	Challenges  []string `json:"code_challenge_methods_supported"`
	AuthMethods []string `json:"token_endpoint_auth_methods_supported"`
}

// discover fetches the discovery document through go-oidc over the
// guarded client and builds the provider.
func (h *Handler) discover(ctx context.Context) (*provider, error) {
	op, err := oidc.NewProvider(oidc.ClientContext(ctx, h.client), h.cfg.Issuer)
	if err != nil {
		var mismatch *oidc.IssuerMismatchError
		if errors.As(err, &mismatch) {
			return nil, fmt.Errorf("signin: discovery: %w", providers.ErrIssuerMismatch)
		}
		return nil, &shortError{prefix: "signin: discovery: ", err: err}
	}
	var md metadata
	if err := op.Claims(&md); err != nil {
		return nil, errors.New("signin: discovery document is not a JSON object")
	}
	ep := op.Endpoint()
	for _, u := range []struct{ name, url string }{
		{"authorization_endpoint", ep.AuthURL}, {"token_endpoint", ep.TokenURL}, {"jwks_uri", md.JWKSURI},
	} {
		if u.url == "" {
			return nil, fmt.Errorf("signin: discovery document has no %q", u.name)
		}
		if _, err := providers.CheckURL(u.url); err != nil {
			return nil, fmt.Errorf("signin: discovery document: %s %w", u.name, err)
		}
	}
	if md.EndSession != "" {
		if _, err := providers.CheckURL(md.EndSession); err != nil {
			return nil, fmt.Errorf("signin: discovery document: end_session_endpoint %w", err)
		}
	}
	if len(md.Challenges) > 0 && !slices.Contains(md.Challenges, "S256") {
		return nil, errors.New("signin: the provider does not support PKCE with S256")
	}
	switch {
	case h.cfg.ClientSecret == "":
		ep.AuthStyle = oauth2.AuthStyleInParams
	case len(md.AuthMethods) == 0 || slices.Contains(md.AuthMethods, "client_secret_basic"):
		ep.AuthStyle = oauth2.AuthStyleInHeader
	case slices.Contains(md.AuthMethods, "client_secret_post"):
		ep.AuthStyle = oauth2.AuthStyleInParams
	}
	v, err := h.newVerifier(md.JWKSURI)
	if err != nil {
		return nil, err
	}
	return &provider{
		oauth: oauth2.Config{
			ClientID:     h.cfg.ClientID,
			ClientSecret: h.cfg.ClientSecret,
			Endpoint:     ep,
			RedirectURL:  h.cfg.RedirectURL,
			Scopes:       h.scopes,
		},
		endSession: md.EndSession,
		verifier:   v,
	}, nil
}

// shortError keeps a dependency's error for errors.Is and errors.As but
// shows at most its first 200 bytes: go-oidc puts a failed answer's body
// in its message.
type shortError struct {
	prefix string
	err    error
}

func (e *shortError) Error() string {
	msg := e.err.Error()
	if len(msg) > 200 {
		msg = msg[:200] + "…"
	}
	return e.prefix + msg
}

func (e *shortError) Unwrap() error { return e.err }

// guardedClient returns the client every request to the provider goes
// through: providers.GuardedClient's (no redirects, no cookies, a
// timeout) over a transport that sends only to https or loopback http
// URLs and reads at most providers.MaxFetchBody bytes of an answer.
func guardedClient(c *http.Client) *http.Client {
	var base http.RoundTripper = http.DefaultTransport
	if c != nil && c.Transport != nil {
		base = c.Transport
	}
	cp := providers.GuardedClient(c, providers.DefaultFetchTimeout)
	cp.Transport = guardedTransport{base: base}
	return cp
}

type guardedTransport struct{ base http.RoundTripper }

// errBodyTooLarge is the error of an answer over providers.MaxFetchBody.
var errBodyTooLarge = fmt.Errorf("signin: answer exceeds %d bytes", providers.MaxFetchBody)

func (t guardedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if _, err := providers.CheckURL(req.URL.String()); err != nil {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, fmt.Errorf("signin: %w", err)
	}
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	if resp.ContentLength > providers.MaxFetchBody {
		resp.Body.Close()
		return nil, errBodyTooLarge
	}
	resp.Body = &cappedBody{rc: resp.Body, left: providers.MaxFetchBody}
	return resp, nil
}

// cappedBody fails a read past its limit.
type cappedBody struct {
	rc   io.ReadCloser
	left int64
}

func (b *cappedBody) Read(p []byte) (int, error) {
	if b.left < 0 {
		return 0, errBodyTooLarge
	}
	if int64(len(p)) > b.left+1 {
		p = p[:b.left+1]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	if b.left < 0 {
		return n, errBodyTooLarge
	}
	return n, err
}

func (b *cappedBody) Close() error { return b.rc.Close() }
