package providers_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

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
