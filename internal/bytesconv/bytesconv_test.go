package bytesconv

import "testing"

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
