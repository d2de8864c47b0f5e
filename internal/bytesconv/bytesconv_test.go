package bytesconv

import (
	"reflect"
	"runtime"
	"strings"
	"testing"
)

func TestConversions(t *testing.T) {
	tests := []struct {
		name string
		in   string
	}{
		{name: "empty", in: ""},
		{name: "ascii", in: "eyJhbGciOiJSUzI1NiJ9"},
		{name: "utf8", in: "héllo ✓"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := Bytes(tt.in)
			if string(b) != tt.in || len(b) != len(tt.in) {
				t.Fatalf("Bytes(%q) = %q", tt.in, b)
			}
			if got := String(b); got != tt.in {
				t.Fatalf("String(Bytes(%q)) = %q", tt.in, got)
			}
		})
	}
}

// TestStringShares pins what the package is for: String does not copy.
func TestStringShares(t *testing.T) {
	b := []byte("abc")
	s := String(b)
	b[0] = 'x'
	if s != "xbc" {
		t.Fatalf("String(b) after writing b = %q, want the shared %q", s, "xbc")
	}
}

// TestBox pins what Box is for: the interface holds the value and points at
// the variable, without an allocation.
func TestBox(t *testing.T) {
	slab := make([]string, 2)
	slab[0], slab[1] = "a", "bc"
	nums := []float64{1.5}
	list := [][]any{{"x", 2.0}}
	tests := []struct {
		name  string
		box   func() any
		want  any
		alias func() bool // whether the interface points at the variable
	}{
		{name: "string", box: func() any { return Box(&slab[1]) }, want: "bc",
			alias: func() bool { v := Box(&slab[1]); slab[1] = "zz"; ok := v == "zz"; slab[1] = "bc"; return ok }},
		{name: "float64", box: func() any { return Box(&nums[0]) }, want: 1.5,
			alias: func() bool { v := Box(&nums[0]); nums[0] = 7; ok := v == 7.0; nums[0] = 1.5; return ok }},
		{name: "slice", box: func() any { return Box(&list[0]) }, want: []any{"x", 2.0},
			alias: func() bool {
				v := Box(&list[0])
				list[0] = nil
				ok := v.([]any) == nil
				list[0] = []any{"x", 2.0}
				return ok
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.box()
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("Box = %#v, want %#v", got, tt.want)
			}
			if !tt.alias() {
				t.Errorf("Box copied the value instead of pointing at it")
			}
			if n := testing.AllocsPerRun(100, func() { sink = tt.box() }); n != 0 {
				t.Errorf("Box allocates %v times, want 0", n)
			}
		})
	}
}

var sink any

// TestBoxSurvivesCollection: an interface made by Box keeps its slab alive
// on its own.
func TestBoxSurvivesCollection(t *testing.T) {
	boxes := make([]any, 0, 64)
	for i := range 64 {
		slab := make([]string, 4)
		slab[2] = strings.Repeat("v", i+1)
		boxes = append(boxes, Box(&slab[2]))
	}
	runtime.GC()
	runtime.GC()
	for i, b := range boxes {
		if want := strings.Repeat("v", i+1); b != want {
			t.Fatalf("box %d after GC = %q, want %q", i, b, want)
		}
	}
}

func TestSameMap(t *testing.T) {
	a, b := map[string]any{"k": 1}, map[string]any{"k": 1}
	c := a
	var n1, n2 map[string]any
	for _, tt := range []struct {
		name string
		got  bool
		want bool
	}{
		{"a map and itself", SameMap(a, c), true},
		{"two equal maps", SameMap(a, b), false},
		{"two empty maps", SameMap(map[string]any{}, map[string]any{}), false},
		{"nil and nil", SameMap(n1, n2), true},
		{"a map and nil", SameMap(a, n1), false},
	} {
		if tt.got != tt.want {
			t.Errorf("%s: SameMap = %v, want %v", tt.name, tt.got, tt.want)
		}
	}
}
