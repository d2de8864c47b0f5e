package strictjson

import (
	"bytes"
	"encoding/binary"
	"math"
	"math/bits"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/authgate/authgate/internal/bytesconv"
)

// decoder is the state of one ParseObject call: the input, the read
// position, the number of values decoded so far (bounded by maxValues) and
// the slabs values are boxed from.
//
// Boxing a string, a number or a slice in an interface copies it into an
// allocation of its own. The decoder instead stores each value in a slab
// (strs, nums, lists: the free space of the current chunk, whose cap is
// its end) and makes the interface point into it (bytesconv.Box), so that
// a claim set costs a few allocations rather than one per value. A slot of
// a slab is written once, before it is boxed, and never again: the
// interfaces that point into it stay immutable, as Go requires. The slabs
// are never exposed otherwise, so a caller replacing a member replaces the
// interface, not the slot.
type decoder struct {
	data   []byte
	pos    int
	values int

	strs  []string
	nums  []float64
	lists [][]any
	elems []any // element storage of arrays, from an Arena only
}

// An object collects its members, and an array its elements, in a buffer
// of its own call frame (of these sizes, growing on the heap beyond them),
// so that the map or slice it returns is allocated once at its exact size.
// They are stored into the array by index, not appended to a slice of it:
// the compiler knows such a store goes to the stack, while a slice might
// point to the heap, so every append of a pointer to it would pay for a
// write barrier while the collector runs (3 % of a verification).
const (
	frameMembers  = 16
	frameElements = 8
)

type member struct {
	key string
	val any
}

// Chunk sizes of the number slab: the first chunk, and the largest.
const (
	firstNumChunk = 4
	maxNumChunk   = 64
)

// skipSpace skips JSON whitespace. Every whitespace byte is at most ' ',
// so a byte above it (the next token of compact JSON, which is what a
// token carries) ends the loop on one comparison.
func (d *decoder) skipSpace() {
	for d.pos < len(d.data) && d.data[d.pos] <= ' ' {
		switch d.data[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

func (d *decoder) value(depth int) (any, error) {
	if depth > maxDepth {
		return nil, errDepth
	}
	if d.values++; d.values > maxValues {
		return nil, errTooLarge
	}
	d.skipSpace()
	if d.pos >= len(d.data) {
		return nil, errSyntax
	}
	switch c := d.data[d.pos]; {
	case c == '{':
		return d.object(depth)
	case c == '[':
		return d.array(depth)
	case c == '"':
		s, _, err := d.string()
		if err != nil {
			return nil, err
		}
		return d.boxString(s), nil
	case c == '-' || ('0' <= c && c <= '9'):
		f, err := d.number()
		if err != nil {
			return nil, err
		}
		return d.boxNumber(f), nil
	case d.literal("true"):
		return true, nil
	case d.literal("false"):
		return false, nil
	case d.literal("null"):
		return nil, nil
	}
	return nil, errSyntax
}

// boxString returns s in an interface pointing into the string slab. When
// the slab is full, the next chunk is sized from the quotes left in the
// input: at most one string value per two quotes. The first chunk takes
// half of that bound (about as many member names as string values in a
// claim set), the second all that is left, so a document costs at most
// two string chunks.
func (d *decoder) boxString(s string) any {
	if s == "" {
		return "" // boxing the empty string allocates nothing
	}
	if len(d.strs) == cap(d.strs) {
		n := 1 + bytes.Count(d.data[d.pos:], quote)/2
		if d.strs == nil {
			n = n/2 + 1
		}
		d.strs = make([]string, 0, n)
	}
	d.strs = append(d.strs, s)
	return bytesconv.Box(&d.strs[len(d.strs)-1])
}

var quote = []byte{'"'}

// boxNumber is boxString for numbers, in chunks that double from
// firstNumChunk up to maxNumChunk.
func (d *decoder) boxNumber(f float64) any {
	if f == 0 && !math.Signbit(f) {
		return 0.0 // boxing positive zero allocates nothing
	}
	if len(d.nums) == cap(d.nums) {
		n := firstNumChunk
		if d.nums != nil {
			n = min(2*cap(d.nums), maxNumChunk)
		}
		d.nums = make([]float64, 0, n)
	}
	d.nums = append(d.nums, f)
	return bytesconv.Box(&d.nums[len(d.nums)-1])
}

// boxList is boxString for the slice headers of arrays; the chunk holds
// one header per '[' left in the input, an upper bound of the arrays.
func (d *decoder) boxList(l []any) any {
	if len(d.lists) == cap(d.lists) {
		d.lists = make([][]any, 0, 1+bytes.Count(d.data[d.pos:], bracket))
	}
	d.lists = append(d.lists, l)
	return bytesconv.Box(&d.lists[len(d.lists)-1])
}

var bracket = []byte{'['}

func (d *decoder) literal(lit string) bool {
	if len(d.data)-d.pos >= len(lit) && string(d.data[d.pos:d.pos+len(lit)]) == lit {
		d.pos += len(lit)
		return true
	}
	return false
}

func (d *decoder) object(depth int) (any, error) {
	return d.objectPicking(depth, nil, true)
}

// objectPicking is object handing the members of the top-level object to
// pick as well (see ParseObjectFunc); pick must be nil for a nested one.
// Without build it checks the members' names as newObject does but builds
// no map (ValidateObjectFunc), and returns nil.
func (d *decoder) objectPicking(depth int, pick func(name string, value any), build bool) (map[string]any, error) {
	d.pos++ // '{'
	d.skipSpace()
	if d.pos < len(d.data) && d.data[d.pos] == '}' {
		d.pos++
		if !build {
			return nil, nil
		}
		return map[string]any{}, nil
	}
	var frame [frameMembers]member
	var spill []member // all the members, once they overflow frame
	n := 0
	fold := false // whether a name may have a case variant
	for {
		d.skipSpace()
		if d.pos >= len(d.data) || d.data[d.pos] != '"' {
			return nil, errSyntax
		}
		key, mayFold, err := d.string()
		if err != nil {
			return nil, err
		}
		fold = fold || mayFold
		d.skipSpace()
		if d.pos >= len(d.data) || d.data[d.pos] != ':' {
			return nil, errSyntax
		}
		d.pos++
		v, err := d.value(depth + 1)
		if err != nil {
			return nil, err
		}
		if n >= maxObjectMembers {
			return nil, errTooLarge
		}
		if n < len(frame) {
			frame[n] = member{key, v}
		} else {
			if spill == nil {
				spill = append(make([]member, 0, 4*len(frame)), frame[:]...)
			}
			spill = append(spill, member{key, v})
		}
		n++
		d.skipSpace()
		if d.pos >= len(d.data) {
			return nil, errSyntax
		}
		switch d.data[d.pos] {
		case ',':
			d.pos++
		case '}':
			d.pos++
			members := spill
			if members == nil {
				members = frame[:n]
			}
			var obj map[string]any
			var err error
			if build {
				obj, err = newObject(members, fold)
			} else {
				err = checkNames(members, fold)
			}
			if err != nil || pick == nil {
				return obj, err
			}
			// Only a whole document's members are handed out: nothing but
			// whitespace may follow (ParseObjectFunc checks it again).
			d.skipSpace()
			if d.pos != len(d.data) {
				return nil, errSyntax
			}
			for _, m := range members {
				pick(m.key, m.val)
			}
			return obj, nil
		default:
			return nil, errSyntax
		}
	}
}

// newObject builds the map of an object's members, sized for all of them,
// and refuses duplicate names and, when fold says a name may have one
// (see needsFold), case-variant names.
func newObject(members []member, fold bool) (map[string]any, error) {
	obj := make(map[string]any, len(members))
	for _, m := range members {
		obj[m.key] = m.val
	}
	if len(obj) != len(members) {
		return nil, errDuplicate
	}
	if fold {
		if err := checkFolded(members); err != nil {
			return nil, err
		}
	}
	return obj, nil
}

// checkNames is newObject's check of the members' names without the map:
// a comparison of every pair of names, cheaper than building a map for
// the members that fit in a call frame, and newObject's map beyond.
func checkNames(members []member, fold bool) error {
	if len(members) > frameMembers {
		_, err := newObject(members, fold)
		return err
	}
	// Names are compared only where their lengths and first and last
	// bytes agree, which in a claim set (aud, exp, iat, iss, sub, …) is
	// almost never.
	var sigs [frameMembers]uint64
	for i, m := range members {
		if k := m.key; k != "" {
			sigs[i] = uint64(len(k))<<16 | uint64(k[0])<<8 | uint64(k[len(k)-1])
		}
	}
	for i := 1; i < len(members); i++ {
		for j := range i {
			if sigs[i] == sigs[j] && members[i].key == members[j].key {
				return errDuplicate
			}
		}
	}
	if fold {
		return checkFolded(members)
	}
	return nil
}

func (d *decoder) array(depth int) (any, error) {
	d.pos++ // '['
	d.skipSpace()
	if d.pos < len(d.data) && d.data[d.pos] == ']' {
		d.pos++
		return d.boxList([]any{}), nil
	}
	var frame [frameElements]any
	var spill []any // all the elements, once they overflow frame
	n := 0
	for {
		v, err := d.value(depth + 1)
		if err != nil {
			return nil, err
		}
		if n < len(frame) {
			frame[n] = v
		} else {
			if spill == nil {
				spill = append(make([]any, 0, 4*len(frame)), frame[:]...)
			}
			spill = append(spill, v)
		}
		n++
		d.skipSpace()
		if d.pos >= len(d.data) {
			return nil, errSyntax
		}
		switch d.data[d.pos] {
		case ',':
			d.pos++
		case ']':
			d.pos++
			elems := spill
			if elems == nil {
				elems = frame[:n]
			}
			return d.boxList(d.list(elems)), nil
		default:
			return nil, errSyntax
		}
	}
}

// list returns a copy of elems, capped at its length: in the free space
// of the arena's element storage when it fits there, else in an
// allocation of its own.
func (d *decoder) list(elems []any) []any {
	n := len(d.elems)
	if len(elems) > cap(d.elems)-n {
		return append([]any(nil), elems...)
	}
	d.elems = append(d.elems, elems...)
	return d.elems[n:len(d.elems):len(d.elems)]
}

// string decodes a JSON string starting at the opening quote, and reports
// whether it may have a case variant (needsFold), which objects ask of
// their member names. A string without escapes is returned as a view of
// d.data (the package's aliasing rule); one with escapes is copied by
// escapedString.
func (d *decoder) string() (s string, fold bool, err error) {
	data := d.data
	start := d.pos + 1
	i := start
	var seen byte     // the classes of the plain bytes, or-ed
	var upper8 uint64 // nonzero once the plain bytes of a word held an upper-case letter
	for i < len(data) {
		// Eight bytes at a time: a word of plain bytes is skipped whole,
		// and in one that is not, the plain bytes before the first that
		// is not (exact: see notPlain), so that the switch below comes
		// next. Byte by byte only in the last seven bytes of the input.
		for i+8 <= len(data) {
			w := binary.LittleEndian.Uint64(data[i:])
			stop := notPlain(w)
			if stop == 0 {
				upper8 |= upperInWord(w)
				i += 8
				continue
			}
			n := bits.TrailingZeros64(stop) / 8
			// upperInWord is exact in the bytes below the first that is
			// not plain: its carries and borrows only move upwards.
			upper8 |= upperInWord(w) & (1<<(8*n) - 1)
			i += n
			break
		}
		for i < len(data) && byteClass[data[i]]&plain != 0 {
			seen |= byteClass[data[i]]
			i++
		}
		if i >= len(data) {
			break
		}
		c := data[i]
		switch {
		case c == '"':
			d.pos = i + 1
			fold = fold || seen&upper != 0 || upper8 != 0
			if i == start {
				return "", fold, nil
			}
			return bytesconv.String(d.data[start:i]), fold, nil
		case c == '\\':
			s, err := d.escapedString(start)
			return s, err == nil && needsFold(s), err
		case c < 0x20:
			return "", false, errSyntax
		default:
			r, size := utf8.DecodeRune(d.data[i:])
			if r == utf8.RuneError && size <= 1 {
				return "", false, errUTF8
			}
			i += size
			fold = true // non-ASCII
		}
	}
	return "", false, errSyntax
}

// Word-at-a-time tests on eight bytes of a string (little-endian in a
// uint64), exact as booleans (the classic "has less", "has zero" and "has
// between" bit tricks).
const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

// plainWord reports whether all eight bytes of w are plain: none below
// 0x20, none at or above 0x80, none a quote or a backslash.
func plainWord(w uint64) bool { return notPlain(w) == 0 }

// notPlain has the high bit of a byte of w set when that byte is not
// plain. The lowest bit set is exact, and marks the first byte that is not
// plain: each test borrows from the byte above only where it found such a
// byte. (A byte above that one may be marked wrongly.)
func notPlain(w uint64) uint64 {
	less := (w - ones*0x20) &^ w
	quote := w ^ (ones * '"')
	backslash := w ^ (ones * '\\')
	quote = (quote - ones) &^ quote
	backslash = (backslash - ones) &^ backslash
	return (w | less | quote | backslash) & highs
}

// upperInWord is nonzero when a byte of w, a plainWord, is in 'A'..'Z'.
func upperInWord(w uint64) uint64 {
	const m, n = 'A' - 1, 'Z' + 1 // exclusive bounds
	return (ones*(127+n) - w) &^ w & (w + ones*(127-m)) & highs
}

// Classes of bytes in a JSON string.
const (
	plain = 1 << iota // stands for itself: printable ASCII but '"' and '\\'
	upper             // an ASCII upper-case letter (and plain)
)

var byteClass = func() (t [256]byte) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		if c != '"' && c != '\\' {
			t[c] = plain
		}
		if 'A' <= c && c <= 'Z' {
			t[c] |= upper
		}
	}
	return t
}()

// escapedString is the slow path for strings with escapes; it copies.
func (d *decoder) escapedString(start int) (string, error) {
	buf := make([]byte, 0, 32)
	i := start
	for i < len(d.data) {
		c := d.data[i]
		switch {
		case c == '"':
			d.pos = i + 1
			return bytesconv.String(buf), nil // buf is never written again
		case c < 0x20:
			return "", errSyntax
		case c == '\\':
			if i+1 >= len(d.data) {
				return "", errSyntax
			}
			switch e := d.data[i+1]; e {
			case '"', '\\', '/':
				buf = append(buf, e)
				i += 2
			case 'b':
				buf, i = append(buf, '\b'), i+2
			case 'f':
				buf, i = append(buf, '\f'), i+2
			case 'n':
				buf, i = append(buf, '\n'), i+2
			case 'r':
				buf, i = append(buf, '\r'), i+2
			case 't':
				buf, i = append(buf, '\t'), i+2
			case 'u':
				r, ok := hex4(d.data, i+2)
				if !ok {
					return "", errSyntax
				}
				i += 6
				if utf16.IsSurrogate(r) {
					// Only a high surrogate followed by a low one is a character.
					if r >= 0xDC00 || i+6 > len(d.data) || d.data[i] != '\\' || d.data[i+1] != 'u' {
						return "", errUTF8
					}
					r2, ok := hex4(d.data, i+2)
					if !ok || r2 < 0xDC00 || r2 > 0xDFFF {
						return "", errUTF8
					}
					r = utf16.DecodeRune(r, r2)
					i += 6
				}
				buf = utf8.AppendRune(buf, r)
			default:
				return "", errSyntax
			}
		case c < utf8.RuneSelf:
			buf = append(buf, c)
			i++
		default:
			r, size := utf8.DecodeRune(d.data[i:])
			if r == utf8.RuneError && size <= 1 {
				return "", errUTF8
			}
			buf = append(buf, d.data[i:i+size]...)
			i += size
		}
	}
	return "", errSyntax
}

func hex4(b []byte, at int) (rune, bool) {
	if at+4 > len(b) {
		return 0, false
	}
	var r rune
	for _, c := range b[at : at+4] {
		switch {
		case '0' <= c && c <= '9':
			r = r<<4 | rune(c-'0')
		case 'a' <= c && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case 'A' <= c && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}

// number decodes a JSON number (RFC 8259 grammar) into a float64. Numbers
// that overflow float64 are errors, not infinities.
func (d *decoder) number() (float64, error) {
	start := d.pos
	i := d.pos
	if d.data[i] == '-' {
		i++
	}
	switch {
	case i < len(d.data) && d.data[i] == '0':
		i++
	case i < len(d.data) && '1' <= d.data[i] && d.data[i] <= '9':
		for i < len(d.data) && '0' <= d.data[i] && d.data[i] <= '9' {
			i++
		}
	default:
		return 0, errSyntax
	}
	if i < len(d.data) && d.data[i] == '.' {
		i++
		j := i
		for i < len(d.data) && '0' <= d.data[i] && d.data[i] <= '9' {
			i++
		}
		if i == j {
			return 0, errSyntax
		}
	}
	if i < len(d.data) && (d.data[i] == 'e' || d.data[i] == 'E') {
		i++
		if i < len(d.data) && (d.data[i] == '+' || d.data[i] == '-') {
			i++
		}
		j := i
		for i < len(d.data) && '0' <= d.data[i] && d.data[i] <= '9' {
			i++
		}
		if i == j {
			return 0, errSyntax
		}
	}
	d.pos = i
	if f, ok := smallInteger(d.data[start:i]); ok {
		return f, nil
	}
	// ParseFloat keeps nothing of its argument once it returns (its error,
	// which might, is dropped), so the view does not escape.
	f, err := strconv.ParseFloat(bytesconv.String(d.data[start:i]), 64)
	if err != nil {
		return 0, errNumber
	}
	return f, nil
}

// smallInteger converts a JSON number of at most 15 digits without
// fraction or exponent (dates, counters): every such integer is exact in a
// float64, so float64(n) is what ParseFloat returns, at a fraction of its
// cost.
func smallInteger(num []byte) (float64, bool) {
	digits := num
	if len(digits) > 0 && digits[0] == '-' {
		digits = digits[1:]
	}
	if len(digits) == 0 || len(digits) > 15 {
		return 0, false
	}
	var n int64
	for _, c := range digits {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	f := float64(n)
	if len(digits) < len(num) {
		f = -f
	}
	return f, true
}
