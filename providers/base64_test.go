package providers

import (
	"bytes"
	"math/rand/v2"
	"strings"
	"testing"
)

// TestDecodeBase64URL: decodeBase64URL accepts exactly what strictBase64
// accepts, CR and LF aside (it refuses them; encoding/base64 skips them),
// with the same bytes, on every length up to 70 and on random bytes
// around the alphabet's edges.
func TestDecodeBase64URL(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	alphabet := "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	odd := []byte{'=', '+', '/', '\r', '\n', '.', ' ', 0, '@', '[', '`', '{', 0x7f, 0x80, 0xff}
	for n := range 200000 {
		b := make([]byte, n%71)
		for i := range b {
			b[i] = alphabet[r.IntN(len(alphabet))]
			if r.IntN(40) == 0 {
				b[i] = odd[r.IntN(len(odd))]
			}
		}
		seg := string(b)
		want := make([]byte, strictBase64.DecodedLen(len(seg)))
		wn, err := strictBase64.Decode(want, b)
		wantOK := err == nil && !strings.ContainsAny(seg, "\r\n")
		got := make([]byte, strictBase64.DecodedLen(len(seg)))
		gn, ok := decodeBase64URL(got, seg)
		if ok != wantOK || (ok && !bytes.Equal(got[:gn], want[:wn])) {
			t.Fatalf("decodeBase64URL(%q) = %x, %v; strictBase64: %x, %v", seg, got[:gn], ok, want[:wn], err)
		}
	}
}
