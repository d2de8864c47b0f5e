package strictjson

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math/bits"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func TestParseObject(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		wantErr error // nil: accepted
	}{
		{"empty object", `{}`, nil},
		{"whitespace", " \t\n{ \"a\" : 1 }\r\n", nil},
		{"nested", `{"a":{"b":[1,"x",true,false,null,{"c":-1.5e3}]}}`, nil},
		{"escapes", `{"a":"\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00"}`, nil},
		{"utf8", `{"a":"héllo ✓"}`, nil},
		{"not object", `[]`, errNotObject},
		{"string", `"x"`, errNotObject},
		{"null", `null`, errNotObject},
		{"bom", "\ufeff{}", errNotObject},
		{"trailing data", `{}x`, errSyntax},
		{"two objects", `{}{}`, errSyntax},
		{"trailing comma", `{"a":1,}`, errSyntax},
		{"unquoted key", `{a:1}`, errSyntax},
		{"single quotes", `{'a':1}`, errSyntax},
		{"duplicate", `{"a":1,"a":2}`, errDuplicate},
		{"nested duplicate", `{"a":{"b":1,"b":1}}`, errDuplicate},
		{"case variant", `{"aud":"x","AUD":"y"}`, errDuplicate},
		{"case variant both upper", `{"Sub":"x","SUB":"y"}`, errDuplicate},
		{"case variant nested", `{"a":{"roles":["user"],"ROLES":["admin"]}}`, errDuplicate},
		{"fold variant", `{"sub":"a","ſUB":"b"}`, errDuplicate},
		{"escaped case variant", `{"\u0041ud":"x","aud":"y"}`, errDuplicate},
		{"escaped fold variant", `{"\u212a":1,"k":2}`, errDuplicate},
		{"case variant after an escape", `{"a\nB":1,"a\nb":2}`, errDuplicate},
		{"lower case names", `{"aud":"x","sub":"y","k\u00e9":1}`, nil},
		{"non-ascii lower case name", `{"café":1}`, nil},
		{"unicode case variant", `{"é":1,"É":2}`, errDuplicate},
		{"invalid utf8", "{\"a\":\"\xff\xfe\"}", errUTF8},
		{"invalid utf8 key", "{\"\xc3\":1}", errUTF8},
		{"lone high surrogate", `{"a":"\ud800"}`, errUTF8},
		{"lone low surrogate", `{"a":"\udc00"}`, errUTF8},
		{"reversed surrogates", `{"a":"\udc00\ud800"}`, errUTF8},
		{"bad escape", `{"a":"\x"}`, errSyntax},
		{"short unicode escape", `{"a":"\u12"}`, errSyntax},
		{"control char", "{\"a\":\"\x01\"}", errSyntax},
		{"raw newline in string", "{\"a\":\"\n\"}", errSyntax},
		{"leading zero", `{"a":01}`, errSyntax},
		{"plus sign", `{"a":+1}`, errSyntax},
		{"bare dot", `{"a":1.}`, errSyntax},
		{"exponent only", `{"a":1e}`, errSyntax},
		{"NaN", `{"a":NaN}`, errSyntax},
		{"huge number", `{"a":1e999}`, errNumber},
		{"400 digits", `{"a":` + strings.Repeat("9", 400) + `}`, errNumber},
		{"depth 32", `{"a":` + strings.Repeat("[", 31) + strings.Repeat("]", 31) + `}`, nil},
		{"depth 33", `{"a":` + strings.Repeat("[", 33) + strings.Repeat("]", 33) + `}`, errDepth},
		{"depth 5000", `{"a":` + strings.Repeat("[", 5000) + strings.Repeat("]", 5000) + `}`, errDepth},
		{"too many values", `{"a":[` + strings.Repeat("1,", 5000) + `1]}`, errTooLarge},
		{"truncated", `{"a":`, errSyntax},
		{"truncated string", `{"a":"x`, errSyntax},
		{"literal typo", `{"a":tru}`, errSyntax},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseObject([]byte(tt.in))
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("ParseObject(%q) = %v", tt.in, err)
				}
				var want map[string]any
				if err := json.Unmarshal([]byte(tt.in), &want); err != nil {
					t.Fatalf("encoding/json rejects %q: %v", tt.in, err)
				}
				if g, w := mustMarshal(got), mustMarshal(want); g != w {
					t.Errorf("ParseObject(%q) = %s, encoding/json gives %s", tt.in, g, w)
				}
				return
			}
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("ParseObject(%q) = %v, want %v", tt.in, err, tt.wantErr)
			}
		})
	}
}

func mustMarshal(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// TestParseObjectMembers: 20,000 small claims inside the size limit are
// refused quickly (SECURITY.md#limits pins a members cap).
func TestParseObjectMembers(t *testing.T) {
	var b strings.Builder
	b.WriteString("{")
	for i := range 20000 {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(`"k` + strings.Repeat("x", i%7) + string(rune('a'+i%26)) + `":1`)
	}
	b.WriteString("}")
	if _, err := ParseObject([]byte(b.String())); err == nil {
		t.Fatal("ParseObject accepted 20,000 members")
	}
}

// TestParseObjectAliasing pins the aliasing rule of the package
// documentation: a string without escapes is a view of the input, one with
// escapes a copy, and the maps are the caller's.
func TestParseObjectAliasing(t *testing.T) {
	in := []byte(`{"plain":"abc","escaped":"a\u0062c","list":["abc"]}`)
	got, err := ParseObject(in)
	if err != nil {
		t.Fatal(err)
	}
	copy(in[bytes.Index(in, []byte("abc")):], "xyz") // the first "abc": plain's value
	tests := []struct {
		name string
		got  any
		want string
	}{
		{name: "unescaped string aliases the input", got: got["plain"], want: "xyz"},
		{name: "escaped string is a copy", got: got["escaped"], want: "abc"},
		{name: "other strings untouched", got: got["list"].([]any)[0], want: "abc"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("after writing to the input: %q, want %q", tt.got, tt.want)
			}
		})
	}
	got["plain"] = "mine"
	if !bytes.Contains(in, []byte(`"plain":"xyz"`)) {
		t.Errorf("replacing a member changed the input: %s", in)
	}
}

// TestWordTests checks the word-at-a-time tests against the byte table on
// every byte value in every position.
func TestWordTests(t *testing.T) {
	for pos := range 8 {
		for c := range 256 {
			b := []byte("abcdefgh")
			b[pos] = byte(c)
			w := binary.LittleEndian.Uint64(b)
			wantPlain := byteClass[c]&plain != 0
			if got := plainWord(w); got != wantPlain {
				t.Fatalf("plainWord(%q) = %v, want %v", b, got, wantPlain)
			}
			if !wantPlain {
				continue
			}
			if got, want := upperInWord(w) != 0, byteClass[c]&upper != 0; got != want {
				t.Fatalf("upperInWord(%q) = %v, want %v", b, got, want)
			}
		}
	}
	// Words mixing the edge values, where borrows between bytes could
	// mislead a word test.
	edges := []byte{0, 0x1f, 0x20, '!', '"', '#', '@', 'A', 'B', 'Y', 'Z', '[', '\\', ']', 'a', 'z', 0x7f, 0x80, 0xff}
	r := rand.New(rand.NewPCG(3, 4))
	for range 200000 {
		var b [8]byte
		wantPlain, wantUpper := true, false
		for i := range b {
			b[i] = edges[r.IntN(len(edges))]
			wantPlain = wantPlain && byteClass[b[i]]&plain != 0
			wantUpper = wantUpper || byteClass[b[i]]&upper != 0
		}
		w := binary.LittleEndian.Uint64(b[:])
		if got := plainWord(w); got != wantPlain {
			t.Fatalf("plainWord(%q) = %v, want %v", b, got, wantPlain)
		}
		// notPlain's lowest mark is the first byte that is not plain,
		// and upperInWord is exact below it.
		first := len(b)
		for i, c := range b {
			if byteClass[c]&plain == 0 {
				first = i
				break
			}
		}
		if got := bits.TrailingZeros64(notPlain(w)) / 8; got != first {
			t.Fatalf("notPlain(%q) marks byte %d first, want %d", b, got, first)
		}
		for i := range first {
			mark := upperInWord(w)>>(8*i+7)&1 != 0
			if want := byteClass[b[i]]&upper != 0; mark != want {
				t.Fatalf("upperInWord(%q) marks byte %d: %v, want %v", b, i, mark, want)
			}
		}
		if wantPlain && (upperInWord(w) != 0) != wantUpper {
			t.Fatalf("upperInWord(%q) = %v, want %v", b, !wantUpper, wantUpper)
		}
	}
}

// TestParseObjectIn: decoding with an arena gives what ParseObject gives,
// for documents that fit the arena and documents that overflow each part
// of it, and a value replaced in one result changes nothing in another.
func TestParseObjectIn(t *testing.T) {
	for _, in := range []string{
		`{}`,
		`{"aud":["https://api.test","https://issuer.test/userinfo"],"azp":"VvQ8kZ3m1y2xJ4pL","exp":1767225900,"iat":1767225599,"iss":"https://issuer.test/","jti":"6c0e7a1d","scope":"openid profile","sub":"auth0|5f7c"}`,
		`{"a":"1","b":"2","c":"3","d":"4","e":"5","f":"6","g":"7","h":"8","i":"9","j":"10","k":"11"}`,
		`{"a":1,"b":2.5,"c":-3,"d":4e2,"e":5,"f":6,"g":-0,"h":0}`,
		`{"a":[],"b":[1],"c":[[2,3],["x"]],"d":[1,2,3,4,5],"e":[{"f":["g","h","i"]}]}`,
		`{"l":[1,2,3],"m":[4,5],"n":[6]}`,
		// More members and elements than an object's or array's frame.
		`{"a":1,"b":2,"c":3,"d":4,"e":5,"f":6,"g":7,"h":8,"i":9,"j":10,"k":11,"l":12,"m":13,"n":14,"o":15,"p":16,"q":{"r":[1,2,3,4,5,6,7,8,9,10,"x",[],{}]},"s":17}`,
	} {
		want, err := ParseObject([]byte(in))
		if err != nil {
			t.Fatalf("ParseObject(%s): %v", in, err)
		}
		var arena Arena
		got, err := ParseObjectIn([]byte(in), &arena)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("ParseObjectIn(%s) = %#v, %v; want %#v", in, got, err, want)
		}
	}
	var arena Arena
	got, err := ParseObjectIn([]byte(`{"a":["x","y"],"b":["z"]}`), &arena)
	if err != nil {
		t.Fatal(err)
	}
	a, b := got["a"].([]any), got["b"].([]any)
	a = append(a, "appended")
	a[0] = "replaced"
	if b[0] != "z" || len(b) != 1 || got["b"].([]any)[0] != "z" {
		t.Fatalf("writing to one array reached another: %#v", got)
	}
}

// TestParseObjectFunc: the members of the top-level object, and only
// those, are picked in document order, and only from a document that
// decodes.
func TestParseObjectFunc(t *testing.T) {
	var names []string
	pick := func(name string, _ any) { names = append(names, name) }
	if _, err := ParseObjectFunc([]byte(` {"b":1,"a":{"c":2},"d":[{"e":3}]} `), nil, pick); err != nil {
		t.Fatal(err)
	}
	if want := []string{"b", "a", "d"}; !reflect.DeepEqual(names, want) {
		t.Fatalf("picked %q, want %q", names, want)
	}
	for _, in := range []string{`{"a":1} x`, `{"a":1}{}`, `{"a":1,"a":2}`, `{"a":1,"A":2}`, `{"a":1`, `[1]`} {
		names = nil
		if _, err := ParseObjectFunc([]byte(in), nil, pick); err == nil || names != nil {
			t.Errorf("ParseObjectFunc(%s): %v, picked %q", in, err, names)
		}
	}
}

// TestValidateObjectFunc: ValidateObjectFunc refuses what ParseObjectFunc
// refuses and picks what it picks, for objects of every size around the
// call frame's (where it compares names pairwise, then builds a map), with
// a duplicate or case-variant name at every pair of places.
func TestValidateObjectFunc(t *testing.T) {
	doc := func(names []string) []byte {
		var b strings.Builder
		b.WriteByte('{')
		for i, n := range names {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, "%q:[%d,{\"n\":%q}]", n, i, n)
		}
		b.WriteByte('}')
		return []byte(b.String())
	}
	check := func(data []byte, valid bool) {
		t.Helper()
		var parsed, validated []string
		m, errParse := ParseObjectFunc(slices.Clone(data), nil, func(name string, _ any) { parsed = append(parsed, name) })
		var arena Arena
		errValid := ValidateObjectFunc(slices.Clone(data), &arena, func(name string, _ any) { validated = append(validated, name) })
		if (errParse == nil) != (errValid == nil) || !slices.Equal(parsed, validated) {
			t.Fatalf("%s: ParseObjectFunc %v (picked %q), ValidateObjectFunc %v (picked %q)", data, errParse, parsed, errValid, validated)
		}
		if (errValid == nil) != valid {
			t.Fatalf("%s: ValidateObjectFunc: %v", data, errValid)
		}
		if errParse == nil && len(m) != len(validated) {
			t.Fatalf("%s: %d members, %d picked", data, len(m), len(validated))
		}
	}
	check([]byte(`{}`), true)
	check([]byte(` {"a":{"b":1,"b":2}} `), false)
	check([]byte(`{"a":1} x`), false)
	for n := 1; n <= 2*frameMembers+2; n++ {
		names := make([]string, n)
		for i := range names {
			names[i] = fmt.Sprintf("m%d", i)
		}
		check(doc(names), true)
		for i := range n {
			for j := range i {
				for _, variant := range []string{names[j], strings.ToUpper(names[j])} {
					dup := slices.Clone(names)
					dup[i] = variant
					check(doc(dup), false)
				}
			}
		}
	}
}

// TestCaseVariantAtEveryOffset: an upper-case letter is seen wherever it
// stands in a name and wherever the name falls against the eight-byte
// words the decoder reads, so a case variant of a name is refused; names
// that differ otherwise are accepted.
func TestCaseVariantAtEveryOffset(t *testing.T) {
	for n := 1; n <= 20; n++ {
		for at := range n {
			for shift := range 8 {
				lower := []byte(strings.Repeat("k", n))
				lower[at] = 'q'
				upper := bytes.Clone(lower)
				upper[at] = 'Q'
				pad := strings.Repeat("p", shift)
				for _, doc := range []string{
					fmt.Sprintf(`{"%s":0,"%s":1,"%s":2}`, pad, upper, lower),
					fmt.Sprintf(`{"%s":0,"%s":1,"%s":2}`, pad, lower, upper),
					fmt.Sprintf(`{"%s":0,"%s\u00e9":1,"%s\u00e9":2}`, pad, upper, lower),
				} {
					if _, err := ParseObject([]byte(doc)); !errors.Is(err, errDuplicate) {
						t.Fatalf("ParseObject(%s): %v, want %v", doc, err, errDuplicate)
					}
					if err := ValidateObjectFunc([]byte(doc), new(Arena), func(string, any) {}); !errors.Is(err, errDuplicate) {
						t.Fatalf("ValidateObjectFunc(%s): %v, want %v", doc, err, errDuplicate)
					}
				}
				other := bytes.Clone(lower)
				other[at] = 'r'
				doc := fmt.Sprintf(`{"%s":0,"%s":1,"%s":2}`, pad, other, lower)
				if err := ValidateObjectFunc([]byte(doc), new(Arena), func(string, any) {}); err != nil {
					t.Fatalf("ValidateObjectFunc(%s): %v", doc, err)
				}
			}
		}
	}
}
