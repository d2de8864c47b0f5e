package providers

import stdcmp "cmp"

// cmp returns s, or def when s is empty: cmp.Or for two strings. New code
// calls cmp.Or; this remains for the callers in claims.go and remote.go.
// While it exists, files of this package import the standard package as
// stdcmp.
func cmp(s, def string) string { return stdcmp.Or(s, def) }
