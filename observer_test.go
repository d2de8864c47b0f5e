package authgate_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/authgate/authgate"
)

// recorder is an Observer that keeps what it was told, tagged with its name.
type recorder struct {
	name string
	log  *[]string
}

func (r recorder) Observe(_ context.Context, e authgate.Event) {
	*r.log = append(*r.log, r.name+":"+e.Kind.String()+"/"+e.Provider)
}

func TestObservers(t *testing.T) {
	var log []string
	a, b := recorder{"a", &log}, recorder{"b", &log}
	tests := []struct {
		name    string
		obs     []authgate.Observer
		wantNil bool
		want    []string
	}{
		{name: "none", wantNil: true},
		{name: "only nils", obs: []authgate.Observer{nil, nil}, wantNil: true},
		{name: "one", obs: []authgate.Observer{nil, a}, want: []string{"a:key_fetch/p"}},
		{name: "two in order", obs: []authgate.Observer{b, nil, a}, want: []string{"b:key_fetch/p", "a:key_fetch/p"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			log = nil
			o := authgate.Observers(tt.obs...)
			if (o == nil) != tt.wantNil {
				t.Fatalf("Observers(%d observers) = %v, want nil: %v", len(tt.obs), o, tt.wantNil)
			}
			if o == nil {
				return
			}
			o.Observe(context.Background(), authgate.Event{Kind: authgate.EventKeyFetch, Provider: "p"})
			if !slices.Equal(log, tt.want) {
				t.Errorf("events = %q, want %q", log, tt.want)
			}
		})
	}
}

func TestObserversDoesNotAlias(t *testing.T) {
	var log []string
	obs := []authgate.Observer{recorder{"a", &log}, recorder{"b", &log}}
	o := authgate.Observers(obs...)
	obs[0] = recorder{"x", &log}
	o.Observe(context.Background(), authgate.Event{Kind: authgate.EventAuthentication})
	if want := []string{"a:authentication/", "b:authentication/"}; !slices.Equal(log, want) {
		t.Errorf("events = %q, want %q", log, want)
	}
}

func TestObserverFunc(t *testing.T) {
	var got authgate.Event
	var o authgate.Observer = authgate.ObserverFunc(func(_ context.Context, e authgate.Event) { got = e })
	want := authgate.Event{Kind: authgate.EventCacheLookup, Provider: "auth0", Outcome: authgate.OutcomeHit, Size: 3}
	o.Observe(context.Background(), want)
	if got != want {
		t.Errorf("ObserverFunc got %+v, want %+v", got, want)
	}
}

func TestEventKindString(t *testing.T) {
	tests := []struct {
		kind authgate.EventKind
		want string
	}{
		{0, "unknown"},
		{authgate.EventAuthentication, "authentication"},
		{authgate.EventAuthorization, "authorization"},
		{authgate.EventKeyFetch, "key_fetch"},
		{authgate.EventCacheLookup, "cache_lookup"},
		{authgate.EventStoreLookup, "store_lookup"},
		{authgate.EventLimiterRefusal, "limiter_refusal"},
		{authgate.EventDocumentFetch, "document_fetch"},
		{authgate.EventSubscription, "subscription"},
		{authgate.EventSubscription + 1, "unknown"},
		{255, "unknown"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := tt.kind.String(); got != tt.want {
				t.Errorf("EventKind(%d).String() = %q, want %q", tt.kind, got, tt.want)
			}
		})
	}
}

func TestDecisionOutcome(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want authgate.Outcome
	}{
		{"nil", nil, authgate.OutcomeAllowed},
		{"no credentials", authgate.ErrNoCredentials, authgate.OutcomeDenied},
		{"expired", authgate.NewError("p", authgate.ErrTokenExpired, nil), authgate.OutcomeDenied},
		{"forbidden", authgate.ErrForbidden, authgate.OutcomeDenied},
		{"rate limited", authgate.ErrRateLimited, authgate.OutcomeDenied},
		{"malformed", authgate.ErrMalformedRequest, authgate.OutcomeDenied},
		{"unclassified", errors.New("resolver failed"), authgate.OutcomeDenied},
		{"unavailable", authgate.NewError("p", authgate.ErrUnavailable, errors.New("dial tcp: refused")), authgate.OutcomeError},
		{"unavailable joined with a rejection", errors.Join(authgate.ErrTokenExpired, authgate.ErrUnavailable), authgate.OutcomeError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := authgate.DecisionOutcome(tt.err); got != tt.want {
				t.Errorf("DecisionOutcome(%v) = %q, want %q", tt.err, got, tt.want)
			}
		})
	}
}

// TestReasons pins Reasons to what Reason returns: every error class maps
// into the set, and every member of the set but "panic" is reached.
func TestReasons(t *testing.T) {
	errs := []error{
		authgate.ErrNoCredentials, authgate.ErrUnrecognizedCredential, authgate.ErrInvalidCredentials,
		authgate.ErrMalformedToken, authgate.ErrTokenExpired, authgate.ErrTokenNotYetValid,
		authgate.ErrInvalidSignature, authgate.ErrInvalidIssuer, authgate.ErrInvalidAudience,
		authgate.ErrMissingClaim, authgate.ErrInvalidClaim, authgate.ErrUnsupportedAlgorithm,
		authgate.ErrRevoked, authgate.ErrForbidden, authgate.ErrMalformedRequest, authgate.ErrUnavailable,
		authgate.ErrRateLimited, authgate.ErrPanic, errors.New("unclassified"),
		fmt.Errorf("wrapped: %w", authgate.NewError("p", authgate.ErrInvalidAudience, nil)),
	}
	set := authgate.Reasons()
	reached := map[string]bool{}
	for _, err := range errs {
		r := authgate.Reason(err)
		if !slices.Contains(set, r) {
			t.Errorf("Reason(%v) = %q, not in Reasons() %q", err, r, set)
		}
		reached[r] = true
	}
	seen := map[string]bool{}
	for _, r := range set {
		if seen[r] {
			t.Errorf("Reasons() lists %q twice", r)
		}
		seen[r] = true
		if r == "" {
			t.Error("Reasons() lists the empty reason")
		}
		if !reached[r] && r != authgate.ReasonPanic {
			t.Errorf("Reasons() lists %q, which no error reaches", r)
		}
	}
	if !seen[authgate.ReasonPanic] {
		t.Errorf("Reasons() = %q, want it to hold %q", set, authgate.ReasonPanic)
	}
}

func TestOutcomes(t *testing.T) {
	got := authgate.Outcomes()
	want := []authgate.Outcome{"allowed", "anonymous", "denied", "error", "ok", "hit", "miss"}
	if !slices.Equal(got, want) {
		t.Errorf("Outcomes() = %q, want %q", got, want)
	}
	got[0] = "changed"
	if authgate.Outcomes()[0] != authgate.OutcomeAllowed {
		t.Error("Outcomes() returns a shared slice")
	}
}
