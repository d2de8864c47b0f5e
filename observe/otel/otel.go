// Package otel is an authgate.Observer over OpenTelemetry
// (go.opentelemetry.io/otel): a span per authentication, key-set fetch and
// credential-store lookup, and the metrics of package
// authgate/observe/prometheus through the OpenTelemetry metric API.
//
// Spans are children of the span in the request's context — the one an
// otelhttp handler started, or the one a forward-auth server extracted
// from the proxy's traceparent header — and carry the attributes
// authgate.provider, authgate.outcome and authgate.reason, never the
// credential. A technical failure (outcome "error") sets the span's status
// to Error; a refused credential does not, as it is the service working.
//
// The metrics, in seconds where they are durations:
//
//	authgate.authentications            counter   provider, outcome, reason
//	authgate.authentication.duration    histogram provider, outcome
//	authgate.authorizations             counter   provider, outcome, reason
//	authgate.key.fetches                counter   provider, outcome (ok or error)
//	authgate.key.fetch.duration         histogram provider
//	authgate.keys                       gauge     provider: usable keys after the last good fetch
//	authgate.key.age                    gauge     provider: time since the last good fetch
//	authgate.cache.lookups              counter   provider, outcome (hit or miss)
//	authgate.cache.entries              gauge     provider
//	authgate.store.lookups              counter   provider, outcome (hit, miss or error)
//	authgate.store.lookup.duration      histogram provider
//	authgate.limiter.refusals           counter   provider
//	authgate.document.fetches           counter   provider, outcome
//	authgate.subscription.up            gauge     provider (1 up, 0 lost)
//
// Attribute values are bounded as in package authgate/observe/prometheus:
// outcomes and reasons from the fixed sets of package authgate, provider
// names from [Config.Providers] (or the first [MaxProviders] seen), and
// "other" for anything else.
package otel

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	otelglobal "go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/authgate/authgate"
)

// ScopeName is the instrumentation scope of the tracer and the meter.
const ScopeName = "github.com/authgate/authgate/observe/otel"

// The attribute keys of spans and metrics.
const (
	ProviderKey = attribute.Key("authgate.provider")
	OutcomeKey  = attribute.Key("authgate.outcome")
	ReasonKey   = attribute.Key("authgate.reason")
)

// The span names.
const (
	SpanAuthenticate = "authgate.authenticate"
	SpanKeyFetch     = "authgate.key_fetch"
	SpanStoreLookup  = "authgate.store_lookup"
)

// Other is the attribute value recorded for a provider, outcome or reason
// outside the bounded sets.
const Other = "other"

// MaxProviders is how many distinct provider names an Observer without
// Config.Providers records; later names are recorded as "other".
const MaxProviders = 64

// DefaultBuckets are the explicit bucket boundaries, in seconds, advised
// for the duration histograms when Config.Buckets is nil.
var DefaultBuckets = []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}

// Config configures an Observer. The zero value uses the global tracer
// and meter providers (otel.GetTracerProvider, otel.GetMeterProvider).
type Config struct {
	// TracerProvider makes the spans; nil means the global one.
	TracerProvider trace.TracerProvider
	// MeterProvider makes the instruments; nil means the global one.
	MeterProvider metric.MeterProvider
	// Providers, when not empty, are the only provider names recorded
	// as they are (those of the configuration); any other is "other".
	// When empty, the first MaxProviders distinct names are recorded.
	Providers []string
	// Buckets are the bucket boundaries advised for the duration
	// histograms, in seconds; nil means DefaultBuckets.
	Buckets []float64
	// Now returns the current time, for span times and authgate.key.age;
	// nil means time.Now.
	Now func() time.Time
}

// Observer records authgate events as OpenTelemetry spans and metrics. It
// implements authgate.Observer and is safe for concurrent use.
type Observer struct {
	tracer   trace.Tracer
	internal trace.SpanStartOption
	now      func() time.Time

	authentications metric.Int64Counter
	authnDuration   metric.Float64Histogram
	authorizations  metric.Int64Counter
	keyFetches      metric.Int64Counter
	fetchDuration   metric.Float64Histogram
	keys            metric.Int64Gauge
	cacheLookups    metric.Int64Counter
	cacheEntries    metric.Int64Gauge
	storeLookups    metric.Int64Counter
	storeDuration   metric.Float64Histogram
	refusals        metric.Int64Counter
	documents       metric.Int64Counter
	subscriptions   metric.Int64Gauge

	mu       sync.Mutex
	lastGood map[string]time.Time // guarded by mu

	providers names
	outcomes  map[authgate.Outcome]string
	reasons   map[string]string
	sets      setCache
}

// New returns an Observer. It returns an error when a bucket list is not
// strictly increasing or when the meter provider refuses an instrument.
func New(cfg Config) (*Observer, error) {
	tp := cfg.TracerProvider
	if tp == nil {
		tp = otelglobal.GetTracerProvider()
	}
	mp := cfg.MeterProvider
	if mp == nil {
		mp = otelglobal.GetMeterProvider()
	}
	buckets := cfg.Buckets
	if buckets == nil {
		buckets = DefaultBuckets
	}
	if len(buckets) == 0 || !slices.IsSorted(buckets) || len(slices.Compact(slices.Clone(buckets))) != len(buckets) {
		return nil, errors.New("otel: buckets must be strictly increasing")
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	o := &Observer{
		tracer:   tp.Tracer(ScopeName),
		internal: trace.WithSpanKind(trace.SpanKindInternal),
		now:      now,
		lastGood: map[string]time.Time{},
		outcomes: map[authgate.Outcome]string{},
		reasons:  map[string]string{"": ""},
	}
	for _, out := range authgate.Outcomes() {
		o.outcomes[out] = string(out)
	}
	for _, r := range authgate.Reasons() {
		o.reasons[r] = r
	}
	if len(cfg.Providers) > 0 {
		o.providers.fixed = map[string]string{}
		for _, p := range cfg.Providers {
			o.providers.fixed[p] = p
		}
	} else {
		o.providers.seen.Store(&map[string]string{})
	}
	o.sets.m.Store(&map[setKey]*measure{})

	m := mp.Meter(ScopeName)
	var errs []error
	counter := func(name, desc, unit string) metric.Int64Counter {
		c, err := m.Int64Counter(name, metric.WithDescription(desc), metric.WithUnit(unit))
		errs = append(errs, err)
		return c
	}
	histogram := func(name, desc string) metric.Float64Histogram {
		h, err := m.Float64Histogram(name, metric.WithDescription(desc), metric.WithUnit("s"),
			metric.WithExplicitBucketBoundaries(buckets...))
		errs = append(errs, err)
		return h
	}
	gauge := func(name, desc, unit string) metric.Int64Gauge {
		g, err := m.Int64Gauge(name, metric.WithDescription(desc), metric.WithUnit(unit))
		errs = append(errs, err)
		return g
	}
	o.authentications = counter("authgate.authentications", "Authentication decisions, by the provider that decided, outcome and reason.", "{decision}")
	o.authnDuration = histogram("authgate.authentication.duration", "Time spent authenticating a request.")
	o.authorizations = counter("authgate.authorizations", "Guard decisions on authenticated principals (roles, scopes, permissions).", "{decision}")
	o.keyFetches = counter("authgate.key.fetches", "Fetches of remote key sets and discovery documents; outcome error is a failure.", "{fetch}")
	o.fetchDuration = histogram("authgate.key.fetch.duration", "Time spent fetching a remote key set or discovery document.")
	o.keys = gauge("authgate.keys", "Usable keys held after the last successful key-set fetch.", "{key}")
	o.cacheLookups = counter("authgate.cache.lookups", "Lookups in providers' caches of verified credentials.", "{lookup}")
	o.cacheEntries = gauge("authgate.cache.entries", "Entries held by a provider's cache of verified credentials.", "{entry}")
	o.storeLookups = counter("authgate.store.lookups", "Lookups in credential stores; outcome error is a store failure.", "{lookup}")
	o.storeDuration = histogram("authgate.store.lookup.duration", "Time spent looking a credential up in its store.")
	o.refusals = counter("authgate.limiter.refusals", "Requests refused by a failed-attempt limiter.", "{request}")
	o.documents = counter("authgate.document.fetches", "Fetches of remote documents other than key sets.", "{fetch}")
	o.subscriptions = gauge("authgate.subscription.up", "Whether a subscription to shared state is established: 1, or 0 while it is lost.", "1")
	_, err := m.Float64ObservableGauge("authgate.key.age",
		metric.WithDescription("Time since the last successful key-set fetch."), metric.WithUnit("s"),
		metric.WithFloat64Callback(o.observeAge))
	errs = append(errs, err)
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("otel: %w", err)
	}
	return o, nil
}

// Observe records e: a span for an authentication, a key fetch or a store
// lookup (ended now, started Duration ago, a child of the span in ctx),
// and the metrics of its kind. Events of an unknown kind are ignored.
func (o *Observer) Observe(ctx context.Context, e authgate.Event) {
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
		o.span(ctx, SpanAuthenticate, e, provider, outcome, reason)
		o.authentications.Add(ctx, 1, o.sets.get(provider, outcome, reason, 3).add...)
		o.authnDuration.Record(ctx, e.Duration.Seconds(), o.sets.get(provider, outcome, "", 2).record...)
	case authgate.EventAuthorization:
		o.authorizations.Add(ctx, 1, o.sets.get(provider, outcome, reason, 3).add...)
	case authgate.EventKeyFetch:
		o.span(ctx, SpanKeyFetch, e, provider, outcome, reason)
		o.keyFetches.Add(ctx, 1, o.sets.get(provider, outcome, "", 2).add...)
		only := o.sets.get(provider, "", "", 1).record
		o.fetchDuration.Record(ctx, e.Duration.Seconds(), only...)
		if e.Outcome == authgate.OutcomeOK {
			o.keys.Record(ctx, int64(e.Keys), only...)
			t := o.now()
			o.mu.Lock()
			o.lastGood[provider] = t
			o.mu.Unlock()
		}
	case authgate.EventCacheLookup:
		o.cacheLookups.Add(ctx, 1, o.sets.get(provider, outcome, "", 2).add...)
		o.cacheEntries.Record(ctx, int64(e.Size), o.sets.get(provider, "", "", 1).record...)
	case authgate.EventStoreLookup:
		o.span(ctx, SpanStoreLookup, e, provider, outcome, reason)
		o.storeLookups.Add(ctx, 1, o.sets.get(provider, outcome, "", 2).add...)
		o.storeDuration.Record(ctx, e.Duration.Seconds(), o.sets.get(provider, "", "", 1).record...)
	case authgate.EventLimiterRefusal:
		o.refusals.Add(ctx, 1, o.sets.get(provider, "", "", 1).add...)
	case authgate.EventDocumentFetch:
		o.documents.Add(ctx, 1, o.sets.get(provider, outcome, "", 2).add...)
	case authgate.EventSubscription:
		var up int64
		if e.Outcome == authgate.OutcomeOK {
			up = 1
		}
		o.subscriptions.Record(ctx, up, o.sets.get(provider, "", "", 1).record...)
	}
}

// span records a finished span for e. Its attributes are set only when
// the span records (is sampled), which saves their cost otherwise.
func (o *Observer) span(ctx context.Context, name string, e authgate.Event, provider, outcome, reason string) {
	end := o.now()
	_, s := o.tracer.Start(ctx, name, trace.WithTimestamp(end.Add(-e.Duration)), o.internal)
	if s.IsRecording() {
		s.SetAttributes(ProviderKey.String(provider), OutcomeKey.String(outcome), ReasonKey.String(reason))
		if e.Outcome == authgate.OutcomeError {
			s.SetStatus(codes.Error, reason)
		}
	}
	s.End(trace.WithTimestamp(end))
}

func (o *Observer) observeAge(_ context.Context, obs metric.Float64Observer) error {
	o.mu.Lock()
	last := maps.Clone(o.lastGood)
	o.mu.Unlock()
	now := o.now()
	for p, t := range last {
		obs.Observe(max(now.Sub(t).Seconds(), 0), metric.WithAttributeSet(attribute.NewSet(ProviderKey.String(p))))
	}
	return nil
}

// names bounds provider attribute values: a fixed set from the
// configuration, or the first MaxProviders names seen (copied on write, so
// a lookup takes no lock and allocates nothing).
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

// setCache keeps one attribute set per combination of bounded values, so
// recording a measurement allocates none. It is bounded by the bounded
// values: providers × outcomes × reasons.
type setCache struct {
	mu sync.Mutex
	m  atomic.Pointer[map[setKey]*measure]
}

// measure holds the options of one attribute set, ready to be passed on
// without a new slice.
type measure struct {
	add    []metric.AddOption
	record []metric.RecordOption
}

type setKey struct {
	provider, outcome, reason string
	n                         uint8 // how many of the three attributes the set has
}

func (c *setCache) get(provider, outcome, reason string, n uint8) *measure {
	k := setKey{provider, outcome, reason, n}
	if opt, ok := (*c.m.Load())[k]; ok {
		return opt
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	cur := *c.m.Load()
	if opt, ok := cur[k]; ok {
		return opt
	}
	attrs := []attribute.KeyValue{ProviderKey.String(provider), OutcomeKey.String(outcome), ReasonKey.String(reason)}[:n]
	opt := metric.WithAttributeSet(attribute.NewSet(attrs...))
	m := &measure{add: []metric.AddOption{opt}, record: []metric.RecordOption{opt}}
	next := maps.Clone(cur)
	next[k] = m
	c.m.Store(&next)
	return m
}
