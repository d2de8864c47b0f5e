// Package sqlstore keeps API keys in a SQL database through database/sql:
// SQLite (the embedded default, modernc.org/sqlite, pure Go, no cgo) or
// PostgreSQL (pgx v5 through its database/sql driver).
//
// Open creates the schema, or migrates it, as it opens the database;
// OpenConfig with Config.Lazy opens a database that cannot be reached yet
// and migrates it once it can, so that a server starts, and answers 503
// for its keys, while its database is down. The schema is versioned in
// the table authgate_schema_migrations; keys live in authgate_api_keys,
// found by a unique digest column. Plaintext keys never reach the
// database: only apikey.Digest values do.
//
// On PostgreSQL, tables are created in the first schema of the connection's
// search_path, so several deployments (or test runs) can share one server
// through "?search_path=…" in the DSN.
//
// On PostgreSQL a Store is an apikey.ChangeFeed: triggers in the schema
// NOTIFY every change of a key, by any client (another replica, psql), and
// one listening connection per Store, outside the pool, tells every
// Authenticator over it, which drops the key from its cache within about a
// second. A lost listening connection is replaced on its own; meanwhile the
// authenticators' CacheTTL bounds their caches as without a feed.
//
// A Store holds at most Config.MaxOpenConns connections (10 by default),
// shared by lookups and the batched last-use writes, and keeps them open
// for reuse: under a burst, lookups wait briefly for a connection, within
// their context, rather than opening more than the server allows.
package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/authgate/authgate/apikey"
	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Store is an apikey.Store in a SQL database. It is safe for concurrent use.
type Store struct {
	db *sql.DB
	d  *dialect
	q  queries
	// conn is set for a store opened with Config.Lazy: until it has
	// connected and migrated, every operation fails with ErrNotReady.
	conn *connector
	// feed is the change feed of a PostgreSQL store; nil on SQLite.
	feed *feed
}

var _ apikey.Store = (*Store)(nil)

// ErrUnsupportedDSN is returned by Open for a DSN that is neither
// "sqlite:PATH" nor "postgres://…" / "postgresql://…".
var ErrUnsupportedDSN = errors.New("sqlstore: unsupported DSN (want sqlite:PATH or postgres://…)")

// Defaults of Config.
const (
	// DefaultMaxOpenConns bounds the connections of one Store.
	DefaultMaxOpenConns = 10
	// DefaultConnMaxIdleTime closes a connection idle for that long.
	DefaultConnMaxIdleTime = 5 * time.Minute
	// DefaultConnMaxLifetime replaces a connection after that long, so that
	// a failed-over or rebalanced server is picked up.
	DefaultConnMaxLifetime = 30 * time.Minute
	// DefaultConnectTimeout bounds one attempt to connect and migrate.
	DefaultConnectTimeout = 5 * time.Second
)

// Config configures OpenConfig. DSN is required; every other zero field
// takes the documented default.
type Config struct {
	// DSN names the database, as for Open.
	DSN string
	// MaxOpenConns bounds the connections the store holds, shared by
	// lookups, last-use writes and key management; default
	// DefaultMaxOpenConns. An operation that finds every connection busy
	// waits for one until its context ends (apikey.Config.LookupTimeout
	// for a lookup) instead of opening one more: a burst of requests
	// queues briefly rather than exhausting the server's max_connections.
	// As many connections are kept idle for reuse. An in-memory SQLite
	// database always has one.
	MaxOpenConns int
	// ConnMaxIdleTime closes a connection unused for that long; default
	// DefaultConnMaxIdleTime.
	ConnMaxIdleTime time.Duration
	// ConnMaxLifetime closes a connection that old once it is idle;
	// default DefaultConnMaxLifetime.
	ConnMaxLifetime time.Duration
	// ConnectTimeout bounds each attempt to reach the database and migrate
	// its schema (the first one within the ctx of OpenConfig); default
	// DefaultConnectTimeout.
	ConnectTimeout time.Duration
	// Lazy makes OpenConfig succeed while the database cannot be reached:
	// the store answers every operation with an error wrapping ErrNotReady
	// (and the cause of the last attempt) until a background attempt
	// connects and migrates the schema. Attempts are retried at growing,
	// jittered intervals of at most two seconds, sooner when the store is
	// used, and stop at Close. An unsupported DSN and a schema newer than
	// this release are still errors of OpenConfig.
	Lazy bool
	// ListenDSN, PostgreSQL only, names the server the store's change feed
	// (see Store.WatchChanges) listens on; default DSN. Set it when DSN
	// goes through a pooler in transaction mode (PgBouncer), which cannot
	// deliver notifications: ListenDSN must reach the same database
	// directly or through a session-mode pool.
	ListenDSN string
	// Logger receives the failed attempts of a Lazy store, at Warn (an
	// identical line at most once per 10 s, the next one counting those
	// left out), and its connection at Info. Default: discard.
	Logger *slog.Logger
}

// Open opens the database named by dsn, creates or migrates its schema and
// returns the store, with the defaults of Config:
//
//   - "sqlite:PATH" opens (creating it if needed) the SQLite file PATH in
//     WAL mode with a 5 s busy timeout; "sqlite::memory:" is a private
//     in-memory database on one connection. SQLite URI parameters may
//     follow PATH after '?'.
//   - "postgres://…" or "postgresql://…" is a pgx connection string.
//
// It returns ErrUnsupportedDSN for any other DSN, an error wrapping
// ErrSchemaTooNew when the database was migrated by a newer release, or
// the driver's error. Errors never contain the DSN, which may hold a
// password.
func Open(ctx context.Context, dsn string) (*Store, error) {
	return OpenConfig(ctx, Config{DSN: dsn})
}

// OpenConfig opens the database cfg.DSN as Open does, with cfg's pool
// bounds, and, with cfg.Lazy, without failing while the database cannot be
// reached. It returns the errors of Open, or one for a negative bound or
// a ListenDSN that is not a PostgreSQL one beside a PostgreSQL DSN.
func OpenConfig(ctx context.Context, cfg Config) (*Store, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	var (
		d      *dialect
		source string
		memory bool
	)
	dsn := cfg.DSN
	switch {
	case strings.HasPrefix(dsn, "sqlite:"):
		path := strings.TrimPrefix(dsn, "sqlite:")
		if path == "" || strings.HasPrefix(path, "?") {
			return nil, errors.New("sqlstore: sqlite DSN without a path")
		}
		memory = path == ":memory:"
		sep := "?"
		if strings.Contains(path, "?") {
			sep = "&"
		}
		source = path + sep + "_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_txlock=immediate"
		d = sqliteDialect
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		source, d = dsn, postgresDialect
	default:
		return nil, ErrUnsupportedDSN
	}
	listen := cfg.ListenDSN
	switch {
	case listen == "" && d == postgresDialect:
		listen = dsn
	case listen == "":
	case d != postgresDialect:
		return nil, errors.New("sqlstore: a listen DSN is for PostgreSQL only")
	case !strings.HasPrefix(listen, "postgres://") && !strings.HasPrefix(listen, "postgresql://"):
		return nil, fmt.Errorf("%w: listen DSN", ErrUnsupportedDSN)
	}
	db, err := sql.Open(d.driver, source)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: open %s: %w", d.name, err)
	}
	if memory {
		cfg.MaxOpenConns = 1 // every SQLite connection to :memory: is its own database
		// The database lives as long as its one connection.
		cfg.ConnMaxIdleTime, cfg.ConnMaxLifetime = 0, 0
	}
	db.SetMaxOpenConns(cfg.MaxOpenConns)
	db.SetMaxIdleConns(cfg.MaxOpenConns)
	db.SetConnMaxIdleTime(cfg.ConnMaxIdleTime)
	db.SetConnMaxLifetime(cfg.ConnMaxLifetime)
	s := &Store{db: db, d: d, q: d.queries()}
	if listen != "" {
		s.feed = newFeed(listen, cfg.ConnectTimeout)
	}
	err = s.connect(ctx, cfg.ConnectTimeout)
	switch {
	case err == nil:
		return s, nil
	case cfg.Lazy && !errors.Is(err, ErrSchemaTooNew):
		s.conn = newConnector(s, cfg, err)
		return s, nil
	}
	db.Close()
	return nil, err
}

// withDefaults validates c and fills in the defaults.
func (c Config) withDefaults() (Config, error) {
	if c.MaxOpenConns < 0 || c.ConnMaxIdleTime < 0 || c.ConnMaxLifetime < 0 || c.ConnectTimeout < 0 {
		return c, errors.New("sqlstore: pool bounds and timeouts must not be negative")
	}
	if c.MaxOpenConns == 0 {
		c.MaxOpenConns = DefaultMaxOpenConns
	}
	if c.ConnMaxIdleTime == 0 {
		c.ConnMaxIdleTime = DefaultConnMaxIdleTime
	}
	if c.ConnMaxLifetime == 0 {
		c.ConnMaxLifetime = DefaultConnMaxLifetime
	}
	if c.ConnectTimeout == 0 {
		c.ConnectTimeout = DefaultConnectTimeout
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c, nil
}

// connect reaches the database and migrates its schema, within timeout.
func (s *Store) connect(ctx context.Context, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := s.db.PingContext(ctx); err != nil {
		return fmt.Errorf("sqlstore: connect %s: %w", s.d.name, err)
	}
	return migrate(ctx, s.db, s.d)
}

// Close stops the connection attempts of a Lazy store, closes the change
// feed's connection and closes the database.
func (s *Store) Close() error {
	if s.conn != nil {
		s.conn.close()
	}
	if s.feed != nil {
		s.feed.close()
	}
	return s.db.Close()
}

// Dialect returns "sqlite" or "postgres".
func (s *Store) Dialect() string { return s.d.name }

// Ping reports whether the store can answer: nil when the database
// answers, an error wrapping ErrNotReady while a Lazy store has not
// connected yet, or the driver's error.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.ready(); err != nil {
		return err
	}
	if err := s.db.PingContext(ctx); err != nil {
		return fmt.Errorf("sqlstore: ping: %w", err)
	}
	return nil
}

// Stats returns the connection pool's statistics.
func (s *Store) Stats() sql.DBStats { return s.db.Stats() }

// ready returns nil once the schema is known to be in place.
func (s *Store) ready() error {
	if s.conn == nil {
		return nil
	}
	return s.conn.ready()
}

// Create inserts r. It returns an error wrapping apikey.ErrDuplicate when
// its ID or digest exists.
func (s *Store) Create(ctx context.Context, r apikey.Record) error {
	if err := s.ready(); err != nil {
		return err
	}
	k := r.Key
	roles, err := encodeList(k.Roles)
	if err != nil {
		return err
	}
	scopes, err := encodeList(k.Scopes)
	if err != nil {
		return err
	}
	_, err = s.db.ExecContext(ctx, s.q.insert,
		k.ID, r.Digest[:], k.Name, k.Subject, k.Tenant, roles, scopes,
		s.d.timeArg(k.CreatedAt), s.d.timeArg(k.ExpiresAt), s.d.timeArg(k.RevokedAt), s.d.timeArg(k.LastUsedAt))
	switch {
	case isUniqueViolation(err):
		return fmt.Errorf("%w: %v", apikey.ErrDuplicate, err)
	case err != nil:
		return fmt.Errorf("sqlstore: create: %w", err)
	}
	return nil
}

// Lookup returns the key with digest d, or an error wrapping
// apikey.ErrNotFound.
func (s *Store) Lookup(ctx context.Context, d apikey.Digest) (apikey.Record, error) {
	if err := s.ready(); err != nil {
		return apikey.Record{}, err
	}
	r, err := s.scan(s.db.QueryRowContext(ctx, s.q.lookup, d[:]))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return apikey.Record{}, apikey.ErrNotFound
	case err != nil:
		return apikey.Record{}, fmt.Errorf("sqlstore: lookup: %w", err)
	}
	return r, nil
}

// List returns every key, oldest first (ties by ID).
func (s *Store) List(ctx context.Context) ([]apikey.Key, error) {
	if err := s.ready(); err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, s.q.list)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: list: %w", err)
	}
	defer rows.Close()
	var keys []apikey.Key
	for rows.Next() {
		r, err := s.scan(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlstore: list: %w", err)
		}
		keys = append(keys, r.Key)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: list: %w", err)
	}
	return keys, nil
}

// Revoke marks the key with that ID revoked now, keeping an earlier
// revocation time. It returns an error wrapping apikey.ErrNotFound for an
// unknown ID.
func (s *Store) Revoke(ctx context.Context, id string) error {
	if err := s.ready(); err != nil {
		return err
	}
	res, err := s.db.ExecContext(ctx, s.q.revoke, s.d.timeArg(apikey.NormalizeTime(time.Now())), id)
	if err != nil {
		return fmt.Errorf("sqlstore: revoke: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("sqlstore: revoke: %w", err)
	}
	if n == 0 {
		return fmt.Errorf("%w: id %q", apikey.ErrNotFound, id)
	}
	return nil
}

// MarkUsed records last uses in one transaction; earlier times and unknown
// IDs are ignored.
func (s *Store) MarkUsed(ctx context.Context, used []apikey.Usage) (err error) {
	if err := ctx.Err(); err != nil {
		return err
	}
	if len(used) == 0 {
		return nil
	}
	if err := s.ready(); err != nil {
		return err
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlstore: mark used: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	stmt, err := tx.PrepareContext(ctx, s.q.markUsed)
	if err != nil {
		return fmt.Errorf("sqlstore: mark used: %w", err)
	}
	defer stmt.Close()
	for _, u := range used {
		at := s.d.timeArg(apikey.NormalizeTime(u.At))
		if _, err := stmt.ExecContext(ctx, at, u.ID, at); err != nil {
			return fmt.Errorf("sqlstore: mark used: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlstore: mark used: %w", err)
	}
	return nil
}

const columns = "id, digest, name, subject, tenant, roles, scopes, created_at, expires_at, revoked_at, last_used_at"

type queries struct {
	insert, lookup, list, revoke, markUsed string
}

func (d *dialect) queries() queries {
	return queries{
		insert: d.rebind("INSERT INTO authgate_api_keys (" + columns + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"),
		lookup: d.rebind("SELECT " + columns + " FROM authgate_api_keys WHERE digest = ?"),
		list:   "SELECT " + columns + " FROM authgate_api_keys ORDER BY created_at, id" + d.binaryCollation,
		revoke: d.rebind("UPDATE authgate_api_keys SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?"),
		markUsed: d.rebind("UPDATE authgate_api_keys SET last_used_at = ? WHERE id = ? " +
			"AND (last_used_at IS NULL OR last_used_at < ?)"),
	}
}

type scanner interface{ Scan(dest ...any) error }

func (s *Store) scan(row scanner) (apikey.Record, error) {
	var (
		r                               apikey.Record
		digest                          []byte
		roles, scopes                   string
		created, expires, revoked, used = s.d.timeDest(), s.d.timeDest(), s.d.timeDest(), s.d.timeDest()
	)
	err := row.Scan(&r.ID, &digest, &r.Name, &r.Subject, &r.Tenant, &roles, &scopes,
		created, expires, revoked, used)
	if err != nil {
		return apikey.Record{}, err
	}
	if len(digest) != len(r.Digest) {
		return apikey.Record{}, errors.New("sqlstore: stored digest has the wrong length")
	}
	copy(r.Digest[:], digest)
	if r.Roles, err = decodeList(roles); err != nil {
		return apikey.Record{}, err
	}
	if r.Scopes, err = decodeList(scopes); err != nil {
		return apikey.Record{}, err
	}
	r.CreatedAt = s.d.timeValue(created)
	r.ExpiresAt = s.d.timeValue(expires)
	r.RevokedAt = s.d.timeValue(revoked)
	r.LastUsedAt = s.d.timeValue(used)
	return r, nil
}

func encodeList(l []string) (string, error) {
	if len(l) == 0 {
		return "[]", nil
	}
	b, err := json.Marshal(l)
	if err != nil {
		return "", fmt.Errorf("sqlstore: encode list: %w", err)
	}
	return string(b), nil
}

func decodeList(s string) ([]string, error) {
	if s == "" || s == "[]" {
		return nil, nil
	}
	var l []string
	if err := json.Unmarshal([]byte(s), &l); err != nil {
		return nil, fmt.Errorf("sqlstore: decode list: %w", err)
	}
	if len(l) == 0 {
		return nil, nil
	}
	return l, nil
}

// isUniqueViolation reports a primary-key or unique constraint violation.
func isUniqueViolation(err error) bool {
	if err == nil {
		return false
	}
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		return pg.Code == "23505"
	}
	var lite *sqlite.Error
	if errors.As(err, &lite) {
		c := lite.Code()
		return c == sqlite3.SQLITE_CONSTRAINT_UNIQUE || c == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	return false
}
