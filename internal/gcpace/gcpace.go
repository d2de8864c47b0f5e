// Package gcpace paces the garbage collector of a long-running server
// whose live heap is small, so that it collects after a fixed amount of
// allocation instead of after as much as it keeps.
//
// With the default GOGC=100 the collector runs each time the heap has grown
// by its live size, and at least every 4 MiB. A forward-auth server keeps
// about a megabyte (its configuration, its dependencies' tables) and
// allocates a few kilobytes a request, so it collects dozens of times a
// second and marks that megabyte every time: a few microseconds of CPU a
// request. Start raises GOGC while the live heap is under a headroom, so
// that the heap goal is about live + headroom, and leaves GOGC at 100 once
// the live heap is larger (a verified-token cache of many entries), where
// GOGC=100 already collects rarely enough and the heap should not grow by
// more than it holds.
package gcpace

import (
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
)

// serverHeadroom is the headroom of ForServer: about 32 MiB more heap than
// the default pacing would let a small server use, for a collection every
// 32 MiB of allocation instead of every 4 MiB.
const serverHeadroom = 32 << 20

// ForServer paces the collector as `authgate serve` does, with a 32 MiB
// headroom, unless GOGC is set in the environment: an operator's choice
// wins, and stop then does nothing.
func ForServer() (stop func()) {
	if os.Getenv("GOGC") != "" {
		return func() {}
	}
	return Start(serverHeadroom)
}

// basePercent is the GOGC Start never goes below: the runtime's default.
const basePercent = 100

// minHeap is the runtime's heap goal floor at GOGC=100 (it scales with
// GOGC: 4 MiB × GOGC/100).
const minHeap = 4 << 20

// maxPercent bounds the GOGC Start sets, whatever the headroom.
const maxPercent = 100_000

// percentFor returns the GOGC that puts the heap goal at about live +
// headroom: the larger of the runtime's two goals, live × (1 + GOGC/100)
// and 4 MiB × GOGC/100, is kept at or just over live + headroom. It is
// never under 100, so a live heap of more than the headroom gets the
// default pacing.
func percentFor(live, headroom uint64) int {
	if live == 0 {
		live = 1
	}
	p := min(headroom*100/live, (live+headroom)*100/minHeap, maxPercent)
	return int(max(p, basePercent))
}

var (
	mu      sync.Mutex
	current *pacer
)

// pacer re-reads the live heap after every collection and sets GOGC.
type pacer struct {
	headroom uint64
	// restore is the GOGC the process had before Start.
	restore int
	percent int
	stopped bool
	sample  [1]metrics.Sample
}

// sentinel is an object with a finalizer: it becomes unreachable at once,
// so its finalizer runs after the next collection, once per cycle as long
// as each run allocates the next one. It holds a pointer so that it is not
// a tiny allocation, whose finalizer may never run.
type sentinel struct {
	p *pacer
	_ [8]byte
}

// Start paces the collector with the given headroom (bytes) until stop is
// called, which restores the GOGC of before. Only one pacing is active in a
// process: a second Start stops the first.
func Start(headroom uint64) (stop func()) {
	mu.Lock()
	defer mu.Unlock()
	restore := debug.SetGCPercent(basePercent)
	if current != nil {
		current.stopped = true
		restore = current.restore
	}
	p := &pacer{headroom: headroom, restore: restore, percent: basePercent}
	p.sample[0].Name = "/gc/heap/live:bytes"
	current = p
	p.adjustLocked()
	p.arm()
	var once sync.Once
	return func() {
		once.Do(func() {
			mu.Lock()
			defer mu.Unlock()
			if current != p {
				return
			}
			p.stopped = true
			current = nil
			debug.SetGCPercent(p.restore)
		})
	}
}

func (p *pacer) arm() {
	s := &sentinel{p: p}
	runtime.SetFinalizer(s, func(s *sentinel) { s.p.cycle() })
}

// cycle runs after each collection, on the finalizer goroutine.
func (p *pacer) cycle() {
	mu.Lock()
	defer mu.Unlock()
	if p.stopped {
		return
	}
	p.adjustLocked()
	p.arm()
}

// adjustLocked sets GOGC for the live heap the last collection marked,
// when it differs from the current one by more than an eighth (each change
// recomputes the heap goal, which is cheap, but need not happen every
// cycle).
func (p *pacer) adjustLocked() {
	metrics.Read(p.sample[:])
	if p.sample[0].Value.Kind() != metrics.KindUint64 {
		return
	}
	want := percentFor(p.sample[0].Value.Uint64(), p.headroom)
	if d := want - p.percent; d*8 > p.percent || -d*8 > p.percent {
		debug.SetGCPercent(want)
		p.percent = want
	}
}
