package providers_test

import (
	"context"
	"fmt"
	"math/rand/v2"
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

// BenchmarkRemoteVsStatic verifies the same token through a warm
// RemoteKeySet and through a StaticKeySet holding the same key, in one run.
//
//	go test -run '^$' -bench 'RemoteVsStatic|UnknownKidFlood' -benchmem -count 6 ./providers/
func BenchmarkRemoteVsStatic(b *testing.B) {
	for _, alg := range []string{"RS256", "ES256"} {
		priv := jwttest.Key(alg, "bench")
		srv := newKeyServer(b, jwttest.JWKS(jwttest.JWK(priv, "k1", alg)))
		clk := newClock()
		remote, ks := newRemote(b, srv.URL, clk, nil)
		if err := ks.Prefetch(context.Background()); err != nil {
			b.Fatal(err)
		}
		k := providers.PublicKey(jwttest.Public(priv))
		k.ID, k.Algorithm = "k1", alg
		set, err := providers.NewStaticKeySet([]providers.Key{k}, []string{"RS256", "ES256"})
		if err != nil {
			b.Fatal(err)
		}
		static, err := providers.NewVerifier(providers.VerifierConfig{Name: "static", Issuer: remoteIssuer, Audience: []string{remoteAudience},
			Algorithms: []string{"RS256", "ES256"}, Keys: set, Now: clk.Now})
		if err != nil {
			b.Fatal(err)
		}
		tok := token(clk, alg, "k1", "bench", nil)
		ctx := context.Background()
		for _, impl := range []struct {
			name string
			v    *providers.Verifier
		}{{"static", static}, {"remote", remote}} {
			b.Run("alg="+alg+"/keys="+impl.name, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, err := impl.v.Verify(ctx, tok); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
		if n := srv.hits.Load(); n != 1 {
			b.Fatalf("fetches during the benchmark = %d, want 1", n)
		}
	}
}

// BenchmarkUnknownKidFlood sends 10,000 tokens with random kids per
// operation, spread over 60 s of (injected) time, with a 30 s cooldown, and
// reports the key fetches they caused.
func BenchmarkUnknownKidFlood(b *testing.B) {
	srv := newKeyServer(b, set("k1"))
	clk := newClock()
	v, ks := newRemote(b, srv.URL, clk, func(c *providers.RemoteKeySetConfig) { c.MaxKeyAge = 7 * 24 * time.Hour })
	if err := ks.Prefetch(context.Background()); err != nil {
		b.Fatal(err)
	}
	real := strings.Split(token(clk, "RS256", "k1", "k1", func(c map[string]any) { c["exp"] = clk.Now().Add(24 * 365 * time.Hour).Unix() }), ".")
	toks := make([]string, 10_000)
	for i := range toks {
		toks[i] = jwttest.B64([]byte(fmt.Sprintf(`{"alg":"RS256","kid":"%016x"}`, rand.Uint64()))) + "." + real[1] + "." + real[2]
	}
	srv.hits.Store(0)
	ctx := context.Background()
	b.ReportAllocs()
	ops := 0
	for b.Loop() {
		ops++
		for _, tok := range toks {
			clk.Advance(6 * time.Millisecond)
			if _, err := v.Verify(ctx, tok); err == nil {
				b.Fatal("unknown kid accepted")
			}
		}
	}
	b.ReportMetric(float64(srv.hits.Load())/float64(ops), "fetches/op")
	b.ReportMetric(0, "ns/op") // per-op time is for 10,000 tokens; see ns/token
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(ops*len(toks)), "ns/token")
}

// BenchmarkFaults runs a key server through the faults of a production
// outage, on loopback and in real time, with 4 clients each sending a
// token every 10 ms, and reports the answers per status and how long after
// the fault ended the first good answer came. It takes some 5 minutes:
//
//	go test -run '^$' -bench Faults -benchtime 1x -timeout 30m ./providers/
func BenchmarkFaults(b *testing.B) {
	for _, sc := range []struct {
		name string
		run  func(b *testing.B) *faultCounts
	}{
		{"down-new-kid", benchDownNewKid},
		{"rotation-after-prefetch", benchRotation},
		{"cold-outage-125s", benchColdOutage},
		{"hanging-idp", benchHanging},
	} {
		b.Run(sc.name, func(b *testing.B) {
			var c *faultCounts
			for b.Loop() {
				c = sc.run(b)
			}
			c.report(b)
		})
	}
}

// faultCounts counts answers by status during the fault and after it, and
// the recovery time.
type faultCounts struct {
	mu            sync.Mutex
	during, after map[int]int
	recovery      time.Duration
	maxLatency    time.Duration
}

func (c *faultCounts) add(after bool, status int, d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.during == nil {
		c.during, c.after = map[int]int{}, map[int]int{}
	}
	if after {
		c.after[status]++
	} else {
		c.during[status]++
	}
	c.maxLatency = max(c.maxLatency, d)
}

func (c *faultCounts) report(b *testing.B) {
	for _, s := range []int{200, 401, 503} {
		b.ReportMetric(float64(c.during[s]), fmt.Sprintf("during-%d", s))
		b.ReportMetric(float64(c.after[s]), fmt.Sprintf("after-%d", s))
	}
	b.ReportMetric(c.recovery.Seconds(), "recovery-s")
	b.ReportMetric(c.maxLatency.Seconds(), "max-wait-s")
	b.ReportMetric(0, "ns/op")
}

// load sends tok from 4 clients, one request each per 10 ms, until stop
// returns true; after reports whether the fault has ended (then the first
// 200 ends the recovery measurement at the time since ended).
func load(v *providers.Verifier, tok func() string, c *faultCounts, ended func() (bool, time.Time), stop func() bool) {
	var wg sync.WaitGroup
	var once sync.Once
	for range 4 {
		wg.Go(func() {
			for !stop() {
				start := time.Now()
				_, err := v.Verify(context.Background(), tok())
				d := time.Since(start)
				status := 200
				if err != nil {
					status = authgate.StatusCode(err)
				}
				after, at := ended()
				c.add(after, status, d)
				if after && status == 200 {
					once.Do(func() { c.recovery = time.Since(at) })
				}
				time.Sleep(10 * time.Millisecond)
			}
		})
	}
	wg.Wait()
}

// phases returns ended and stop functions for a fault lasting fault and a
// measurement going on for at most total, or until recovered.
func phases(c *faultCounts, fault, total time.Duration, heal func()) (func() (bool, time.Time), func() bool) {
	start := time.Now()
	var mu sync.Mutex
	healed := false
	var at time.Time
	ended := func() (bool, time.Time) {
		mu.Lock()
		defer mu.Unlock()
		if !healed && time.Since(start) >= fault {
			healed, at = true, time.Now()
			heal()
		}
		return healed, at
	}
	stop := func() bool {
		c.mu.Lock()
		recovered := c.recovery > 0
		c.mu.Unlock()
		// Keep measuring 2 s past recovery so the after counts show it holds.
		return time.Since(start) > total || (recovered && time.Since(at) > c.recovery+2*time.Second)
	}
	return ended, stop
}

// realClockRemote is newRemote with authgate's defaults (cooldown 1 min,
// fetch timeout 5 s) and the real clock for the key set.
func realClockRemote(b *testing.B, url string, clk *fakeClock) (*providers.Verifier, *providers.RemoteKeySet) {
	return newRemote(b, url, clk, func(c *providers.RemoteKeySetConfig) { c.Cooldown, c.FetchTimeout, c.Now = 0, 0, nil })
}

func benchDownNewKid(b *testing.B) *faultCounts {
	srv := newKeyServer(b, set("k1"))
	down := newDownServer(b, srv.Config.Handler)
	clk := newClock()
	v, ks := realClockRemote(b, down.URL, clk)
	if err := ks.Prefetch(context.Background()); err != nil {
		b.Fatal(err)
	}
	k2 := token(clk, "RS256", "k2", "k2", nil)
	srv.set(set("k1", "k2"), "")
	down.down()
	c := &faultCounts{}
	ended, stop := phases(c, 3*time.Second, 70*time.Second, down.up)
	load(v, func() string { return k2 }, c, ended, stop)
	return c
}

func benchRotation(b *testing.B) *faultCounts {
	srv := newKeyServer(b, set("k1"))
	clk := newClock()
	v, ks := realClockRemote(b, srv.URL, clk)
	if err := ks.Prefetch(context.Background()); err != nil {
		b.Fatal(err)
	}
	srv.set(set("k1", "k2"), "") // published right after the start-up fetch
	k2 := token(clk, "RS256", "k2", "k2", nil)
	c := &faultCounts{}
	ended, stop := phases(c, 0, 70*time.Second, func() {})
	load(v, func() string { return k2 }, c, ended, stop)
	return c
}

func benchColdOutage(b *testing.B) *faultCounts {
	srv := newKeyServer(b, set("k1"))
	down := newDownServer(b, srv.Config.Handler)
	down.down()
	clk := newClock()
	v, _ := realClockRemote(b, down.URL, clk)
	k1 := token(clk, "RS256", "k1", "k1", nil)
	c := &faultCounts{}
	ended, stop := phases(c, 125*time.Second, 200*time.Second, down.up)
	load(v, func() string { return k1 }, c, ended, stop)
	return c
}

// benchHanging: discovery answers after 4.5 s and the key set hangs for
// 20 s, then both answer.
func benchHanging(b *testing.B) *faultCounts {
	var issuer string
	var mu sync.Mutex
	hung := true
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		h := hung
		mu.Unlock()
		if r.URL.Path == "/.well-known/openid-configuration" {
			if h {
				time.Sleep(4500 * time.Millisecond)
			}
			w.Write([]byte(`{"issuer":"` + issuer + `","jwks_uri":"` + issuer + `/keys"}`))
			return
		}
		if h {
			select {
			case <-time.After(20 * time.Second):
			case <-r.Context().Done():
				return
			}
		}
		w.Write(set("k1"))
	}))
	b.Cleanup(srv.Close)
	issuer = srv.URL
	clk := newClock()
	ks, err := providers.NewRemoteKeySet(providers.RemoteKeySetConfig{Name: "remote", Issuer: issuer, Algorithms: []string{providers.RS256}})
	if err != nil {
		b.Fatal(err)
	}
	v, err := providers.NewVerifier(providers.VerifierConfig{Name: "remote", Issuer: remoteIssuer, Audience: []string{remoteAudience},
		Algorithms: []string{providers.RS256}, Keys: ks, Now: clk.Now})
	if err != nil {
		b.Fatal(err)
	}
	k1 := token(clk, "RS256", "k1", "k1", nil)
	c := &faultCounts{}
	ended, stop := phases(c, 12*time.Second, 80*time.Second, func() { mu.Lock(); hung = false; mu.Unlock() })
	load(v, func() string { return k1 }, c, ended, stop)
	return c
}
