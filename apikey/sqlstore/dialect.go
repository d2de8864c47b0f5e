package sqlstore

import (
	"database/sql"
	"strconv"
	"strings"
	"time"

	"github.com/authgate/authgate/apikey"
)

// dialect is what differs between SQLite and PostgreSQL: placeholders,
// column types and how times are stored (SQLite: INTEGER microseconds since
// the Unix epoch; PostgreSQL: TIMESTAMPTZ).
type dialect struct {
	name, driver    string
	dollar          bool   // $1, $2… placeholders instead of ?
	binaryCollation string // for ORDER BY id, byte order like the memory store
	migrations      []string
	// advisoryLock, when set, serialises concurrent migrations.
	advisoryLock string
}

var sqliteDialect = &dialect{
	name:   "sqlite",
	driver: "sqlite",
	migrations: []string{
		// 1: keys.
		`CREATE TABLE authgate_api_keys (
			id           TEXT    NOT NULL PRIMARY KEY,
			digest       BLOB    NOT NULL UNIQUE CHECK (length(digest) = 32),
			name         TEXT    NOT NULL DEFAULT '',
			subject      TEXT    NOT NULL,
			tenant       TEXT    NOT NULL DEFAULT '',
			roles        TEXT    NOT NULL DEFAULT '[]',
			scopes       TEXT    NOT NULL DEFAULT '[]',
			created_at   INTEGER NOT NULL,
			expires_at   INTEGER,
			revoked_at   INTEGER,
			last_used_at INTEGER
		)`,
		// 2: change notifications, which only PostgreSQL has: a step that
		// keeps the versions of both dialects in line.
		`SELECT 1`,
	},
}

var postgresDialect = &dialect{
	name:            "postgres",
	driver:          "pgx",
	dollar:          true,
	binaryCollation: ` COLLATE "C"`,
	advisoryLock:    "SELECT pg_advisory_xact_lock(7170614279)",
	migrations: []string{
		// 1: keys.
		`CREATE TABLE authgate_api_keys (
			id           TEXT        NOT NULL PRIMARY KEY,
			digest       BYTEA       NOT NULL UNIQUE CHECK (length(digest) = 32),
			name         TEXT        NOT NULL DEFAULT '',
			subject      TEXT        NOT NULL,
			tenant       TEXT        NOT NULL DEFAULT '',
			roles        TEXT        NOT NULL DEFAULT '[]',
			scopes       TEXT        NOT NULL DEFAULT '[]',
			created_at   TIMESTAMPTZ NOT NULL,
			expires_at   TIMESTAMPTZ,
			revoked_at   TIMESTAMPTZ,
			last_used_at TIMESTAMPTZ
		)`,
		// 2: NOTIFY on notifyChannel, with the key's ID, for every change
		// of a key by any client that can matter to a cache: any column but
		// last_used_at, a deleted row; an emptied table notifies without an
		// ID. The replace and the drops make the step safe to run again.
		`CREATE OR REPLACE FUNCTION authgate_api_keys_notify() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN
			IF TG_OP = 'TRUNCATE' THEN
				PERFORM pg_notify('` + notifyChannel + `', json_build_object('schema', TG_TABLE_SCHEMA)::text);
				RETURN NULL;
			END IF;
			PERFORM pg_notify('` + notifyChannel + `', json_build_object('schema', TG_TABLE_SCHEMA, 'id', OLD.id)::text);
			IF TG_OP = 'UPDATE' AND NEW.id IS DISTINCT FROM OLD.id THEN
				PERFORM pg_notify('` + notifyChannel + `', json_build_object('schema', TG_TABLE_SCHEMA, 'id', NEW.id)::text);
			END IF;
			RETURN NULL;
		END
		$$;
		DROP TRIGGER IF EXISTS authgate_api_keys_changed ON authgate_api_keys;
		DROP TRIGGER IF EXISTS authgate_api_keys_deleted ON authgate_api_keys;
		DROP TRIGGER IF EXISTS authgate_api_keys_emptied ON authgate_api_keys;
		CREATE TRIGGER authgate_api_keys_changed AFTER UPDATE ON authgate_api_keys FOR EACH ROW
			WHEN ((OLD.id, OLD.digest, OLD.name, OLD.subject, OLD.tenant, OLD.roles, OLD.scopes,
			       OLD.created_at, OLD.expires_at, OLD.revoked_at)
			      IS DISTINCT FROM
			      (NEW.id, NEW.digest, NEW.name, NEW.subject, NEW.tenant, NEW.roles, NEW.scopes,
			       NEW.created_at, NEW.expires_at, NEW.revoked_at))
			EXECUTE FUNCTION authgate_api_keys_notify();
		CREATE TRIGGER authgate_api_keys_deleted AFTER DELETE ON authgate_api_keys FOR EACH ROW
			EXECUTE FUNCTION authgate_api_keys_notify();
		CREATE TRIGGER authgate_api_keys_emptied AFTER TRUNCATE ON authgate_api_keys FOR EACH STATEMENT
			EXECUTE FUNCTION authgate_api_keys_notify();`,
	},
}

// rebind turns ? placeholders into $n for PostgreSQL. The queries here have
// no ? inside literals.
func (d *dialect) rebind(q string) string {
	if !d.dollar {
		return q
	}
	var b strings.Builder
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(q[i])
	}
	return b.String()
}

// timeArg encodes t (zero: NULL) as a query argument.
func (d *dialect) timeArg(t time.Time) any {
	if d.dollar {
		return sql.NullTime{Time: t, Valid: !t.IsZero()}
	}
	return sql.NullInt64{Int64: t.UnixMicro(), Valid: !t.IsZero()}
}

// timeDest returns a scan destination for a time column.
func (d *dialect) timeDest() any {
	if d.dollar {
		return new(sql.NullTime)
	}
	return new(sql.NullInt64)
}

// timeValue decodes a scanned time (NULL: zero), in UTC.
func (d *dialect) timeValue(v any) time.Time {
	switch v := v.(type) {
	case *sql.NullTime:
		if v.Valid {
			return apikey.NormalizeTime(v.Time)
		}
	case *sql.NullInt64:
		if v.Valid {
			return time.UnixMicro(v.Int64).UTC()
		}
	}
	return time.Time{}
}
