package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/apikey"
	"github.com/authgate/authgate/apikey/sqlstore"
	"github.com/authgate/authgate/chain"
	"github.com/authgate/authgate/redis/denylist"
)

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
	// deny is the deny-list guarding every provider, when configured:
	// readiness requires it to be current.
	deny    *denylist.List
	closers []func() error
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
	// ready reports without I/O whether the provider holds usable keys
	// (and documents): nil when readiness needs no prefetch.
	ready func() error
}

// buildOptions tune build.
type buildOptions struct {
	logger *slog.Logger
	// only, when set, builds just these providers (and no chain or rules):
	// the apikey command needs one store, not every provider.
	only []string
	// chained builds only the providers the chain names (serve): the
	// others are neither constructed, nor prefetched, nor opened.
	chained bool
	// observer receives every provider's events (key fetches, cache and
	// store lookups, limiter refusals); nil reports nothing.
	observer authgate.Observer
	// now is the clock of every provider (tests); nil means time.Now.
	now func() time.Time
	// dry constructs without opening anything: an apikey provider gets an
	// empty store in memory. ParseConfig checks every provider this way.
	dry bool
	// redis is serve's Redis (deny-list, shared limiter), set by build
	// for a chained build of a file with a redis section (redis.go).
	redis *redisRuntime
}

// builds reports whether o builds the provider named name.
func (o buildOptions) builds(cfg *Config, name string) bool {
	switch {
	case o.only != nil:
		return slices.Contains(o.only, name)
	case o.chained:
		return slices.Contains(cfg.Chain, name)
	}
	return true
}

// build constructs the providers through their packages' constructors
// (every provider, or those o selects), the chain and the rules.
// Construction errors are *ConfigError (exit 2) with the provider's line;
// a store that cannot be opened is a runtime error (exit 1). On error,
// whatever was opened is closed.
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
	if o.chained && !o.dry {
		rt, closers, err := openRedis(ctx, cfg, o)
		if err != nil {
			return nil, err
		}
		o.redis = rt
		g.closers = append(g.closers, closers...)
	}
	file := configFile(cfg)
	var cerrs []*FieldError
	for _, pc := range cfg.Providers {
		if !o.builds(cfg, pc.Name) {
			continue
		}
		p, ferr, err := construct(ctx, file, pc, o)
		if err != nil {
			return nil, err
		}
		if ferr != nil {
			cerrs = append(cerrs, ferr)
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
	o.redis.guard(g.providers)
	if o.redis != nil {
		g.deny = o.redis.deny
	}
	members := make([]*provider, 0, len(cfg.Chain))
	for _, name := range cfg.Chain {
		members = append(members, g.byName[name])
	}
	if g.chain, err = newChain(members); err != nil {
		return nil, &ConfigError{Errors: chainConflicts(file, members)}
	}
	for _, rc := range cfg.Rules {
		g.methodRules = g.methodRules || rc.Methods != nil
	}
	if g.rules, err = compileRules(cfg); err != nil {
		return nil, err
	}
	return g, nil
}

// construct builds one provider through its type's registry entry. An
// error of the file comes back as a FieldError at the line of the field
// it is about; any other error is returned as an error.
func construct(ctx context.Context, file string, pc *ProviderConfig, o buildOptions) (*provider, *FieldError, error) {
	t := lookupType(pc.Type)
	if t == nil {
		return nil, &FieldError{File: file, Line: pc.line("type"), Path: pc.path("type"), Reason: fmt.Sprintf("provider type %s is not available in this build", pc.Type)}, nil
	}
	p, field, err := t.build(ctx, pc, o)
	var rt *runtimeError
	switch {
	case errors.As(err, &rt):
		return nil, nil, fmt.Errorf("%s:%d: %s (%s): %w", file, pc.line(field), pc.path(field), pc.Name, rt.err)
	case err != nil:
		return nil, &FieldError{File: file, Line: pc.line(field), Path: pc.path(field) + " (" + pc.Name + ")", Reason: err.Error()}, nil
	}
	return p, nil, nil
}

// check constructs every provider whose entry holds no error, as build
// does but opening nothing, and composes the chain of those it names, so
// that what only a constructor or the chain knows is reported together
// with the file's other errors. byName holds the first entry of each
// name.
func (c *Config) check(d *decoder, byName map[string]*ProviderConfig) {
	built := map[string]*provider{}
	for _, pc := range c.Providers {
		if pc.bad {
			continue
		}
		p, ferr, err := construct(context.Background(), d.file, pc, buildOptions{logger: slog.New(slog.DiscardHandler), dry: true})
		switch {
		case ferr != nil:
			d.add(ferr)
		case err != nil:
			d.errorAt(pc.Line, pc.path(""), "%v", err)
		case byName[pc.Name] == pc:
			built[pc.Name] = p
		}
	}
	var members []*provider
	for _, name := range c.Chain {
		if p := built[name]; p != nil && !slices.Contains(members, p) {
			members = append(members, p)
		}
	}
	if _, err := newChain(members); len(members) > 0 && err != nil {
		for _, fe := range chainConflicts(d.file, members) {
			d.add(fe)
		}
	}
}

func newChain(members []*provider) (*chain.Chain, error) {
	auths := make([]authgate.Authenticator, len(members))
	for i, p := range members {
		auths[i] = p.auth
	}
	return chain.New(auths...)
}

// chainConflicts explains why members do not compose: each member that
// cannot join those before it is one error, at the line of the earlier
// entry it conflicts with (the first to claim an issuer, the catch-all
// placed before it), naming the later one's line too.
func chainConflicts(file string, members []*provider) []*FieldError {
	var out []*FieldError
	var ok []*provider
	for _, m := range members {
		_, err := newChain(append(slices.Clip(ok), m))
		if err == nil {
			ok = append(ok, m)
			continue
		}
		fe := &FieldError{File: file, Line: m.cfg.Line, Path: "chain", Reason: err.Error()}
		for _, prev := range ok {
			if _, err := newChain([]*provider{prev, m}); err != nil {
				fe.Line = prev.cfg.Line
				fe.Reason = fmt.Sprintf("%v (%s at line %d)", err, m.cfg.Name, m.cfg.Line)
				break
			}
		}
		out = append(out, fe)
	}
	return out
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
