package sqlstore_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/apikey"
	"github.com/authgate/authgate/apikey/sqlstore"
)

func TestOpenConfigValidation(t *testing.T) {
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "keys.db")
	tests := []struct {
		name string
		cfg  sqlstore.Config
	}{
		{"negative max open", sqlstore.Config{DSN: dsn, MaxOpenConns: -1}},
		{"negative idle time", sqlstore.Config{DSN: dsn, ConnMaxIdleTime: -time.Second}},
		{"negative lifetime", sqlstore.Config{DSN: dsn, ConnMaxLifetime: -time.Second}},
		{"negative connect timeout", sqlstore.Config{DSN: dsn, ConnectTimeout: -time.Second}},
		{"listen DSN on SQLite", sqlstore.Config{DSN: dsn, ListenDSN: "postgres://127.0.0.1/keys"}},
		{"listen DSN not PostgreSQL", sqlstore.Config{DSN: "postgres://127.0.0.1:1/keys", ListenDSN: "sqlite:" + filepath.Join(t.TempDir(), "x.db"), Lazy: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if s, err := sqlstore.OpenConfig(context.Background(), tt.cfg); err == nil {
				s.Close()
				t.Fatalf("OpenConfig(%+v) = nil error, want one", tt.cfg)
			}
		})
	}
	// The zero Config fails closed.
	if _, err := sqlstore.OpenConfig(context.Background(), sqlstore.Config{Lazy: true}); !errors.Is(err, sqlstore.ErrUnsupportedDSN) {
		t.Errorf("OpenConfig(Config{Lazy: true}) = %v, want ErrUnsupportedDSN", err)
	}
}

// TestPoolDefaults: the pool is bounded by default, keeps as many idle
// connections for reuse, and an in-memory SQLite database keeps its one.
func TestPoolDefaults(t *testing.T) {
	tests := []struct {
		name string
		cfg  sqlstore.Config
		want int
	}{
		{"default", sqlstore.Config{DSN: "sqlite:" + filepath.Join(t.TempDir(), "a.db")}, sqlstore.DefaultMaxOpenConns},
		{"configured", sqlstore.Config{DSN: "sqlite:" + filepath.Join(t.TempDir(), "b.db"), MaxOpenConns: 3}, 3},
		{"memory", sqlstore.Config{DSN: "sqlite::memory:", MaxOpenConns: 3}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := sqlstore.OpenConfig(context.Background(), tt.cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if got := s.Stats().MaxOpenConnections; got != tt.want {
				t.Errorf("MaxOpenConnections = %d, want %d", got, tt.want)
			}
		})
	}
}

// TestPostgresPoolBounded: 200 concurrent HTTP requests with a valid key
// (no cache, so each one is a lookup, and last-use writes on the same
// pool) are all 200, and the store never holds more connections than its
// bound, counted by the server. Without a bound the burst opens a
// connection per request and runs into max_connections ("too many
// clients": 503s for valid keys).
func TestPostgresPoolBounded(t *testing.T) {
	for _, tt := range []struct {
		name string
		max  int // 0: the default
		want int
	}{
		{"default", 0, sqlstore.DefaultMaxOpenConns},
		{"configured", 4, 4},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dsn := postgresDSN(t)
			app := fmt.Sprintf("authgate_pool_%d_%d", os.Getpid(), time.Now().UnixNano())
			dsn = withQuery(t, dsn, "application_name", app)
			s, err := sqlstore.OpenConfig(context.Background(), sqlstore.Config{DSN: dsn, MaxOpenConns: tt.max})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			a, err := apikey.New(s, apikey.Config{Prefix: "sk_live", CacheTTL: -1, LastUsedInterval: time.Second})
			if err != nil {
				t.Fatal(err)
			}
			defer a.Close()
			key, _, err := a.Manager().Issue(context.Background(), apikey.Key{Subject: "bot"})
			if err != nil {
				t.Fatal(err)
			}
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, err := a.Authenticate(r)
				w.WriteHeader(authgate.StatusCode(err))
			}))
			defer srv.Close()

			admin, err := sql.Open("pgx", os.Getenv(postgresEnv))
			if err != nil {
				t.Fatal(err)
			}
			defer admin.Close()
			var peak atomic.Int64
			stop := make(chan struct{})
			polled := make(chan struct{})
			go func() {
				defer close(polled)
				for {
					var n int64
					if err := admin.QueryRow(`SELECT count(*) FROM pg_stat_activity WHERE application_name = $1`, app).Scan(&n); err == nil && n > peak.Load() {
						peak.Store(n)
					}
					select {
					case <-stop:
						return
					case <-time.After(2 * time.Millisecond):
					}
				}
			}()

			const clients, perClient = 200, 10
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}, Timeout: 30 * time.Second}
			var (
				mu       sync.Mutex
				statuses = map[int]int{}
				start    = make(chan struct{})
				wg       sync.WaitGroup
			)
			for range clients {
				wg.Go(func() {
					<-start
					for range perClient {
						req, _ := http.NewRequest("GET", srv.URL, nil)
						req.Header.Set("X-API-Key", key)
						code := 0
						if resp, err := client.Do(req); err == nil {
							io.Copy(io.Discard, resp.Body)
							resp.Body.Close()
							code = resp.StatusCode
						}
						mu.Lock()
						statuses[code]++
						mu.Unlock()
					}
				})
			}
			close(start)
			wg.Wait()
			close(stop)
			<-polled
			if statuses[200] != clients*perClient {
				t.Errorf("statuses of %d requests with a valid key = %v, want all 200", clients*perClient, statuses)
			}
			if p := peak.Load(); p > int64(tt.want) || p == 0 {
				t.Errorf("the server saw at most %d connections of the store, want 1..%d", p, tt.want)
			}
			if st := s.Stats(); st.MaxOpenConnections != tt.want || st.OpenConnections > tt.want {
				t.Errorf("pool stats %+v, want at most %d open", st, tt.want)
			}
		})
	}
}

// TestLazySQLite: a Lazy store over a database that cannot be opened yet
// (its directory is missing) is opened, answers ErrNotReady with the cause,
// is a 503 (logged with the cause) for its authenticator, and serves keys
// within a few seconds once the directory exists — with the schema
// migrated. Open, not lazy, still fails.
func TestLazySQLite(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "later")
	dsn := "sqlite:" + filepath.Join(dir, "keys.db")
	if s, err := sqlstore.Open(context.Background(), dsn); err == nil {
		s.Close()
		t.Fatal("Open(missing directory) = nil error, want one")
	}
	var logs syncBuffer
	logger := slog.New(slog.NewJSONHandler(&logs, nil))
	s, err := sqlstore.OpenConfig(context.Background(), sqlstore.Config{DSN: dsn, Lazy: true, Logger: logger})
	if err != nil {
		t.Fatalf("OpenConfig(Lazy, missing directory) = %v, want a store", err)
	}
	defer s.Close()
	if _, err := s.List(context.Background()); !errors.Is(err, sqlstore.ErrNotReady) {
		t.Fatalf("List before the database exists = %v, want ErrNotReady", err)
	}
	if err := s.Ping(context.Background()); !errors.Is(err, sqlstore.ErrNotReady) {
		t.Fatalf("Ping before the database exists = %v, want ErrNotReady", err)
	}
	testRecovery(t, s, &logs, func() {
		if err := os.Mkdir(dir, 0o700); err != nil {
			t.Fatal(err)
		}
	}, "unable to open database file")
}

// TestLazyPostgresRefused: a Lazy store whose server refuses connections
// opens at once and fails with the cause (connection refused), never with
// the DSN's password; so does its authenticator's log line.
func TestLazyPostgresRefused(t *testing.T) {
	port := closedPort(t)
	dsn := fmt.Sprintf("postgres://authgate:hunter2secret@127.0.0.1:%d/keys?sslmode=disable", port)
	var logs syncBuffer
	logger := slog.New(slog.NewJSONHandler(&logs, nil))
	t0 := time.Now()
	s, err := sqlstore.OpenConfig(context.Background(), sqlstore.Config{DSN: dsn, Lazy: true, Logger: logger})
	if err != nil {
		t.Fatalf("OpenConfig(Lazy, refused) = %v, want a store", err)
	}
	if d := time.Since(t0); d > 2*time.Second {
		t.Errorf("OpenConfig(Lazy, refused) took %v", d)
	}
	a, err := apikey.New(s, apikey.Config{Prefix: "sk_live", Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Lookup(context.Background(), apikey.Digest{})
	if !errors.Is(err, sqlstore.ErrNotReady) || !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("Lookup(refused) = %v, want ErrNotReady wrapping ECONNREFUSED", err)
	}
	_, aerr := a.Authenticate(keyRequest(validUnknownKey(t)))
	if authgate.StatusCode(aerr) != http.StatusServiceUnavailable {
		t.Fatalf("Authenticate(refused) = %v, want 503", aerr)
	}
	s.Close() // stops the retries: nothing is logged after it
	a.Close()
	out := logs.String()
	for _, want := range []string{`"msg":"apikey: store lookup failed"`, `"msg":"sqlstore: cannot reach the database; retrying"`, "connection refused"} {
		if !strings.Contains(out, want) {
			t.Errorf("logs lack %s:\n%s", want, out)
		}
	}
	if all := out + err.Error() + aerr.Error(); strings.Contains(all, "hunter2secret") {
		t.Errorf("errors or logs contain the DSN password:\n%s", all)
	}
	if _, err := s.Lookup(context.Background(), apikey.Digest{}); err == nil {
		t.Error("Lookup after Close = nil error")
	}
}

// TestPostgresStartsWhileDown: a Lazy store opened while its PostgreSQL
// server is not listening answers 503 through its authenticator, then,
// within a few seconds of the server's return, migrates the schema and
// serves keys.
func TestPostgresStartsWhileDown(t *testing.T) {
	base := postgresDSN(t)
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	target := u.Host
	port := closedPort(t)
	u.Host = fmt.Sprintf("127.0.0.1:%d", port)
	var logs syncBuffer
	s, err := sqlstore.OpenConfig(context.Background(), sqlstore.Config{DSN: u.String(), Lazy: true,
		Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	if err != nil {
		t.Fatalf("OpenConfig(Lazy, server down) = %v, want a store", err)
	}
	defer s.Close()
	testRecovery(t, s, &logs, func() { forward(t, port, target) }, "connection refused")
}

// testRecovery checks a Lazy store that cannot reach its database: 503s
// logged with cause, then up() makes the database reachable, and within a
// few seconds an unknown key is a 401 (the schema exists) and an issued
// key a 200.
func testRecovery(t *testing.T, s *sqlstore.Store, logs *syncBuffer, up func(), cause string) {
	t.Helper()
	a, err := apikey.New(s, apikey.Config{Prefix: "sk_live", CacheTTL: -1, Logger: slog.New(slog.NewJSONHandler(logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	unknown := validUnknownKey(t)
	for range 50 {
		_, err := a.Authenticate(keyRequest(unknown))
		if !errors.Is(err, authgate.ErrUnavailable) || authgate.StatusCode(err) != http.StatusServiceUnavailable {
			t.Fatalf("Authenticate(database down) = %v, want ErrUnavailable 503", err)
		}
	}
	if n := strings.Count(logs.String(), `"msg":"apikey: store lookup failed"`); n != 1 {
		t.Errorf("50 failed lookups logged %d lines, want 1:\n%s", n, logs.String())
	}
	if !strings.Contains(logs.String(), cause) {
		t.Errorf("logs lack the cause %q:\n%s", cause, logs.String())
	}
	up()
	t0 := time.Now()
	for {
		_, err := a.Authenticate(keyRequest(unknown))
		if errors.Is(err, authgate.ErrInvalidCredentials) {
			break
		}
		if !errors.Is(err, authgate.ErrUnavailable) {
			t.Fatalf("Authenticate(database coming back) = %v, want 503 then 401", err)
		}
		if time.Since(t0) > 5*time.Second {
			t.Fatalf("still %v 5 s after the database came back", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("recovered %v after the database came back", time.Since(t0))
	key, _, err := a.Manager().Issue(context.Background(), apikey.Key{Subject: "bot"})
	if err != nil {
		t.Fatalf("Issue after recovery = %v", err)
	}
	if p, err := a.Authenticate(keyRequest(key)); err != nil || p.Subject != "bot" {
		t.Fatalf("Authenticate(issued key) = %v, %v; want bot", p, err)
	}
	if err := s.Ping(context.Background()); err != nil {
		t.Errorf("Ping after recovery = %v", err)
	}
	if !strings.Contains(logs.String(), "sqlstore: connected to the database, schema ready") {
		t.Errorf("no line says the database was reached:\n%s", logs.String())
	}
}

func keyRequest(key string) *http.Request {
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("X-API-Key", key)
	return r
}

// validUnknownKey is a well-formed sk_live key no store holds.
func validUnknownKey(t testing.TB) string {
	t.Helper()
	k, err := apikey.GenerateKey("sk_live")
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// closedPort returns a loopback TCP port nothing listens on.
func closedPort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	return port
}

// forward starts listening on 127.0.0.1:port and relays each connection
// to target, until the test ends: the database "comes back" there.
func forward(t testing.TB, port int, target string) {
	t.Helper()
	ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Fatalf("listen on the database's port again: %v", err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			mu.Lock()
			conns = append(conns, c, up)
			mu.Unlock()
			wg.Go(func() { io.Copy(up, c); up.Close() })
			wg.Go(func() { io.Copy(c, up); c.Close() })
		}
	})
}

func withQuery(t testing.TB, dsn, k, v string) string {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set(k, v)
	u.RawQuery = q.Encode()
	return u.String()
}

// syncBuffer is a bytes buffer safe for concurrent writers.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
