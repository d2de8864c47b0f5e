package main

import (
	"maps"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/authgate/authgate"
)

// writeIdentity sets the identity headers of p built afresh, without a
// memo: what identityMemo.write must answer.
func writeIdentity(h http.Header, p *authgate.Principal) {
	if p == nil {
		anonymous.write(h)
		return
	}
	newIdentity(p).write(h)
}

// joinList is joinLists of one list, each on its own: what joinLists must
// give for each of its three.
func joinList(items []string) string {
	var b strings.Builder
	appendList(&b, items)
	return b.String()
}

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

// TestWriteIdentityIsolation: the headers are windows of one array, which
// a memo shares between requests, so a later Add to one header must change
// neither another header's value nor a later answer's.
func TestWriteIdentityIsolation(t *testing.T) {
	p := &authgate.Principal{Subject: "alice", Provider: "local", Roles: []string{"admin"}, Scopes: []string{"read", "write"}, Tenant: "acme", Email: "a@example.test"}
	want := map[string][]string{
		"Cache-Control":   {"no-store"},
		headerSubject:     {"alice"},
		headerProvider:    {"local"},
		headerRoles:       {"admin"},
		headerScopes:      {"read,write"},
		headerPermissions: {""},
		headerTenant:      {"acme"},
		headerEmail:       {"a@example.test"},
	}
	m := newIdentityMemo()
	writers := map[string]func(http.Header){
		"writeIdentity": func(h http.Header) { writeIdentity(h, p) },
		"memo":          func(h http.Header) { m.write(h, p) },
		"anonymous":     func(h http.Header) { anonymous.write(h) },
	}
	for name, write := range writers {
		t.Run(name, func(t *testing.T) {
			for round := range 2 {
				h := http.Header{}
				write(h)
				for k, w := range want {
					if name == "anonymous" && k != "Cache-Control" {
						w = []string{""}
					}
					if got := h.Values(k); strings.Join(got, "|") != strings.Join(w, "|") {
						t.Errorf("round %d: %s = %q, want %q", round, k, got, w)
					}
				}
				for k := range want {
					h.Add(k, "appended")
				}
				for k, w := range want {
					if name == "anonymous" && k != "Cache-Control" {
						w = []string{""}
					}
					if got := h.Values(k); strings.Join(got, "|") != strings.Join(append(w, "appended"), "|") {
						t.Errorf("round %d: after Add, %s = %q, want %q then \"appended\"", round, k, got, w)
					}
				}
			}
		})
	}
}

// TestIdentityMemo: a memo answers every principal exactly as
// writeIdentity does, whatever it answered before: a principal that
// differs from a remembered one in any identity field, including one
// sharing its slot (the same subject), gets its own headers, and a change
// to a principal's lists after its answer does not reach a later one.
func TestIdentityMemo(t *testing.T) {
	base := authgate.Principal{Subject: "alice", Provider: "local", Roles: []string{"admin", "ops"}, Scopes: []string{"read"}, Permissions: []string{"orders:write"}, Tenant: "acme", Email: "a@example.test"}
	variants := []func(p *authgate.Principal){
		func(p *authgate.Principal) {},
		func(p *authgate.Principal) { p.Subject = "bob" },
		func(p *authgate.Principal) { p.Subject = "alice\n" },
		func(p *authgate.Principal) { p.Provider = "other" },
		func(p *authgate.Principal) { p.Tenant = "" },
		func(p *authgate.Principal) { p.Email = "b@example.test" },
		func(p *authgate.Principal) { p.Roles = []string{"admin"} },
		func(p *authgate.Principal) { p.Roles = []string{"admin", "root"} },
		func(p *authgate.Principal) { p.Roles = nil },
		func(p *authgate.Principal) { p.Roles, p.Scopes = []string{"admin"}, []string{"ops", "read"} },
		func(p *authgate.Principal) { p.Scopes = append(p.Scopes, "write") },
		func(p *authgate.Principal) { p.Permissions = []string{"orders:read"} },
		func(p *authgate.Principal) { p.Permissions = []string{} },
		func(p *authgate.Principal) { p.Name, p.Issuer, p.TokenID = "ignored", "ignored", "ignored" },
	}
	principal := func(i int) *authgate.Principal {
		p := base
		p.Roles, p.Scopes, p.Permissions = slices.Clone(base.Roles), slices.Clone(base.Scopes), slices.Clone(base.Permissions)
		variants[i](&p)
		return &p
	}
	m := newIdentityMemo()
	check := func(p *authgate.Principal) {
		t.Helper()
		got, want := http.Header{}, http.Header{}
		m.write(got, p)
		writeIdentity(want, p)
		if !maps.EqualFunc(got, want, slices.Equal) {
			t.Fatalf("memo answered %+v with\n%q, want\n%q", p, got, want)
		}
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for range 2000 {
		p := principal(rng.IntN(len(variants)))
		check(p)
		// Whatever happens to the principal's lists afterwards stays
		// with it: a principal equal to the changed one is answered
		// with the changed values.
		switch list := [][]string{p.Roles, p.Scopes, p.Permissions}[rng.IntN(3)]; {
		case len(list) > 0:
			list[len(list)-1] = "changed"
		}
		q := *p
		q.Roles, q.Scopes, q.Permissions = slices.Clone(p.Roles), slices.Clone(p.Scopes), slices.Clone(p.Permissions)
		check(&q)
	}
}

// TestIdentityMemoConcurrent: requests answer principals that share slots
// from several goroutines; run with -race.
func TestIdentityMemoConcurrent(t *testing.T) {
	m := newIdentityMemo()
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 2000 {
				p := &authgate.Principal{Subject: "user" + strconv.Itoa(i%7), Roles: []string{strconv.Itoa((i + g) % 3)}}
				h := http.Header{}
				m.write(h, p)
				if got, want := h.Get(headerSubject)+"/"+h.Get(headerRoles), p.Subject+"/"+p.Roles[0]; got != want {
					t.Errorf("headers %q, want %q", got, want)
					return
				}
			}
		})
	}
	wg.Wait()
}

// TestWriteIdentityAllocs pins the cost of the identity headers: a
// repeated principal and an anonymous answer cost nothing but the header
// map's own growth (which the reused map here does not need), a new one
// three allocations (the identity, its lists' copy, the joined lists).
func TestWriteIdentityAllocs(t *testing.T) {
	p := &authgate.Principal{Subject: "alice", Provider: "local", Roles: []string{"admin", "ops"}, Scopes: []string{"read", "write"}, Tenant: "acme", Email: "a@example.test"}
	h := http.Header{}
	writeIdentity(h, p)
	if got := testing.AllocsPerRun(100, func() {
		clear(h)
		writeIdentity(h, p)
	}); got > 3 {
		t.Errorf("writeIdentity: %v allocations, want at most 3", got)
	}
	m := newIdentityMemo()
	m.write(h, p)
	if got := testing.AllocsPerRun(100, func() {
		clear(h)
		// A principal equal to the remembered one, as a cache hit's is.
		q := *p
		m.write(h, &q)
	}); got != 0 {
		t.Errorf("memo, repeated principal: %v allocations, want 0", got)
	}
	if got := testing.AllocsPerRun(100, func() {
		clear(h)
		m.write(h, nil)
	}); got != 0 {
		t.Errorf("anonymous: %v allocations, want 0", got)
	}
}
