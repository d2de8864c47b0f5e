package providers

import (
	"encoding/json"
	"errors"
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
		{"not object", `[]`, errJSONNotObject},
		{"string", `"x"`, errJSONNotObject},
		{"null", `null`, errJSONNotObject},
		{"bom", "\ufeff{}", errJSONNotObject},
		{"trailing data", `{}x`, errJSONSyntax},
		{"two objects", `{}{}`, errJSONSyntax},
		{"trailing comma", `{"a":1,}`, errJSONSyntax},
		{"unquoted key", `{a:1}`, errJSONSyntax},
		{"single quotes", `{'a':1}`, errJSONSyntax},
		{"duplicate", `{"a":1,"a":2}`, errJSONDuplicate},
		{"nested duplicate", `{"a":{"b":1,"b":1}}`, errJSONDuplicate},
		{"case variant", `{"aud":"x","AUD":"y"}`, errJSONDuplicate},
		{"case variant both upper", `{"Sub":"x","SUB":"y"}`, errJSONDuplicate},
		{"case variant nested", `{"a":{"roles":["user"],"ROLES":["admin"]}}`, errJSONDuplicate},
		{"fold variant", `{"sub":"a","ſUB":"b"}`, errJSONDuplicate},
		{"non-ascii lower case name", `{"café":1}`, nil},
		{"unicode case variant", `{"é":1,"É":2}`, errJSONDuplicate},
		{"invalid utf8", "{\"a\":\"\xff\xfe\"}", errJSONUTF8},
		{"invalid utf8 key", "{\"\xc3\":1}", errJSONUTF8},
		{"lone high surrogate", `{"a":"\ud800"}`, errJSONUTF8},
		{"lone low surrogate", `{"a":"\udc00"}`, errJSONUTF8},
		{"reversed surrogates", `{"a":"\udc00\ud800"}`, errJSONUTF8},
		{"bad escape", `{"a":"\x"}`, errJSONSyntax},
		{"short unicode escape", `{"a":"\u12"}`, errJSONSyntax},
		{"control char", "{\"a\":\"\x01\"}", errJSONSyntax},
		{"raw newline in string", "{\"a\":\"\n\"}", errJSONSyntax},
		{"leading zero", `{"a":01}`, errJSONSyntax},
		{"plus sign", `{"a":+1}`, errJSONSyntax},
		{"bare dot", `{"a":1.}`, errJSONSyntax},
		{"exponent only", `{"a":1e}`, errJSONSyntax},
		{"NaN", `{"a":NaN}`, errJSONSyntax},
		{"huge number", `{"a":1e999}`, errJSONNumber},
		{"400 digits", `{"a":` + strings.Repeat("9", 400) + `}`, errJSONNumber},
		{"depth 32", `{"a":` + strings.Repeat("[", 31) + strings.Repeat("]", 31) + `}`, nil},
		{"depth 33", `{"a":` + strings.Repeat("[", 33) + strings.Repeat("]", 33) + `}`, errJSONDepth},
		{"depth 5000", `{"a":` + strings.Repeat("[", 5000) + strings.Repeat("]", 5000) + `}`, errJSONDepth},
		{"too many values", `{"a":[` + strings.Repeat("1,", 5000) + `1]}`, errJSONTooLarge},
		{"truncated", `{"a":`, errJSONSyntax},
		{"truncated string", `{"a":"x`, errJSONSyntax},
		{"literal typo", `{"a":tru}`, errJSONSyntax},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseObject([]byte(tt.in))
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("parseObject(%q) = %v", tt.in, err)
				}
				var want map[string]any
				if err := json.Unmarshal([]byte(tt.in), &want); err != nil {
					t.Fatalf("encoding/json rejects %q: %v", tt.in, err)
				}
				if g, w := mustMarshal(got), mustMarshal(want); g != w {
					t.Errorf("parseObject(%q) = %s, encoding/json gives %s", tt.in, g, w)
				}
				return
			}
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("parseObject(%q) = %v, want %v", tt.in, err, tt.wantErr)
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
// refused quickly (SECURITY.md §4 B 37 pins a members cap).
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
	if _, err := parseObject([]byte(b.String())); err == nil {
		t.Fatal("parseObject accepted 20,000 members")
	}
}
