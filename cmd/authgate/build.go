package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/apikey"
	"github.com/authgate/authgate/apikey/sqlstore"
	"github.com/authgate/authgate/chain"
	"github.com/authgate/authgate/providers"
	"github.com/authgate/authgate/static"
)

// maxKeyFile bounds a key file named by "keys".
const maxKeyFile = 1 << 20

// gateway is what a configuration builds: one authenticator per provider,
// their chain and the compiled rules.
type gateway struct {
	cfg       *Config
	providers []*provider // file order
	byName    map[string]*provider
	chain     *chain.Chain
	rules     []*rule
	// methodRules is set when a rule names methods: then the original
	// method must be forwarded explicitly.
	methodRules bool
	closers     []func() error
}

// provider is one built provider.
type provider struct {
	cfg  *ProviderConfig
	auth authgate.Authenticator
	// keys and store are set for type apikey.
	keys  *apikey.Authenticator
	store *sqlstore.Store
	// prefetch warms a remote provider's keys, if it has any.
	prefetch func(context.Context) error
}

// buildOptions tune build.
type buildOptions struct {
	logger *slog.Logger
	// only, when set, builds just these providers (and no chain or rules):
	// the apikey command needs one store, not every provider.
	only []string
	// now is the clock of every provider (tests); nil means time.Now.
	now func() time.Time
}

// build constructs every provider through its package's constructor, the
// chain and the rules. Construction errors are *ConfigError (exit 2) with
// the provider's line; a store that cannot be opened is a runtime error
// (exit 1). On error, whatever was opened is closed.
func build(ctx context.Context, cfg *Config, o buildOptions) (_ *gateway, err error) {
	if o.logger == nil {
		o.logger = slog.New(slog.DiscardHandler)
	}
	g := &gateway{cfg: cfg, byName: map[string]*provider{}}
	defer func() {
		if err != nil {
			g.Close()
		}
	}()
	file := configFile(cfg)
	var cerrs []*FieldError
	for _, pc := range cfg.Providers {
		if o.only != nil && !slices.Contains(o.only, pc.Name) {
			continue
		}
		p, field, err := buildProvider(ctx, pc, o)
		if err != nil {
			var rt *runtimeError
			if errors.As(err, &rt) {
				return nil, fmt.Errorf("%s:%d: %s (%s): %w", file, pc.line(field), pc.path(field), pc.Name, rt.err)
			}
			cerrs = append(cerrs, &FieldError{File: file, Line: pc.line(field), Path: pc.path(field) + " (" + pc.Name + ")", Reason: err.Error()})
			continue
		}
		g.providers = append(g.providers, p)
		g.byName[pc.Name] = p
		if p.keys != nil {
			g.closers = append(g.closers, p.keys.Close)
		}
		if p.store != nil {
			g.closers = append(g.closers, p.store.Close)
		}
	}
	if len(cerrs) > 0 {
		return nil, &ConfigError{Errors: cerrs}
	}
	if o.only != nil {
		return g, nil
	}
	members := make([]authgate.Authenticator, 0, len(cfg.Chain))
	for _, name := range cfg.Chain {
		members = append(members, g.byName[name].auth)
	}
	if g.chain, err = chain.New(members...); err != nil {
		line := cfg.chainLine
		if line == 0 {
			line = cfg.Providers[0].Line
		}
		return nil, &ConfigError{Errors: []*FieldError{{File: file, Line: line, Path: "chain", Reason: err.Error()}}}
	}
	for _, rc := range cfg.Rules {
		g.methodRules = g.methodRules || rc.Methods != nil
	}
	if g.rules, err = compileRules(cfg); err != nil {
		return nil, err
	}
	return g, nil
}

// Close closes the API-key authenticators (writing pending last uses) and
// their stores.
func (g *gateway) Close() error {
	var errs []error
	for _, c := range g.closers {
		errs = append(errs, c())
	}
	g.closers = nil
	return errors.Join(errs...)
}

// runtimeError marks a provider failure that is not the file's fault (a
// database that cannot be reached).
type runtimeError struct{ err error }

func (e *runtimeError) Error() string { return e.err.Error() }

func configFile(cfg *Config) string {
	return baseName(cfg.Path)
}

// buildProvider constructs one provider. It returns the field an error is
// about ("" for the provider as a whole).
func buildProvider(ctx context.Context, pc *ProviderConfig, o buildOptions) (*provider, string, error) {
	switch pc.Type {
	case "static":
		return buildStatic(pc, o)
	case "apikey":
		return buildAPIKey(ctx, pc, o)
	}
	if b, ok := remoteBuilders[pc.Type]; ok {
		return b(pc, o)
	}
	return nil, "type", fmt.Errorf("provider type %s is not available in this build", pc.Type)
}

func buildStatic(pc *ProviderConfig, o buildOptions) (*provider, string, error) {
	var keys []providers.Key
	if pc.Keys != "" {
		data, err := readLimited(pc.Keys, maxKeyFile)
		if err != nil {
			return nil, "keys", err
		}
		ks, err := providers.ParseKeys(data)
		if err != nil {
			return nil, "keys", fmt.Errorf("%s: %w", baseName(pc.Keys), err)
		}
		for _, k := range ks {
			if k.IsSecret() {
				return nil, "keys", fmt.Errorf("%s holds an HMAC secret: secrets come from the environment (secret_env), never from a file", baseName(pc.Keys))
			}
		}
		keys = append(keys, ks...)
	}
	if pc.secret != nil {
		keys = append(keys, providers.SecretKey(pc.secret))
	}
	a, err := static.New(static.Config{
		Keys:   keys,
		Issuer: pc.Issuer,
		TokenOptions: providers.TokenOptions{
			Name:        pc.Name,
			Algorithms:  pc.Algorithms,
			Audience:    pc.Audience,
			Claims:      pc.Claims,
			Leeway:      pc.Leeway,
			RolesClaim:  pc.RolesClaim,
			TenantClaim: pc.TenantClaim,
			TokenTypes:  pc.TokenTypes,
			CacheSize:   pc.CacheSize,
			CacheTTL:    pc.CacheTTL,
			Now:         o.now,
		},
	})
	if err != nil {
		return nil, "", err
	}
	return &provider{cfg: pc, auth: a}, "", nil
}

func buildAPIKey(ctx context.Context, pc *ProviderConfig, o buildOptions) (*provider, string, error) {
	ttl := pc.CacheTTL
	if _, set := pc.lines["cache_ttl"]; set && ttl == 0 {
		ttl = -1 // "0s": no cache
	}
	cfg := apikey.Config{
		Name:          pc.Name,
		Prefix:        pc.Prefix,
		Header:        pc.Header,
		Pepper:        pc.pepper,
		CacheTTL:      ttl,
		RequireExpiry: pc.RequireExpiry,
		FailureLimit:  pc.FailureLimit,
		FailureWindow: pc.FailureWindow,
		Logger:        o.logger,
		Now:           o.now,
	}
	if h := pc.ClientIPHeader; h != "" {
		// The proxy in front of serve sets this header to the client's
		// address (replacing any the client sent); without it, every
		// request would come from the proxy's own address.
		cfg.ClientIP = func(r *http.Request) string {
			if v := r.Header.Get(h); v != "" {
				return v
			}
			return r.RemoteAddr
		}
	}
	// Validate the configuration before opening anything.
	if _, err := apikey.New(apikey.NewMemoryStore(), cfg); err != nil {
		return nil, "", err
	}
	field := "store"
	if pc.StoreEnv != "" {
		field = "store_env"
	}
	store, err := sqlstore.Open(ctx, pc.storeDSN)
	if errors.Is(err, sqlstore.ErrUnsupportedDSN) {
		return nil, field, err
	}
	if err != nil {
		return nil, field, &runtimeError{err}
	}
	a, err := apikey.New(store, cfg)
	if err != nil {
		store.Close()
		return nil, "", err
	}
	return &provider{cfg: pc, auth: a, keys: a, store: store}, "", nil
}

// readLimited reads a file of at most max bytes.
func readLimited(path string, max int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > max {
		return nil, fmt.Errorf("%s: file larger than %d bytes", baseName(path), max)
	}
	return data, nil
}
