package providers

import (
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/internal/jwttest"
)

// TestSplitMatchesSlow: split's fast path and the byte-by-byte splitSlow
// agree on every input, except that split leaves a payload character
// outside the alphabet to the decoder, where decodePayload reports
// splitSlow's error.
func TestSplitMatchesSlow(t *testing.T) {
	base := "eyJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJ4In0.c2lnbmF0dXJl"
	inputs := []string{base, "", ".", "..", "a..b", ".b.c", "a.b.", "a.b", "a.b.c.d", "a.b\r.c", "a\n.b.c", "a.b.c\n", "a=.b.c", "a.b=.c", "a.b.c=", "a.b!.c", "a.b.c!"}
	r := rand.New(rand.NewPCG(1, 2))
	specials := []byte{'.', '\r', '\n', '=', '+', '/', ' ', 0, 0x80, 0xff, '-', '_'}
	for range 5000 {
		b := []byte(base)
		for range 1 + r.IntN(3) {
			b[r.IntN(len(b))] = specials[r.IntN(len(specials))]
		}
		inputs = append(inputs, string(b))
	}
	for _, in := range inputs {
		h, p, s, err := split(in, DefaultMaxTokenSize)
		wh, wp, ws, werr := splitSlow(in)
		if err == nil && werr != nil {
			// The one difference: a payload byte outside the alphabet.
			if !strings.ContainsFunc(p, func(r rune) bool { return r > 0x7f || !isBase64URL(byte(r)) }) {
				t.Fatalf("split(%q) accepted, splitSlow = %v", in, werr)
			}
			buf := make([]byte, len(p))
			if _, _, derr := decodePayload(buf, in, p); !errors.Is(derr, werr) {
				t.Fatalf("decodePayload of %q = %v, want %v", in, derr, werr)
			}
			continue
		}
		if !errors.Is(err, werr) || h != wh || p != wp || s != ws {
			t.Fatalf("split(%q) = %q, %q, %q, %v; splitSlow = %q, %q, %q, %v", in, h, p, s, err, wh, wp, ws, werr)
		}
	}
}

// TestVerifyFramingErrors pins how Verify classifies a token outside the
// compact alphabet, whichever segment holds the bad byte: not mine, for
// the framing's reason.
func TestVerifyFramingErrors(t *testing.T) {
	v := testVerifierHS256(t)
	good := mintHS256(t)
	h, rest, _ := strings.Cut(good, ".")
	p, s, _ := strings.Cut(rest, ".")
	tests := []struct {
		name    string
		token   string
		wantErr error
	}{
		{name: "bad byte in header", token: h[:3] + "!" + h[4:] + "." + p + "." + s, wantErr: errAlphabet},
		{name: "bad byte in payload", token: h + "." + p[:3] + "!" + p[4:] + "." + s, wantErr: errAlphabet},
		{name: "CR in payload", token: h + "." + p[:3] + "\r" + p[3:] + "." + s, wantErr: errAlphabet},
		{name: "LF in payload", token: h + "." + p[:3] + "\n" + p[3:] + "." + s, wantErr: errAlphabet},
		{name: "bad byte in signature", token: h + "." + p + "." + s[:3] + "=" + s[4:], wantErr: errAlphabet},
		{name: "padding", token: h + "." + p + "=." + s, wantErr: errAlphabet},
		{name: "four segments", token: good + ".x", wantErr: errSegments},
		{name: "dot before bad byte", token: h + "." + p + "." + s + ".!", wantErr: errSegments},
		{name: "empty header", token: "." + p + "." + s, wantErr: errEmptySegment},
		{name: "non-canonical payload", token: h + "." + p[:len(p)-1] + "." + s, wantErr: errBase64},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := v.Verify(t.Context(), tt.token)
			if !errors.Is(err, authgate.ErrUnrecognizedCredential) || !errors.Is(err, tt.wantErr) {
				t.Fatalf("Verify = %v, want ErrUnrecognizedCredential and %v", err, tt.wantErr)
			}
		})
	}
	if _, err := v.Verify(t.Context(), good); err != nil {
		t.Fatalf("Verify(good) = %v", err)
	}
}

func testVerifierHS256(t *testing.T) *Verifier {
	t.Helper()
	keys, err := NewStaticKeySet([]Key{SecretKey(jwttest.Key("HS256", "split").([]byte))}, []string{"HS256"})
	if err != nil {
		t.Fatal(err)
	}
	v, err := NewVerifier(VerifierConfig{Issuer: "https://issuer.test/", Audience: []string{"api"}, Algorithms: []string{"HS256"}, Keys: keys,
		Now: func() time.Time { return time.Unix(1_800_000_000, 0) }})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func mintHS256(t *testing.T) string {
	t.Helper()
	return jwttest.Token("HS256", "", jwttest.Key("HS256", "split"), map[string]any{
		"iss": "https://issuer.test/", "aud": "api", "sub": "alice", "exp": 1_800_000_300, "iat": 1_799_999_999})
}
