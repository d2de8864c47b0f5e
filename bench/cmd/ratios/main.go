// Command ratios reads `go test -bench` output (several samples of each
// benchmark, interleaved or not) and prints, per benchmark family, the
// median time of every implementation and its ratio to the floor of the same
// group: the median over the samples of impl ÷ floor taken in the same
// round when both have as many samples, else the ratio of the medians.
//
// A benchmark named Family/alg=RS256/impl=golangjwt belongs to group
// Family/alg=RS256; its floor is Family/alg=RS256/impl=floor.
//
//	go run ./cmd/ratios [-floor floor] bench.txt
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
)

// sample is one result line.
type sample struct {
	ns, bytes, allocs float64
	// rps is a throughput (a "req/s" unit), as serve.sh writes wrk results.
	rps float64
}

// table collects the samples of one family (the benchmark's first name
// element) by group and implementation, in the order first seen.
type table struct {
	groups, impls []string
	samples       map[[2]string][]sample
}

func main() {
	floorNames := flag.String("floor", "floor", "comma-separated `impls`: a group's ratios are taken to the first of them it has")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: ratios [-floor impl] [bench.txt …]  (standard input without files)")
		flag.PrintDefaults()
	}
	flag.Parse()
	var in io.Reader = os.Stdin
	if flag.NArg() > 0 {
		var rs []io.Reader
		for _, name := range flag.Args() {
			f, err := os.Open(name)
			if err != nil {
				fmt.Fprintln(os.Stderr, "ratios:", err)
				os.Exit(1)
			}
			defer f.Close()
			rs = append(rs, f)
		}
		in = io.MultiReader(rs...)
	}
	families, order, err := parse(in)
	if err != nil {
		fmt.Fprintln(os.Stderr, "ratios:", err)
		os.Exit(1)
	}
	if len(order) == 0 {
		fmt.Fprintln(os.Stderr, "ratios: no benchmark results in the input")
		os.Exit(1)
	}
	for _, fam := range order {
		print(os.Stdout, fam, families[fam], strings.Split(*floorNames, ","))
	}
}

// parse reads benchmark lines into tables by family.
func parse(r io.Reader) (map[string]*table, []string, error) {
	families := map[string]*table{}
	var order []string
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 4 || !strings.HasPrefix(fields[0], "Benchmark") {
			continue
		}
		name := fields[0]
		if i := strings.LastIndexByte(name, '-'); i > 0 {
			if _, err := strconv.Atoi(name[i+1:]); err == nil {
				name = name[:i] // the GOMAXPROCS suffix
			}
		}
		var s sample
		ok := false
		for i := 2; i+1 < len(fields); i += 2 {
			v, err := strconv.ParseFloat(fields[i], 64)
			if err != nil {
				continue
			}
			switch fields[i+1] {
			case "ns/op":
				s.ns, ok = v, true
			case "B/op":
				s.bytes = v
			case "allocs/op":
				s.allocs = v
			case "req/s":
				s.rps, ok = v, true
			}
		}
		if !ok {
			continue
		}
		fam, group, impl := split(name)
		t := families[fam]
		if t == nil {
			t = &table{samples: map[[2]string][]sample{}}
			families[fam] = t
			order = append(order, fam)
		}
		if !slices.Contains(t.groups, group) {
			t.groups = append(t.groups, group)
		}
		if !slices.Contains(t.impls, impl) {
			t.impls = append(t.impls, impl)
		}
		k := [2]string{group, impl}
		t.samples[k] = append(t.samples[k], s)
	}
	return families, order, sc.Err()
}

// split cuts a benchmark name into its family (first element), its group
// (the other elements but impl=) and its implementation.
func split(name string) (family, group, impl string) {
	parts := strings.Split(name, "/")
	family = strings.TrimPrefix(parts[0], "Benchmark")
	var rest []string
	for _, p := range parts[1:] {
		if v, ok := strings.CutPrefix(p, "impl="); ok {
			impl = v
			continue
		}
		rest = append(rest, p)
	}
	if impl == "" && len(rest) > 0 {
		impl, rest = rest[len(rest)-1], rest[:len(rest)-1]
	}
	return family, strings.Join(rest, "/"), impl
}

func print(w io.Writer, fam string, t *table, floors []string) {
	if t.throughput() {
		printThroughput(w, fam, t, floors)
		return
	}
	ref := t.floor("", floors) + " of"
	if len(t.groups) > 1 && len(floors) > 1 {
		ref = "the first of " + strings.Join(floors, ", ") + " in"
	}
	fmt.Fprintf(w, "## %s: median time per op (× %s the same group, per round)\n\n", fam, ref)
	head := "| impl |"
	rule := "|---|"
	for _, g := range t.groups {
		head += " " + g + " |"
		rule += "---:|"
	}
	fmt.Fprintln(w, head)
	fmt.Fprintln(w, rule)
	for _, impl := range t.impls {
		row := "| " + impl + " |"
		for _, g := range t.groups {
			s := t.samples[[2]string{g, impl}]
			if len(s) == 0 {
				row += " n/a |"
				continue
			}
			cell := duration(median(s, func(s sample) float64 { return s.ns }))
			if r, ok := ratio(s, t.samples[[2]string{g, t.floor(g, floors)}]); ok {
				cell += fmt.Sprintf(" (%.2f×)", r)
			}
			row += " " + cell + " |"
		}
		fmt.Fprintln(w, row)
	}
	if !t.hasMemory() {
		fmt.Fprintln(w)
		return
	}
	fmt.Fprintf(w, "\n## %s: B/op, allocs/op (medians); samples\n\n", fam)
	fmt.Fprintln(w, head)
	fmt.Fprintln(w, rule)
	for _, impl := range t.impls {
		row := "| " + impl + " |"
		for _, g := range t.groups {
			s := t.samples[[2]string{g, impl}]
			if len(s) == 0 {
				row += " n/a |"
				continue
			}
			row += fmt.Sprintf(" %.0f B, %.0f; n=%d |", median(s, func(s sample) float64 { return s.bytes }),
				median(s, func(s sample) float64 { return s.allocs }), len(s))
		}
		fmt.Fprintln(w, row)
	}
	fmt.Fprintln(w)
}

// ratio is the median of the per-round ratios of s to floor when both have
// as many samples (rounds line up), else the ratio of their medians.
func ratio(s, floor []sample) (float64, bool) {
	if len(floor) == 0 {
		return 0, false
	}
	ns := func(s sample) float64 { return s.ns }
	if len(s) != len(floor) {
		return median(s, ns) / median(floor, ns), true
	}
	rs := make([]sample, len(s))
	for i := range s {
		rs[i] = sample{ns: s[i].ns / floor[i].ns}
	}
	return median(rs, ns), true
}

func median(s []sample, f func(sample) float64) float64 {
	v := make([]float64, len(s))
	for i := range s {
		v[i] = f(s[i])
	}
	slices.Sort(v)
	n := len(v)
	if n%2 == 1 {
		return v[n/2]
	}
	return (v[n/2-1] + v[n/2]) / 2
}

// duration formats nanoseconds with a unit that keeps three figures.
func duration(ns float64) string {
	switch {
	case ns >= 1e6:
		return fmt.Sprintf("%.3g ms", ns/1e6)
	case ns >= 1e3:
		return fmt.Sprintf("%.3g µs", ns/1e3)
	default:
		return fmt.Sprintf("%.3g ns", ns)
	}
}

// hasMemory reports whether any sample of t has B/op or allocs/op.
func (t *table) hasMemory() bool {
	for _, s := range t.samples {
		for _, x := range s {
			if x.bytes > 0 || x.allocs > 0 {
				return true
			}
		}
	}
	return false
}

// throughput reports whether t holds throughputs (req/s) rather than times.
func (t *table) throughput() bool {
	for _, s := range t.samples {
		if len(s) > 0 && s[0].rps > 0 {
			return true
		}
	}
	return false
}

// floor returns the first of floors that group has samples of; for group
// "" (a heading), the first of floors any group has.
func (t *table) floor(group string, floors []string) string {
	for _, f := range floors {
		for _, g := range t.groups {
			if (group == "" || g == group) && len(t.samples[[2]string{g, f}]) > 0 {
				return f
			}
		}
	}
	return floors[0]
}

// printThroughput prints one row per group and implementation: the median
// req/s and its ratio to the group's floor (the median of the per-round
// ratios impl ÷ floor; higher is better).
func printThroughput(w io.Writer, fam string, t *table, floors []string) {
	fmt.Fprintf(w, "## %s: median req/s (× the reference of the same pair, per round)\n\n", fam)
	fmt.Fprintln(w, "| pair | impl | req/s | ratio | rounds |")
	fmt.Fprintln(w, "|---|---|---:|---:|---:|")
	rps := func(s sample) float64 { return s.rps }
	for _, g := range t.groups {
		ref := t.floor(g, floors)
		for _, impl := range t.impls {
			s := t.samples[[2]string{g, impl}]
			if len(s) == 0 {
				continue
			}
			cell := "reference"
			if impl != ref {
				cell = "n/a"
				if fl := t.samples[[2]string{g, ref}]; len(fl) > 0 {
					inv := func(s []sample) []sample {
						out := make([]sample, len(s))
						for i := range s {
							out[i] = sample{ns: 1 / s[i].rps}
						}
						return out
					}
					// Times are 1/rps: impl/floor in throughput is
					// floor/impl in time.
					r, _ := ratio(inv(fl), inv(s))
					cell = fmt.Sprintf("%.2f×", r)
				}
			}
			fmt.Fprintf(w, "| %s | %s | %.0f | %s | %d |\n", g, impl, median(s, rps), cell, len(s))
		}
	}
	fmt.Fprintln(w)
}
