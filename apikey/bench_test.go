package apikey_test

import (
	"testing"

	"github.com/authgate/authgate/apikey"
)

// BenchmarkAuthenticate measures one authentication against the memory
// store: uncached (a store lookup every time) and cached.
func BenchmarkAuthenticate(b *testing.B) {
	for _, bc := range []struct {
		name string
		ttl  int64
	}{{"memory/uncached", -1}, {"memory/cached", 0}} {
		b.Run(bc.name, func(b *testing.B) {
			// With the failed-attempt limiter on: its cost is on every path.
			f := newFixture(b, apikey.Config{CacheTTL: timeDuration(bc.ttl), FailureLimit: 100})
			key, _ := f.issue(b, apikey.Key{Roles: []string{"admin"}, Scopes: []string{"orders:read"}})
			r := withKey(key)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := f.auth.Authenticate(r); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("memory/cached/parallel", func(b *testing.B) {
		f := newFixture(b, apikey.Config{FailureLimit: 100})
		key, _ := f.issue(b, apikey.Key{Roles: []string{"admin"}})
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			r := withKey(key)
			for pb.Next() {
				if _, err := f.auth.Authenticate(r); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
	b.Run("bad-checksum", func(b *testing.B) {
		// Without the limiter: with it, the flood would measure the 429.
		f := newFixture(b, apikey.Config{})
		key, _ := f.issue(b, apikey.Key{})
		r := withKey(flipChecksum(key))
		b.ReportAllocs()
		for b.Loop() {
			f.auth.Authenticate(r)
		}
	})
}
