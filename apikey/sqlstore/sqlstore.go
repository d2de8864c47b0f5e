// Package sqlstore keeps API keys in a SQL database through database/sql:
// SQLite (the embedded default, modernc.org/sqlite, pure Go, no cgo) or
// PostgreSQL (pgx v5 through its database/sql driver).
//
// Open creates the schema, or migrates it, as it opens the database. The
// schema is versioned in the table authgate_schema_migrations; keys live in
// authgate_api_keys, found by a unique digest column. Plaintext keys never
// reach the database: only apikey.Digest values do.
//
// On PostgreSQL, tables are created in the first schema of the connection's
// search_path, so several deployments (or test runs) can share one server
// through "?search_path=…" in the DSN.
package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
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
}

var _ apikey.Store = (*Store)(nil)

// ErrUnsupportedDSN is returned by Open for a DSN that is neither
// "sqlite:PATH" nor "postgres://…" / "postgresql://…".
var ErrUnsupportedDSN = errors.New("sqlstore: unsupported DSN (want sqlite:PATH or postgres://…)")

// Open opens the database named by dsn, creates or migrates its schema and
// returns the store:
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
	var (
		d      *dialect
		source string
		memory bool
	)
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
	db, err := sql.Open(d.driver, source)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: open %s: %w", d.name, err)
	}
	if memory {
		db.SetMaxOpenConns(1) // every SQLite connection to :memory: is its own database
	}
	db.SetMaxIdleConns(8)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlstore: connect %s: %w", d.name, err)
	}
	if err := migrate(ctx, db, d); err != nil {
		db.Close()
		return nil, err
	}
	return &Store{db: db, d: d, q: d.queries()}, nil
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// Dialect returns "sqlite" or "postgres".
func (s *Store) Dialect() string { return s.d.name }

// Create inserts r. It returns an error wrapping apikey.ErrDuplicate when
// its ID or digest exists.
func (s *Store) Create(ctx context.Context, r apikey.Record) error {
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
