package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// ErrSchemaTooNew is returned by Open when the database schema was migrated
// by a newer release of this package than the running one.
var ErrSchemaTooNew = errors.New("sqlstore: database schema is newer than this release supports")

// SchemaVersion is the schema version this release creates and reads.
func SchemaVersion() int { return len(sqliteDialect.migrations) }

// migrate brings the schema to the latest version in one transaction:
// creates the version table, reads the current version and applies each
// missing migration, recording it. Concurrent openers wait for each other
// (a PostgreSQL advisory lock; an immediate SQLite transaction).
func migrate(ctx context.Context, db *sql.DB, d *dialect) (err error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlstore: migrate: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	if d.advisoryLock != "" {
		if _, err := tx.ExecContext(ctx, d.advisoryLock); err != nil {
			return fmt.Errorf("sqlstore: migrate: lock: %w", err)
		}
	}
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS authgate_schema_migrations (
		version    INTEGER NOT NULL PRIMARY KEY,
		applied_at BIGINT  NOT NULL
	)`); err != nil {
		return fmt.Errorf("sqlstore: migrate: %w", err)
	}
	var current int
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM authgate_schema_migrations`).Scan(&current); err != nil {
		return fmt.Errorf("sqlstore: migrate: read version: %w", err)
	}
	if current > len(d.migrations) {
		return fmt.Errorf("%w: database at version %d, this release knows %d", ErrSchemaTooNew, current, len(d.migrations))
	}
	insert := d.rebind(`INSERT INTO authgate_schema_migrations (version, applied_at) VALUES (?, ?)`)
	for v := current + 1; v <= len(d.migrations); v++ {
		if _, err := tx.ExecContext(ctx, d.migrations[v-1]); err != nil {
			return fmt.Errorf("sqlstore: migrate to version %d: %w", v, err)
		}
		if _, err := tx.ExecContext(ctx, insert, v, time.Now().Unix()); err != nil {
			return fmt.Errorf("sqlstore: migrate to version %d: %w", v, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlstore: migrate: %w", err)
	}
	return nil
}
