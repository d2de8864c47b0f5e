package keyfuncset_test

import (
	"context"
	"testing"
)

// BenchmarkVerificationKeys measures one key lookup through the storage,
// conversion and binding included (remembered after the first).
func BenchmarkVerificationKeys(b *testing.B) {
	k := rsaKey(b)
	srv := newJWKSServer(b, rsaJWK(k, map[string]any{"kid": "k1", "alg": "RS256"}))
	ks := newKeySet(b, srv)
	ctx := context.Background()
	for _, kid := range []string{"k1", ""} {
		b.Run("kid="+kid, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				keys, err := ks.VerificationKeys(ctx, kid, "RS256")
				if err != nil || len(keys) != 1 {
					b.Fatalf("VerificationKeys = %d keys, %v", len(keys), err)
				}
			}
		})
	}
}
