package signin

import (
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"slices"
	"testing"
)

func TestTokenHash(t *testing.T) {
	sum := sha512.Sum512([]byte("access-token"))
	ed := base64.RawURLEncoding.EncodeToString(sum[:32])
	for _, tt := range []struct {
		alg, token, want string
		ok               bool
	}{
		// OpenID Connect Core, Appendix A.3 (RS256).
		{"RS256", "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y", "77QmUPtjPfzWtF2AnpK9RQ", true},
		{"EdDSA", "access-token", ed, true},
		{"ES512", "access-token", ed, true},
		{"HS256", "access-token", "", false},
		{"none", "access-token", "", false},
	} {
		t.Run(tt.alg, func(t *testing.T) {
			if got, ok := tokenHash(tt.alg, tt.token); got != tt.want || ok != tt.ok {
				t.Fatalf("tokenHash(%s) = %q, %v; want %q, %v", tt.alg, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestIssuers(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want []string
	}{
		{"https://accounts.google.com", []string{"https://accounts.google.com", "accounts.google.com"}},
		{"https://tenant.auth0.example/", []string{"https://tenant.auth0.example/"}},
	} {
		if got := issuers(tt.in); !slices.Equal(got, tt.want) {
			t.Errorf("issuers(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestSealer(t *testing.T) {
	k := NewKey("old")
	old, err := newSealer([]Key{k})
	if err != nil {
		t.Fatal(err)
	}
	rotated, err := newSealer([]Key{NewKey("new"), k})
	if err != nil {
		t.Fatal(err)
	}
	v := old.seal("session", []byte("payload"))
	for _, tt := range []struct {
		name    string
		s       *sealer
		cookie  string
		value   string
		wantErr error
	}{
		{"opens", old, "session", v, nil},
		{"opens after rotation", rotated, "session", v, nil},
		{"other cookie name", old, "session-login", v, errTampered},
		{"no key ID", old, "session", v[len("old."):], errTampered},
		{"renamed key ID", rotated, "session", "new" + v[len("old"):], errTampered},
		{"unknown key ID", old, "session", "gone" + v[len("old"):], ErrUnknownKey},
		{"padding", old, "session", v + "=", errTampered},
		{"line break", old, "session", v[:10] + "\n" + v[10:], errTampered},
		{"short", old, "session", "old.AAAA", errTampered},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.s.open(tt.cookie, tt.value)
			if !errors.Is(err, tt.wantErr) || (err == nil && string(got) != "payload") {
				t.Fatalf("open = %q, %v; want %v", got, err, tt.wantErr)
			}
		})
	}
	if v2 := rotated.seal("session", []byte("x")); v2[:4] != "new." {
		t.Fatalf("rotated sealer seals with %q, want the newest key", v2[:4])
	}
}
