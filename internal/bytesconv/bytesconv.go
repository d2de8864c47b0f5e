// Package bytesconv converts between strings and byte slices without
// copying, and puts values in interfaces without copying them. It is the
// only place in authgate that imports unsafe.
//
// Both conversions share memory between a string, which Go treats as
// immutable, and a byte slice, which it does not: the bytes must never be
// modified while either value is reachable. Box shares memory between an
// interface value, which Go treats as immutable too, and the variable it
// points at: the variable must never be modified afterwards. SameMap
// compares maps by identity, which Go offers no other way to do.
package bytesconv

import "unsafe"

// String returns b as a string sharing its memory. The caller must not
// modify b afterwards. An empty b gives "".
func String(b []byte) string {
	return unsafe.String(unsafe.SliceData(b), len(b))
}

// Bytes returns the bytes of s without copying. The result must never be
// written to (the memory may be read-only). An empty s gives an empty slice.
func Bytes(s string) []byte {
	return unsafe.Slice(unsafe.StringData(s), len(s))
}

// SameMap reports whether a and b are one map, not merely equal ones (Go
// compares a map only with nil): a map value is a pointer to the map.
func SameMap[K comparable, V any](a, b map[K]V) bool {
	return *(*unsafe.Pointer)(unsafe.Pointer(&a)) == *(*unsafe.Pointer)(unsafe.Pointer(&b))
}

// Boxable are the types Box accepts. None of them is pointer-shaped, so an
// interface holding one of them holds a pointer to the value rather than
// the value itself, and Box can make that pointer p.
type Boxable interface {
	string | float64 | []any
}

// Box returns an interface value holding *p whose data word is p itself,
// where any(*p) would copy *p into a new allocation of its own. That is
// how the JSON decoder boxes many values from one slab allocation.
//
// The caller must never modify *p afterwards: Go assumes the value behind
// an interface never changes, and a write would change every copy of the
// interface at once. The interface keeps *p (and whatever allocation holds
// it) reachable like any pointer does.
func Box[T Boxable](p *T) any {
	var v any = *new(T) // the type word of T; boxing a zero value allocates nothing
	(*eface)(unsafe.Pointer(&v)).data = unsafe.Pointer(p)
	return v
}

// eface is the layout of an empty interface value: a type word and a
// data word.
type eface struct {
	typ  unsafe.Pointer
	data unsafe.Pointer
}
