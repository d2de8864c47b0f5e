package gcpace

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"testing"
)

// goal is the runtime's heap goal for a live heap at GOGC=p (stacks and
// globals left out): the larger of live × (1 + p/100) and 4 MiB × p/100.
func goal(live uint64, p int) uint64 {
	return max(live+live*uint64(p)/100, minHeap*uint64(p)/100)
}

func TestPercentFor(t *testing.T) {
	const headroom = 32 << 20
	for live := uint64(0); live <= 256<<20; live += 64 << 10 {
		p := percentFor(live, headroom)
		if p < basePercent {
			t.Fatalf("live %d: GOGC %d, under the default", live, p)
		}
		g := goal(live, p)
		switch {
		case live >= headroom:
			if p != basePercent {
				t.Fatalf("live %d ≥ headroom: GOGC %d, want the default", live, p)
			}
		case g < live+headroom*15/16 || g > live+headroom*17/16:
			// Integer division may cost a percent; never more.
			t.Fatalf("live %d: GOGC %d gives a goal of %d, want about %d", live, p, g, live+headroom)
		}
	}
	if p := percentFor(0, 1<<40); p != maxPercent {
		t.Errorf("an absurd headroom: GOGC %d, want the cap %d", p, maxPercent)
	}
	if p := percentFor(1<<20, 0); p != basePercent {
		t.Errorf("no headroom: GOGC %d, want the default", p)
	}
}

var sink []byte

// churn allocates n bytes of garbage in 4 KiB pieces.
func churn(n int) {
	for i := 0; i < n; i += 4 << 10 {
		sink = make([]byte, 4<<10)
	}
}

func cycles() uint64 {
	s := []metrics.Sample{{Name: "/gc/cycles/total:gc-cycles"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// collections counts the collections while n bytes of garbage are
// allocated.
func collections(n int) uint64 {
	runtime.GC()
	before := cycles()
	churn(n)
	return cycles() - before
}

func TestStartPacesTheCollector(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(basePercent))
	const garbage = 256 << 20
	def := collections(garbage)

	stop := Start(32 << 20)
	paced := collections(garbage)
	if got := debug.SetGCPercent(-1); got <= basePercent {
		t.Errorf("GOGC while paced with a small live heap: %d, want more than %d", got, basePercent)
	} else {
		debug.SetGCPercent(got)
	}
	// A live heap larger than the headroom: the next collections bring
	// GOGC back to the default.
	big := make([][]byte, 48)
	for i := range big {
		big[i] = make([]byte, 1<<20)
	}
	runtime.GC()
	runtime.GC()
	churn(64 << 20)
	if got := debug.SetGCPercent(-1); got != basePercent {
		t.Errorf("GOGC with 48 MiB live: %d, want %d", got, basePercent)
	} else {
		debug.SetGCPercent(got)
	}
	runtime.KeepAlive(big)
	big = nil
	stop()
	stop() // a second call does nothing
	if got := debug.SetGCPercent(basePercent); got != basePercent {
		t.Errorf("GOGC after stop: %d, want the %d of before", got, basePercent)
	}
	after := collections(garbage)

	t.Logf("collections over %d MiB of garbage: %d default, %d paced, %d after stop", garbage>>20, def, paced, after)
	// 256 MiB at GOGC=100 with a tiny live heap: a collection every
	// ~4 MiB; paced with a 32 MiB headroom: one every ~32 MiB.
	if paced*4 > def {
		t.Errorf("paced: %d collections, want under a quarter of the default's %d", paced, def)
	}
	if after*2 < def {
		t.Errorf("after stop: %d collections, want about the default's %d", after, def)
	}
}

func TestStartTwice(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(basePercent))
	debug.SetGCPercent(150)
	stop1 := Start(32 << 20)
	stop2 := Start(16 << 20)
	stop1() // stopped by the second Start already: changes nothing
	if got := debug.SetGCPercent(-1); got <= basePercent {
		t.Errorf("GOGC after stopping the first pacing only: %d, want the second's", got)
	} else {
		debug.SetGCPercent(got)
	}
	stop2()
	if got := debug.SetGCPercent(basePercent); got != 150 {
		t.Errorf("GOGC after both stops: %d, want the 150 of before the first", got)
	}
}

func TestForServerLeavesGOGCToTheOperator(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(150))
	t.Setenv("GOGC", "150")
	stop := ForServer()
	runtime.GC()
	runtime.GC()
	if got := debug.SetGCPercent(150); got != 150 {
		t.Errorf("GOGC with GOGC=150 in the environment: %d, want 150 untouched", got)
	}
	stop()
	if got := debug.SetGCPercent(150); got != 150 {
		t.Errorf("GOGC after stop: %d, want 150 untouched", got)
	}

	t.Setenv("GOGC", "")
	debug.SetGCPercent(basePercent)
	stop = ForServer()
	if got := debug.SetGCPercent(-1); got <= basePercent {
		t.Errorf("GOGC paced by ForServer with a small live heap: %d, want more than %d", got, basePercent)
	} else {
		debug.SetGCPercent(got)
	}
	stop()
}
