package providers_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/internal/jwttest"
	"github.com/authgate/authgate/providers"
)

// recorder is an authgate.Observer that keeps every event and the context
// value ctxKey it came with.
type recorder struct {
	mu     sync.Mutex
	events []authgate.Event
	values []any
}

type ctxKey struct{}

func (r *recorder) Observe(ctx context.Context, e authgate.Event) {
	r.mu.Lock()
	r.events = append(r.events, e)
	r.values = append(r.values, ctx.Value(ctxKey{}))
	r.mu.Unlock()
}

func (r *recorder) Events() []authgate.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]authgate.Event(nil), r.events...)
}

// withoutDurations returns events with Duration zeroed, after checking
// every one is positive.
func withoutDurations(t *testing.T, events []authgate.Event) []authgate.Event {
	t.Helper()
	out := make([]authgate.Event, len(events))
	for i, e := range events {
		if e.Duration <= 0 {
			t.Errorf("event %d: Duration = %v, want > 0", i, e.Duration)
		}
		e.Duration = 0
		out[i] = e
	}
	return out
}

func equalEvents(a, b []authgate.Event) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func fetchEvent(outcome authgate.Outcome, keys int) authgate.Event {
	e := authgate.Event{Kind: authgate.EventKeyFetch, Provider: "remote", Outcome: outcome, Keys: keys}
	if outcome == authgate.OutcomeError {
		e.Reason = "unavailable"
	}
	return e
}

func TestRemoteKeySetObserver(t *testing.T) {
	issuerSrv := func(t *testing.T, discovery http.HandlerFunc, keys http.HandlerFunc) string {
		var srv *httptest.Server
		srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/.well-known/openid-configuration" {
				if discovery != nil {
					discovery(w, r)
					return
				}
				_, _ = w.Write(jwttest.JSON(map[string]any{"issuer": srv.URL, "jwks_uri": srv.URL + "/keys"}))
				return
			}
			keys(w, r)
		}))
		t.Cleanup(srv.Close)
		return srv.URL
	}
	serve := func(body []byte) http.HandlerFunc {
		return func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write(body) }
	}
	status := func(code int) http.HandlerFunc {
		return func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(code) }
	}
	for _, tc := range []struct {
		name    string
		cfg     func(t *testing.T, c *providers.RemoteKeySetConfig)
		wantErr error
		want    []authgate.Event
	}{{
		name: "key set with two keys",
		cfg: func(t *testing.T, c *providers.RemoteKeySetConfig) {
			c.URL = newKeyServer(t, set("k1", "k2")).URL
		},
		want: []authgate.Event{fetchEvent(authgate.OutcomeOK, 2)},
	}, {
		name: "usable keys only",
		cfg: func(t *testing.T, c *providers.RemoteKeySetConfig) {
			enc := jwttest.JWK(jwttest.Key("RS256", "enc"), "enc", "RS256")
			enc["use"] = "enc"
			c.URL = newKeyServer(t, jwttest.JWKS(jwttest.JWK(jwttest.Key("RS256", "k1"), "k1", "RS256"), enc)).URL
		},
		want: []authgate.Event{fetchEvent(authgate.OutcomeOK, 1)},
	}, {
		name: "key server failing",
		cfg: func(t *testing.T, c *providers.RemoteKeySetConfig) {
			srv := newKeyServer(t, nil)
			srv.setHandler(status(http.StatusInternalServerError))
			c.URL = srv.URL
		},
		wantErr: authgate.ErrUnavailable,
		want:    []authgate.Event{fetchEvent(authgate.OutcomeError, 0)},
	}, {
		name: "garbage",
		cfg: func(t *testing.T, c *providers.RemoteKeySetConfig) {
			c.URL = newKeyServer(t, []byte("<html>")).URL
		},
		wantErr: authgate.ErrUnavailable,
		want:    []authgate.Event{fetchEvent(authgate.OutcomeError, 0)},
	}, {
		name: "no usable key",
		cfg: func(t *testing.T, c *providers.RemoteKeySetConfig) {
			c.URL = newKeyServer(t, []byte(`{"keys":[{"kty":"oct","k":"c2VjcmV0"}]}`)).URL
		},
		wantErr: authgate.ErrUnavailable,
		want:    []authgate.Event{fetchEvent(authgate.OutcomeError, 0)},
	}, {
		name: "discovery and key set are one fetch",
		cfg: func(t *testing.T, c *providers.RemoteKeySetConfig) {
			c.URL, c.Issuer = "", issuerSrv(t, nil, serve(set("k1")))
		},
		want: []authgate.Event{fetchEvent(authgate.OutcomeOK, 1)},
	}, {
		name: "discovery failing",
		cfg: func(t *testing.T, c *providers.RemoteKeySetConfig) {
			c.URL, c.Issuer = "", issuerSrv(t, status(http.StatusNotFound), serve(set("k1")))
		},
		wantErr: authgate.ErrUnavailable,
		want:    []authgate.Event{fetchEvent(authgate.OutcomeError, 0)},
	}, {
		name: "key set failing after discovery",
		cfg: func(t *testing.T, c *providers.RemoteKeySetConfig) {
			c.URL, c.Issuer = "", issuerSrv(t, nil, status(http.StatusBadGateway))
		},
		wantErr: authgate.ErrUnavailable,
		want:    []authgate.Event{fetchEvent(authgate.OutcomeError, 0)},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			rec := &recorder{}
			_, ks := newRemote(t, "", newClock(), func(c *providers.RemoteKeySetConfig) {
				c.URL = "http://127.0.0.1:1/unused"
				tc.cfg(t, c)
				c.Observer = rec
			})
			err := ks.Prefetch(context.Background())
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil) != (err == nil) {
				t.Fatalf("Prefetch = %v, want %v", err, tc.wantErr)
			}
			if got := withoutDurations(t, rec.Events()); !equalEvents(got, tc.want) {
				t.Errorf("events = %+v, want %+v", got, tc.want)
			}
		})
	}
}

// TestRemoteKeySetObserverEveryFetch: the fetch a lookup waits for is
// reported before the lookup returns, with the lookup's context values; a
// scheduled refresh in the background and an unknown kid's refetch are
// reported too.
func TestRemoteKeySetObserverEveryFetch(t *testing.T) {
	srv := newKeyServer(t, set("k1"))
	clk := newClock()
	rec := &recorder{}
	v, _ := newRemote(t, srv.URL, clk, func(c *providers.RemoteKeySetConfig) { c.Observer = rec })
	ctx := context.WithValue(context.Background(), ctxKey{}, "request")
	if _, err := v.Verify(ctx, token(clk, "RS256", "k1", "k1", nil)); err != nil {
		t.Fatalf("Verify = %v", err)
	}
	if got, want := withoutDurations(t, rec.Events()), []authgate.Event{fetchEvent(authgate.OutcomeOK, 1)}; !equalEvents(got, want) {
		t.Fatalf("events after the first lookup = %+v, want %+v", got, want)
	}
	rec.mu.Lock()
	value := rec.values[0]
	rec.mu.Unlock()
	if value != "request" {
		t.Errorf("context value seen by the observer = %v, want the lookup's", value)
	}

	// An unknown kid, published meanwhile: one refetch, now with two keys.
	srv.set(set("k1", "k2"), "")
	if err := verify(v, token(clk, "RS256", "k2", "k2", nil)); err != nil {
		t.Fatalf("Verify(new kid) = %v", err)
	}
	// The key server fails; the set goes stale and is refreshed in the
	// background, which fails.
	srv.setHandler(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusServiceUnavailable) })
	clk.Advance(providers.DefaultRefreshInterval + time.Second)
	if err := verify(v, token(clk, "RS256", "k1", "k1", nil)); err != nil {
		t.Fatalf("Verify(stale set) = %v", err)
	}
	eventually(t, "the background refresh's event", func() bool { return len(rec.Events()) == 3 })
	want := []authgate.Event{fetchEvent(authgate.OutcomeOK, 1), fetchEvent(authgate.OutcomeOK, 2), fetchEvent(authgate.OutcomeError, 0)}
	if got := withoutDurations(t, rec.Events()); !equalEvents(got, want) {
		t.Errorf("events = %+v, want %+v", got, want)
	}
}

// TestPresetObserver: FetchOptions.Observer reaches the provider's key
// set, under the provider's name.
func TestPresetObserver(t *testing.T) {
	srv := newKeyServer(t, set("k1", "k2", "k3"))
	rec := &recorder{}
	a, err := providers.Preset{Package: "oidc", Issuer: remoteIssuer, JWKSURL: srv.URL, Algorithms: []string{providers.RS256}}.New(
		providers.TokenOptions{Name: "corp", Audience: []string{remoteAudience}},
		providers.FetchOptions{Observer: rec})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Prefetch(context.Background()); err != nil {
		t.Fatalf("Prefetch = %v", err)
	}
	want := []authgate.Event{{Kind: authgate.EventKeyFetch, Provider: "corp", Outcome: authgate.OutcomeOK, Keys: 3}}
	if got := withoutDurations(t, rec.Events()); !equalEvents(got, want) {
		t.Errorf("events = %+v, want %+v", got, want)
	}
}

func TestRemoteDocumentObserver(t *testing.T) {
	for _, tc := range []struct {
		name    string
		handler http.HandlerFunc
		wantErr error
		want    authgate.Event
	}{{
		name:    "served",
		handler: func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("42")) },
		want:    authgate.Event{Kind: authgate.EventDocumentFetch, Provider: "realm", Outcome: authgate.OutcomeOK},
	}, {
		name:    "failing",
		handler: func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusInternalServerError) },
		wantErr: authgate.ErrUnavailable,
		want:    authgate.Event{Kind: authgate.EventDocumentFetch, Provider: "realm", Outcome: authgate.OutcomeError, Reason: "unavailable"},
	}, {
		name:    "unparsable",
		handler: func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("forty-two")) },
		wantErr: authgate.ErrUnavailable,
		want:    authgate.Event{Kind: authgate.EventDocumentFetch, Provider: "realm", Outcome: authgate.OutcomeError, Reason: "unavailable"},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(tc.handler)
			t.Cleanup(srv.Close)
			rec := &recorder{}
			doc, err := providers.NewRemoteDocument(providers.RemoteDocumentConfig[string]{
				Name: "realm",
				URL:  srv.URL,
				Parse: func(b []byte) (string, time.Duration, error) {
					if strings.Trim(string(b), "0123456789") != "" {
						return "", 0, errors.New("not a number")
					}
					return string(b), 0, nil
				},
				Logger:   slog.New(slog.DiscardHandler),
				Observer: rec,
			})
			if err != nil {
				t.Fatal(err)
			}
			_, err = doc.Get(context.Background())
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil) != (err == nil) {
				t.Fatalf("Get = %v, want %v", err, tc.wantErr)
			}
			if got, want := withoutDurations(t, rec.Events()), []authgate.Event{tc.want}; !equalEvents(got, want) {
				t.Errorf("events = %+v, want %+v", got, want)
			}
		})
	}
}
