// Package bytesconv converts between strings and byte slices without
// copying. It is the only place in authgate that imports unsafe.
//
// Both conversions share memory between a string, which Go treats as
// immutable, and a byte slice, which it does not: the bytes must never be
// modified while either value is reachable.
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
