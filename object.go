package authgate

import (
	"encoding/json"
	"iter"
	"maps"
	"reflect"
	"sync"

	"github.com/authgate/authgate/internal/bytesconv"
	"github.com/authgate/authgate/internal/objectview"
)

func init() {
	objectview.Same = func(a, b any) bool {
		x, ok1 := a.(Object)
		y, ok2 := b.(Object)
		return ok1 && ok2 && x.same(y)
	}
}

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
type Object struct {
	m    map[string]any
	lazy *LazyObject // when set, the members are lazy's, decoded on first use
}

// LazyObject holds the members of an Object in their encoded form and
// decodes them on first use, then keeps them: a cache that holds many
// objects, few of which are ever read, keeps only the encoded bytes of the
// others. Set it up once with Init before handing out Object; a
// LazyObject must not be copied after that.
type LazyObject struct {
	once   sync.Once
	raw    string
	decode func(string) map[string]any
	m      map[string]any
}

// Init sets the encoded members and the function that decodes them. decode
// must return the same members every time for raw, and a map nobody else
// holds (nil for none); it runs at most once, on the first read of any
// Object of l.
func (l *LazyObject) Init(raw string, decode func(string) map[string]any) {
	l.raw, l.decode = raw, decode
}

// Object returns the read-only Object whose members l holds.
func (l *LazyObject) Object() Object { return Object{lazy: l} }

// Members returns the decoded members, decoding them on the first call
// of Members or of any read of l's Objects. The map is l's own: read it,
// never write it.
func (l *LazyObject) Members() map[string]any { return l.members() }

func (l *LazyObject) members() map[string]any {
	l.once.Do(func() {
		if l.decode != nil {
			l.m = l.decode(l.raw)
		}
	})
	return l.m
}

// same reports whether o and p read the same members: the same lazily
// decoded object, or the same map (two empty Objects are the same).
func (o Object) same(p Object) bool {
	if o.lazy != nil || p.lazy != nil {
		return o.lazy == p.lazy
	}
	if len(o.m) == 0 || len(p.m) == 0 {
		return len(o.m) == len(p.m)
	}
	return bytesconv.SameMap(o.m, p.m)
}

// members returns the object's members: read them, never write them.
func (o Object) members() map[string]any {
	if o.lazy != nil {
		return o.lazy.members()
	}
	return o.m
}

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
	v, ok := o.members()[name]
	return copyValue(v), ok
}

// GetString returns the member name if it is a string, and whether it
// is one.
func (o Object) GetString(name string) (string, bool) {
	s, ok := o.members()[name].(string)
	return s, ok
}

// Has reports whether the member name exists.
func (o Object) Has(name string) bool {
	_, ok := o.members()[name]
	return ok
}

// Lookup returns the value at a path, as [LookupClaim] finds it ("a.b" is
// the member b of the object a; a path with a "/" is one member name),
// and whether it exists. An object or array is returned as a deep copy.
func (o Object) Lookup(path string) (any, bool) {
	v, ok := LookupClaim(o.members(), path)
	return copyValue(v), ok
}

// Equal reports whether o and p hold the same members, compared deeply
// (reflect.DeepEqual of their maps); how each holds them does not matter.
// go-cmp uses it to compare Objects.
func (o Object) Equal(p Object) bool {
	return o.same(p) || reflect.DeepEqual(o.members(), p.members()) || (o.Len() == 0 && p.Len() == 0)
}

// Len returns the number of members.
func (o Object) Len() int { return len(o.members()) }

// IsZero reports whether the object has no members (JSON encoding leaves
// such an Object out of a Principal).
func (o Object) IsZero() bool { return len(o.members()) == 0 }

// All returns the members in no particular order, objects and arrays as
// deep copies.
func (o Object) All() iter.Seq2[string, any] {
	return func(yield func(string, any) bool) {
		for k, v := range o.members() {
			if !yield(k, copyValue(v)) {
				return
			}
		}
	}
}

// Map returns a deep copy of the members as a map (nil for an empty
// Object), for code that wants to change or keep them.
func (o Object) Map() map[string]any {
	if len(o.members()) == 0 {
		return nil
	}
	return copyObject(o.members())
}

// MarshalJSON encodes the members as a JSON object ({} when empty).
func (o Object) MarshalJSON() ([]byte, error) {
	m := o.members()
	if m == nil {
		return []byte("{}"), nil
	}
	return json.Marshal(m)
}

// UnmarshalJSON decodes a JSON object (or null, into the empty Object).
func (o *Object) UnmarshalJSON(b []byte) error {
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	*o = Object{m: m}
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
