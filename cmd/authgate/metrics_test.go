package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/authtest"
)

// metricsConfig has a static provider, an OpenID issuer and an API-key
// store, and a metrics listener at the address given.
const metricsConfig = `listen: 127.0.0.1:0
realm: %s
metrics: {listen: %q}
providers:
  - {name: local, type: static, keys: keys/jwks.json, algorithms: [RS256], issuer: %s, audience: %s}
  - {name: corp, type: oidc, issuer: %q, audience: %s}
  - {name: keys, type: apikey, prefix: ag, store: "sqlite:keys.db", cache_ttl: 0s}
`

// TestServeMetrics runs serve with a metrics listener and scrapes it over
// HTTP: decisions are counted by provider, outcome and reason, key fetches
// and store lookups are counted, no credential appears in the scrape, and a
// reload keeps the one registry (the counters keep counting).
func TestServeMetrics(t *testing.T) {
	idp := authtest.NewIssuer(t, authtest.WithAudience(testAudience))
	f := newFixture(t)
	maddr := freeAddr(t)
	write := func(realm string) string {
		return f.write("authgate.yaml", fmt.Sprintf(metricsConfig, realm, maddr, testIssuer, testAudience, idp.Issuer(), testAudience))
	}
	path := write("v1")
	created := f.run("", "apikey", "create", "--config", path, "--subject", "bot")
	apiKey := strings.TrimSpace(created.stdout)
	if created.code != exitOK || apiKey == "" {
		t.Fatalf("apikey create = %d %q", created.code, created.stderr)
	}

	ctx, cancel := context.WithCancel(context.Background())
	addrc, maddrc := make(chan string, 1), make(chan string, 1)
	hup := make(chan struct{}, 1)
	done := make(chan result, 1)
	go func() {
		var out, errb lockedBuffer
		e := &env{ctx: ctx, stdin: strings.NewReader(""), stdout: &out, stderr: &errb, getenv: f.getenv,
			ready:        func(a string) { addrc <- a },
			metricsReady: func(a string) { maddrc <- a },
			hangup:       func() (<-chan struct{}, func()) { return hup, func() {} },
		}
		code := runEnv(e, []string{"serve", "--config", path})
		done <- result{code, out.String(), errb.String()}
	}()
	t.Cleanup(func() {
		cancel()
		if r := <-done; r.code != exitOK {
			t.Errorf("serve = %d\n%s", r.code, r.stderr)
		}
	})
	var base, scrapeURL string
	for base == "" {
		select {
		case a := <-maddrc:
			scrapeURL = "http://" + a + "/metrics"
		case a := <-addrc:
			base = "http://" + a
		case r := <-done:
			t.Fatalf("serve exited: %d\n%s", r.code, r.stderr)
		}
	}
	if scrapeURL == "" || !strings.HasSuffix(scrapeURL, maddr+"/metrics") {
		t.Fatalf("metrics listener at %q, want %s", scrapeURL, maddr)
	}
	eventually(t, base+"/readyz", http.StatusOK)

	send := func(header, value string) int {
		t.Helper()
		req, _ := http.NewRequest("GET", base+"/verify", nil)
		req.Header.Set(header, value)
		resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	good := f.token(nil)
	expired := f.token(func(c map[string]any) {
		c["iat"], c["exp"] = time.Now().Add(-2*time.Hour).Unix(), time.Now().Add(-time.Hour).Unix()
	})
	corp := idp.Token(nil)
	// A key of another store: well formed, unknown to this one.
	other := f.write("other.yaml", strings.Replace(fmt.Sprintf(metricsConfig, "v1", maddr, testIssuer, testAudience, idp.Issuer(), testAudience), "keys.db", "other.db", 1))
	created = f.run("", "apikey", "create", "--config", other, "--subject", "bot")
	wrongKey := strings.TrimSpace(created.stdout)
	if created.code != exitOK || wrongKey == "" {
		t.Fatalf("apikey create = %d %q", created.code, created.stderr)
	}
	for _, c := range []struct {
		header, value string
		status        int
	}{
		{"Authorization", "Bearer " + good, 200},
		{"Authorization", "Bearer " + good, 200},
		{"Authorization", "Bearer " + expired, 401},
		{"Authorization", "Bearer " + corp, 200},
		{"X-API-Key", apiKey, 200},
		{"X-API-Key", apiKey[:len(apiKey)-1], 401},
		{"X-API-Key", wrongKey, 401},
	} {
		if got := send(c.header, c.value); got != c.status {
			t.Fatalf("%s %.12s… = %d, want %d", c.header, c.value, got, c.status)
		}
	}
	// The issuer fails and rotates: a token signed by the key it has not
	// served needs a fetch, which fails: 503.
	idp.Fail(http.StatusInternalServerError)
	idp.Rotate()
	unknownKid := idp.Token(nil)
	if got := send("Authorization", "Bearer "+unknownKid); got != http.StatusServiceUnavailable {
		t.Fatalf("unknown kid with the issuer failing = %d, want 503", got)
	}

	scrape := func() string {
		t.Helper()
		resp, err := http.Get(scrapeURL)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("GET /metrics = %d", resp.StatusCode)
		}
		out := string(body)
		assertNoCredentials(t, "the scrape", out, good, expired, corp, apiKey, wrongKey, unknownKid)
		return out
	}
	first := scrape()
	for _, m := range []struct {
		series string
		min    float64
	}{
		{`authgate_authentications_total{outcome="allowed",provider="local",reason=""}`, 2},
		{`authgate_authentications_total{outcome="denied",provider="local",reason="expired"}`, 1},
		{`authgate_authentications_total{outcome="allowed",provider="corp",reason=""}`, 1},
		{`authgate_authentications_total{outcome="allowed",provider="keys",reason=""}`, 1},
		{`authgate_authentications_total{outcome="error",provider="corp",reason="unavailable"}`, 1},
		{`authgate_authentication_duration_seconds_count{outcome="allowed",provider="local"}`, 2},
		{`authgate_key_fetches_total{outcome="ok",provider="corp"}`, 1},
		{`authgate_key_fetches_total{outcome="error",provider="corp"}`, 1},
		{`authgate_keys{provider="corp"}`, 1},
		{`authgate_store_lookups_total{outcome="hit",provider="keys"}`, 1},
		{`authgate_store_lookups_total{outcome="miss",provider="keys"}`, 1},
		{`authgate_authentications_total{outcome="denied",provider="keys",reason="malformed_token"}`, 1},
		{`authgate_authentications_total{outcome="denied",provider="keys",reason="invalid"}`, 1},
		{`go_goroutines`, 1},
		{`process_open_fds`, 1},
	} {
		if v, ok := sample(first, m.series); !ok || v < m.min {
			t.Errorf("%s = %v (present %v), want ≥ %v", m.series, v, ok, m.min)
		}
	}
	if t.Failed() {
		t.Logf("scrape:\n%s", grepLines(first, "authgate_"))
	}

	// A reload builds new providers; they report to the same registry,
	// which is not registered twice: the counters go on from where they
	// were.
	write("v2")
	hup <- struct{}{}
	deadline := time.Now().Add(20 * time.Second)
	for {
		req, _ := http.NewRequest("GET", base+"/verify", nil)
		req.Header.Set("Authorization", "Bearer bad")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if strings.Contains(resp.Header.Get("WWW-Authenticate"), `realm="v2"`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the reload did not take effect")
		}
		time.Sleep(20 * time.Millisecond)
	}
	const allowed = `authgate_authentications_total{outcome="allowed",provider="local",reason=""}`
	if got := send("Authorization", "Bearer "+good); got != 200 {
		t.Fatalf("after the reload: %d, want 200", got)
	}
	before, _ := sample(first, allowed)
	after, ok := sample(scrape(), allowed)
	if !ok || after != before+1 {
		t.Errorf("after the reload %s = %v, want %v", allowed, after, before+1)
	}
}

// sample returns the value of the series named exactly in a text scrape.
func sample(scrape, series string) (float64, bool) {
	for line := range strings.SplitSeq(scrape, "\n") {
		rest, ok := strings.CutPrefix(line, series+" ")
		if !ok {
			continue
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(rest), 64)
		return v, err == nil
	}
	return 0, false
}

func grepLines(s, prefix string) string {
	var b strings.Builder
	for line := range strings.SplitSeq(s, "\n") {
		if strings.HasPrefix(line, prefix) {
			b.WriteString(line + "\n")
		}
	}
	return b.String()
}

// TestVerifyTraceContext: the traceparent the proxy sends is in the
// context the observer sees, so spans nest under the proxy's; a request
// without one carries none.
func TestVerifyTraceContext(t *testing.T) {
	f := newFixture(t)
	cfg, err := ParseConfig(f.path("authgate.yaml"), []byte(baseConfig), f.getenv)
	if err != nil {
		t.Fatal(err)
	}
	type seen struct {
		kind authgate.EventKind
		sc   trace.SpanContext
	}
	events := make(chan seen, 16)
	obs := authgate.ObserverFunc(func(ctx context.Context, e authgate.Event) {
		if e.Kind == authgate.EventAuthentication {
			events <- seen{e.Kind, trace.SpanContextFromContext(ctx)}
		}
	})
	gen, err := newGeneration(context.Background(), cfg, io.Discard, obs)
	if err != nil {
		t.Fatal(err)
	}
	h := &handler{}
	h.cur.Store(gen)
	t.Cleanup(func() { gen.close() })
	const traceID, spanID = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
	for _, c := range []struct {
		name, traceparent string
		valid             bool
	}{
		{"with traceparent", "00-" + traceID + "-" + spanID + "-01", true},
		{"without", "", false},
		{"malformed", "00-zz-" + spanID + "-01", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			req, _ := http.NewRequest("GET", "/verify", nil)
			req.Header.Set("Authorization", "Bearer "+f.token(nil))
			if c.traceparent != "" {
				req.Header.Set("Traceparent", c.traceparent)
			}
			rec := &errorRecorder{header: http.Header{}}
			h.ServeHTTP(rec, req)
			got := <-events
			if got.sc.IsValid() != c.valid {
				t.Fatalf("span context valid = %v, want %v", got.sc.IsValid(), c.valid)
			}
			if c.valid && (got.sc.TraceID().String() != traceID || got.sc.SpanID().String() != spanID || !got.sc.IsRemote()) {
				t.Errorf("span context = %s/%s remote %v, want the proxy's", got.sc.TraceID(), got.sc.SpanID(), got.sc.IsRemote())
			}
		})
	}
}
