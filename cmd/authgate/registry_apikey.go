package main

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/authgate/authgate/apikey"
	"github.com/authgate/authgate/apikey/sqlstore"
)

// apikeySettings are the fields of an API-key provider.
type apikeySettings struct {
	Prefix         string
	Store          string // DSN as written; sqlite paths resolved in dsn
	StoreEnv       string
	PepperEnv      string
	Header         string
	CacheTTL       time.Duration // -1 for "0s": no cache
	RequireExpiry  bool
	FailureLimit   int // failed attempts per client and FailureWindow
	FailureWindow  time.Duration
	ClientIPHeader string // header the proxy sets to the client address
	StoreMaxConns  int    // 0: sqlstore.DefaultMaxOpenConns

	pepper []byte // from PepperEnv; never printed
	dsn    string // from StoreEnv or Store; may hold a password, never printed
}

var apikeyType = kind[apikeySettings]{
	name: "apikey",
	required: []requirement{
		need("a prefix is required", "prefix"),
		need("a store DSN (store) or store_env is required", "store", "store_env"),
	},
	fields: func(s *apikeySettings) []spec {
		var dsn []byte
		return []spec{
			stringField("prefix", &s.Prefix),
			{"store", func(d *decoder, n *yaml.Node, path string) {
				s.Store = d.nonEmpty(n, path)
				if hasPassword(s.Store) {
					d.errorf(n, path, "the DSN holds a password: secrets are never read from the configuration file; put the whole DSN in an environment variable and name it with store_env")
					s.Store = ""
				}
				if s.Store != "" {
					s.dsn = resolveDSN(s.Store, d.dir)
				}
			}},
			{"store_env", func(d *decoder, n *yaml.Node, path string) {
				envField("store_env", &s.StoreEnv, &dsn).decode(d, n, path)
				if dsn != nil {
					s.dsn = string(dsn)
				}
			}},
			envField("pepper_env", &s.PepperEnv, &s.pepper),
			stringField("header", &s.Header),
			{"cache_ttl", func(d *decoder, n *yaml.Node, path string) {
				if s.CacheTTL = d.duration(n, path); s.CacheTTL == 0 {
					s.CacheTTL = -1 // "0s": no cache
				}
			}},
			boolField("require_expiry", &s.RequireExpiry),
			intField("failure_limit", &s.FailureLimit, 0, 1_000_000),
			durationField("failure_window", &s.FailureWindow),
			stringField("client_ip_header", &s.ClientIPHeader),
			intField("store_max_connections", &s.StoreMaxConns, 1, 1000),
		}
	},
	check: func(s *apikeySettings, p *ProviderConfig, d *decoder) {
		_, store := p.lines["store"]
		if _, env := p.lines["store_env"]; store && env {
			d.errorAt(p.line("store_env"), p.path("store_env"), "set store or store_env, not both")
		}
	},
	build: buildAPIKey,
}.entry()

// buildAPIKey constructs an API-key provider over its store; with o.dry,
// over an empty store in memory, opening nothing.
func buildAPIKey(ctx context.Context, s *apikeySettings, pc *ProviderConfig, o buildOptions) (*provider, string, error) {
	cfg := apikey.Config{
		Name:          pc.Name,
		Prefix:        s.Prefix,
		Header:        s.Header,
		Pepper:        s.pepper,
		CacheTTL:      s.CacheTTL,
		RequireExpiry: s.RequireExpiry,
		FailureLimit:  s.FailureLimit,
		FailureWindow: s.FailureWindow,
		Logger:        o.logger,
		Observer:      o.observer,
		Now:           o.now,
	}
	if h := s.ClientIPHeader; h != "" {
		// The proxy in front of serve sets this header to the client's
		// address (replacing any the client sent); without it, every
		// request would come from the proxy's own address. A request
		// without it counts against its peer's address without the port:
		// with the port, reconnecting would buy a fresh budget.
		cfg.ClientIP = func(r *http.Request) string {
			if v := r.Header.Get(h); v != "" {
				return v
			}
			return apikey.RemoteIP(r)
		}
	}
	// Validate the configuration before opening anything.
	a, err := apikey.New(apikey.NewMemoryStore(), cfg)
	if err != nil {
		return nil, "", err
	}
	if o.dry {
		return &provider{cfg: pc, auth: a, keys: a}, "", nil
	}
	field := "store"
	if s.StoreEnv != "" {
		field = "store_env"
	}
	store, err := sqlstore.OpenConfig(ctx, sqlstore.Config{
		DSN:          s.dsn,
		MaxOpenConns: s.StoreMaxConns,
		// serve starts while a database server is unreachable: the
		// provider answers 503 until it is back (the migration runs then)
		// and the other providers serve meanwhile. A SQLite file that
		// cannot be opened is no outage but a mistake: it stops serve.
		Lazy:   o.chained && !strings.HasPrefix(s.dsn, "sqlite:"),
		Logger: o.logger.With("provider", pc.Name),
	})
	if errors.Is(err, sqlstore.ErrUnsupportedDSN) {
		return nil, field, err
	}
	if err != nil {
		return nil, field, &runtimeError{err}
	}
	if err := o.redis.limit(&cfg); err != nil {
		store.Close()
		return nil, "", err
	}
	if a, err = apikey.New(store, cfg); err != nil {
		store.Close()
		return nil, "", err
	}
	return &provider{cfg: pc, auth: a, keys: a, store: store}, "", nil
}

// hasPassword reports whether a store DSN carries a password: a URL with
// user:password@ or a password query parameter.
func hasPassword(dsn string) bool {
	u, err := url.Parse(dsn)
	if err != nil {
		return strings.Contains(strings.ToLower(dsn), "password")
	}
	if u.User != nil {
		if _, ok := u.User.Password(); ok {
			return true
		}
	}
	for k := range u.Query() {
		if strings.EqualFold(k, "password") {
			return true
		}
	}
	return false
}

// resolveDSN anchors a relative SQLite path at dir.
func resolveDSN(dsn, dir string) string {
	path, ok := strings.CutPrefix(dsn, "sqlite:")
	if !ok || path == "" || strings.HasPrefix(path, ":memory:") || strings.HasPrefix(path, "file:") {
		return dsn
	}
	file, query, _ := strings.Cut(path, "?")
	if filepath.IsAbs(file) {
		return dsn
	}
	out := "sqlite:" + filepath.Join(dir, file)
	if query != "" {
		out += "?" + query
	}
	return out
}
