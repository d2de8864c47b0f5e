package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/apikey"
	"github.com/authgate/authgate/apikey/sqlstore"
	"github.com/authgate/authgate/providers"
	"github.com/authgate/authgate/redis/denylist"
)

// Readiness probing: a bounded probe per chained provider, its answer
// cached. A key set is asked whether it holds usable keys (Ready, no I/O)
// and fetched (Prefetch) only when it does not; a store looks up a digest
// no key has (one query); the deny-list, when configured, must be
// confirmed current.
const (
	// probeTimeout bounds one probe.
	probeTimeout = 5 * time.Second
	// readyWait is how long /readyz waits for the probes it starts before
	// answering from what it knows: Kubernetes' default probe timeout is 1 s.
	readyWait = 500 * time.Millisecond
	// probeRetry is how long a failed probe's answer is kept.
	probeRetry = 2 * time.Second
	// keysRecheck and storeRecheck are how long a successful probe's answer
	// is kept: a key fetch per minute at most, a store query every 5 s.
	keysRecheck  = time.Minute
	storeRecheck = 5 * time.Second
	// denyListRecheck: the deny-list's freshness is read from memory.
	denyListRecheck = time.Second
)

// probe is the cached readiness of one provider.
type probe struct {
	name  string
	check func(context.Context) error
	// every is how long a success is kept before the next check.
	every time.Duration
	// usable is how long after its last success the provider can still
	// answer while checks fail: a key set's max_key_age (its last good
	// keys keep verifying), 0 for a store (every lookup needs it).
	usable time.Duration
	// startFail is the message of a failed start-up check.
	startFail string

	mu      sync.Mutex
	lastOK  time.Time
	checked time.Time
	err     error
	running chan struct{} // closed when the check in flight ends
}

// readiness holds the probes of a gateway's chained providers.
type readiness struct {
	probes []*probe
	logger *slog.Logger
	now    func() time.Time
}

func newReadiness(g *gateway, logger *slog.Logger) *readiness {
	r := &readiness{logger: logger, now: time.Now}
	for _, name := range g.cfg.Chain {
		p := g.byName[name]
		if p == nil {
			continue
		}
		switch {
		case p.prefetch != nil:
			r.probes = append(r.probes, &probe{name: name, check: keysCheck(p), every: keysRecheck, usable: cmpOr(p.cfg.Fetch.MaxKeyAge, providers.DefaultMaxKeyAge), startFail: "authgate: key prefetch failed"})
		case p.store != nil:
			r.probes = append(r.probes, &probe{name: name, check: storeCheck(p.store), every: storeRecheck, startFail: "authgate: key store check failed"})
		}
	}
	if g.deny != nil {
		r.probes = append(r.probes, &probe{name: "deny-list", check: denyListCheck(g.deny), every: denyListRecheck, startFail: "authgate: deny-list not loaded"})
	}
	return r
}

// keysCheck asks the provider whether it holds usable keys (no I/O), and
// fetches them only when it does not.
func keysCheck(p *provider) func(context.Context) error {
	return func(ctx context.Context) error {
		if p.ready != nil && p.ready() == nil {
			return nil
		}
		return p.prefetch(ctx)
	}
}

// denyListCheck is ready while the deny-list's copy is confirmed current
// (within its grace): past it, guarded requests answer 503.
func denyListCheck(l *denylist.List) func(context.Context) error {
	return func(context.Context) error {
		if l.Fresh() {
			return nil
		}
		return fmt.Errorf("%w: the deny-list is not confirmed current", authgate.ErrUnavailable)
	}
}

func cmpOr(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// storeCheck looks up a digest no key has: the store answers "not found"
// when it is reachable.
func storeCheck(s *sqlstore.Store) func(context.Context) error {
	return func(ctx context.Context) error {
		_, err := s.Lookup(ctx, apikey.Digest{})
		if err == nil || errors.Is(err, apikey.ErrNotFound) {
			return nil
		}
		return fmt.Errorf("%w: %w", authgate.ErrUnavailable, err)
	}
}

// start runs every probe once, as serve's start-up prefetch, each bounded
// by timeout; failures are logged, not fatal. wait, when set, waits for
// them, or for ctx.
func (r *readiness) start(ctx context.Context, timeout time.Duration, wait bool) {
	var pending []chan struct{}
	for _, p := range r.probes {
		pending = append(pending, p.begin(ctx, r, timeout, true))
	}
	if !wait {
		return
	}
	for _, done := range pending {
		select {
		case <-done:
		case <-ctx.Done():
			return
		}
	}
}

// begin starts a check unless one is in flight, and returns the channel
// closed when the check in flight ends. A start-up check logs its failure
// as the prefetch's; later checks log the changes of readiness.
func (p *probe) begin(ctx context.Context, r *readiness, timeout time.Duration, startup bool) chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.running != nil {
		return p.running
	}
	done := make(chan struct{})
	p.running = done
	go func() {
		defer close(done)
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
		err := p.check(cctx)
		cancel()
		now := r.now()
		p.mu.Lock()
		wasReady := p.readyLocked(now)
		p.checked, p.err, p.running = now, err, nil
		if err == nil {
			p.lastOK = now
		}
		ready := p.readyLocked(now)
		p.mu.Unlock()
		switch {
		case startup && err != nil && ctx.Err() == nil:
			r.logger.Warn(p.startFail, "provider", p.name, "reason", authgate.Reason(err), "cause", causeOf(err))
		case startup:
		case wasReady && !ready:
			r.logger.Warn("authgate: provider not ready", "provider", p.name, "reason", authgate.Reason(err), "cause", causeOf(err))
		case !wasReady && ready:
			r.logger.Info("authgate: provider ready", "provider", p.name)
		}
	}()
	return done
}

// readyLocked reports whether the provider can answer: its last check
// succeeded, or its last success is recent enough for what it held then
// to be still usable.
func (p *probe) readyLocked(now time.Time) bool {
	switch {
	case p.lastOK.IsZero():
		return false
	case p.err == nil:
		return true
	}
	return now.Sub(p.lastOK) < p.usable
}

// stale reports whether the cached answer should be checked again.
func (p *probe) staleLocked(now time.Time) bool {
	if p.checked.IsZero() {
		return p.running == nil
	}
	keep := p.every
	if p.err != nil {
		keep = probeRetry
	}
	return now.Sub(p.checked) >= keep
}

// check answers /readyz: it starts the checks whose answer is stale,
// waits for them up to readyWait (or ctx), and returns the providers that
// cannot answer, with the reason of their last check.
func (r *readiness) check(ctx context.Context) []string {
	var pending []chan struct{}
	now := r.now()
	for _, p := range r.probes {
		p.mu.Lock()
		stale := p.staleLocked(now)
		running := p.running
		p.mu.Unlock()
		switch {
		case stale:
			pending = append(pending, p.begin(ctx, r, probeTimeout, false))
		case running != nil:
			pending = append(pending, running)
		}
	}
	if len(pending) > 0 {
		t := time.NewTimer(readyWait)
		defer t.Stop()
	wait:
		for _, done := range pending {
			select {
			case <-done:
			case <-t.C:
				break wait
			case <-ctx.Done():
				break wait
			}
		}
	}
	var out []string
	now = r.now()
	for _, p := range r.probes {
		p.mu.Lock()
		if !p.readyLocked(now) {
			reason := "not checked yet"
			if p.err != nil {
				reason = authgate.Reason(p.err)
			}
			out = append(out, p.name+" ("+reason+")")
		}
		p.mu.Unlock()
	}
	return out
}

// serveLive answers /livez (and /healthz): the process serves.
func serveLive(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	io.WriteString(w, "ok\n")
}

// serveReady answers /readyz: 200 when every chained provider can answer,
// else 503 naming those that cannot (names and reasons only).
func serveReady(w http.ResponseWriter, r *http.Request, rd *readiness) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if bad := rd.check(r.Context()); len(bad) > 0 {
		w.WriteHeader(http.StatusServiceUnavailable)
		io.WriteString(w, "not ready: "+strings.Join(bad, ", ")+"\n")
		return
	}
	io.WriteString(w, "ok\n")
}
