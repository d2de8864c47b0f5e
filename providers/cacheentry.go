package providers

import (
	"encoding/base64"
	"encoding/binary"
	"strings"
	"sync/atomic"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/internal/bytesconv"
	"github.com/authgate/authgate/internal/objectview"
)

// cacheEntry is one verified token, kept compact: about 0.9 KB for an
// 800-byte RS256 access token, where the token, its decoded claims and a
// built principal took 2.6 KB.
//
// It holds no copy of the token's text. blob holds, in one allocation
// that is never written again:
//
//   - blob[:payload]: the decoded payload, the claim set's JSON;
//   - blob[payload:payload+sig]: the signature segment, as presented;
//   - blob[payload+sig:]: the principal of owner, packed (packPrincipal):
//     offsets into blob of its strings, which are mostly substrings of
//     the claims' JSON, and those that are not, after the table.
//
// The protected header is head, shared with every entry of the same
// header. A presented token matches the entry when its header segment is
// head's, its signature segment is the stored one, and its payload
// segment is the base64url encoding of the stored payload (matches):
// strict base64url is one-to-one, so that is a comparison of every byte
// of the token.
//
// The claims are decoded from blob only when something reads them
// (claims: a principal's Claims, a Token for a Check hook or VerifyToken),
// and are then kept with the entry.
type cacheEntry struct {
	expires      int64 // Unix nanoseconds; the entry is stale from then on
	blob         string
	payload, sig uint32
	head         *headerEntry
	owner        *TokenAuthenticator // whose principal blob holds; nil for none
	claims       authgate.LazyObject
	tok          atomic.Pointer[Token]             // the shared token, built on first need
	other        atomic.Pointer[principalTemplate] // a principal not packed in blob
}

// principalTemplate is the principal one authenticator maps a cached token
// to, when it is not packed in the entry's blob. p is never handed out and
// never modified.
type principalTemplate struct {
	owner *TokenAuthenticator
	p     *authgate.Principal
}

// newCacheEntry builds the entry of token, which verified as t, with the
// principal p that owner maps t to packed in it (owner nil and p nil for
// none). The token must be a verified compact JWS: three non-empty,
// canonical base64url segments.
func newCacheEntry(token string, t *Token, head *headerEntry, owner *TokenAuthenticator, p *authgate.Principal, expires int64) *cacheEntry {
	h, seg, sig, err := split(token, len(token))
	if err != nil || h != head.segment {
		return nil // not a verified token: never the case
	}
	var scratch [1024]byte
	payload := scratch[:]
	if n := strictBase64.DecodedLen(len(seg)); n > len(scratch) {
		payload = make([]byte, n)
	}
	n, ok := decodeBase64URL(payload, seg)
	if !ok {
		return nil // not a verified token: never the case
	}
	payload = payload[:n]
	var packed []byte
	if owner != nil {
		packed = packPrincipal(p, t, len(payload)+len(sig), bytesconv.String(payload))
	}
	b := make([]byte, 0, len(payload)+len(sig)+len(packed))
	b = append(append(append(b, payload...), sig...), packed...)
	e := &cacheEntry{expires: expires, blob: bytesconv.String(b), payload: uint32(len(payload)), sig: uint32(len(sig)), head: head}
	e.claims.Init(e.blob[:len(payload)], decodeClaims)
	switch {
	case packed != nil:
		e.owner = owner
	case owner != nil:
		// p is the caller's to hand out: the template is a copy.
		e.other.Store(&principalTemplate{owner: owner, p: copyPrincipal(p)})
	}
	return e
}

// decodeClaims decodes the claims of a cache entry: JSON that decoded
// before, so it cannot fail; the strings alias the entry's blob.
func decodeClaims(raw string) map[string]any {
	m, err := parseObject(bytesconv.Bytes(raw))
	if err != nil {
		return nil
	}
	return m
}

// matches reports whether token is the entry's token, byte for byte. Past
// the lengths, the time it takes does not depend on where the two differ:
// every byte is compared, the way secrets are.
func (e *cacheEntry) matches(token string) bool {
	h := e.head.segment
	enc := base64.RawURLEncoding.EncodedLen(int(e.payload))
	if len(token) != len(h)+1+enc+1+int(e.sig) {
		return false
	}
	sig := len(h) + 2 + enc
	d := diffBytes(token[sig:], e.blob[e.payload:e.payload+e.sig]) | diffBytes(token[:len(h)], h) |
		uint64(token[len(h)]^'.') | uint64(token[sig-1]^'.')
	payload := equalEncoded(token[len(h)+1:sig-1], e.blob[:e.payload])
	return payload && d == 0
}

// diffBytes is zero when a and b, of one length, are equal: the or of
// their xor, eight bytes at a time, whatever the first difference.
func diffBytes(a, b string) uint64 {
	x, y := bytesconv.Bytes(a), bytesconv.Bytes(b)
	if len(x) != len(y) {
		return 1
	}
	var d, d1, d2, d3 uint64
	// 32 bytes a round, in four independent chains.
	for len(x) >= 32 && len(y) >= 32 {
		d |= binary.LittleEndian.Uint64(x) ^ binary.LittleEndian.Uint64(y)
		d1 |= binary.LittleEndian.Uint64(x[8:]) ^ binary.LittleEndian.Uint64(y[8:])
		d2 |= binary.LittleEndian.Uint64(x[16:]) ^ binary.LittleEndian.Uint64(y[16:])
		d3 |= binary.LittleEndian.Uint64(x[24:]) ^ binary.LittleEndian.Uint64(y[24:])
		x, y = x[32:], y[32:]
	}
	for len(x) >= 8 && len(y) >= 8 {
		d |= binary.LittleEndian.Uint64(x) ^ binary.LittleEndian.Uint64(y)
		x, y = x[8:], y[8:]
	}
	for i := range min(len(x), len(y)) {
		d |= uint64(x[i] ^ y[i])
	}
	return d | d1 | d2 | d3
}

// base64Pairs maps 12 bits to their two base64url characters, the first
// in the low byte.
var base64Pairs = func() (t [4096]uint16) {
	for i := range t {
		t[i] = uint16(base64URLAlphabet[i>>6]) | uint16(base64URLAlphabet[i&63])<<8
	}
	return t
}()

// equalEncoded reports whether enc is the unpadded base64url encoding of
// raw, without encoding raw anywhere: six bytes at a time become eight
// characters, compared as one word. Every word is compared, whatever the
// first difference.
func equalEncoded(enc, raw string) bool {
	if len(enc) != base64.RawURLEncoding.EncodedLen(len(raw)) {
		return false
	}
	r, c := bytesconv.Bytes(raw), bytesconv.Bytes(enc)
	var d0, d1, d2 uint64
	// Eighteen bytes a round, in three independent chains.
	for len(r) >= 20 && len(c) >= 24 {
		d0 |= encode6(binary.BigEndian.Uint64(r)>>16) ^ binary.LittleEndian.Uint64(c)
		d1 |= encode6(binary.BigEndian.Uint64(r[6:])>>16) ^ binary.LittleEndian.Uint64(c[8:])
		d2 |= encode6(binary.BigEndian.Uint64(r[12:])>>16) ^ binary.LittleEndian.Uint64(c[16:])
		r, c = r[18:], c[24:]
	}
	for len(r) >= 8 && len(c) >= 8 {
		d0 |= encode6(binary.BigEndian.Uint64(r)>>16) ^ binary.LittleEndian.Uint64(c)
		r, c = r[6:], c[8:]
	}
	// At most seven bytes remain: their encoding, three bytes (four
	// characters) a time, then the one or two bytes left.
	for len(r) >= 3 && len(c) >= 4 {
		v := uint64(r[0])<<16 | uint64(r[1])<<8 | uint64(r[2])
		w := uint64(base64Pairs[v>>12]) | uint64(base64Pairs[v&0xfff])<<16
		d1 |= w ^ uint64(binary.LittleEndian.Uint32(c))
		r, c = r[3:], c[4:]
	}
	switch {
	case len(r) == 2 && len(c) == 3: // 16 bits: three characters, the last with two zero bits
		v := uint64(r[0])<<16 | uint64(r[1])<<8
		w := uint64(base64Pairs[v>>12]) | uint64(base64Pairs[v&0xfff])<<16
		d2 |= (w ^ (uint64(c[0]) | uint64(c[1])<<8 | uint64(c[2])<<16)) & 0xffffff
	case len(r) == 1 && len(c) == 2: // 8 bits: two characters, the last with four zero bits
		d2 |= (uint64(base64Pairs[uint64(r[0])<<4]) ^ (uint64(c[0]) | uint64(c[1])<<8)) & 0xffff
	case len(r) != 0 || len(c) != 0:
		return false
	}
	return d0|d1|d2 == 0
}

// encode6 returns the eight base64url characters of the 48 bits v, the
// first in the low byte.
func encode6(v uint64) uint64 {
	return uint64(base64Pairs[v>>36]) | uint64(base64Pairs[v>>24&0xfff])<<16 |
		uint64(base64Pairs[v>>12&0xfff])<<32 | uint64(base64Pairs[v&0xfff])<<48
}

// The packed principal (packPrincipal): a flags byte; the number of list
// elements (2 bytes); ExpiresAt and
// IssuedAt when present, each as Unix seconds (8 bytes) and nanoseconds
// (4); the packedStrings string fields as offset and length (2 bytes
// each) into the blob; then each of the four lists as its count plus one
// (2 bytes, 0 for a nil list) and its elements as offset and length.
// Strings that are not in the claims' JSON follow the table. Little endian
// throughout.
const (
	packHasExpiry = 1 << iota
	packHasIssuedAt
)

const packedStrings = 9

// packStrings and packLists list the principal's fields in their packed
// order.
func packStrings(p *authgate.Principal) [packedStrings]*string {
	return [...]*string{&p.Provider, &p.Method, &p.Subject, &p.Issuer, &p.Email, &p.Name, &p.Tenant, &p.CredentialID, &p.TokenID}
}

func packLists(p *authgate.Principal) [4]*[]string {
	return [...]*[]string{&p.Audience, &p.Roles, &p.Scopes, &p.Permissions}
}

// packPrincipal returns p, which owner mapped t to, packed for a blob
// whose table starts at offset base and whose first bytes are the claims'
// JSON (json), or nil when p cannot be packed: it holds a User, Claims or
// Header other than t's, a time unPack would not give back as it is, or
// offsets beyond 16 bits. Unpacked, it is p field for field (unpack).
func packPrincipal(p *authgate.Principal, t *Token, base int, json string) []byte {
	if p.User != nil || !objectview.Same(p.Claims, authgate.AdoptObject(t.Claims)) ||
		!objectview.Same(p.Header, authgate.AdoptObject(t.Header)) {
		return nil
	}
	size := 1 + 2 + 4*packedStrings + 2*4
	var flags byte
	for i, at := range []time.Time{p.ExpiresAt, p.IssuedAt} {
		if at.IsZero() {
			continue
		}
		if time.Unix(at.Unix(), int64(at.Nanosecond())) != at {
			return nil // not in the Local location, or with a monotonic reading
		}
		flags |= 1 << i
		size += 12
	}
	total := 0
	for _, l := range packLists(p) {
		total += len(*l)
	}
	if total >= 0xffff {
		return nil
	}
	size += 4 * total
	out := make([]byte, 0, size+32)
	out = appendUint16(append(out, flags), uint16(total))
	for i, at := range []time.Time{p.ExpiresAt, p.IssuedAt} {
		if flags&(1<<i) != 0 {
			out = appendUint64(out, uint64(at.Unix()))
			out = appendUint32(out, uint32(at.Nanosecond()))
		}
	}
	extra := base + size // where the strings not found in json go
	var extras []byte
	ok := true
	put := func(s string) {
		off := 0
		if s != "" {
			if i := strings.Index(json, s); i >= 0 {
				off = i
			} else if i := strings.Index(bytesconv.String(extras), s); i >= 0 {
				off = extra + i
			} else {
				off = extra + len(extras)
				extras = append(extras, s...)
			}
		}
		if off+len(s) > 0xffff {
			ok = false
		}
		out = appendUint16(appendUint16(out, uint16(off)), uint16(len(s)))
	}
	for _, s := range packStrings(p) {
		put(*s)
	}
	for _, l := range packLists(p) {
		if *l == nil {
			out = appendUint16(out, 0)
			continue
		}
		out = appendUint16(out, uint16(len(*l)+1))
		for _, s := range *l {
			put(s)
		}
	}
	if !ok || len(out) != size {
		return nil
	}
	return append(out, extras...)
}

// unpack returns a new principal holding what packPrincipal packed: the
// struct and up to principalInline list elements in one allocation, the
// strings shared with the blob (immutable), Claims and Header the entry's.
func (e *cacheEntry) unpack() *authgate.Principal {
	blob := e.blob
	pk := blob[e.payload+e.sig:]
	b := new(principalWithLists)
	p := &b.p
	flags, total := pk[0], int(readUint16(pk[1:]))
	pk = pk[3:]
	if flags&packHasExpiry != 0 {
		p.ExpiresAt = time.Unix(int64(readUint64(pk)), int64(readUint32(pk[8:])))
		pk = pk[12:]
	}
	if flags&packHasIssuedAt != 0 {
		p.IssuedAt = time.Unix(int64(readUint64(pk)), int64(readUint32(pk[8:])))
		pk = pk[12:]
	}
	// Empty strings are left as they are: a write of a pointer costs a
	// write barrier while the collector runs.
	for i, f := range packStrings(p) {
		if n := int(readUint16(pk[4*i+2:])); n > 0 {
			off := int(readUint16(pk[4*i:]))
			*f = blob[off : off+n]
		}
	}
	pk = pk[4*packedStrings:]

	var buf []string
	if total <= principalInline {
		buf = b.lists[:total:total]
	} else {
		buf = make([]string, total)
	}
	for _, l := range packLists(p) {
		n := int(readUint16(pk)) - 1
		pk = pk[2:]
		if n < 0 {
			continue // a nil list
		}
		list := buf[:n:n]
		for i := range list {
			off := int(readUint16(pk[4*i:]))
			list[i] = blob[off : off+int(readUint16(pk[4*i+2:]))]
		}
		pk, buf, *l = pk[4*n:], buf[n:], list
	}
	p.Claims = e.claims.Object()
	p.Header = authgate.AdoptObject(e.head.header)
	return p
}

// principal returns a new principal of a's for the entry's token: the
// packed one when a is the owner, else a copy of a template of a's, built
// on first use from the entry's token. It is false only when the entry's
// token cannot be rebuilt, which never happens to a verified one.
func (e *cacheEntry) principal(a *TokenAuthenticator) (*authgate.Principal, bool) {
	if e.owner == a {
		return e.unpack(), true
	}
	if pt := e.other.Load(); pt != nil && pt.owner == a {
		return copyPrincipal(pt.p), true
	}
	t, ok := e.token()
	if !ok {
		return nil, false
	}
	p := a.Principal(t)
	e.other.CompareAndSwap(nil, &principalTemplate{owner: a, p: p})
	return copyPrincipal(p), true
}

// token returns the entry's token, rebuilt from the blob on first use and
// then shared (read-only) by every caller: a Check hook, VerifyToken, the
// principal of an authenticator other than the owner.
func (e *cacheEntry) token() (*Token, bool) {
	if t := e.tok.Load(); t != nil {
		return t, true
	}
	t, ok := e.rebuild(e.claims.Members())
	if !ok {
		return nil, false
	}
	if !e.tok.CompareAndSwap(nil, t) {
		t = e.tok.Load()
	}
	return t, true
}

// freshToken returns the entry's token rebuilt from the blob into maps
// of its own, which the caller may change (Verifier.Verify). Nothing of it
// is kept with the entry.
func (e *cacheEntry) freshToken() (*Token, bool) {
	m := decodeClaims(e.blob[:e.payload])
	if m == nil {
		return nil, false
	}
	t, ok := e.rebuild(m)
	if ok {
		t.Header = authgate.AdoptObject(t.Header).Map() // a deep copy
	}
	return t, ok
}

// rebuild returns the token whose claims are m, as Verify built it: the
// header's fields, and the registered claims picked and read as route and
// checkRegistered pick and read them. The claims passed every check when the
// entry was stored, so reading them cannot fail; if it did, the entry
// would be treated as absent.
func (e *cacheEntry) rebuild(m map[string]any) (*Token, bool) {
	if m == nil {
		return nil, false
	}
	var reg registeredClaims
	for name, val := range m { // as route picks them while decoding
		reg.pick(name, val)
	}
	t := &Token{Claims: m}
	e.head.apply(t)
	t.Issuer, _ = reg.iss.(string)
	t.seen = claimsSeen{claims: m, n: uint32(len(m)), present: reg.mapped}
	var err1, err2, err3, err4, err5 error
	t.ExpiresAt, _, err1 = numericDate(reg.exp, reg.has&hasExp != 0, "exp")
	t.NotBefore, _, err2 = numericDate(reg.nbf, reg.has&hasNbf != 0, "nbf")
	t.IssuedAt, _, err3 = numericDate(reg.iat, reg.has&hasIat != 0, "iat")
	t.Audience, err4 = audience(reg.aud, reg.has&hasAud != 0, t.audience[:0])
	t.Subject, err5 = subject(reg.sub)
	return t, err1 == nil && err2 == nil && err3 == nil && err4 == nil && err5 == nil
}

func appendUint16(b []byte, v uint16) []byte { return append(b, byte(v), byte(v>>8)) }

func appendUint32(b []byte, v uint32) []byte {
	return append(b, byte(v), byte(v>>8), byte(v>>16), byte(v>>24))
}

func appendUint64(b []byte, v uint64) []byte {
	return appendUint32(appendUint32(b, uint32(v)), uint32(v>>32))
}

func readUint16(s string) uint16 { return uint16(s[0]) | uint16(s[1])<<8 }

func readUint32(s string) uint32 {
	return uint32(s[0]) | uint32(s[1])<<8 | uint32(s[2])<<16 | uint32(s[3])<<24
}

func readUint64(s string) uint64 { return uint64(readUint32(s)) | uint64(readUint32(s[4:]))<<32 }
