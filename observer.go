package authgate

import (
	"context"
	"slices"
	"time"
)

// Observer receives an [Event] for every authentication decision and for the
// work behind it (key-set fetches, cache and store lookups, limiter
// refusals), for metrics and traces. The adapters (ginauth, httpauth)
// report decisions when given one (their WithObserver option); providers
// report their own events through the Observer of their configuration.
//
// Observe is called on the request's goroutine, after the fact, with the
// request's context (or the context of the background work that caused the
// event): it must be safe for concurrent use, must return quickly and must
// not keep ctx. An Event never holds a credential, a claim value or any
// other request data, so an Observer can pass every field on as a label or
// an attribute.
//
// A nil Observer is valid wherever one is accepted and costs nothing: no
// clock is read and no event is built.
type Observer interface {
	Observe(ctx context.Context, e Event)
}

// ObserverFunc adapts a function to the Observer interface.
type ObserverFunc func(ctx context.Context, e Event)

// Observe calls f(ctx, e).
func (f ObserverFunc) Observe(ctx context.Context, e Event) { f(ctx, e) }

// Observers returns an Observer that passes every event to each of obs in
// order (Prometheus metrics and OpenTelemetry traces, say). Nil entries are
// dropped; with none left it returns nil, so the result is again free when
// nothing observes.
func Observers(obs ...Observer) Observer {
	obs = slices.DeleteFunc(slices.Clone(obs), func(o Observer) bool { return o == nil })
	switch len(obs) {
	case 0:
		return nil
	case 1:
		return obs[0]
	}
	return observers(obs)
}

type observers []Observer

func (os observers) Observe(ctx context.Context, e Event) {
	for _, o := range os {
		o.Observe(ctx, e)
	}
}

// Event is one observation. Every string field takes its value from a
// small fixed set or from configuration, so it is safe as a metric label:
// Provider is a configured provider name, Outcome one of the Outcome
// constants and Reason one of [Reasons].
type Event struct {
	// Kind says what happened.
	Kind EventKind
	// Provider names the provider concerned: the one that decided (an
	// authentication or authorization), fetched keys, looked up its cache
	// or store, or refused a client. Empty when no provider can be named.
	Provider string
	// Outcome is the result, from the Outcome constants the kind lists.
	Outcome Outcome
	// Reason is the bounded reason of the error a decision, fetch or
	// lookup ended with: [Reason] of it, or [ReasonPanic] for an
	// authenticator that panicked; empty when there was no error (an
	// anonymous decision has "no_credentials"). It is one of [Reasons].
	Reason string
	// Duration is how long the work took (zero for a cache lookup or a
	// limiter refusal, which cost no I/O).
	Duration time.Duration
	// Keys is, for EventKeyFetch with OutcomeOK, the number of usable keys
	// the key set holds after the fetch.
	Keys int
	// Size is, for EventCacheLookup, the number of entries the cache holds
	// after the lookup.
	Size int
}

// EventKind says what an Event reports.
type EventKind uint8

// The kinds of Event. The zero EventKind is no kind: observers ignore it.
const (
	// EventAuthentication is an adapter's decision on one request:
	// OutcomeAllowed, OutcomeAnonymous (no credentials, let through by an
	// optional middleware), OutcomeDenied (401, 400, 429) or OutcomeError
	// (503), with Reason and the time spent in the authenticator.
	EventAuthentication EventKind = iota + 1
	// EventAuthorization is a guard's decision on an authenticated
	// principal (roles, scopes, permissions): OutcomeAllowed or
	// OutcomeDenied (403, Reason "forbidden"; 401 "no_credentials" when no
	// principal is present).
	EventAuthorization
	// EventKeyFetch is one fetch of a remote key set (or of the discovery
	// document that names it): OutcomeOK with Keys, or OutcomeError.
	EventKeyFetch
	// EventCacheLookup is one lookup in a provider's cache of verified
	// credentials: OutcomeHit or OutcomeMiss, with Size.
	EventCacheLookup
	// EventStoreLookup is one lookup in a credential store (an API-key
	// database): OutcomeHit (found), OutcomeMiss (not found) or
	// OutcomeError (the store failed), with Duration.
	EventStoreLookup
	// EventLimiterRefusal is a request refused by a failed-attempt limiter
	// without its credential being looked at: OutcomeDenied, Reason
	// "rate_limited".
	EventLimiterRefusal
	// EventDocumentFetch is one fetch of a remote document other than a
	// key set or its discovery document (Keycloak's realm document, an
	// introspection answer's metadata, a sign-in provider's discovery):
	// OutcomeOK or OutcomeError, with Duration.
	EventDocumentFetch
	// EventSubscription is a change of state of a subscription to
	// shared state (PostgreSQL LISTEN for API-key changes, a Redis
	// deny-list's channel): OutcomeOK when it is (re)established,
	// OutcomeError when it is lost and what it guards falls back to
	// bounded staleness or refusal.
	EventSubscription
)

var eventKinds = [...]string{
	EventAuthentication: "authentication",
	EventAuthorization:  "authorization",
	EventKeyFetch:       "key_fetch",
	EventCacheLookup:    "cache_lookup",
	EventStoreLookup:    "store_lookup",
	EventLimiterRefusal: "limiter_refusal",
	EventDocumentFetch:  "document_fetch",
	EventSubscription:   "subscription",
}

// String returns the kind's name ("authentication", "key_fetch", …), or
// "unknown".
func (k EventKind) String() string {
	if int(k) < len(eventKinds) && eventKinds[k] != "" {
		return eventKinds[k]
	}
	return "unknown"
}

// Outcome is the result an Event reports.
type Outcome string

// The outcomes. Each kind of Event uses the ones its doc lists.
const (
	// OutcomeAllowed: authenticated, or a guard let the principal through.
	OutcomeAllowed Outcome = "allowed"
	// OutcomeAnonymous: no credentials, and an optional middleware let
	// the request through without a principal.
	OutcomeAnonymous Outcome = "anonymous"
	// OutcomeDenied: the request was refused (401, 403, 400 or 429).
	OutcomeDenied Outcome = "denied"
	// OutcomeError: a technical failure (503, a failed fetch, a store
	// that cannot answer).
	OutcomeError Outcome = "error"
	// OutcomeOK: a fetch succeeded.
	OutcomeOK Outcome = "ok"
	// OutcomeHit: a lookup found what it looked for.
	OutcomeHit Outcome = "hit"
	// OutcomeMiss: a lookup found nothing (which is no failure).
	OutcomeMiss Outcome = "miss"
)

// Outcomes returns every Outcome constant, for exporters that bound their
// label values.
func Outcomes() []Outcome {
	return []Outcome{OutcomeAllowed, OutcomeAnonymous, OutcomeDenied, OutcomeError, OutcomeOK, OutcomeHit, OutcomeMiss}
}

// DecisionOutcome returns the Outcome of a decision that ended with err:
// OutcomeAllowed for nil, OutcomeError for a technical failure
// ([ErrUnavailable]) and OutcomeDenied for every other error.
func DecisionOutcome(err error) Outcome {
	switch classify(err) {
	case classNone:
		return OutcomeAllowed
	case classUnavailable:
		return OutcomeError
	}
	return OutcomeDenied
}

// ReasonPanic is the Reason an Event gives for an authenticator that
// panicked ([ErrPanic]); [Reason] itself reports such an error as a
// rejection ("invalid").
const ReasonPanic = "panic"

// Reasons returns every value [Reason] can return except the empty one,
// and [ReasonPanic]: the fixed set of an Event's Reason.
func Reasons() []string {
	out := []string{"no_credentials", "unrecognized", "malformed_request", "unavailable", "rate_limited", "forbidden", "invalid"}
	for _, r := range invalidReasons {
		out = append(out, r.reason)
	}
	return append(out, ReasonPanic)
}
