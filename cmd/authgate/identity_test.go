package main

import (
	"math/rand/v2"
	"net/http"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/authgate/authgate"
)

// sanitizeReference is sanitize as first written, one check after another:
// the ASCII fast path must agree with it on every input.
func sanitizeReference(s string) string {
	if len(s) > maxIdentityValue || strings.TrimSpace(s) != s || !utf8.ValidString(s) {
		return ""
	}
	for _, r := range s {
		if r < 0x20 || r >= 0x7f && r <= 0x9f {
			return ""
		}
	}
	return s
}

func TestSanitizeAgreesWithReference(t *testing.T) {
	inputs := []string{
		"", " ", "a", " a", "a ", "a b", "\ta", "a\t", "a\n", "\x7f", "~", "\x1f",
		"caf\u00e9", " caf\u00e9", "caf\u00e9 ", "\u00a0x", "x\u00a0", "\u2003x", "x\u3000",
		"c1\u0085x", "\u0085", "bad\xffutf8", "\xc3", "a\u200bb",
		strings.Repeat("a", maxIdentityValue), strings.Repeat("a", maxIdentityValue+1),
		strings.Repeat("é", 512), strings.Repeat("é", 513),
	}
	// And random strings over an alphabet of the edge cases.
	alphabet := []string{"a", "Z", "0", " ", "\t", "\n", "\x00", "\x7f", ",", "é", "\u0085", "\u00a0", "\u3000", "\xff", "\xc3"}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 5000 {
		var b strings.Builder
		for range rng.IntN(8) {
			b.WriteString(alphabet[rng.IntN(len(alphabet))])
		}
		inputs = append(inputs, b.String())
	}
	for _, in := range inputs {
		if got, want := sanitize(in), sanitizeReference(in); got != want {
			t.Errorf("sanitize(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestJoinLists(t *testing.T) {
	long := make([]string, 20)
	for i := range long {
		long[i] = strings.Repeat(string(rune('a'+i)), 1000)
	}
	tests := []struct {
		name    string
		a, b, c []string
	}{
		{name: "empty"},
		{name: "one each", a: []string{"admin"}, b: []string{"read"}, c: []string{"p"}},
		{name: "middle empty", a: []string{"x", "y"}, c: []string{"z"}},
		{name: "left out values", a: []string{"a", "b,c", "", "d\n", "e"}, b: []string{" s", "t"}},
		{name: "bounded", a: long, b: []string{"s"}, c: long},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b, c := joinLists(tt.a, tt.b, tt.c)
			for i, got := range []string{a, b, c} {
				want := joinList([][]string{tt.a, tt.b, tt.c}[i])
				if got != want {
					t.Errorf("joinLists list %d = %.40q (%d bytes), want %.40q (%d bytes)", i, got, len(got), want, len(want))
				}
			}
		})
	}
	if a, _, _ := joinLists(long, nil, nil); len(a) > 8*maxIdentityValue {
		t.Errorf("joinLists(long) = %d bytes, want at most %d", len(a), 8*maxIdentityValue)
	}
}

// TestWriteIdentityIsolation: the headers share one backing array, so a
// later Add to one header must not change another's value.
func TestWriteIdentityIsolation(t *testing.T) {
	p := &authgate.Principal{Subject: "alice", Provider: "local", Roles: []string{"admin"}, Scopes: []string{"read", "write"}, Tenant: "acme", Email: "a@example.test"}
	h := http.Header{}
	writeIdentity(h, p)
	for _, name := range []string{"Cache-Control", headerSubject, headerProvider, headerRoles, headerScopes, headerPermissions, headerTenant, headerEmail} {
		h.Add(name, "appended")
	}
	want := map[string][]string{
		"Cache-Control":   {"no-store", "appended"},
		headerSubject:     {"alice", "appended"},
		headerProvider:    {"local", "appended"},
		headerRoles:       {"admin", "appended"},
		headerScopes:      {"read,write", "appended"},
		headerPermissions: {"", "appended"},
		headerTenant:      {"acme", "appended"},
		headerEmail:       {"a@example.test", "appended"},
	}
	for name, w := range want {
		if got := h.Values(name); strings.Join(got, "|") != strings.Join(w, "|") {
			t.Errorf("%s = %q, want %q", name, got, w)
		}
	}
}

// TestWriteIdentityAllocs pins the cost of the identity headers: one
// allocation for the values and one for the joined lists (the header map's
// own growth aside, which the reused map here does not need).
func TestWriteIdentityAllocs(t *testing.T) {
	p := &authgate.Principal{Subject: "alice", Provider: "local", Roles: []string{"admin", "ops"}, Scopes: []string{"read", "write"}, Tenant: "acme", Email: "a@example.test"}
	h := http.Header{}
	writeIdentity(h, p)
	got := testing.AllocsPerRun(100, func() {
		clear(h)
		writeIdentity(h, p)
	})
	if got > 2 {
		t.Errorf("writeIdentity: %v allocations, want at most 2", got)
	}
	anon := testing.AllocsPerRun(100, func() {
		clear(h)
		writeIdentity(h, nil)
	})
	if anon > 1 {
		t.Errorf("writeIdentity(nil): %v allocations, want at most 1", anon)
	}
}
