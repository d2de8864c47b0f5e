package strictjson

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// checkCaseVariants rejects member names of one object that are equal
// under Unicode simple case folding, the way encoding/json matches names
// to struct fields. Names that fold to themselves cost nothing.
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
