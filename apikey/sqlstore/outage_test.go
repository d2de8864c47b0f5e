package sqlstore_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/apikey"
	"github.com/authgate/authgate/apikey/sqlstore"
)

// pgBin is where Debian's PostgreSQL 15 (as .ci/services.sh installs it)
// keeps initdb, pg_ctl and postgres.
const pgBin = "/usr/lib/postgresql/15/bin"

// pgServer is a throwaway PostgreSQL server of one test, on a free
// loopback port, that the test may stop, start, freeze and thaw.
type pgServer struct {
	t      testing.TB
	dir    string // owned by the server's user; holds data, socket and log
	port   int
	dsn    string
	asUser []string // runuser prefix when running as root

	mu     sync.Mutex
	frozen []int
}

// startServer initialises and starts a throwaway server. It runs only
// where the PostgreSQL tests run (postgresEnv set, as .ci/run does), and
// fails there when PostgreSQL's binaries are missing.
func startServer(t testing.TB) *pgServer {
	t.Helper()
	if os.Getenv(postgresEnv) == "" {
		t.Skip(postgresEnv + " not set: tests with a throwaway PostgreSQL server skipped")
	}
	if _, err := os.Stat(filepath.Join(pgBin, "initdb")); err != nil {
		t.Fatalf("%s is set but PostgreSQL's initdb is missing: %v", postgresEnv, err)
	}
	dir, err := os.MkdirTemp("", "authgate-pg-")
	if err != nil {
		t.Fatal(err)
	}
	s := &pgServer{t: t, dir: dir, port: closedPort(t)}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if os.Geteuid() == 0 {
		// initdb refuses to run as root: the server runs as postgres.
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Fatalf("running as root without a postgres user: %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
		s.asUser = []string{"runuser", "-u", "postgres", "--"}
	}
	s.run("initdb", "-D", s.data(), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync")
	s.start()
	t.Cleanup(s.stop)
	s.dsn = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", s.port)
	return s
}

func (s *pgServer) data() string { return filepath.Join(s.dir, "data") }

func (s *pgServer) run(name string, args ...string) {
	s.t.Helper()
	argv := append(slices.Clone(s.asUser), append([]string{filepath.Join(pgBin, name)}, args...)...)
	out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput()
	if err != nil {
		s.t.Fatalf("%s: %v\n%s", name, err, out)
	}
}

// start starts the server and waits until it accepts connections.
func (s *pgServer) start() {
	s.t.Helper()
	s.run("pg_ctl", "-D", s.data(), "-l", filepath.Join(s.dir, "log"), "-w", "-o",
		fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off", s.port, s.dir), "start")
}

// stop stops the server (fast shutdown: sessions are cut), thawing it
// first if it is frozen; stopping a stopped server does nothing.
func (s *pgServer) stop() {
	s.thaw()
	if _, err := os.Stat(filepath.Join(s.data(), "postmaster.pid")); err != nil {
		return
	}
	s.run("pg_ctl", "-D", s.data(), "-m", "fast", "-w", "stop")
}

// processes returns the postmaster and every process it forked.
func (s *pgServer) processes() []int {
	s.t.Helper()
	b, err := os.ReadFile(filepath.Join(s.data(), "postmaster.pid"))
	if err != nil {
		s.t.Fatalf("server not running: %v", err)
	}
	first, _, _ := strings.Cut(string(b), "\n")
	pm, err := strconv.Atoi(strings.TrimSpace(first))
	if err != nil {
		s.t.Fatalf("postmaster.pid: %v", err)
	}
	pids := []int{pm}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid …; comm may hold spaces, so cut at the last ')'.
		i := strings.LastIndexByte(string(stat), ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(stat[i+1:]))
		if len(f) > 1 && f[1] == strconv.Itoa(pm) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// freeze hangs the server: SIGSTOP to the postmaster first (no new
// backends) and then to every process it forked. Connections stay open
// and the kernel still completes new TCP handshakes, but nothing answers.
func (s *pgServer) freeze() int {
	s.t.Helper()
	pids := s.processes()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, pid := range pids {
		if err := syscall.Kill(pid, syscall.SIGSTOP); err == nil {
			s.frozen = append(s.frozen, pid)
		}
	}
	return len(s.frozen)
}

// thaw sends SIGCONT to what freeze stopped, the postmaster last.
func (s *pgServer) thaw() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := len(s.frozen) - 1; i >= 0; i-- {
		syscall.Kill(s.frozen[i], syscall.SIGCONT)
	}
	s.frozen = nil
}

// Key classes of the load.
const (
	classValid    = "valid"    // must never be refused (401)
	classRevoked  = "revoked"  // revoked before the load: never accepted
	classUnknown  = "unknown"  // never issued: never accepted
	classRevoking = "revoking" // revoked during the load: not accepted after the bound
)

var classes = []string{classValid, classRevoked, classUnknown, classRevoking}

// sample is one request of the load.
type sample struct {
	start   time.Time
	took    time.Duration
	replica int
	class   string
	code    int
}

// load runs workers per replica, each authenticating a key of every class
// in turn, until stop.
type load struct {
	mu      sync.Mutex
	samples []sample
	quit    chan struct{}
	once    sync.Once
	wg      sync.WaitGroup
}

func startLoad(replicas []*feedReplica, keys map[string][]string, workers int) *load {
	l := &load{quit: make(chan struct{})}
	for i, r := range replicas {
		for range workers {
			l.wg.Go(func() {
				var local []sample
				defer func() {
					l.mu.Lock()
					l.samples = append(l.samples, local...)
					l.mu.Unlock()
				}()
				for n := 0; ; n++ {
					select {
					case <-l.quit:
						return
					default:
					}
					class := classes[n%len(classes)]
					key := keys[class][rand.N(len(keys[class]))]
					t0 := time.Now()
					_, err := r.auth.Authenticate(keyRequest(key))
					local = append(local, sample{start: t0, took: time.Since(t0), replica: i, class: class, code: authgate.StatusCode(err)})
					time.Sleep(time.Millisecond)
				}
			})
		}
	}
	return l
}

// stop stops the load, waits for it and returns its samples; calling it
// again returns them again.
func (l *load) stop() []sample {
	l.once.Do(func() {
		close(l.quit)
		l.wg.Wait()
	})
	return l.samples
}

// window is a phase of the load, by request start time.
type window struct {
	name     string
	from, to time.Time
}

// counts returns, per class, the number of requests of each status that
// started in w, in a line such as "valid 200:812 503:40".
func counts(samples []sample, w window) string {
	byClass := map[string]map[int]int{}
	for _, s := range samples {
		if s.start.Before(w.from) || !s.start.Before(w.to) {
			continue
		}
		if byClass[s.class] == nil {
			byClass[s.class] = map[int]int{}
		}
		byClass[s.class][s.code]++
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%-8s", w.name)
	for _, c := range classes {
		codes := byClass[c]
		var keys []int
		for k := range codes {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		fmt.Fprintf(&b, " | %s", c)
		for _, k := range keys {
			fmt.Fprintf(&b, " %d:%d", k, codes[k])
		}
	}
	return b.String()
}

// checkBounds fails the test for every request that broke a rule: a
// valid key refused, a revoked or unknown key accepted, a key revoked at
// revokedAt accepted after the propagation bound, or (when maxTook is
// positive) an answer slower than maxTook.
func checkBounds(t *testing.T, samples []sample, revokedAt time.Time, maxTook time.Duration) {
	t.Helper()
	bad := map[string]int{}
	for _, s := range samples {
		switch {
		case s.class == classValid && s.code != 200 && s.code != 503:
			bad[fmt.Sprintf("valid key answered %d", s.code)]++
		case (s.class == classRevoked || s.class == classUnknown) && s.code != 401 && s.code != 503:
			bad[fmt.Sprintf("%s key answered %d", s.class, s.code)]++
		case s.class == classRevoking && s.code == 200 && s.start.After(revokedAt.Add(propagationBound)):
			bad["key accepted after its revocation's propagation bound"]++
		case s.class == classRevoking && s.code != 200 && s.code != 401 && s.code != 503:
			bad[fmt.Sprintf("revoking key answered %d", s.code)]++
		}
		if maxTook > 0 && s.took > maxTook {
			bad[fmt.Sprintf("answered after more than %v", maxTook)]++
		}
	}
	for what, n := range bad {
		t.Errorf("%d requests: %s", n, what)
	}
}

// recovery returns, per replica, how long after since its store still
// failed (the end of the last request started after since that was a
// 503, of any class), and the overall maximum.
func recovery(samples []sample, replicas int, since time.Time) ([]time.Duration, time.Duration) {
	per := make([]time.Duration, replicas)
	for _, s := range samples {
		if s.code == 503 && s.start.After(since) {
			per[s.replica] = max(per[s.replica], s.start.Add(s.took).Sub(since))
		}
	}
	return per, slices.Max(per)
}

func maxTook(samples []sample, w window) time.Duration {
	var m time.Duration
	for _, s := range samples {
		if !s.start.Before(w.from) && s.start.Before(w.to) {
			m = max(m, s.took)
		}
	}
	return m
}

// outageFixture is three replicas over a throwaway server, with keys of
// every class.
type outageFixture struct {
	srv      *pgServer
	replicas []*feedReplica
	keys     map[string][]string
	revoking string // ID of the key of classRevoking
}

func newOutageFixture(t *testing.T, acfg apikey.Config) *outageFixture {
	t.Helper()
	ctx := context.Background()
	f := &outageFixture{srv: startServer(t), keys: map[string][]string{}}
	for range 3 {
		r := openReplica(t, sqlstore.Config{DSN: f.srv.dsn}, acfg)
		r.start(t)
		f.replicas = append(f.replicas, r)
	}
	m := f.replicas[0].auth.Manager()
	for i := range 12 {
		key, k, err := m.Issue(ctx, apikey.Key{Subject: fmt.Sprintf("user-%d", i)})
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case i < 8:
			f.keys[classValid] = append(f.keys[classValid], key)
		case i < 11:
			if err := m.Revoke(ctx, k.ID); err != nil {
				t.Fatal(err)
			}
			f.keys[classRevoked] = append(f.keys[classRevoked], key)
		default:
			f.keys[classRevoking] = []string{key}
			f.revoking = k.ID
		}
		f.keys[classUnknown] = append(f.keys[classUnknown], validUnknownKey(t))
	}
	return f
}

// checkPropagates revokes a fresh key through replica 0 and checks that
// the others refuse it within the bound: the feed works again.
func (f *outageFixture) checkPropagates(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	key, k, err := f.replicas[0].auth.Manager().Issue(ctx, apikey.Key{Subject: "after"})
	if err != nil {
		t.Fatalf("Issue after recovery = %v", err)
	}
	for _, r := range f.replicas[1:] {
		if got := r.status(key); got != 200 {
			t.Fatalf("Authenticate(fresh key after recovery) = %d, want 200", got)
		}
	}
	t0 := time.Now()
	if err := f.replicas[0].auth.Manager().Revoke(ctx, k.ID); err != nil {
		t.Fatal(err)
	}
	for i, r := range f.replicas[1:] {
		took, err := r.refusedAfter(key, t0, propagationBound)
		if err != nil {
			t.Fatalf("replica %d after recovery: %v", i+1, err)
		}
		t.Logf("after recovery: revocation refused on replica %d after %v", i+1, took)
	}
}

// TestPostgresRestartUnderLoad: PostgreSQL stopped (fast shutdown) for
// 3 s and started again under a load of valid, revoked, unknown keys and
// one key revoked during the load, on three replicas with a 2 s cache: no
// valid key is ever refused (503 at worst), no revoked or unknown key is
// ever accepted, the key revoked during the load is refused everywhere
// within the propagation bound, and every replica recovers on its own —
// lookups and change feed — within seconds of the server's return
// (reported), after which revocations propagate again.
func TestPostgresRestartUnderLoad(t *testing.T) {
	f := newOutageFixture(t, apikey.Config{CacheTTL: 2 * time.Second})
	l := startLoad(f.replicas, f.keys, 2)
	defer l.stop()
	t0 := time.Now()
	time.Sleep(500 * time.Millisecond)
	if err := f.replicas[0].auth.Manager().Revoke(context.Background(), f.revoking); err != nil {
		t.Fatal(err)
	}
	revokedAt := time.Now()
	time.Sleep(time.Second)
	tStop := time.Now()
	f.srv.stop()
	for _, r := range f.replicas {
		r.feed.waitFor(t, false, 10*time.Second)
	}
	t.Logf("feed lost on every replica within %v of the stop", time.Since(tStop).Round(time.Millisecond))
	time.Sleep(3*time.Second - time.Since(tStop))
	tUp := time.Now()
	f.srv.start()
	tStarted := time.Now()
	for i, r := range f.replicas {
		r.feed.waitFor(t, true, 10*time.Second)
		t.Logf("replica %d: feed back %v after the server was started (%v after it accepted connections)", i,
			r.feed.lastUp().Sub(tUp).Round(time.Millisecond), r.feed.lastUp().Sub(tStarted).Round(time.Millisecond))
	}
	time.Sleep(3 * time.Second)
	samples := l.stop()
	tEnd := time.Now()

	for _, w := range []window{{"before", t0, tStop}, {"down", tStop, tStarted}, {"after", tStarted, tEnd}} {
		t.Logf("%s (max latency %v)", counts(samples, w), maxTook(samples, w).Round(time.Millisecond))
	}
	per, worst := recovery(samples, len(f.replicas), tStarted)
	t.Logf("last 503 per replica after the server accepted connections: %v (max %v)", per, worst)
	checkBounds(t, samples, revokedAt, 0)
	if worst > 5*time.Second {
		t.Errorf("a replica answered 503 %v after the server was back, want within 5 s", worst)
	}
	f.checkPropagates(t)
}

// TestPostgresHungUnderLoad: PostgreSQL hung — the postmaster and every
// backend SIGSTOPped — for 4 s under the same load, with a 500 ms
// LookupTimeout and a 2 s cache: valid keys are 200 (cached) or 503, never
// 401; revoked and unknown keys are never accepted; every request is
// answered within LookupTimeout + 500 ms; and after SIGCONT every replica
// recovers on its own (reported), revocations propagating again.
func TestPostgresHungUnderLoad(t *testing.T) {
	const lookupTimeout = 500 * time.Millisecond
	const slack = 500 * time.Millisecond
	f := newOutageFixture(t, apikey.Config{CacheTTL: 2 * time.Second, LookupTimeout: lookupTimeout})
	if err := f.replicas[0].auth.Manager().Revoke(context.Background(), f.revoking); err != nil {
		t.Fatal(err)
	}
	revokedAt := time.Now()
	l := startLoad(f.replicas, f.keys, 2)
	defer l.stop()
	t0 := time.Now()
	time.Sleep(time.Second)
	tFreeze := time.Now()
	n := f.srv.freeze()
	defer f.srv.thaw()
	time.Sleep(4 * time.Second)
	tThaw := time.Now()
	f.srv.thaw()
	t.Logf("froze %d server processes for %v", n, tThaw.Sub(tFreeze).Round(time.Millisecond))
	for i, r := range f.replicas {
		r.feed.waitFor(t, true, 10*time.Second)
		_, ups, downs, _ := r.feed.state()
		t.Logf("replica %d: feed lost %d times, up %d times (the last %v after SIGCONT)", i, downs, ups, r.feed.lastUp().Sub(tThaw).Round(time.Millisecond))
	}
	time.Sleep(3 * time.Second)
	samples := l.stop()
	tEnd := time.Now()

	for _, w := range []window{{"before", t0, tFreeze}, {"hung", tFreeze, tThaw}, {"after", tThaw, tEnd}} {
		t.Logf("%s (max latency %v)", counts(samples, w), maxTook(samples, w).Round(time.Millisecond))
	}
	per, worst := recovery(samples, len(f.replicas), tThaw)
	t.Logf("last 503 per replica after SIGCONT: %v (max %v)", per, worst)
	checkBounds(t, samples, revokedAt, lookupTimeout+slack)
	if worst > 5*time.Second {
		t.Errorf("a replica answered 503 %v after SIGCONT, want within 5 s", worst)
	}
	f.checkPropagates(t)
}
