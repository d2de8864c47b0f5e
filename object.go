package authgate

import (
	"encoding/json"
	"iter"
	"maps"
)

// Object is a read-only JSON object: a token's verified claims or its
// protected header (Principal.Claims, Principal.Header). JSON numbers are
// float64, objects map[string]any, arrays []any.
//
// It cannot be changed through its methods: a scalar is returned as it
// is, and an object or array (what Get, Lookup and All return for a
// nested value, and Map) is a fresh deep copy that the caller may change
// freely. So one Object can back the principals of many requests — the
// verified-token cache hands every hit the same one — and nothing a
// handler or resolver does to what it reads reaches another request.
// Copying an Object copies a reference, not the members.
//
// The zero Object is empty.
type Object struct{ m map[string]any }

// NewObject returns an Object holding a deep copy of m.
func NewObject(m map[string]any) Object {
	if m == nil {
		return Object{}
	}
	return Object{m: copyObject(m)}
}

// AdoptObject returns an Object over m itself, without copying it. The
// caller hands m over: neither it nor anyone else may change m or any
// object or array inside it afterwards. Providers use it for the claims
// they decoded; code that still holds m should use NewObject.
func AdoptObject(m map[string]any) Object { return Object{m: m} }

// Get returns the member name and whether it exists. An object or array
// is returned as a deep copy.
func (o Object) Get(name string) (any, bool) {
	v, ok := o.m[name]
	return copyValue(v), ok
}

// GetString returns the member name if it is a string, and whether it
// is one.
func (o Object) GetString(name string) (string, bool) {
	s, ok := o.m[name].(string)
	return s, ok
}

// Has reports whether the member name exists.
func (o Object) Has(name string) bool {
	_, ok := o.m[name]
	return ok
}

// Lookup returns the value at a path, as [LookupClaim] finds it ("a.b" is
// the member b of the object a; a path with a "/" is one member name),
// and whether it exists. An object or array is returned as a deep copy.
func (o Object) Lookup(path string) (any, bool) {
	v, ok := LookupClaim(o.m, path)
	return copyValue(v), ok
}

// Len returns the number of members.
func (o Object) Len() int { return len(o.m) }

// IsZero reports whether the object has no members (JSON encoding leaves
// such an Object out of a Principal).
func (o Object) IsZero() bool { return len(o.m) == 0 }

// All returns the members in no particular order, objects and arrays as
// deep copies.
func (o Object) All() iter.Seq2[string, any] {
	return func(yield func(string, any) bool) {
		for k, v := range o.m {
			if !yield(k, copyValue(v)) {
				return
			}
		}
	}
}

// Map returns a deep copy of the members as a map (nil for an empty
// Object), for code that wants to change or keep them.
func (o Object) Map() map[string]any {
	if len(o.m) == 0 {
		return nil
	}
	return copyObject(o.m)
}

// MarshalJSON encodes the members as a JSON object ({} when empty).
func (o Object) MarshalJSON() ([]byte, error) {
	if o.m == nil {
		return []byte("{}"), nil
	}
	return json.Marshal(o.m)
}

// UnmarshalJSON decodes a JSON object (or null, into the empty Object).
func (o *Object) UnmarshalJSON(b []byte) error {
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	o.m = m
	return nil
}

// copyValue copies objects and arrays deeply; every other JSON value is
// immutable and returned as it is.
func copyValue(v any) any {
	switch x := v.(type) {
	case map[string]any:
		return copyObject(x)
	case []any:
		if x == nil {
			return x
		}
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = copyValue(e)
		}
		return out
	}
	return v
}

func copyObject(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	out := maps.Clone(m)
	for k, v := range m {
		switch v.(type) {
		case map[string]any, []any:
			out[k] = copyValue(v)
		}
	}
	return out
}
