package providers_test

import (
	"errors"
	"math"
	"testing"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/providers"
)

func TestNumericDate(t *testing.T) {
	tests := []struct {
		name    string
		in      any
		want    time.Time
		wantErr bool
	}{
		{name: "epoch", in: 0.0, want: time.Unix(0, 0)},
		{name: "seconds", in: 1.8e9, want: time.Unix(1_800_000_000, 0)},
		{name: "fraction", in: 1.5, want: time.Unix(1, 500_000_000)},
		{name: "last second of 9999", in: 253402300799.0, want: time.Unix(253402300799, 0)},
		{name: "after 9999", in: 253402300800.0, wantErr: true},
		{name: "negative", in: -1.0, wantErr: true},
		{name: "NaN", in: math.NaN(), wantErr: true},
		{name: "infinity", in: math.Inf(1), wantErr: true},
		{name: "string", in: "1800000000", wantErr: true},
		{name: "bool", in: true, wantErr: true},
		{name: "null or absent", in: nil, wantErr: true},
		{name: "int, not a decoded JSON number", in: 1_800_000_000, wantErr: true},
		{name: "array", in: []any{1.8e9}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := providers.NumericDate(tt.in)
			if (err != nil) != tt.wantErr || !got.Equal(tt.want) {
				t.Fatalf("NumericDate(%v) = %v, %v; want %v, error %v", tt.in, got, err, tt.want, tt.wantErr)
			}
		})
	}
}

// TestNumericDateIsTheVerifiers: a value NumericDate refuses in exp, nbf or
// iat makes Verify refuse the token, and one it accepts is the time Verify
// reports.
func TestNumericDateIsTheVerifiers(t *testing.T) {
	v := hmacVerifier(t, nil)
	for _, claim := range []string{"exp", "nbf", "iat"} {
		for _, raw := range []any{"1800000000", -1.0, 253402300800.0, true, nil} {
			c := testClaims()
			c[claim] = raw
			if _, err := providers.NumericDate(raw); err == nil {
				t.Fatalf("NumericDate(%v) accepted a value the test expects refused", raw)
			}
			_, err := v.Verify(t.Context(), hmacToken(`{"alg":"HS256"}`, c))
			if !errors.Is(err, authgate.ErrInvalidClaim) {
				t.Errorf("Verify(%s = %v) = %v, want ErrInvalidClaim", claim, raw, err)
			}
		}
	}
	c := testClaims()
	c["exp"] = float64(testNow.Unix()) + 300.25
	tok, err := v.Verify(t.Context(), hmacToken(`{"alg":"HS256"}`, c))
	if err != nil {
		t.Fatal(err)
	}
	if want, _ := providers.NumericDate(c["exp"]); !tok.ExpiresAt.Equal(want) {
		t.Errorf("Token.ExpiresAt = %v, NumericDate gives %v", tok.ExpiresAt, want)
	}
}

func TestVerifierLeeway(t *testing.T) {
	tests := []struct {
		name   string
		leeway time.Duration // VerifierConfig.Leeway
		want   time.Duration
	}{
		{name: "default", leeway: 0, want: providers.DefaultLeeway},
		{name: "none", leeway: providers.NoLeeway, want: 0},
		{name: "configured", leeway: 90 * time.Second, want: 90 * time.Second},
		{name: "maximum", leeway: providers.MaxLeeway, want: providers.MaxLeeway},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := hmacVerifier(t, func(c *providers.VerifierConfig) { c.Leeway = tt.leeway })
			if got := v.Leeway(); got != tt.want {
				t.Fatalf("Leeway() with VerifierConfig.Leeway %v = %v, want %v", tt.leeway, got, tt.want)
			}
			// The effective leeway is the one exp is checked with: a token
			// expired by exactly Leeway() is refused, one second less is not.
			for _, tc := range []struct {
				expiredFor time.Duration
				wantErr    error
			}{{v.Leeway(), authgate.ErrTokenExpired}, {v.Leeway() - time.Second, nil}} {
				c := testClaims()
				c["iat"] = testNow.Add(-time.Hour).Unix()
				c["exp"] = testNow.Add(-tc.expiredFor).Unix()
				_, err := v.Verify(t.Context(), hmacToken(`{"alg":"HS256"}`, c))
				if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil) != (err == nil) {
					t.Errorf("Verify(expired for %v) = %v, want %v", tc.expiredFor, err, tc.wantErr)
				}
			}
		})
	}
}
