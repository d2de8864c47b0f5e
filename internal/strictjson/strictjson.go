// Package strictjson decodes the JSON objects of JOSE headers, JWT claim
// sets and key documents, refusing what encoding/json would let through
// (SECURITY.md#strict-json):
//
//   - exactly one object, nothing after it but whitespace, no byte order mark;
//   - no duplicate member names, and no two names equal under Unicode simple
//     case folding ({"aud":…,"AUD":…}, {"sub":…,"ſUB":…}), in any object at
//     any depth: encoding/json matches struct fields that way, so a Go
//     service decoding the same claims would otherwise see another claim
//     than the one verified;
//   - strings valid UTF-8 without lone surrogates, no control characters;
//   - numbers per RFC 8259 that fit a float64 (no infinities);
//   - depth at most 32, at most 1000 members in one object and 4096 values
//     in all.
//
// Values decode as encoding/json decodes into an any: map[string]any,
// []any, string, float64, bool and nil.
//
// # Aliasing
//
// To decode a token without copying its strings, the result shares memory
// with the input. A string (member name or value) written without escapes
// is a view of the input bytes; a string with escapes is a copy; numbers,
// booleans, maps and slices share nothing. So:
//
//   - the caller MUST NOT modify the input, nor hand it to anything that
//     may (a pooled or reused buffer), while any part of the result is
//     reachable: the change would show through strings Go treats as
//     immutable, including map keys;
//   - the caller may read, keep and share the result for as long as it
//     keeps the input unmodified, and may add, replace or delete members of
//     the returned maps and elements of the returned slices, which are its
//     own.
//
// A caller that cannot keep the input unmodified passes a copy.
//
// Strings, numbers and the slices of arrays are boxed in their interfaces
// from a few slab allocations per call rather than one allocation each
// (see decoder); those slabs belong to the result alone and are never
// written after a value is boxed, so replacing a member or an element
// replaces an interface and changes nothing another value points at.
//
// Errors carry neither a package prefix nor input bytes: callers wrap them
// with their own context ("claims: …", "providers: JWKS: …").
package strictjson

import "errors"

// Limits of the decoder (SECURITY.md#limits).
const (
	maxDepth         = 32
	maxObjectMembers = 1000
	maxValues        = 4096
)

var (
	errSyntax    = errors.New("invalid JSON")
	errDuplicate = errors.New("duplicate or case-variant member name")
	errDepth     = errors.New("JSON nested too deeply")
	errTooLarge  = errors.New("JSON has too many members")
	errUTF8      = errors.New("JSON string is not valid UTF-8")
	errNumber    = errors.New("JSON number out of range")
	errNotObject = errors.New("JSON value is not an object")
)

// ParseObject decodes data, which must hold exactly one JSON object, under
// the rules of the package documentation. The result shares memory with
// data (see Aliasing): data must not be modified while the result is in
// use. It returns an error for anything else: invalid JSON, trailing data,
// a value that is not an object, duplicate or case-variant member names,
// invalid UTF-8, numbers out of range and input beyond the limits.
func ParseObject(data []byte) (map[string]any, error) {
	return ParseObjectIn(data, nil)
}

// Arena is storage for the values of one small document (a claim set of
// a dozen members), which ParseObjectIn boxes them from before it
// allocates slabs of its own. It exists so that a caller already making
// an allocation per document can make the arena part of it, saving the
// decoder's three or four.
//
// An Arena serves one ParseObjectIn call: afterwards its memory belongs
// to the result, which points into it, and it must not be reused. Its
// zero value is ready for use.
type Arena struct {
	strs  [arenaStrings]string
	nums  [arenaNumbers]float64
	lists [arenaLists][]any
	elems [arenaElements]any
}

// Sizes of an Arena: the string values, numbers, arrays and array
// elements of a typical access token (272 bytes in all).
const (
	arenaStrings  = 8
	arenaNumbers  = 4
	arenaLists    = 2
	arenaElements = 4
)

// ParseObjectIn is ParseObject boxing values from arena (when not nil)
// first. The result points into arena as it points into data: both must
// stay unmodified while it is in use.
func ParseObjectIn(data []byte, arena *Arena) (map[string]any, error) {
	return ParseObjectFunc(data, arena, nil)
}

// ParseObjectFunc is ParseObjectIn that also hands each member of the
// top-level object to pick (when not nil), in document order, once the
// whole document has decoded without error, so that a caller can pick the
// members it reads without a map lookup for each. The values are those of
// the returned map. pick is not called when ParseObjectFunc fails.
func ParseObjectFunc(data []byte, arena *Arena, pick func(name string, value any)) (map[string]any, error) {
	return parse(data, arena, pick, true)
}

// ValidateObjectFunc is ParseObjectFunc without the map of the top-level
// object: it accepts exactly the documents ParseObjectFunc accepts and
// hands pick the same members, for a caller that reads only the members it
// picks and keeps data to decode in full later, if ever. The values handed
// to pick point into data and arena as ParseObjectFunc's do.
func ValidateObjectFunc(data []byte, arena *Arena, pick func(name string, value any)) error {
	_, err := parse(data, arena, pick, false)
	return err
}

func parse(data []byte, arena *Arena, pick func(name string, value any), build bool) (map[string]any, error) {
	d := decoder{data: data}
	if arena != nil {
		d.strs, d.nums = arena.strs[:0], arena.nums[:0]
		d.lists, d.elems = arena.lists[:0], arena.elems[:0]
	}
	d.skipSpace()
	if d.pos >= len(d.data) || d.data[d.pos] != '{' {
		return nil, errNotObject
	}
	d.values = 1 // the top-level object, which value would have counted
	obj, err := d.objectPicking(0, pick, build)
	if err != nil {
		return nil, err
	}
	d.skipSpace()
	if d.pos != len(d.data) {
		return nil, errSyntax
	}
	return obj, nil
}
