// Package prometheus is an authgate.Observer that records authgate's
// events as Prometheus metrics (github.com/prometheus/client_golang):
// authentication and authorization decisions by provider, outcome and
// reason, their latency, key-set fetches and their failures, the age and
// number of the keys held, cache hits, misses and size, credential-store
// lookups and their errors, and limiter refusals.
//
// Give the Observer to the adapters (httpauth.WithObserver,
// ginauth.WithObserver) and to the providers' configurations, and serve
// the registry with promhttp.HandlerFor.
//
// Every label value is bounded: outcomes and reasons come from the fixed
// sets of the authgate package (authgate.Outcomes, authgate.Reasons), and
// provider names from the configuration ([Config.Providers]); anything else
// is recorded as "other". No label ever holds request data.
//
// The metrics, with the default namespace "authgate":
//
//	authgate_authentications_total{provider,outcome,reason}      counter
//	authgate_authentication_duration_seconds{provider,outcome}   histogram
//	authgate_authorizations_total{provider,outcome,reason}       counter
//	authgate_key_fetches_total{provider,outcome}                 counter (outcome ok or error)
//	authgate_key_fetch_duration_seconds{provider}                histogram
//	authgate_keys{provider}                                      gauge: usable keys after the last good fetch
//	authgate_key_age_seconds{provider}                           gauge: time since the last good fetch
//	authgate_cache_lookups_total{provider,outcome}               counter (hit or miss)
//	authgate_cache_entries{provider}                             gauge
//	authgate_store_lookups_total{provider,outcome}               counter (hit, miss or error)
//	authgate_store_lookup_duration_seconds{provider}             histogram
//	authgate_limiter_refusals_total{provider}                    counter
//	authgate_document_fetches_total{provider,outcome}            counter
//	authgate_subscription_up{provider}                           gauge (1 up, 0 lost)
package prometheus

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	prom "github.com/prometheus/client_golang/prometheus"

	"github.com/authgate/authgate"
)

// DefaultNamespace is the prefix of the metric names when
// Config.Namespace is empty.
const DefaultNamespace = "authgate"

// Other is the label value recorded for a provider, outcome or reason
// outside the bounded sets.
const Other = "other"

// MaxProviders is how many distinct provider names an Observer without
// Config.Providers records; later names are recorded as "other".
const MaxProviders = 64

// DefaultBuckets are the upper bounds, in seconds, of the latency
// histograms when Config.Buckets is nil: from 100 µs (a cached
// credential) to 10 s (a key fetch that times out).
var DefaultBuckets = []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}

// Config configures an Observer. The zero value is valid.
type Config struct {
	// Namespace is the prefix of every metric name; empty means
	// DefaultNamespace.
	Namespace string
	// Providers, when not empty, are the only provider names recorded
	// as they are (those of the configuration); events of any other
	// provider are recorded with provider="other". When empty, the first
	// MaxProviders distinct names are recorded as they are.
	Providers []string
	// Buckets are the upper bounds of the latency histograms, in
	// seconds; nil means DefaultBuckets.
	Buckets []float64
	// Now returns the current time, for authgate_key_age_seconds; nil
	// means time.Now.
	Now func() time.Time
}

// Observer records authgate events as Prometheus metrics. It implements
// authgate.Observer and is safe for concurrent use.
type Observer struct {
	authentications *prom.CounterVec
	authnDuration   *prom.HistogramVec
	authorizations  *prom.CounterVec
	keyFetches      *prom.CounterVec
	fetchDuration   *prom.HistogramVec
	keys            *prom.GaugeVec
	keyAge          *ageCollector
	cacheLookups    *prom.CounterVec
	cacheEntries    *prom.GaugeVec
	storeLookups    *prom.CounterVec
	storeDuration   *prom.HistogramVec
	refusals        *prom.CounterVec
	documents       *prom.CounterVec
	subscriptions   *prom.GaugeVec

	providers names
	outcomes  map[authgate.Outcome]string
	reasons   map[string]string
}

// New returns an Observer whose metrics are registered with reg. It
// returns an error when reg is nil, when a bucket list is not strictly
// increasing, or when reg refuses a metric (one of the same name is
// registered already: give each Observer its own registry or namespace).
func New(reg prom.Registerer, cfg Config) (*Observer, error) {
	if reg == nil {
		return nil, errors.New("prometheus: nil registerer")
	}
	ns := cfg.Namespace
	if ns == "" {
		ns = DefaultNamespace
	}
	buckets := cfg.Buckets
	if buckets == nil {
		buckets = DefaultBuckets
	}
	if len(buckets) == 0 || !slices.IsSorted(buckets) || len(slices.Compact(slices.Clone(buckets))) != len(buckets) {
		return nil, errors.New("prometheus: buckets must be strictly increasing")
	}
	buckets = slices.Clone(buckets)
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	counter := func(name, help string, labels ...string) *prom.CounterVec {
		return prom.NewCounterVec(prom.CounterOpts{Namespace: ns, Name: name, Help: help}, labels)
	}
	histogram := func(name, help string, labels ...string) *prom.HistogramVec {
		return prom.NewHistogramVec(prom.HistogramOpts{Namespace: ns, Name: name, Help: help, Buckets: buckets}, labels)
	}
	gauge := func(name, help string, labels ...string) *prom.GaugeVec {
		return prom.NewGaugeVec(prom.GaugeOpts{Namespace: ns, Name: name, Help: help}, labels)
	}
	o := &Observer{
		authentications: counter("authentications_total", "Authentication decisions, by the provider that decided, outcome and reason.", "provider", "outcome", "reason"),
		authnDuration:   histogram("authentication_duration_seconds", "Time spent authenticating a request.", "provider", "outcome"),
		authorizations:  counter("authorizations_total", "Guard decisions on authenticated principals (roles, scopes, permissions).", "provider", "outcome", "reason"),
		keyFetches:      counter("key_fetches_total", "Fetches of remote key sets and discovery documents; outcome error is a failure.", "provider", "outcome"),
		fetchDuration:   histogram("key_fetch_duration_seconds", "Time spent fetching a remote key set or discovery document.", "provider"),
		keys:            gauge("keys", "Usable keys held after the last successful key-set fetch.", "provider"),
		keyAge: &ageCollector{
			desc: prom.NewDesc(prom.BuildFQName(ns, "", "key_age_seconds"), "Time since the last successful key-set fetch.", []string{"provider"}, nil),
			now:  now,
			last: map[string]time.Time{},
		},
		cacheLookups:  counter("cache_lookups_total", "Lookups in providers' caches of verified credentials.", "provider", "outcome"),
		cacheEntries:  gauge("cache_entries", "Entries held by a provider's cache of verified credentials.", "provider"),
		storeLookups:  counter("store_lookups_total", "Lookups in credential stores; outcome error is a store failure.", "provider", "outcome"),
		storeDuration: histogram("store_lookup_duration_seconds", "Time spent looking a credential up in its store.", "provider"),
		refusals:      counter("limiter_refusals_total", "Requests refused by a failed-attempt limiter.", "provider"),
		documents:     counter("document_fetches_total", "Fetches of remote documents other than key sets (a realm document, a sign-in provider's discovery).", "provider", "outcome"),
		subscriptions: gauge("subscription_up", "Whether a subscription to shared state (API-key changes, a deny-list) is established: 1, or 0 while it is lost.", "provider"),
		outcomes:      map[authgate.Outcome]string{},
		reasons:       map[string]string{"": ""},
	}
	for _, out := range authgate.Outcomes() {
		o.outcomes[out] = string(out)
	}
	for _, r := range authgate.Reasons() {
		o.reasons[r] = r
	}
	if len(cfg.Providers) > 0 {
		fixed := map[string]string{}
		for _, p := range cfg.Providers {
			fixed[p] = p
		}
		o.providers.fixed = fixed
	} else {
		o.providers.seen.Store(&map[string]string{})
	}
	for _, c := range []prom.Collector{
		o.authentications, o.authnDuration, o.authorizations, o.keyFetches, o.fetchDuration, o.keys,
		o.keyAge, o.cacheLookups, o.cacheEntries, o.storeLookups, o.storeDuration, o.refusals,
		o.documents, o.subscriptions,
	} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("prometheus: %w", err)
		}
	}
	return o, nil
}

// Observe records e. Events of an unknown kind are ignored.
func (o *Observer) Observe(_ context.Context, e authgate.Event) {
	provider := o.providers.label(e.Provider)
	outcome, ok := o.outcomes[e.Outcome]
	if !ok {
		outcome = Other
	}
	reason, ok := o.reasons[e.Reason]
	if !ok {
		reason = Other
	}
	switch e.Kind {
	case authgate.EventAuthentication:
		o.authentications.WithLabelValues(provider, outcome, reason).Inc()
		o.authnDuration.WithLabelValues(provider, outcome).Observe(e.Duration.Seconds())
	case authgate.EventAuthorization:
		o.authorizations.WithLabelValues(provider, outcome, reason).Inc()
	case authgate.EventKeyFetch:
		o.keyFetches.WithLabelValues(provider, outcome).Inc()
		o.fetchDuration.WithLabelValues(provider).Observe(e.Duration.Seconds())
		if e.Outcome == authgate.OutcomeOK {
			o.keys.WithLabelValues(provider).Set(float64(e.Keys))
			o.keyAge.fetched(provider)
		}
	case authgate.EventCacheLookup:
		o.cacheLookups.WithLabelValues(provider, outcome).Inc()
		o.cacheEntries.WithLabelValues(provider).Set(float64(e.Size))
	case authgate.EventStoreLookup:
		o.storeLookups.WithLabelValues(provider, outcome).Inc()
		o.storeDuration.WithLabelValues(provider).Observe(e.Duration.Seconds())
	case authgate.EventLimiterRefusal:
		o.refusals.WithLabelValues(provider).Inc()
	case authgate.EventDocumentFetch:
		o.documents.WithLabelValues(provider, outcome).Inc()
	case authgate.EventSubscription:
		up := 0.0
		if e.Outcome == authgate.OutcomeOK {
			up = 1
		}
		o.subscriptions.WithLabelValues(provider).Set(up)
	}
}

// names bounds provider label values: a fixed set from the configuration,
// or the first MaxProviders names seen. The seen set is copied on write,
// so a lookup takes no lock and allocates nothing.
type names struct {
	fixed map[string]string
	mu    sync.Mutex
	seen  atomic.Pointer[map[string]string]
}

func (n *names) label(name string) string {
	if n.fixed != nil {
		if v, ok := n.fixed[name]; ok {
			return v
		}
		return Other
	}
	if v, ok := (*n.seen.Load())[name]; ok {
		return v
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	cur := *n.seen.Load()
	if v, ok := cur[name]; ok {
		return v
	}
	if len(cur) >= MaxProviders {
		return Other
	}
	next := maps.Clone(cur)
	next[name] = name
	n.seen.Store(&next)
	return name
}

// ageCollector reports, at each scrape, the time since each provider's
// last successful key-set fetch, so the age grows while fetches fail.
type ageCollector struct {
	desc *prom.Desc
	now  func() time.Time
	mu   sync.Mutex
	last map[string]time.Time
}

func (a *ageCollector) fetched(provider string) {
	t := a.now()
	a.mu.Lock()
	a.last[provider] = t
	a.mu.Unlock()
}

// Describe implements prometheus.Collector.
func (a *ageCollector) Describe(ch chan<- *prom.Desc) { ch <- a.desc }

// Collect implements prometheus.Collector.
func (a *ageCollector) Collect(ch chan<- prom.Metric) {
	a.mu.Lock()
	last := maps.Clone(a.last)
	a.mu.Unlock()
	now := a.now()
	for p, t := range last {
		ch <- prom.MustNewConstMetric(a.desc, prom.GaugeValue, max(now.Sub(t).Seconds(), 0), p)
	}
}
