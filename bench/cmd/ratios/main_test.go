package main

import (
	"math"
	"strings"
	"testing"
)

func TestSplit(t *testing.T) {
	tests := []struct {
		name, family, group, impl string
	}{
		{name: "BenchmarkVerify/alg=RS256/impl=floor", family: "Verify", group: "alg=RS256", impl: "floor"},
		{name: "BenchmarkServe/route=verify/cache=on/impl=authgate", family: "Serve", group: "route=verify/cache=on", impl: "authgate"},
		{name: "BenchmarkHash/sha256", family: "Hash", group: "", impl: "sha256"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, g, i := split(tt.name)
			if f != tt.family || g != tt.group || i != tt.impl {
				t.Errorf("split(%q) = %q, %q, %q, want %q, %q, %q", tt.name, f, g, i, tt.family, tt.group, tt.impl)
			}
		})
	}
}

func TestParseAndRatio(t *testing.T) {
	in := strings.Join([]string{
		"goos: linux",
		"BenchmarkVerify/alg=RS256/impl=floor-2   100   20000 ns/op   1376 B/op   9 allocs/op",
		"BenchmarkVerify/alg=RS256/impl=lib-2     100   30000 ns/op   5000 B/op  70 allocs/op",
		"BenchmarkVerify/alg=RS256/impl=lib-2     100   50000 ns/op   5000 B/op  70 allocs/op",
		"BenchmarkVerify/alg=RS256/impl=floor-2   100   40000 ns/op   1376 B/op   9 allocs/op",
		"BenchmarkVerify/alg=RS256/impl=lib-2     100   27000 ns/op   5000 B/op  70 allocs/op",
		"BenchmarkVerify/alg=RS256/impl=floor-2   100   18000 ns/op   1376 B/op   9 allocs/op",
		"PASS",
	}, "\n")
	fams, order, err := parse(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if len(order) != 1 || order[0] != "Verify" {
		t.Fatalf("parse: families %v, want [Verify]", order)
	}
	tb := fams["Verify"]
	lib, fl := tb.samples[[2]string{"alg=RS256", "lib"}], tb.samples[[2]string{"alg=RS256", "floor"}]
	if len(lib) != 3 || len(fl) != 3 {
		t.Fatalf("parse: %d lib and %d floor samples, want 3 each", len(lib), len(fl))
	}
	// Rounds line up: 30000/20000, 50000/40000, 27000/18000 = 1.5, 1.25,
	// 1.5, median 1.5.
	got, ok := ratio(lib, fl)
	if !ok || math.Abs(got-1.5) > 1e-9 {
		t.Errorf("ratio = %v, %v, want 1.5, true", got, ok)
	}
	// Unequal counts fall back to the ratio of the medians.
	got, _ = ratio(lib[:2], fl)
	if want := 40000.0 / 20000; math.Abs(got-want) > 1e-9 {
		t.Errorf("ratio(2 vs 3 samples) = %v, want %v", got, want)
	}
}

func TestThroughput(t *testing.T) {
	in := strings.Join([]string{
		"BenchmarkServe/pair=cache/impl=healthz 1 50000 req/s",
		"BenchmarkServe/pair=cache/impl=verify 1 45000 req/s",
		"BenchmarkServe/pair=peer/impl=oauth2proxy 1 10000 req/s",
		"BenchmarkServe/pair=peer/impl=authgate 1 40000 req/s",
		"BenchmarkServe/pair=cache/impl=healthz 1 40000 req/s",
		"BenchmarkServe/pair=cache/impl=verify 1 32000 req/s",
	}, "\n")
	fams, _, err := parse(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	print(&b, "Serve", fams["Serve"], []string{"healthz", "oauth2proxy"})
	out := b.String()
	for _, want := range []string{
		"| pair=cache | healthz | 45000 | reference | 2 |",
		"| pair=cache | verify | 38500 | 0.85× | 2 |", // rounds: 0.90, 0.80
		"| pair=peer | authgate | 40000 | 4.00× | 1 |",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("print() lacks %q; got:\n%s", want, out)
		}
	}
}
