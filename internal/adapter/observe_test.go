package adapter

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/authgate/authgate"
)

func TestDecidedBy(t *testing.T) {
	tests := []struct {
		name string
		p    *authgate.Principal
		err  error
		want string
	}{
		{name: "principal", p: &authgate.Principal{Provider: "auth0"}, want: "auth0"},
		{name: "principal without provider", p: &authgate.Principal{}, want: "fallback"},
		{name: "error", err: fmt.Errorf("x: %w", authgate.NewError("keys", authgate.ErrRevoked, nil)), want: "keys"},
		{name: "error without provider", err: authgate.NewError("", authgate.ErrRevoked, nil), want: "fallback"},
		{name: "bare sentinel", err: authgate.ErrNoCredentials, want: "fallback"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := DecidedBy(tt.p, tt.err, "fallback"); got != tt.want {
				t.Errorf("DecidedBy(%v, %v) = %q, want %q", tt.p, tt.err, got, tt.want)
			}
		})
	}
}

func TestEventReason(t *testing.T) {
	panicked := func() (err error) {
		defer func() {
			if recover() != nil {
				err = PanicErr("p")
			}
		}()
		panic("boom")
	}()
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"nil", nil, ""},
		{"expired", authgate.ErrTokenExpired, "expired"},
		{"panic", panicked, authgate.ReasonPanic},
		{"unavailable", authgate.NewError("p", authgate.ErrUnavailable, errors.New("refused")), "unavailable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := EventReason(tt.err); got != tt.want {
				t.Errorf("EventReason(%v) = %q, want %q", tt.err, got, tt.want)
			}
		})
	}
}

func TestObserveWithoutObserver(t *testing.T) {
	c := NewConfig()
	if got := c.Start(); !got.IsZero() {
		t.Errorf("Start() without observer = %v, want the zero time", got)
	}
	// Neither may fail or report anywhere.
	c.Decided(context.Background(), time.Time{}, nil, authgate.ErrNoCredentials, "p")
	c.Observe(context.Background(), authgate.EventAuthorization, time.Time{}, authgate.OutcomeDenied, nil, authgate.ErrForbidden, "p")
}

func TestDecided(t *testing.T) {
	var got []authgate.Event
	c := NewConfig()
	c.Observer = authgate.ObserverFunc(func(_ context.Context, e authgate.Event) { got = append(got, e) })
	start := c.Start()
	if start.IsZero() {
		t.Fatal("Start() with an observer is the zero time")
	}
	a := authgate.AuthenticatorFunc(func(*http.Request) (*authgate.Principal, error) {
		return nil, authgate.NewError("static", authgate.ErrUnavailable, errors.New("keys down"))
	})
	r, _ := http.NewRequest(http.MethodGet, "/", nil)
	p, err := Authenticate(a, r, "fallback")
	c.Decided(r.Context(), start, p, err, "fallback")
	if len(got) != 1 {
		t.Fatalf("%d events, want 1", len(got))
	}
	e := got[0]
	want := authgate.Event{Kind: authgate.EventAuthentication, Provider: "static", Outcome: authgate.OutcomeError, Reason: "unavailable", Duration: e.Duration}
	if e != want || e.Duration <= 0 {
		t.Errorf("event = %+v, want %+v with a positive duration", e, want)
	}
}
