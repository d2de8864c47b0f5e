package bench

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/hmac"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/asn1"
	"encoding/base64"
	"math/big"
	"strings"
	"testing"
	"time"
)

// floor returns the raw signature check of f's token, nothing else: the
// SHA-256 of the precomputed signing input and the standard library's
// rsa.VerifyPKCS1v15, ecdsa.VerifyASN1 over a pre-encoded DER signature, or
// HMAC-SHA256 with hmac.New per check (docs/BENCHMARKS.md's floor).
func floor(f fixture) func() error {
	i := strings.LastIndexByte(f.good, '.')
	input := []byte(f.good[:i])
	sig, err := base64.RawURLEncoding.DecodeString(f.good[i+1:])
	if err != nil {
		panic(err)
	}
	check := func(ok bool) error {
		if !ok {
			return errFloor
		}
		return nil
	}
	switch pub := f.pub.(type) {
	case *rsa.PublicKey:
		return func() error {
			d := sha256.Sum256(input)
			return rsa.VerifyPKCS1v15(pub, crypto.SHA256, d[:], sig)
		}
	case *ecdsa.PublicKey:
		der := derSignature(sig)
		return func() error {
			d := sha256.Sum256(input)
			return check(ecdsa.VerifyASN1(pub, d[:], der))
		}
	case []byte:
		return func() error {
			m := hmac.New(sha256.New, pub)
			m.Write(input)
			return check(hmac.Equal(m.Sum(nil), sig))
		}
	}
	panic("no floor for " + f.alg)
}

// derSignature encodes a JWS ECDSA signature (r || s) as ASN.1 DER.
func derSignature(sig []byte) []byte {
	n := len(sig) / 2
	der, err := asn1.Marshal(struct{ R, S *big.Int }{new(big.Int).SetBytes(sig[:n]), new(big.Int).SetBytes(sig[n:])})
	if err != nil {
		panic(err)
	}
	return der
}

// TestVerifiers proves that each benchmark measures a real, strict
// verification: every verifier accepts the good token (and the floor its
// signature) and refuses every bad one.
func TestVerifiers(t *testing.T) {
	now := time.Now()
	for _, alg := range algs {
		f := newFixture(alg, now)
		t.Run("alg="+alg+"/impl=floor", func(t *testing.T) {
			if err := floor(f)(); err != nil {
				t.Fatalf("floor(good) = %v, want nil", err)
			}
		})
		for _, v := range verifiers {
			if _, ok := v.skip[alg]; ok {
				continue // no such verifier: see v.skip
			}
			t.Run("alg="+alg+"/impl="+v.impl, func(t *testing.T) {
				check, err := v.new(f)
				if err != nil {
					t.Fatalf("new: %v", err)
				}
				// Twice: the second is a cache hit where there is a cache.
				for i := range 2 {
					if err := check(f.good); err != nil {
						t.Fatalf("verify(good) #%d = %v, want nil", i+1, err)
					}
				}
				for reason, token := range f.bad {
					if err := check(token); err == nil {
						t.Errorf("verify(%s) = nil, want an error", reason)
					}
				}
			})
		}
	}
}

// BenchmarkVerify verifies the same token with every implementation and
// checks the raw signature (impl=floor) in the same run; run.sh prints each
// as a ratio to the floor of its algorithm.
//
//	go test -run '^$' -bench Verify -benchmem -count 6 .
func BenchmarkVerify(b *testing.B) {
	now := time.Now()
	for _, alg := range algs {
		f := newFixture(alg, now)
		fl := floor(f)
		b.Run("alg="+alg+"/impl=floor", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := fl(); err != nil {
					b.Fatal(err)
				}
			}
		})
		for _, v := range verifiers {
			if _, ok := v.skip[alg]; ok {
				continue
			}
			check, err := v.new(f)
			if err != nil {
				b.Fatal(err)
			}
			if err := check(f.good); err != nil {
				b.Fatal(err)
			}
			b.Run("alg="+alg+"/impl="+v.impl, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if err := check(f.good); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
