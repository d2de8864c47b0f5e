package adapter

import (
	"context"
	"errors"
	"time"

	"github.com/authgate/authgate"
)

// Start returns the time a decision starts when c has an Observer, and the
// zero time otherwise: without an observer the clock is not read.
func (c *Config) Start() time.Time {
	if c.Observer == nil {
		return time.Time{}
	}
	return time.Now()
}

// Observe reports to c's Observer, if any, a decision of kind that began at
// start (from [Config.Start]) and ended with err: the provider that decided
// ([DecidedBy]), outcome, the bounded reason ([EventReason]) and the time
// spent. With no observer it does nothing.
func (c *Config) Observe(ctx context.Context, kind authgate.EventKind, start time.Time, outcome authgate.Outcome, p *authgate.Principal, err error, provider string) {
	if c.Observer == nil {
		return
	}
	c.Observer.Observe(ctx, authgate.Event{
		Kind:     kind,
		Provider: DecidedBy(p, err, provider),
		Outcome:  outcome,
		Reason:   EventReason(err),
		Duration: time.Since(start),
	})
}

// Decided reports an authentication decision that ended with p and err, as
// [Config.Observe] does with the outcome [authgate.DecisionOutcome] gives.
func (c *Config) Decided(ctx context.Context, start time.Time, p *authgate.Principal, err error, provider string) {
	if c.Observer == nil {
		return
	}
	c.Observe(ctx, authgate.EventAuthentication, start, authgate.DecisionOutcome(err), p, err, provider)
}

// DecidedBy names the provider of a decision: the principal's provider on
// success, the provider the first *authgate.Error in err names on failure,
// and fallback when neither names one.
func DecidedBy(p *authgate.Principal, err error, fallback string) string {
	if p != nil && p.Provider != "" {
		return p.Provider
	}
	if err != nil {
		if name := errorProvider(err); name != "" {
			return name
		}
	}
	return fallback
}

// errorProvider returns the provider the first *authgate.Error in err
// names. It is its own function so that the success path of DecidedBy
// does not allocate the target of errors.As.
func errorProvider(err error) string {
	var e *authgate.Error
	if errors.As(err, &e) {
		return e.Provider
	}
	return ""
}

// EventReason returns the reason of err for logs and events:
// authgate.Reason(err), or authgate.ReasonPanic for a recovered panic.
func EventReason(err error) string {
	if err == nil {
		return ""
	}
	var pe *PanicError
	if errors.As(err, &pe) {
		return authgate.ReasonPanic
	}
	return authgate.Reason(err)
}
