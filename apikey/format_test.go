package apikey_test

import (
	"errors"
	"hash/crc32"
	"regexp"
	"strings"
	"testing"

	"github.com/authgate/authgate/apikey"
)

var keyShape = regexp.MustCompile(`^sk_live_[0-9A-Za-z]{36}$`)

func TestGenerateKey(t *testing.T) {
	seen := map[string]bool{}
	counts := map[byte]int{}
	for range 2000 {
		k, err := apikey.GenerateKey("sk_live")
		if err != nil {
			t.Fatal(err)
		}
		if !keyShape.MatchString(k) {
			t.Fatalf("GenerateKey = %q, want sk_live_ + 36 base62", k)
		}
		if seen[k] {
			t.Fatalf("GenerateKey repeated a key")
		}
		seen[k] = true
		if p, err := apikey.CheckFormat(k); err != nil || p != "sk_live" {
			t.Fatalf("CheckFormat(generated) = %q, %v", p, err)
		}
		for i := 8; i < 38; i++ {
			counts[k[i]]++
		}
	}
	// 60 000 random characters over 62 symbols: each ≈ 968; a biased
	// generator (modulo without rejection, a missing range) falls outside.
	if len(counts) != 62 {
		t.Fatalf("random part uses %d symbols, want 62", len(counts))
	}
	for c, n := range counts {
		if n < 800 || n > 1150 {
			t.Errorf("symbol %q appears %d times in 60000, want ≈ 968", c, n)
		}
	}
	if _, err := apikey.GenerateKey("Bad"); !errors.Is(err, apikey.ErrInvalidPrefix) {
		t.Errorf("GenerateKey(Bad) = %v, want ErrInvalidPrefix", err)
	}
}

// TestChecksumIsCRC32: the last six characters are the base62 CRC-32 of the
// random part, as scanners compute it independently.
func TestChecksumIsCRC32(t *testing.T) {
	k, _ := apikey.GenerateKey("ghx")
	random, check := k[4:34], k[34:]
	const digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	var got uint64
	for i := range check {
		got = got*62 + uint64(strings.IndexByte(digits, check[i]))
	}
	if want := crc32.ChecksumIEEE([]byte(random)); got != uint64(want) {
		t.Fatalf("checksum = %d, want CRC-32 %d", got, want)
	}
}

func TestCheckFormat(t *testing.T) {
	k, _ := apikey.GenerateKey("sk_live")
	tests := []struct {
		name       string
		in         string
		wantPrefix string
		wantErr    error
	}{
		{"valid", k, "sk_live", nil},
		{"bad checksum", flipChecksum(k), "", apikey.ErrMalformedKey},
		{"short", k[:len(k)-1], "", apikey.ErrMalformedKey},
		{"no prefix", k[8:], "", apikey.ErrMalformedKey},
		{"bad prefix", "SK" + k[2:], "", apikey.ErrMalformedKey},
		{"too long", strings.Repeat("a", 300), "", apikey.ErrMalformedKey},
		{"empty", "", "", apikey.ErrMalformedKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := apikey.CheckFormat(tt.in)
			if p != tt.wantPrefix || !errors.Is(err, tt.wantErr) {
				t.Fatalf("CheckFormat = %q, %v; want %q, %v", p, err, tt.wantPrefix, tt.wantErr)
			}
			if err != nil && strings.Contains(err.Error(), k[8:20]) {
				t.Errorf("error contains key material")
			}
		})
	}
}

// FuzzAuthenticateValue: any header value → no panic, and acceptance only
// for the one issued key.
func FuzzAuthenticateValue(f *testing.F) {
	fx := newFixture(f, apikey.Config{})
	key, _ := fx.issue(f, apikey.Key{})
	for _, s := range []string{key, flipChecksum(key), "", "sk_live_", "sk_live__", key + "\x00", "Bearer x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		r := withKey("x")
		r.Header["X-Api-Key"] = []string{v}
		p, err := fx.auth.Authenticate(r)
		if (err == nil) != (v == key) || (err == nil && p == nil) {
			t.Fatalf("Authenticate(%q) = %v, %v", v, p, err)
		}
	})
}
