package providers

import (
	"errors"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"
)

// Limits of the strict JSON decoder used for JOSE headers and claim sets
// (SECURITY.md §5).
const (
	maxJSONDepth         = 32
	maxJSONObjectMembers = 1000
	maxJSONValues        = 4096
)

var (
	errJSONSyntax    = errors.New("invalid JSON")
	errJSONDuplicate = errors.New("duplicate or case-variant member name")
	errJSONDepth     = errors.New("JSON nested too deeply")
	errJSONTooLarge  = errors.New("JSON has too many members")
	errJSONUTF8      = errors.New("JSON string is not valid UTF-8")
	errJSONNumber    = errors.New("JSON number out of range")
	errJSONNotObject = errors.New("JSON value is not an object")
)

// parseObject decodes a JSON object strictly: exactly one object and nothing
// after it but whitespace; duplicate member names, and names that differ
// only by case, rejected in every object; strings must be valid UTF-8
// without lone surrogates; depth and size bounded. Numbers become float64,
// like encoding/json.
//
// Strings without escapes alias data, which the caller must never modify
// afterwards (it is a buffer owned by one token).
func parseObject(data []byte) (map[string]any, error) {
	d := decoder{data: data}
	d.skipSpace()
	if d.pos >= len(d.data) || d.data[d.pos] != '{' {
		return nil, errJSONNotObject
	}
	v, err := d.value(0)
	if err != nil {
		return nil, err
	}
	d.skipSpace()
	if d.pos != len(d.data) {
		return nil, errJSONSyntax
	}
	return v.(map[string]any), nil
}

// checkCaseVariants rejects member names of one object (at any depth) that
// are equal under Unicode
// simple case folding ({"aud":…,"AUD":…}, {"sub":…,"ſUB":…}): Go's
// encoding/json, and so every Go service decoding the same claims into a
// struct, matches names that way and would see another claim than we
// verified. Names that fold to themselves cost nothing.
func checkCaseVariants(obj map[string]any) error {
	for k := range obj {
		if needsFold(k) {
			return checkFolded(obj)
		}
	}
	return nil
}

func checkFolded(obj map[string]any) error {
	seen := make(map[string]struct{}, len(obj))
	for name := range obj {
		key := foldKey(name)
		if _, dup := seen[key]; dup {
			return errJSONDuplicate
		}
		seen[key] = struct{}{}
	}
	return nil
}

// needsFold reports whether s may have a case variant: an upper-case ASCII
// letter or any non-ASCII byte.
func needsFold(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; ('A' <= c && c <= 'Z') || c >= utf8.RuneSelf {
			return true
		}
	}
	return false
}

// foldKey maps s to a key shared by exactly the strings that
// strings.EqualFold (simple folding) finds equal to it: every rune becomes
// the smallest rune of its fold orbit.
func foldKey(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		min := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			if f < min {
				min = f
			}
		}
		b.WriteRune(min)
	}
	return b.String()
}

type decoder struct {
	data   []byte
	pos    int
	values int
}

func (d *decoder) skipSpace() {
	for d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

func (d *decoder) value(depth int) (any, error) {
	if depth > maxJSONDepth {
		return nil, errJSONDepth
	}
	if d.values++; d.values > maxJSONValues {
		return nil, errJSONTooLarge
	}
	d.skipSpace()
	if d.pos >= len(d.data) {
		return nil, errJSONSyntax
	}
	switch c := d.data[d.pos]; {
	case c == '{':
		return d.object(depth)
	case c == '[':
		return d.array(depth)
	case c == '"':
		return d.string()
	case c == '-' || ('0' <= c && c <= '9'):
		return d.number()
	case d.literal("true"):
		return true, nil
	case d.literal("false"):
		return false, nil
	case d.literal("null"):
		return nil, nil
	}
	return nil, errJSONSyntax
}

func (d *decoder) literal(lit string) bool {
	if len(d.data)-d.pos >= len(lit) && string(d.data[d.pos:d.pos+len(lit)]) == lit {
		d.pos += len(lit)
		return true
	}
	return false
}

func (d *decoder) object(depth int) (any, error) {
	d.pos++ // '{'
	obj := make(map[string]any, 8)
	d.skipSpace()
	if d.pos < len(d.data) && d.data[d.pos] == '}' {
		d.pos++
		return obj, nil
	}
	for {
		d.skipSpace()
		if d.pos >= len(d.data) || d.data[d.pos] != '"' {
			return nil, errJSONSyntax
		}
		key, err := d.string()
		if err != nil {
			return nil, err
		}
		d.skipSpace()
		if d.pos >= len(d.data) || d.data[d.pos] != ':' {
			return nil, errJSONSyntax
		}
		d.pos++
		v, err := d.value(depth + 1)
		if err != nil {
			return nil, err
		}
		if _, dup := obj[key]; dup {
			return nil, errJSONDuplicate
		}
		if len(obj) >= maxJSONObjectMembers {
			return nil, errJSONTooLarge
		}
		obj[key] = v
		d.skipSpace()
		if d.pos >= len(d.data) {
			return nil, errJSONSyntax
		}
		switch d.data[d.pos] {
		case ',':
			d.pos++
		case '}':
			d.pos++
			if err := checkCaseVariants(obj); err != nil {
				return nil, err
			}
			return obj, nil
		default:
			return nil, errJSONSyntax
		}
	}
}

func (d *decoder) array(depth int) (any, error) {
	d.pos++ // '['
	arr := make([]any, 0, 4)
	d.skipSpace()
	if d.pos < len(d.data) && d.data[d.pos] == ']' {
		d.pos++
		return arr, nil
	}
	for {
		v, err := d.value(depth + 1)
		if err != nil {
			return nil, err
		}
		arr = append(arr, v)
		d.skipSpace()
		if d.pos >= len(d.data) {
			return nil, errJSONSyntax
		}
		switch d.data[d.pos] {
		case ',':
			d.pos++
		case ']':
			d.pos++
			return arr, nil
		default:
			return nil, errJSONSyntax
		}
	}
}

// string decodes a JSON string starting at the opening quote.
func (d *decoder) string() (string, error) {
	start := d.pos + 1
	i := start
	for i < len(d.data) {
		c := d.data[i]
		switch {
		case c == '"':
			d.pos = i + 1
			if i == start {
				return "", nil
			}
			return unsafe.String(&d.data[start], i-start), nil
		case c == '\\':
			return d.escapedString(start)
		case c < 0x20:
			return "", errJSONSyntax
		case c < utf8.RuneSelf:
			i++
		default:
			r, size := utf8.DecodeRune(d.data[i:])
			if r == utf8.RuneError && size <= 1 {
				return "", errJSONUTF8
			}
			i += size
		}
	}
	return "", errJSONSyntax
}

// escapedString is the slow path for strings with escapes; it copies.
func (d *decoder) escapedString(start int) (string, error) {
	buf := make([]byte, 0, 32)
	i := start
	for i < len(d.data) {
		c := d.data[i]
		switch {
		case c == '"':
			d.pos = i + 1
			return string(buf), nil
		case c < 0x20:
			return "", errJSONSyntax
		case c == '\\':
			if i+1 >= len(d.data) {
				return "", errJSONSyntax
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
					return "", errJSONSyntax
				}
				i += 6
				if utf16.IsSurrogate(r) {
					// Only a high surrogate followed by a low one is a character.
					if r >= 0xDC00 || i+6 > len(d.data) || d.data[i] != '\\' || d.data[i+1] != 'u' {
						return "", errJSONUTF8
					}
					r2, ok := hex4(d.data, i+2)
					if !ok || r2 < 0xDC00 || r2 > 0xDFFF {
						return "", errJSONUTF8
					}
					r = utf16.DecodeRune(r, r2)
					i += 6
				}
				buf = utf8.AppendRune(buf, r)
			default:
				return "", errJSONSyntax
			}
		case c < utf8.RuneSelf:
			buf = append(buf, c)
			i++
		default:
			r, size := utf8.DecodeRune(d.data[i:])
			if r == utf8.RuneError && size <= 1 {
				return "", errJSONUTF8
			}
			buf = append(buf, d.data[i:i+size]...)
			i += size
		}
	}
	return "", errJSONSyntax
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
func (d *decoder) number() (any, error) {
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
		return nil, errJSONSyntax
	}
	if i < len(d.data) && d.data[i] == '.' {
		i++
		j := i
		for i < len(d.data) && '0' <= d.data[i] && d.data[i] <= '9' {
			i++
		}
		if i == j {
			return nil, errJSONSyntax
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
			return nil, errJSONSyntax
		}
	}
	d.pos = i
	f, err := strconv.ParseFloat(unsafe.String(&d.data[start], i-start), 64)
	if err != nil {
		return nil, errJSONNumber
	}
	return f, nil
}
