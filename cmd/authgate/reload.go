package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"sync"
	"syscall"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/internal/adapter"
)

// generation is one configuration as serve runs it: the built gateway, its
// loggers and its readiness. A reload builds a new generation and swaps it
// in; requests hold the generation they started with until they end, and
// the old one is closed once the last of them has.
type generation struct {
	g *gateway
	// base is the configuration's logger; logger is base rate-limited
	// (dedup), for what requests log.
	base   *slog.Logger
	logger *slog.Logger
	dedup  *dedupHandler
	log    adapter.Config
	realm  string
	ready  *readiness
	// identities remembers the identity headers of recent principals.
	identities *identityMemo
	// owned is set when the generation built g and closes it.
	owned bool

	// mu is held for reading by every request of the generation, and for
	// writing by retire, which therefore waits for them.
	mu      sync.RWMutex
	retired bool
}

// newGeneration builds cfg's providers with loggers writing to w, reporting
// their events and the decisions of /verify to obs (nil: none). obs
// outlives the generation: serve creates it once, so that a reload keeps
// counting into the same metrics.
func newGeneration(ctx context.Context, cfg *Config, w io.Writer, obs authgate.Observer) (*generation, error) {
	base := newLogger(cfg.Log, w)
	dedup := newDedupHandler(base.Handler(), logWindow, nil)
	limited := slog.New(dedup)
	// Only what the chain names is built: a provider it leaves out is
	// neither constructed nor prefetched, and its store is not opened.
	g, err := build(ctx, cfg, buildOptions{logger: limited, chained: true, observer: obs})
	if err != nil {
		dedup.Close()
		return nil, err
	}
	gen := newGenerationOf(g, base, dedup)
	gen.log.Observer = obs
	gen.owned = true
	return gen, nil
}

// wrapGateway is the generation of a gateway built elsewhere, which stays
// its builder's to close.
func wrapGateway(g *gateway, logger *slog.Logger) *generation {
	return newGenerationOf(g, logger, newDedupHandler(logger.Handler(), logWindow, nil))
}

func newGenerationOf(g *gateway, base *slog.Logger, dedup *dedupHandler) *generation {
	limited := slog.New(dedup)
	return &generation{
		g:      g,
		base:   base,
		logger: limited,
		dedup:  dedup,
		log:    adapter.Config{Realm: g.cfg.Realm, Logger: limited, LoggerSet: true},
		realm:  g.cfg.Realm,
		ready:  newReadiness(g, base),

		identities: newIdentityMemo(),
	}
}

// acquire returns the current generation, held for one request.
func (h *handler) acquire() *generation {
	for {
		gen := h.cur.Load()
		// TryRLock fails only while retire waits for the generation, which
		// it does after the swap: the next Load has the new one. A request
		// never waits for the old generation's requests.
		if gen.mu.TryRLock() {
			if !gen.retired {
				return gen
			}
			gen.mu.RUnlock()
		}
		runtime.Gosched()
	}
}

// release ends a request of the generation.
func (gen *generation) release() { gen.mu.RUnlock() }

// retire waits for the generation's requests to end and closes it.
func (gen *generation) retire() error {
	gen.mu.Lock()
	gen.retired = true
	gen.mu.Unlock()
	return gen.close()
}

// close closes what the generation built and writes its pending log
// counts.
func (gen *generation) close() error {
	var err error
	if gen.owned {
		err = gen.g.Close()
	}
	gen.dedup.Close()
	return err
}

// reload re-reads the configuration file (and with it every key file it
// names) and, when it is valid and its providers can be built, swaps it
// in once its remote keys are fetched (or prefetchTimeout has passed).
// An invalid configuration is logged, error by error, and the running
// one keeps serving. The new providers report to obs, the observer serve
// created at start. The listen addresses (listen, metrics.listen) cannot
// change without a restart.
func (h *handler) reload(e *env, path, listenFlag string, obs authgate.Observer) {
	old := h.cur.Load()
	logger := old.base
	logger.Info("authgate: reloading", "config", baseName(path))
	cfg, err := LoadConfig(path, e.getenv)
	if err == nil && listenFlag == "" && cfg.Listen != old.g.cfg.Listen {
		logger.Warn("authgate: listen changed: restart to apply it", "listen", old.g.cfg.Listen, "new", cfg.Listen)
	}
	if err == nil && cfg.Metrics.Listen != old.g.cfg.Metrics.Listen {
		logger.Warn("authgate: metrics.listen changed: restart to apply it", "listen", old.g.cfg.Metrics.Listen, "new", cfg.Metrics.Listen)
	}
	if err == nil && cfg.ExtAuthz.Listen != old.g.cfg.ExtAuthz.Listen {
		logger.Warn("authgate: ext_authz.listen changed: restart to apply it", "listen", old.g.cfg.ExtAuthz.Listen, "new", cfg.ExtAuthz.Listen)
	}
	var gen *generation
	if err == nil {
		gen, err = newGeneration(e.ctx, cfg, e.stderr, obs)
	}
	if err != nil {
		logReloadError(logger, err)
		return
	}
	gen.ready.start(e.ctx, prefetchTimeout, true)
	h.cur.Store(gen)
	gen.base.Info("authgate: configuration reloaded", "chain", strings.Join(cfg.Chain, ","), "rules", len(gen.g.rules))
	go func() {
		if err := old.retire(); err != nil {
			gen.base.Warn("authgate: closing the previous configuration", "cause", causeOf(err))
		}
	}()
}

func logReloadError(logger *slog.Logger, err error) {
	var ce *ConfigError
	if errors.As(err, &ce) {
		for _, fe := range ce.Errors {
			logger.Error("authgate: reload refused, configuration kept", "error", fe.Error())
		}
		return
	}
	logger.Error("authgate: reload refused, configuration kept", "error", causeOf(err))
}

// notifyHangup delivers SIGHUP while serve runs.
func notifyHangup() (<-chan struct{}, func()) {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGHUP)
	out := make(chan struct{}, 1)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-sig:
				select {
				case out <- struct{}{}:
				default: // a reload is already pending
				}
			case <-done:
				return
			}
		}
	}()
	return out, func() { signal.Stop(sig); close(done) }
}
