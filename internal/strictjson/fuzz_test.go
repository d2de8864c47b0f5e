package strictjson

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// FuzzParseObject: the strict decoder never panics, and whatever it accepts
// encoding/json accepts too, with the same members and values.
// ParseObjectFunc, with an arena, accepts exactly the same documents, with
// the same values, and picks every top-level member of those only; so does
// ValidateObjectFunc.
func FuzzParseObject(f *testing.F) {
	for _, s := range []string{
		`{}`, `{"a":1}`, ` {"alg":"RS256","kid":"k"} `, `{"a":[1,2,{"b":null}],"c":true,"d":false,"e":"x\u00e9\ud83d\ude00"}`,
		`{"aud":"evil","AUD":"api"}`, `{"a":1,"a":2}`, `{"a":1}x`, `{"a":1}{}`, `[]`, `"x"`, `null`, "\ufeff{}",
		`{"a":"\ud800"}`, "{\"a\":\"\xff\"}", `{"a":1e999}`, `{"a":-0.5e-3}`, `{"a":01}`, `{"a":1.}`, `{"a":"\x"}`,
		`{"a":` + strings.Repeat("[", 40) + strings.Repeat("]", 40) + `}`, `{"a":"b",}`, `{"a" "b"}`, `{"é":1,"É":2}`,
		"{\"a\":\"\t\"}", `{"a":tru}`, `{"K":1,"k":2}`, `{"A":1,"a":{"a":1,"A":2}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		in := slices.Clone(data) // ParseObject aliases its input
		got, err := ParseObject(in)
		var arena Arena
		picked := map[string]any{}
		inArena, errIn := ParseObjectFunc(slices.Clone(data), &arena, func(name string, v any) { picked[name] = v })
		if (err == nil) != (errIn == nil) || (errIn != nil && len(picked) > 0) {
			t.Fatalf("ParseObject(%q): %v; ParseObjectFunc: %v after picking %d members", data, err, errIn, len(picked))
		}
		var validArena Arena
		validated := map[string]any{}
		errValid := ValidateObjectFunc(slices.Clone(data), &validArena, func(name string, v any) { validated[name] = v })
		if (err == nil) != (errValid == nil) || (errValid != nil && len(validated) > 0) {
			t.Fatalf("ParseObject(%q): %v; ValidateObjectFunc: %v after picking %d members", data, err, errValid, len(validated))
		}
		if err != nil {
			return
		}
		if !reflect.DeepEqual(inArena, got) || !reflect.DeepEqual(picked, got) || !reflect.DeepEqual(validated, got) {
			t.Fatalf("ParseObjectFunc(%q) = %#v, picked %#v, ValidateObjectFunc picked %#v; ParseObject gave %#v", data, inArena, picked, validated, got)
		}
		var want map[string]any
		if err := json.Unmarshal(data, &want); err != nil {
			t.Fatalf("ParseObject accepted %q, encoding/json refuses it: %v", data, err)
		}
		gotNames, wantNames := keysOf(got), keysOf(want)
		if !slices.Equal(gotNames, wantNames) {
			t.Fatalf("member names of %q: ParseObject %q, encoding/json %q", data, gotNames, wantNames)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("values of %q: ParseObject %#v, encoding/json %#v", data, got, want)
		}
	})
}

func keysOf(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
