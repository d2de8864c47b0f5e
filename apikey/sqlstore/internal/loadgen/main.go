// Command loadgen sends concurrent forward-auth requests to a running
// `authgate serve` and reports the responses per status and the latency
// percentiles, per second when -every is set. It measures the API-key
// store's pool and its recovery after a database outage on loopback:
//
//	go run ./apikey/sqlstore/internal/loadgen -url http://127.0.0.1:9000/verify \
//	    -key "$KEY" -c 200 -d 10s
//
// The key is read from the -key flag or, when that is empty, from the
// AUTHGATE_LOADGEN_KEY environment variable; it is never printed.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
)

func main() {
	url := flag.String("url", "http://127.0.0.1:9000/verify", "forward-auth URL")
	key := flag.String("key", "", "API key (default $AUTHGATE_LOADGEN_KEY)")
	header := flag.String("header", "X-API-Key", "header carrying the key")
	conc := flag.Int("c", 200, "concurrent clients")
	dur := flag.Duration("d", 10*time.Second, "duration")
	every := flag.Duration("every", 0, "print a line per interval (0: totals only)")
	timeout := flag.Duration("timeout", 10*time.Second, "client timeout per request")
	flag.Parse()
	if *key == "" {
		*key = os.Getenv("AUTHGATE_LOADGEN_KEY")
	}
	if *key == "" {
		fmt.Fprintln(os.Stderr, "loadgen: no key (-key or AUTHGATE_LOADGEN_KEY)")
		os.Exit(2)
	}
	tr := &http.Transport{MaxIdleConnsPerHost: *conc, MaxConnsPerHost: *conc}
	client := &http.Client{Transport: tr, Timeout: *timeout}

	type sample struct {
		at      time.Duration
		status  int
		latency time.Duration
	}
	var (
		mu      sync.Mutex
		samples []sample
	)
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), *dur)
	defer cancel()
	var wg sync.WaitGroup
	for range *conc {
		wg.Go(func() {
			var local []sample
			for ctx.Err() == nil {
				req, _ := http.NewRequest(http.MethodGet, *url, nil)
				req.Header.Set(*header, *key)
				t0 := time.Now()
				status := 0 // transport error
				resp, err := client.Do(req)
				if err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					status = resp.StatusCode
				}
				local = append(local, sample{t0.Sub(start), status, time.Since(t0)})
			}
			mu.Lock()
			samples = append(samples, local...)
			mu.Unlock()
		})
	}
	wg.Wait()
	slices.SortFunc(samples, func(a, b sample) int { return int(a.at - b.at) })

	report := func(label string, s []sample) {
		counts := map[int]int{}
		lat := make([]time.Duration, 0, len(s))
		for _, x := range s {
			counts[x.status]++
			lat = append(lat, x.latency)
		}
		slices.Sort(lat)
		pct := func(p float64) time.Duration {
			if len(lat) == 0 {
				return 0
			}
			return lat[min(len(lat)-1, int(p*float64(len(lat))))]
		}
		codes := make([]int, 0, len(counts))
		for c := range counts {
			codes = append(codes, c)
		}
		sort.Ints(codes)
		var b strings.Builder
		for _, c := range codes {
			fmt.Fprintf(&b, " %d×%d", c, counts[c])
		}
		fmt.Printf("%-8s n=%-7d%s  p50=%v p99=%v max=%v\n", label, len(s), b.String(),
			pct(0.50).Round(time.Microsecond), pct(0.99).Round(time.Microsecond), pct(1).Round(time.Microsecond))
	}
	if *every > 0 {
		for i := 0; ; i++ {
			lo, hi := time.Duration(i)**every, time.Duration(i+1)**every
			var win []sample
			for _, x := range samples {
				if x.at >= lo && x.at < hi {
					win = append(win, x)
				}
			}
			if lo >= *dur {
				break
			}
			report(fmt.Sprintf("%v", hi), win)
		}
	}
	// Recovery: the last non-200 and the first 200 after it.
	var last503, first200After time.Duration = -1, -1
	for _, x := range samples {
		if x.status != http.StatusOK {
			last503 = x.at + x.latency
		}
	}
	if last503 >= 0 {
		for _, x := range samples {
			if x.status == http.StatusOK && x.at >= last503 {
				first200After = x.at
				break
			}
		}
		fmt.Printf("last non-200 answered at %v; first 200 after it sent at %v\n", last503.Round(time.Millisecond), first200After.Round(time.Millisecond))
	}
	report("total", samples)
}
