package providers

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/internal/remote"
)

// RemoteDocumentConfig configures a RemoteDocument. URL and Parse are
// required.
type RemoteDocumentConfig[T any] struct {
	// Name names the provider in errors and logs.
	Name string
	// URL is the document's address: https, or plain http for loopback
	// hosts only (see CheckURL).
	URL string
	// Parse turns the fetched body into the value and its freshness
	// lifetime (0 or less: use RefreshInterval). Its error is a failed fetch:
	// the last good value stays.
	Parse func(body []byte) (T, time.Duration, error)
	// RefreshInterval is the freshness lifetime when Parse gives none
	// (default DefaultRefreshInterval).
	RefreshInterval time.Duration
	// HTTPClient and MaxKeyAge (how long the last good value is served
	// while refreshing fails) mean what they mean in FetchOptions.
	HTTPClient *http.Client
	MaxKeyAge  time.Duration
	// MaxWait bounds how long Get waits for a fetch when no usable value
	// is held (default DefaultMaxWait, within (0, MaxMaxWait]), in real
	// time.
	MaxWait time.Duration
	// Logger receives failed fetches with their cause, the same failure at
	// most once per 10 s with a count of the repeats, and recovery after
	// failures (default slog.Default()).
	Logger *slog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Observer, if set, receives an authgate.EventDocumentFetch for every
	// fetch of the document (OutcomeOK, or OutcomeError with Reason
	// "unavailable"), with Provider Name and the fetch's Duration.
	Observer authgate.Observer
}

// RemoteDocument is a remote document kept fresh with the guard rails of a
// RemoteKeySet: https only (loopback excepted), a 5 s timeout, no
// redirects or cookies, a 256 KiB body cap, one fetch in flight, refreshes
// in the background, failures backed off (1 s doubling to 1 min), a
// background retry every 1 to 5 s while no usable value is held, lookups
// waiting MaxWait at most, and the last good value served for MaxKeyAge. Keycloak's realm document
// (tokens-not-before) is one. It is safe for concurrent use.
type RemoteDocument[T any] struct {
	name    string
	maxWait time.Duration
	waited  error
	cache   *remote.Cache[T]
}

// NewRemoteDocument validates cfg and returns the document. It does no
// network I/O. It returns an error for a URL authgate does not fetch from
// (see CheckURL), a missing Parse and a MaxWait outside its bounds.
func NewRemoteDocument[T any](cfg RemoteDocumentConfig[T]) (*RemoteDocument[T], error) {
	if _, err := CheckURL(cfg.URL); err != nil {
		return nil, fmt.Errorf("document %w", err)
	}
	if cfg.Parse == nil {
		return nil, errors.New("a document parser is required")
	}
	every := cmp.Or(cfg.RefreshInterval, DefaultRefreshInterval)
	maxAge := cmp.Or(cfg.MaxKeyAge, DefaultMaxKeyAge)
	maxWait := cmp.Or(cfg.MaxWait, DefaultMaxWait)
	if maxWait < 0 || maxWait > MaxMaxWait {
		return nil, fmt.Errorf("document MaxWait %v outside (0, %v]", maxWait, MaxMaxWait)
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.Default()
	}
	client := remote.Client(cfg.HTTPClient, remote.DefaultTimeout)
	failures := remote.NewFailureLog(logger, "authgate: document fetch", cfg.Name, cfg.Now)
	fetch := func(ctx context.Context) (T, time.Duration, error) {
		var zero T
		body, _, err := remote.Get(ctx, client, cfg.URL)
		if err != nil {
			return zero, 0, err
		}
		v, ttl, err := cfg.Parse(body)
		if err != nil {
			return zero, 0, err
		}
		if ttl <= 0 {
			ttl = every
		}
		failures.Recovered()
		return v, ttl, nil
	}
	opts := remote.Options[T]{Now: cfg.Now, MaxStale: maxAge, OnError: failures.Log}
	if cfg.Observer != nil {
		opts.Observe = observeFetch[T](cfg.Observer, authgate.EventDocumentFetch, cfg.Name, nil)
	}
	return &RemoteDocument[T]{
		name:    cfg.Name,
		maxWait: maxWait,
		waited:  fmt.Errorf("no document within MaxWait (%v): %w", maxWait, context.DeadlineExceeded),
		cache:   remote.New(fetch, opts),
	}, nil
}

// Get returns the document's value: the cached one while it is usable,
// starting a background refresh once it is stale; with none, it waits for
// a fetch until MaxWait passes or ctx is done. Its error wraps
// authgate.ErrUnavailable.
func (d *RemoteDocument[T]) Get(ctx context.Context) (T, error) {
	if v, ok := d.cache.Cached(ctx); ok {
		return v, nil
	}
	ctx, cancel := context.WithTimeoutCause(ctx, d.maxWait, d.waited)
	defer cancel()
	v, err := d.cache.Get(ctx)
	if err != nil {
		return v, &authgate.Error{Provider: d.name, Kind: authgate.ErrUnavailable, Err: err}
	}
	return v, nil
}

// Prefetch fetches the document now and waits for it until ctx is done.
// Its error wraps authgate.ErrUnavailable.
func (d *RemoteDocument[T]) Prefetch(ctx context.Context) error {
	if err := d.cache.Prefetch(ctx); err != nil {
		return &authgate.Error{Provider: d.name, Kind: authgate.ErrUnavailable, Err: err}
	}
	return nil
}

// Ready reports, without any I/O, whether the document can answer now:
// nil while a value fetched less than MaxKeyAge ago is held; otherwise an
// error wrapping authgate.ErrUnavailable.
func (d *RemoteDocument[T]) Ready() error {
	ok, err := d.cache.Usable()
	switch {
	case ok:
		return nil
	case err == nil:
		err = errors.New("not fetched yet")
	}
	return &authgate.Error{Provider: d.name, Kind: authgate.ErrUnavailable, Err: fmt.Errorf("no usable document: %w", err)}
}

// CheckURL parses raw and checks it is a URL authgate fetches from: https,
// or plain http for loopback hosts (127.0.0.0/8, ::1, localhost) only; a
// host; no user information and no fragment.
func CheckURL(raw string) (*url.URL, error) { return remote.CheckURL(raw) }

// GuardedClient returns a copy of c (nil: a client over
// http.DefaultTransport) with the guard rails of authgate's own fetches:
// it follows no redirects (a 3xx answer is returned as it is, for the
// caller to refuse), keeps no cookies and gives up after timeout (or c's
// own shorter timeout; 0 or less means DefaultFetchTimeout). c is not
// modified. Providers that call an endpoint themselves, such as RFC 7662
// introspection, send through it.
func GuardedClient(c *http.Client, timeout time.Duration) *http.Client {
	if timeout <= 0 {
		timeout = DefaultFetchTimeout
	}
	return remote.Client(c, timeout)
}
