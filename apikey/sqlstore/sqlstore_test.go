package sqlstore_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/apikey"
	"github.com/authgate/authgate/apikey/sqlstore"
	"github.com/authgate/authgate/apikey/storetest"
)

const postgresEnv = "AUTHGATE_TEST_POSTGRES_DSN"

// openSQLite opens a store in a fresh file under t.TempDir.
func openSQLite(t testing.TB) (*sqlstore.Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "keys.db")
	s, err := sqlstore.Open(context.Background(), "sqlite:"+path)
	if err != nil {
		t.Fatalf("Open(sqlite) = %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s, path
}

// postgresDSN returns a DSN whose search_path is a fresh schema, dropped at
// cleanup, so runs sharing one server (CI) never see each other's keys.
func postgresDSN(t testing.TB) string {
	t.Helper()
	base := os.Getenv(postgresEnv)
	if base == "" {
		t.Skip(postgresEnv + " not set: PostgreSQL conformance skipped")
	}
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatalf("sql.Open(pgx) = %v", err)
	}
	t.Cleanup(func() { admin.Close() })
	b := make([]byte, 8)
	rand.Read(b)
	schema := "authgate_test_" + hex.EncodeToString(b)
	if _, err := admin.Exec(`CREATE SCHEMA ` + schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		if _, err := admin.Exec(`DROP SCHEMA ` + schema + ` CASCADE`); err != nil {
			t.Errorf("drop schema: %v", err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("parse %s: %v", postgresEnv, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

func openPostgres(t testing.TB) *sqlstore.Store {
	t.Helper()
	s, err := sqlstore.Open(context.Background(), postgresDSN(t))
	if err != nil {
		t.Fatalf("Open(postgres) = %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestSQLiteConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) apikey.Store { s, _ := openSQLite(t); return s })
}

func TestSQLiteMemoryConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) apikey.Store {
		s, err := sqlstore.Open(context.Background(), "sqlite::memory:")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}

func TestPostgresConformance(t *testing.T) {
	if os.Getenv(postgresEnv) == "" {
		t.Skip(postgresEnv + " not set: PostgreSQL conformance skipped")
	}
	storetest.Run(t, func(t *testing.T) apikey.Store { return openPostgres(t) })
}

func TestOpenDSN(t *testing.T) {
	tests := []struct {
		name    string
		dsn     string
		wantErr error
	}{
		{"empty", "", sqlstore.ErrUnsupportedDSN},
		{"mysql", "mysql://root:hunter2@localhost/db", sqlstore.ErrUnsupportedDSN},
		{"bare path", "/tmp/keys.db", sqlstore.ErrUnsupportedDSN},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := sqlstore.Open(context.Background(), tt.dsn)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Open(%q) = %v, want %v", tt.dsn, err, tt.wantErr)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("Open error %q contains the DSN password", err)
			}
		})
	}
	if _, err := sqlstore.Open(context.Background(), "sqlite:"); err == nil {
		t.Errorf(`Open("sqlite:") = nil error, want one`)
	}
}

// TestMigrations: reopening keeps the data and does not migrate twice; a
// database from a newer release is refused.
func TestMigrations(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "keys.db")
	s, err := sqlstore.Open(ctx, "sqlite:"+path)
	if err != nil {
		t.Fatal(err)
	}
	m, err := apikey.NewManager(s, apikey.Config{Prefix: "sk_test"})
	if err != nil {
		t.Fatal(err)
	}
	_, k, err := m.Issue(ctx, apikey.Key{Subject: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()

	s, err = sqlstore.Open(ctx, "sqlite:"+path)
	if err != nil {
		t.Fatalf("reopen = %v", err)
	}
	keys, err := s.List(ctx)
	if err != nil || len(keys) != 1 || keys[0].ID != k.ID {
		t.Fatalf("after reopen List = %v, %v; want the issued key", keys, err)
	}
	s.Close()

	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	var versions int
	if err := db.QueryRow(`SELECT COUNT(*) FROM authgate_schema_migrations`).Scan(&versions); err != nil || versions != sqlstore.SchemaVersion() {
		t.Fatalf("migrations recorded = %d, %v; want %d", versions, err, sqlstore.SchemaVersion())
	}
	if _, err := db.Exec(`INSERT INTO authgate_schema_migrations (version, applied_at) VALUES (?, 0)`, sqlstore.SchemaVersion()+1); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if _, err := sqlstore.Open(ctx, "sqlite:"+path); !errors.Is(err, sqlstore.ErrSchemaTooNew) {
		t.Fatalf("Open(newer schema) = %v, want ErrSchemaTooNew", err)
	}
}

// TestPlaintextNeverStored (SECURITY.md#api-keys): after issuing, using and revoking
// keys, the database file and its WAL hold no key, no random part and no
// hex or base64 encoding of either.
func TestPlaintextNeverStored(t *testing.T) {
	ctx := context.Background()
	s, path := openSQLite(t)
	a, err := apikey.New(s, apikey.Config{Prefix: "sk_live", LastUsedInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	var plaintexts []string
	for i := range 20 {
		p, k, err := a.Manager().Issue(ctx, apikey.Key{Subject: "owner", Roles: []string{"r"}})
		if err != nil {
			t.Fatal(err)
		}
		plaintexts = append(plaintexts, p)
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("X-API-Key", p)
		if _, err := a.Authenticate(r); err != nil {
			t.Fatalf("Authenticate(issued key) = %v", err)
		}
		if i%2 == 0 {
			if err := a.Manager().Revoke(ctx, k.ID); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	var data []byte
	for _, f := range []string{path, path + "-wal", path + "-shm", path + "-journal"} {
		b, err := os.ReadFile(f)
		if err == nil {
			data = append(data, b...)
		}
	}
	if len(data) == 0 {
		t.Fatal("read no database bytes")
	}
	for _, p := range plaintexts {
		_, body, _ := strings.Cut(p, "sk_live_")
		for _, needle := range []string{p, body, body[:30], hex.EncodeToString([]byte(p)), base64.StdEncoding.EncodeToString([]byte(p))} {
			if bytes.Contains(data, []byte(needle)) {
				t.Fatalf("database file contains key material (%d bytes)", len(needle))
			}
		}
	}
	// The test can fail: the key's owner, which is stored, is found.
	if !bytes.Contains(data, []byte("owner")) {
		t.Fatalf("database file does not contain the stored subject: wrong file read?")
	}
}

// TestStoreDown (SECURITY.md#attacks-api-keys): a closed database is a 503, never a 401,
// and nothing is marked used.
func TestStoreDown(t *testing.T) {
	ctx := context.Background()
	s, _ := openSQLite(t)
	a, err := apikey.New(s, apikey.Config{Prefix: "sk_live", CacheTTL: -1})
	if err != nil {
		t.Fatal(err)
	}
	p, _, err := a.Manager().Issue(ctx, apikey.Key{Subject: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("X-API-Key", p)
	_, err = a.Authenticate(r)
	if !errors.Is(err, authgate.ErrUnavailable) || authgate.StatusCode(err) != 503 {
		t.Fatalf("Authenticate(store closed) = %v (status %d), want ErrUnavailable 503", err, authgate.StatusCode(err))
	}
	if strings.Contains(err.Error(), p) {
		t.Errorf("error contains the key")
	}
}
