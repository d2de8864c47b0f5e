package strictjson

import (
	"strconv"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/authgate/authgate/internal/bytesconv"
)

// decoder is the state of one ParseObject call: the input, the read
// position and the number of values decoded so far (bounded by maxValues).
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
	return nil, errSyntax
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
			return nil, errSyntax
		}
		key, err := d.string()
		if err != nil {
			return nil, err
		}
		d.skipSpace()
		if d.pos >= len(d.data) || d.data[d.pos] != ':' {
			return nil, errSyntax
		}
		d.pos++
		v, err := d.value(depth + 1)
		if err != nil {
			return nil, err
		}
		if _, dup := obj[key]; dup {
			return nil, errDuplicate
		}
		if len(obj) >= maxObjectMembers {
			return nil, errTooLarge
		}
		obj[key] = v
		d.skipSpace()
		if d.pos >= len(d.data) {
			return nil, errSyntax
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
			return nil, errSyntax
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
			return nil, errSyntax
		}
		switch d.data[d.pos] {
		case ',':
			d.pos++
		case ']':
			d.pos++
			return arr, nil
		default:
			return nil, errSyntax
		}
	}
}

// string decodes a JSON string starting at the opening quote. A string
// without escapes is returned as a view of d.data (the package's aliasing
// rule); one with escapes is copied by escapedString.
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
			return bytesconv.String(d.data[start:i]), nil
		case c == '\\':
			return d.escapedString(start)
		case c < 0x20:
			return "", errSyntax
		case c < utf8.RuneSelf:
			i++
		default:
			r, size := utf8.DecodeRune(d.data[i:])
			if r == utf8.RuneError && size <= 1 {
				return "", errUTF8
			}
			i += size
		}
	}
	return "", errSyntax
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
		return nil, errSyntax
	}
	if i < len(d.data) && d.data[i] == '.' {
		i++
		j := i
		for i < len(d.data) && '0' <= d.data[i] && d.data[i] <= '9' {
			i++
		}
		if i == j {
			return nil, errSyntax
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
			return nil, errSyntax
		}
	}
	d.pos = i
	// ParseFloat keeps nothing of its argument once it returns (its error,
	// which might, is dropped), so the view does not escape.
	f, err := strconv.ParseFloat(bytesconv.String(d.data[start:i]), 64)
	if err != nil {
		return nil, errNumber
	}
	return f, nil
}
