package providers

import (
	"errors"
	"slices"
	"strings"
	"sync/atomic"

	"github.com/authgate/authgate"
)

var (
	errHeaderKeyRef = errors.New("header carries a key or key reference (jwk, jku, x5u, x5c)")
	errHeaderJWE    = errors.New("header marks an encrypted or compressed token")
	errHeaderNested = errors.New("nested tokens are not supported")
	errHeaderB64    = errors.New("unencoded payloads (b64) are not supported")
	errHeaderType   = errors.New("token type not accepted")
	errHeaderCrit   = errors.New("critical header not understood or malformed")
	errHeaderAlg    = errors.New("algorithm not allowed")
	errUnsignedAlg  = errors.New(`an unsigned token must have "alg":"none"`)
	errUnsignedCrit = errors.New(`an unsigned token must not carry "crit"`)
)

// jwtMediaType is the media type of a JWT (RFC 7519 §10.3.1), normalized.
const jwtMediaType = "application/jwt"

// checkHeader checks the protected header t.Header, which it records in
// t.Algorithm, t.KeyID and t.Type, and returns the algorithm to verify
// with. It is the one header check of both Verify and
// InsecureVerifyUnsigned: for a signed token "alg" must be in the
// allow-list and "crit" must list only CriticalHeaders; for an unsigned one
// (which gets a nil algorithm) "alg" must be "none" and any "crit" is
// refused. Both refuse jwk, jku, x5u, x5c, enc, zip, b64, a nesting cty and
// a typ outside TokenTypes.
func (v *Verifier) checkHeader(t *Token, unsigned bool) (*algorithm, error) {
	h := readHeader(t.Header)
	name, ok := h.alg.(string)
	if !ok {
		return nil, v.fail(authgate.ErrMalformedToken, errors.New(`header "alg" missing or not a string`))
	}
	var alg *algorithm
	switch {
	case unsigned:
		if name != "none" {
			return nil, v.fail(authgate.ErrUnsupportedAlgorithm, errUnsignedAlg)
		}
	default:
		if alg, ok = v.allowed[name]; !ok {
			return nil, v.fail(authgate.ErrUnsupportedAlgorithm, errHeaderAlg)
		}
	}
	t.Algorithm = name
	if h.has&hasKid != 0 {
		if t.KeyID, ok = h.kid.(string); !ok {
			return nil, v.fail(authgate.ErrMalformedToken, errors.New(`header "kid" is not a string`))
		}
	}
	if h.has&hasKeyRef != 0 {
		return nil, v.fail(authgate.ErrUnsupportedAlgorithm, errHeaderKeyRef)
	}
	if h.has&hasJWE != 0 {
		return nil, v.fail(authgate.ErrUnsupportedAlgorithm, errHeaderJWE)
	}
	if h.has&hasB64 != 0 {
		return nil, v.fail(authgate.ErrUnsupportedAlgorithm, errHeaderB64)
	}
	if h.has&hasCty != 0 {
		s, ok := h.cty.(string)
		if !ok {
			return nil, v.fail(authgate.ErrMalformedToken, errors.New(`header "cty" is not a string`))
		}
		if isMediaType(s, jwtMediaType) {
			return nil, v.fail(authgate.ErrUnsupportedAlgorithm, errHeaderNested)
		}
	}
	if h.has&hasTyp != 0 {
		if t.Type, ok = h.typ.(string); !ok {
			return nil, v.fail(authgate.ErrMalformedToken, errors.New(`header "typ" is not a string`))
		}
	}
	if !v.typeAllowed(t.Type) {
		return nil, v.fail(authgate.ErrInvalidCredentials, errHeaderType)
	}
	if h.has&hasCrit != 0 {
		if unsigned {
			return nil, v.fail(authgate.ErrUnsupportedAlgorithm, errUnsignedCrit)
		}
		if !v.critOK(t.Header, h.crit) {
			return nil, v.fail(authgate.ErrUnsupportedAlgorithm, errHeaderCrit)
		}
	}
	return alg, nil
}

// headerMembers is what checkHeader reads of a header: the values it
// checks and which of the names it looks for are present (has, a set of
// the has… bits; a member whose value is null is present).
type headerMembers struct {
	alg, kid, cty, typ, crit any
	has                      uint8
}

const (
	hasKid    = 1 << iota
	hasKeyRef // jwk, jku, x5u or x5c
	hasJWE    // enc or zip
	hasB64
	hasCty
	hasTyp
	hasCrit
)

// readHeader collects the members checkHeader looks at in one pass over
// the header: a header has a handful of members, checkHeader asks about a
// dozen names, and iterating costs less than a dozen lookups. The checks
// themselves stay in checkHeader, in their fixed order.
func readHeader(header map[string]any) headerMembers {
	var h headerMembers
	for name, val := range header {
		switch name {
		case "alg":
			h.alg = val
		case "kid":
			h.kid, h.has = val, h.has|hasKid
		case "jwk", "jku", "x5u", "x5c":
			h.has |= hasKeyRef
		case "enc", "zip":
			h.has |= hasJWE
		case "b64":
			h.has |= hasB64
		case "cty":
			h.cty, h.has = val, h.has|hasCty
		case "typ":
			h.typ, h.has = val, h.has|hasTyp
		case "crit":
			h.crit, h.has = val, h.has|hasCrit
		}
	}
	return h
}

func (v *Verifier) typeAllowed(typ string) bool {
	if v.typeSet == nil {
		return typ == "" || isMediaType(typ, jwtMediaType)
	}
	if typ == "" {
		return false
	}
	for _, want := range v.typeSet {
		if isMediaType(typ, want) {
			return true
		}
	}
	return false
}

// mediaType normalizes a configured typ value (RFC 7515 §4.1.9): ASCII
// lower case, with "application/" prepended when the value holds no "/".
func mediaType(s string) string {
	s = lowerASCII(s)
	if !strings.Contains(s, "/") {
		s = "application/" + s
	}
	return s
}

// isMediaType reports whether a received typ or cty value names want, a
// media type normalized by mediaType. RFC 7515 §4.1.9 implies
// "application/" only for a value without a "/": "at+jwt" is
// "application/at+jwt", while "text/plain" and "application/text/plain"
// are two types. Case is ignored in ASCII only (media type names are
// ASCII, RFC 6838 §4.2). It allocates nothing.
func isMediaType(s, want string) bool {
	if strings.IndexByte(s, '/') < 0 {
		sub, ok := strings.CutPrefix(want, "application/")
		return ok && equalFoldASCII(s, sub)
	}
	return equalFoldASCII(s, want)
}

func lowerASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		b[i] = lowerByte(c)
	}
	return string(b)
}

// equalFoldASCII reports whether a and b are equal when ASCII letters are
// compared without case; other bytes must be equal.
func equalFoldASCII(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		if lowerByte(a[i]) != lowerByte(b[i]) {
			return false
		}
	}
	return true
}

func lowerByte(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// critOK applies RFC 7515 §4.1.11: a non-empty array of distinct strings,
// none a registered name, each present in the header and understood.
func (v *Verifier) critOK(h map[string]any, crit any) bool {
	list, ok := crit.([]any)
	if !ok || len(list) == 0 {
		return false
	}
	for i, e := range list {
		name, ok := e.(string)
		if !ok || !slices.Contains(v.critical, name) || slices.Contains(list[:i], e) {
			return false
		}
		if _, present := h[name]; !present {
			return false
		}
	}
	return true
}

// maxHeaderEntries is how many distinct protected headers a verifier
// remembers (headerCache).
const maxHeaderEntries = 8

// headerCache remembers the decoded and checked protected headers of
// tokens whose signature verified, keyed by the header segment's exact
// bytes. The tokens of one issuer and key share one header
// ({"alg":…,"kid":…,"typ":…}), so Verify skips decoding, parsing and
// checking it again: checkHeader is a function of the header's bytes and
// the verifier's immutable configuration, and a remembered header is one
// that passed it, so a hit gives the Token exactly what decodeHeader and
// checkHeader would. Only headers of tokens whose signature verified are
// added, so a forger cannot fill it; when it is full, a new header
// replaces the entries in turn. Safe for concurrent use: the entries are
// an immutable slice, replaced whole (copy on write).
type headerCache struct {
	entries atomic.Pointer[[]*headerEntry]
	next    atomic.Uint32 // the entry a full cache replaces next
}

// headerEntry is one remembered header. header is decoded from a copy of
// the segment, so it keeps no token's memory alive; it becomes the Header
// of every token with this segment and is never modified.
type headerEntry struct {
	segment            string
	header             map[string]any
	alg                *algorithm
	algorithm, kid, ty string
}

// lookup returns the entry of the header segment h, or nil.
func (c *headerCache) lookup(h string) *headerEntry {
	if p := c.entries.Load(); p != nil {
		for _, e := range *p {
			if e.segment == h {
				return e
			}
		}
	}
	return nil
}

// apply gives t what decodeHeader and checkHeader would: the header
// (the remembered map itself: a Token's Header is read-only, and shared
// by every token with this protected header), and the algorithm, kid and
// type, and returns the algorithm.
func (e *headerEntry) apply(t *Token) *algorithm {
	t.Header = e.header
	t.Algorithm, t.KeyID, t.Type = e.algorithm, e.kid, e.ty
	return e.alg
}

// add remembers the header of t, whose segment is h and whose signature
// verified. It is best effort: a concurrent add may win instead.
func (c *headerCache) add(h string, t *Token, alg *algorithm) {
	raw, err := strictBase64.DecodeString(h)
	if err != nil {
		return
	}
	header, err := parseObject(raw) // a fresh copy: raw is never written again
	if err != nil {
		return
	}
	e := &headerEntry{segment: strings.Clone(h), header: header, alg: alg, algorithm: t.Algorithm, kid: t.KeyID, ty: t.Type}
	old := c.entries.Load()
	var list []*headerEntry
	switch {
	case old == nil:
		list = []*headerEntry{e}
	case len(*old) < maxHeaderEntries:
		list = append(slices.Clip(*old), e)
	default:
		list = slices.Clone(*old)
		list[c.next.Add(1)%maxHeaderEntries] = e
	}
	c.entries.CompareAndSwap(old, &list)
}
