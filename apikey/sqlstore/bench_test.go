package sqlstore_test

import (
	"context"
	"crypto/sha256"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/authgate/authgate/apikey"
)

// BenchmarkLookup measures a bare store lookup by digest.
func BenchmarkLookup(b *testing.B) {
	for _, backend := range []string{"sqlite", "postgres"} {
		b.Run(backend, func(b *testing.B) {
			s := openBackend(b, backend)
			// Without a pepper the digest is SHA-256(key).
			m, err := apikey.NewManager(s, apikey.Config{Prefix: "sk"})
			if err != nil {
				b.Fatal(err)
			}
			plain, _, err := m.Issue(context.Background(), apikey.Key{Subject: "alice", Roles: []string{"admin"}})
			if err != nil {
				b.Fatal(err)
			}
			d := apikey.Digest(sha256.Sum256([]byte(plain)))
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.Lookup(ctx, d); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkAuthenticate measures a full authentication against SQLite and
// PostgreSQL, uncached (a lookup every request) and cached.
func BenchmarkAuthenticate(b *testing.B) {
	for _, backend := range []string{"sqlite", "postgres"} {
		for _, cached := range []bool{false, true} {
			name := backend + "/uncached"
			ttl := time.Duration(-1)
			if cached {
				name, ttl = backend+"/cached", 0
			}
			b.Run(name, func(b *testing.B) {
				s := openBackend(b, backend)
				a, err := apikey.New(s, apikey.Config{Prefix: "sk_live", CacheTTL: ttl})
				if err != nil {
					b.Fatal(err)
				}
				b.Cleanup(func() { a.Close() })
				plain, _, err := a.Manager().Issue(context.Background(), apikey.Key{Subject: "alice", Roles: []string{"admin"}, Scopes: []string{"x"}})
				if err != nil {
					b.Fatal(err)
				}
				r := httptest.NewRequest("GET", "/", nil)
				r.Header.Set("X-API-Key", plain)
				b.ReportAllocs()
				for b.Loop() {
					if _, err := a.Authenticate(r); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

func openBackend(b *testing.B, backend string) apikey.Store {
	b.Helper()
	if backend == "postgres" {
		return openPostgres(b)
	}
	s, _ := openSQLite(b)
	return s
}
