package main

import (
	"hash/maphash"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"unicode/utf8"

	"github.com/authgate/authgate"
)

// identity is the headers of a 200 answer for one principal: their values,
// and the fields of the principal they were built from. It is never
// changed once built, so one identity serves every request whose principal
// has those fields, concurrently.
type identity struct {
	subject, provider, tenant, email string
	roles, scopes, permissions       []string
	// values are Cache-Control's, then those of the seven identity
	// headers in the order of identityHeaders.
	values [8]string
}

// anonymous is the identity of an anonymous rule's answer: every identity
// header empty.
var anonymous = newIdentity(&authgate.Principal{})

// newIdentity builds p's identity. Every value is checked (sanitize) and
// the three lists joined (joinLists); the lists it keeps to compare are
// copies, so no later change to p's lists reaches it.
func newIdentity(p *authgate.Principal) *identity {
	id := &identity{subject: p.Subject, provider: p.Provider, tenant: p.Tenant, email: p.Email}
	lists := make([]string, 0, len(p.Roles)+len(p.Scopes)+len(p.Permissions))
	lists = append(append(append(lists, p.Roles...), p.Scopes...), p.Permissions...)
	i, j := len(p.Roles), len(p.Roles)+len(p.Scopes)
	id.roles, id.scopes, id.permissions = lists[:i:i], lists[i:j:j], lists[j:]
	id.values[0] = "no-store"
	id.values[1] = sanitize(p.Subject)
	id.values[2] = sanitize(p.Provider)
	id.values[3], id.values[4], id.values[5] = joinLists(p.Roles, p.Scopes, p.Permissions)
	id.values[6] = sanitize(p.Tenant)
	id.values[7] = sanitize(p.Email)
	return id
}

// of reports whether id is p's identity: whether p's identity fields equal
// those id was built from. nil and empty lists are equal: both give "".
func (id *identity) of(p *authgate.Principal) bool {
	return id.subject == p.Subject && id.provider == p.Provider && id.tenant == p.Tenant && id.email == p.Email &&
		slices.Equal(id.roles, p.Roles) && slices.Equal(id.scopes, p.Scopes) && slices.Equal(id.permissions, p.Permissions)
}

// write sets the identity headers in h. Each header's []string is a
// one-element window of id's values, capped at its length, so that an Add
// to a header copies instead of writing into id (which other requests
// read), and nothing writes to a header's value in place.
func (id *identity) write(h http.Header) {
	v := &id.values
	h["Cache-Control"] = v[0:1:1]
	h[headerSubject] = v[1:2:2]
	h[headerProvider] = v[2:3:3]
	h[headerRoles] = v[3:4:4]
	h[headerScopes] = v[4:5:5]
	h[headerPermissions] = v[5:6:6]
	h[headerTenant] = v[6:7:7]
	h[headerEmail] = v[7:8:8]
}

// identitySlots is the number of identities an identityMemo keeps.
const identitySlots = 1024

// identityMemo keeps the identities of recent principals, so that a
// repeated principal (every cache hit of a token, or the same user's
// tokens) is answered with the headers built for it before, without
// checking and joining its values again. A principal's slot is picked by
// a keyed hash of its subject; the identity there is used only when every
// identity field equals the principal's (identity.of), so a slot shared by
// two principals costs a rebuild and never a wrong header. The strings of
// a cache hit's principal are those of the cache entry, so comparing them
// is mostly comparing pointers. What it keeps is header values, bounded by
// identitySlots; never a token.
type identityMemo struct {
	seed  maphash.Seed
	slots [identitySlots]atomic.Pointer[identity]
}

func newIdentityMemo() *identityMemo {
	return &identityMemo{seed: maphash.MakeSeed()}
}

// write sets the identity headers of a 200 answer from p (nil for an
// anonymous rule: every header empty).
func (m *identityMemo) write(h http.Header, p *authgate.Principal) {
	if p == nil {
		anonymous.write(h)
		return
	}
	slot := &m.slots[maphash.String(m.seed, p.Subject)%identitySlots]
	id := slot.Load()
	if id == nil || !id.of(p) {
		id = newIdentity(p)
		slot.Store(id)
	}
	id.write(h)
}

// sanitize returns s when it can go into a header as it is, and "" when it
// cannot: a value with control characters (C0, DEL, C1), invalid UTF-8,
// surrounding spaces or more than maxIdentityValue bytes is left out, never
// rewritten, so two different identities can never reach the backend as
// the same header value.
func sanitize(s string) string {
	if len(s) > maxIdentityValue {
		return ""
	}
	// Printable ASCII, the usual case, in one pass: the only space
	// TrimSpace could remove there is ' ' (the others are controls).
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= utf8.RuneSelf:
			return sanitizeUnicode(s)
		case c < 0x20 || c == 0x7f:
			return ""
		}
	}
	if s != "" && (s[0] == ' ' || s[len(s)-1] == ' ') {
		return ""
	}
	return s
}

// sanitizeUnicode is sanitize for a value that is not all ASCII.
func sanitizeUnicode(s string) string {
	if strings.TrimSpace(s) != s || !utf8.ValidString(s) {
		return ""
	}
	for _, r := range s {
		if r < 0x20 || r >= 0x7f && r <= 0x9f {
			return ""
		}
	}
	return s
}

// joinLists joins each list's values with commas, the three in one
// allocation. A value that holds a comma itself is left out rather than
// split into values it never was.
func joinLists(a, b, c []string) (string, string, string) {
	n := 0
	for _, l := range [3][]string{a, b, c} {
		for _, it := range l {
			n += len(it) + 1
		}
	}
	if n == 0 {
		return "", "", ""
	}
	var sb strings.Builder
	sb.Grow(min(n, 3*(8*maxIdentityValue+1)))
	appendList(&sb, a)
	i := sb.Len()
	appendList(&sb, b)
	j := sb.Len()
	appendList(&sb, c)
	all := sb.String()
	return all[:i], all[i:j], all[j:]
}

// appendList appends the checked values of items to b, joined with
// commas, at most 8*maxIdentityValue bytes of them.
func appendList(b *strings.Builder, items []string) {
	start := b.Len()
	for _, it := range items {
		it = sanitize(it)
		if it == "" || strings.Contains(it, ",") {
			continue
		}
		n := b.Len() - start
		if n+len(it)+1 > 8*maxIdentityValue {
			break
		}
		if n > 0 {
			b.WriteByte(',')
		}
		b.WriteString(it)
	}
}
