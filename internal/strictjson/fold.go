package strictjson

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// checkFolded rejects member names of one object that are equal under
// Unicode simple case folding, the way encoding/json matches names to
// struct fields. The names are already known to be distinct; the decoder
// calls it only when one of them may have a case variant (needsFold), so
// names that fold to themselves cost nothing.
func checkFolded(members []member) error {
	seen := make(map[string]struct{}, len(members))
	for _, m := range members {
		key := foldKey(m.key)
		if _, dup := seen[key]; dup {
			return errDuplicate
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
