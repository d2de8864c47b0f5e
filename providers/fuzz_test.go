package providers

// Fuzz targets for token framing and parsing, header extraction and key
// parsing (SECURITY.md#attacks-framing), and the single-bit-flip property. Seeds are
// added with f.Add; no corpus directory is kept unless a crasher turns up.

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/internal/jwttest"
)

const fuzzIssuer = "https://issuer.test/"

var fuzzNow = time.Unix(1_700_000_000, 0)

// fuzzClaims are the claims of a valid token at fuzzNow.
func fuzzClaims() map[string]any {
	return map[string]any{"iss": fuzzIssuer, "aud": "api", "sub": "alice", "iat": fuzzNow.Unix() - 1, "exp": fuzzNow.Unix() + 300}
}

// fuzzVerifier is an RS256 + HS256 verifier with kids "r" and "h".
func fuzzVerifier(tb testing.TB) *Verifier {
	tb.Helper()
	rk := PublicKey(jwttest.Public(jwttest.Key(RS256, "")))
	rk.ID, rk.Algorithm = "r", RS256
	hk := SecretKey(jwttest.Key(HS256, "").([]byte))
	hk.ID, hk.Algorithm = "h", HS256
	ks, err := NewStaticKeySet([]Key{rk, hk}, []string{RS256, HS256})
	if err != nil {
		tb.Fatal(err)
	}
	v, err := NewVerifier(VerifierConfig{Issuer: fuzzIssuer, Audience: []string{"api"}, Algorithms: []string{RS256, HS256}, Keys: ks, Now: func() time.Time { return fuzzNow }})
	if err != nil {
		tb.Fatal(err)
	}
	return v
}

// fuzzTokens returns the tokens the verifier must accept (RS256 PKCS#1 v1.5
// and HMAC are deterministic, so each is the only encoding of its claims)
// and hostile ones: validly signed, but each breaking one rule of
// SECURITY.md#attacks-framing and #attacks-header.
func fuzzTokens(tb testing.TB) (valid, hostile []string) {
	tb.Helper()
	rsaKey := jwttest.Key(RS256, "")
	secret := jwttest.Key(HS256, "").([]byte)
	c := fuzzClaims()
	valid = []string{
		jwttest.Token(RS256, "r", rsaKey, c),
		jwttest.Token(HS256, "h", secret, c),
		jwttest.Token(RS256, "", rsaKey, c),
		jwttest.Sign(RS256, rsaKey, []byte(`{ "kid" : "r", "alg" : "RS256" }`), jwttest.JSON(c)),
		jwttest.Sign(HS256, secret, []byte("{\"kid\":\"h\",\n\t\"alg\":\"HS256\",\"foo\":1}"), jwttest.JSON(c)),
	}
	sign := func(header string, claims []byte) string {
		alg := RS256
		var key any = rsaKey
		if strings.Contains(header, `"HS256"`) {
			alg, key = HS256, secret
		}
		return jwttest.Sign(alg, key, []byte(header), claims)
	}
	cl := jwttest.JSON(c)
	withClaim := func(raw string) []byte { // claims with one member replaced/added as raw JSON text
		return []byte(strings.TrimSuffix(string(cl), "}") + "," + raw + "}")
	}
	for _, h := range []string{
		`{"alg":"RS256","kid":"r","crit":["foo"],"foo":1}`,
		`{"alg":"RS256","kid":"r","crit":["b64"],"b64":false}`,
		`{"alg":"RS256","kid":"r","b64":false}`,
		`{"alg":"RS256","kid":"r","crit":[]}`,
		`{"alg":"none","alg":"RS256","kid":"r"}`,
		`{"alg":"RS256","kid":"a","kid":"r"}`,
		`{"alg":"RS256","kid":"r","ALG":"none"}`,
		`{"ALG":"RS256","kid":"r"}`,
		`{"alg":"RS256","kid":"r","enc":"A256GCM"}`,
		`{"alg":"RS256","kid":"r","zip":"DEF"}`,
		`{"alg":"RS256","kid":"r","cty":"JWT"}`,
		`{"alg":"RS256","kid":"r","jku":"https://attacker.test/jwks"}`,
		`{"alg":"RS256","kid":"r","x5u":"https://attacker.test/cert"}`,
		`{"alg":"RS256","kid":"r","jwk":{"kty":"oct","k":"AAAA"}}`,
		`{"alg":"RS256","kid":"r","x5c":["MIIB"]}`,
		`{"alg":"RS256","kid":"r","typ":"dpop+jwt"}`,
		`{"alg":"RS256","kid":1}`,
		`{"alg":"RS256","kid":"r"}xyz`,
		`{"alg":"RS256","kid":"r"}{}`,
		"\ufeff" + `{"alg":"RS256","kid":"r"}`,
		`["RS256"]`, `"x"`, `null`, `1`,
		`{"alg":"rs256","kid":"r"}`, `{"alg":"RS256 ","kid":"r"}`, "{\"alg\":\"RS256\\u0000\",\"kid\":\"r\"}",
		`{"alg":"HS256","kid":"r"}`, // HS256 MAC under kid r (an RSA key)
		`{"alg":"RS256","kid":"h"}`, // RS256 under kid h (a secret)
	} {
		hostile = append(hostile, sign(h, cl))
	}
	for _, claims := range [][]byte{
		withClaim(`"exp":4102444800`), // duplicate exp
		withClaim(`"AUD":"api"`),      // case variant
		withClaim(`"SUB":"admin"`),    // case variant
		withClaim(`"sub":"b"`),        // duplicate sub
		[]byte(`{"iss":"` + fuzzIssuer + `","aud":"api","sub":"a","exp":"4102444800"}`),
		[]byte(`{"iss":"` + fuzzIssuer + `","aud":"api","sub":"a","exp":0}`),
		[]byte(`{"iss":"` + fuzzIssuer + `","aud":"api","sub":"a","exp":4102444800,"nbf":1e300}`),
		[]byte(`{"iss":"` + fuzzIssuer + `","aud":"api","sub":"a","exp":1e999}`),
		[]byte(`{"iss":"` + fuzzIssuer + `","aud":"api","sub":"a\u0000b","exp":4102444800}`),
		[]byte(`{"iss":"` + fuzzIssuer + `","aud":"api","sub":"ab` + "\xff\xfe" + `cd","exp":4102444800}`),
		[]byte(`{"iss":"` + fuzzIssuer + `","aud":"API","sub":"a","exp":4102444800}`),
		[]byte(`{"iss":"` + fuzzIssuer + `","aud":"api","sub":"a"}`),
		[]byte(`{"iss":"` + fuzzIssuer + `","aud":"api","sub":"a","exp":4102444800,"a":` + strings.Repeat("[", 40) + strings.Repeat("]", 40) + `}`),
		[]byte(`{"iss":"` + fuzzIssuer + `","aud":"api","sub":"a","exp":4102444800}trailing`),
		[]byte(`[]`), []byte(`null`), []byte(``),
	} {
		hostile = append(hostile, jwttest.Sign(RS256, rsaKey, []byte(`{"alg":"RS256","kid":"r"}`), claims))
	}
	// Key confusion: HS256 keyed with the RSA public key in the encodings an
	// attacker might guess.
	der, _ := x509.MarshalPKIXPublicKey(jwttest.Public(rsaKey))
	pemKey := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	for _, k := range [][]byte{pemKey, bytes.TrimSpace(pemKey), der, {}, []byte("secret")} {
		for _, kid := range []string{"r", "h", ""} {
			h := `{"alg":"HS256"}`
			if kid != "" {
				h = `{"alg":"HS256","kid":"` + kid + `"}`
			}
			hostile = append(hostile, jwttest.Sign(HS256, k, []byte(h), cl))
		}
	}
	// alg none and framing attacks on a valid token.
	v0 := valid[0]
	h0, rest, _ := strings.Cut(v0, ".")
	p0, s0, _ := strings.Cut(rest, ".")
	none := jwttest.B64([]byte(`{"alg":"none"}`)) + "." + p0 + "."
	flipLast := func(s string) string {
		b := []byte(s)
		i := strings.IndexByte(b64urlChars, b[len(b)-1])
		b[len(b)-1] = b64urlChars[i^1]
		return string(b)
	}
	hostile = append(hostile,
		none, none+s0, jwttest.B64([]byte(`{"alg":"None","kid":"r"}`))+"."+p0+".",
		"", "a", "a.b", "a.b.c", "a.b.c.d", "a.b.c.d.e", "....", "..", ".", h0+".."+s0, h0+"."+p0+".", "."+p0+"."+s0, h0+"."+p0,
		v0+".", v0+strings.Repeat(".", 2000), strings.Repeat("A", 20000), strings.Repeat(".", 20000),
		v0+"\n", v0+"\r\n", h0+"."+p0+"."+s0[:10]+"\n"+s0[10:], " "+v0, v0+" ", v0+"=", h0+"=."+p0+"."+s0,
		strings.NewReplacer("-", "+", "_", "/").Replace(v0), h0+"."+p0+"."+flipLast(s0), flipLast(h0)+"."+p0+"."+s0,
		h0+"."+p0+"?."+s0, h0+"#."+p0+"."+s0,
		`{"payload":"`+p0+`","protected":"`+h0+`","header":{"kid":"attacker"},"signature":"`+s0+`"}`,
		`{"payload":"`+p0+`","signatures":[{"protected":"`+h0+`","signature":"`+s0+`"}]}`,
	)
	return valid, hostile
}

const b64urlChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

// wycheproofJWSStrings returns every JWS string of the Wycheproof JOSE files.
func wycheproofJWSStrings(tb testing.TB) []string {
	var out []string
	for _, name := range []string{"json_web_signature_test.json", "json_web_crypto_test.json", "json_web_key_test.json", "json_web_encryption_test.json"} {
		var file wycheproofJOSE
		loadWycheproof(tb, "testvectors_v1/"+name, &file)
		for _, g := range file.TestGroups {
			for _, tc := range g.Tests {
				for _, raw := range []json.RawMessage{tc.JWS, tc.JWE} {
					if len(raw) > 0 {
						s, _ := wycheproofToken(tb, raw)
						out = append(out, s)
					}
				}
			}
		}
	}
	return out
}

// FuzzVerify: Verify never panics, and accepts nothing but the tokens the
// test signed as valid, byte for byte.
func FuzzVerify(f *testing.F) {
	v := fuzzVerifier(f)
	valid, hostile := fuzzTokens(f)
	for _, tok := range valid {
		if _, err := v.Verify(context.Background(), tok); err != nil {
			f.Fatalf("valid seed rejected: %v", err)
		}
		f.Add(tok)
	}
	for _, tok := range hostile {
		f.Add(tok)
	}
	for _, tok := range wycheproofJWSStrings(f) {
		f.Add(tok)
	}
	f.Fuzz(func(t *testing.T, token string) {
		tok, err := v.Verify(context.Background(), token)
		if (err == nil) != (tok != nil) {
			t.Fatalf("Verify returned token %v with error %v", tok, err)
		}
		if err == nil && !slices.Contains(valid, token) {
			t.Fatalf("Verify accepted a token the test did not sign: %q", token)
		}
	})
}

// TestFuzzSeeds runs the FuzzVerify seeds as assertions in every plain
// `go test`: the valid ones are accepted, every hostile one rejected.
func TestFuzzSeeds(t *testing.T) {
	v := fuzzVerifier(t)
	valid, hostile := fuzzTokens(t)
	for i, tok := range valid {
		if _, err := v.Verify(context.Background(), tok); err != nil {
			t.Errorf("valid token %d rejected: %v", i, err)
		}
	}
	for i, tok := range hostile {
		if _, err := v.Verify(context.Background(), tok); err == nil {
			t.Errorf("hostile token %d accepted: %.200q", i, tok)
		}
	}
}

// FuzzBearerToken: BearerToken never panics, and what it returns is a
// b64token (RFC 6750 §2.1) ending the header value.
func FuzzBearerToken(f *testing.F) {
	valid, _ := fuzzTokens(f)
	for _, s := range []string{
		"Bearer " + valid[0], "bearer abc", "BEARER   abc", "Bearer", "Bearer ", "Bearer\tabc", "Bearer\u00a0abc",
		"Bearer a b", "Bearer abc x", "Bearer a,b", "Bearer A, Bearer B", "Basic dXNlcjpwYXNz", "Bearerabc",
		"Bearer abc==", "Bearer a=b", "Bearer =", "Bearer {\"payload\":\"x\"}", "Bearer a\nb", "Bearer ~+/._-", "Bearer é",
		"Bearer " + strings.Repeat("A", MaxBearerLength+1),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, value string) {
		r := &http.Request{Header: http.Header{"Authorization": {value}}, URL: &url.URL{}}
		tok, err := BearerToken(r)
		if err != nil {
			if tok != "" {
				t.Fatalf("BearerToken(%q) = %q with error %v", value, tok, err)
			}
			return
		}
		if !validB64Token(tok) || !strings.HasSuffix(value, tok) || len(tok) > MaxBearerLength {
			t.Fatalf("BearerToken(%q) = %q, not a b64token ending the value", value, tok)
		}
		for i := 0; i < len(tok); i++ {
			if c := tok[i]; !isB64Token(c) && c != '=' {
				t.Fatalf("BearerToken(%q) = %q contains %q", value, tok, c)
			}
		}
		if !strings.EqualFold(value[:6], "bearer") || strings.TrimLeft(value[6:], " ") != tok || value[6] != ' ' {
			t.Fatalf("BearerToken(%q) = %q, not `Bearer 1*SP token`", value, tok)
		}
	})
}

// FuzzAuthenticateBearer: with the verified-token cache on (a token in it),
// Authenticate answers every Authorization value as BearerToken then
// Verify do, although it checks the token's characters only after the
// cache lookup: BearerToken's 400 exactly when BearerToken gives one, the
// cached token's principal only for that token's exact bytes.
func FuzzAuthenticateBearer(f *testing.F) {
	v, _, clock, priv := newCachedVerifier(f, 16, 0)
	a := NewTokenAuthenticator(v, Mapping{})
	tok := jwttest.Token("RS256", "k1", priv, cachedClaims(clock.now().Unix()+60, nil))
	if _, err := a.Verify(context.Background(), tok); err != nil {
		f.Fatal(err)
	}
	i := len(tok) / 2
	for _, s := range []string{
		"Bearer " + tok, "bearer  " + tok, "Bearer " + tok + "=", "Bearer " + tok + "!", "Bearer " + tok[:i] + "," + tok[i+1:],
		"Bearer " + tok[:i] + "~" + tok[i+1:], "Bearer " + tok[:i] + "=" + tok[i+1:], "Bearer " + tok + " x", "Bearer a,b",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, value string) {
		r := &http.Request{Header: http.Header{"Authorization": {value}}, URL: &url.URL{}}
		bearer, want := BearerToken(r)
		p, err := a.Authenticate(r)
		switch {
		case errors.Is(want, authgate.ErrMalformedRequest) || errors.Is(want, authgate.ErrNoCredentials):
			if !errors.Is(err, want) && !(errors.Is(err, authgate.ErrMalformedRequest) && errors.Is(want, authgate.ErrMalformedRequest)) {
				t.Fatalf("Authenticate(%q) = %v, want BearerToken's %v", value, err, want)
			}
		case want != nil:
			t.Fatalf("BearerToken(%q) = unexpected %v", value, want)
		case bearer == tok && err != nil:
			t.Fatalf("Authenticate(the cached token in %q) = %v, want its principal", value, err)
		case bearer != tok && err == nil:
			t.Fatalf("Authenticate(%q) = %+v, want an error for a token other than the cached one", value, p)
		case errors.Is(err, authgate.ErrMalformedRequest):
			t.Fatalf("Authenticate(%q) = %v: a 400 for the b64token %q", value, err, bearer)
		}
	})
}

// FuzzParseKeys: ParseKeys never panics, and every key it returns is one a
// verifier may hold: a supported public key or a secret, an algorithm (if
// any) that is supported and fits, RSA ≥ 2048 bits with a sane exponent,
// EC on P-256/384/521.
func FuzzParseKeys(f *testing.F) {
	var file wycheproofJOSE
	for _, name := range []string{"json_web_signature_test.json", "json_web_key_test.json", "json_web_crypto_test.json"} {
		loadWycheproof(f, "testvectors_v1/"+name, &file)
		for _, g := range file.TestGroups {
			for _, raw := range []json.RawMessage{g.Public, g.Private} {
				if len(raw) > 0 && string(raw) != "null" {
					f.Add([]byte(raw))
				}
			}
		}
	}
	for _, alg := range []string{RS256, ES256, ES384, ES512, EdDSA} {
		der, err := x509.MarshalPKIXPublicKey(jwttest.Public(jwttest.Key(alg, "")))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
		f.Add([]byte(base64.StdEncoding.EncodeToString(der)))
	}
	f.Add(pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(jwttest.Public(jwttest.Key(RS256, "")).(*rsa.PublicKey))}))
	f.Add([]byte(`{"keys":[{"kty":"oct","k":"` + jwttest.B64(make([]byte, 32)) + `","alg":"HS256"}]}`))
	f.Add([]byte(`{"kty":"EC","crv":"P-256","x":"AA","y":"AA"}`))
	f.Add([]byte(`{"keys":{}}`))
	f.Add([]byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		keys, err := ParseKeys(data)
		if err != nil {
			if keys != nil {
				t.Fatalf("ParseKeys returned keys with error %v", err)
			}
			return
		}
		if len(keys) == 0 {
			t.Fatal("ParseKeys returned no keys and no error")
		}
		for i, k := range keys {
			if (k.public == nil) == (k.secret == nil) {
				t.Fatalf("key %d: public %T, secret %v", i, k.public, k.secret != nil)
			}
			if k.Algorithm != "" {
				alg, ok := algorithms[k.Algorithm]
				if !ok || !k.fits(alg) || k.check(alg) != nil {
					t.Fatalf("key %d (%s) bound to %q it cannot verify", i, k.Kind(), k.Algorithm)
				}
			}
			switch p := k.public.(type) {
			case *rsa.PublicKey:
				if checkRSA(p) != nil {
					t.Fatalf("key %d: weak RSA key accepted: %v", i, checkRSA(p))
				}
			case *ecdsa.PublicKey:
				if _, err := curveAlgorithm(p.Curve); err != nil {
					t.Fatalf("key %d: %v", i, err)
				}
			case ed25519.PublicKey:
				if len(p) != ed25519.PublicKeySize {
					t.Fatalf("key %d: Ed25519 key of %d bytes", i, len(p))
				}
			case nil:
			default:
				t.Fatalf("key %d: unexpected public key type %T", i, p)
			}
		}
	})
}

// TestBitFlips (SECURITY.md#attacks-framing): single-bit flips anywhere in valid
// RS256, ES256, EdDSA and HS256 tokens are all rejected — 10 000 random
// flips from a fixed PCG seed, plus every bit of the last character of each
// segment (base64 unused bits, flips that yield CR or LF).
func TestBitFlips(t *testing.T) {
	const seed1, seed2 = 0x61757468, 0x67617465 // "auth", "gate"
	t.Logf("math/rand/v2 PCG seed (%#x, %#x)", seed1, seed2)
	algs := []string{RS256, ES256, EdDSA, HS256}
	var keys []Key
	tokens := map[string]string{}
	for _, alg := range algs {
		priv := jwttest.Key(alg, "")
		var k Key
		if alg == HS256 {
			k = SecretKey(priv.([]byte))
		} else {
			k = PublicKey(jwttest.Public(priv))
		}
		k.ID, k.Algorithm = strings.ToLower(alg), alg
		keys = append(keys, k)
		tokens[alg] = jwttest.Token(alg, k.ID, priv, fuzzClaims())
	}
	ks, err := NewStaticKeySet(keys, algs)
	if err != nil {
		t.Fatal(err)
	}
	v, err := NewVerifier(VerifierConfig{Issuer: fuzzIssuer, Audience: []string{"api"}, Algorithms: algs, Keys: ks, Now: func() time.Time { return fuzzNow }})
	if err != nil {
		t.Fatal(err)
	}
	flip := func(tok string, i int, bit uint) string {
		b := []byte(tok)
		b[i] ^= 1 << bit
		return string(b)
	}
	check := func(alg, tok string, i int, bit uint) {
		t.Helper()
		if _, err := v.Verify(context.Background(), flip(tok, i, bit)); err == nil {
			t.Errorf("%s token with bit %d of byte %d flipped accepted: %q", alg, bit, i, flip(tok, i, bit))
		}
	}
	for _, alg := range algs {
		if _, err := v.Verify(context.Background(), tokens[alg]); err != nil {
			t.Fatalf("unmodified %s token rejected: %v", alg, err)
		}
	}
	rng := rand.New(rand.NewPCG(seed1, seed2))
	perAlg := map[string]int{}
	for n := 0; n < 10000; n++ {
		alg := algs[rng.IntN(len(algs))]
		tok := tokens[alg]
		perAlg[alg]++
		check(alg, tok, rng.IntN(len(tok)), uint(rng.IntN(8)))
	}
	exhaustive := 0
	for _, alg := range algs {
		tok := tokens[alg]
		d1 := strings.IndexByte(tok, '.')
		d2 := d1 + 1 + strings.IndexByte(tok[d1+1:], '.')
		for _, i := range []int{d1 - 1, d2 - 1, len(tok) - 1} {
			for bit := uint(0); bit < 8; bit++ {
				check(alg, tok, i, bit)
				exhaustive++
			}
		}
	}
	t.Logf("random flips per algorithm: %v; plus %d exhaustive flips of segment-final characters", perAlg, exhaustive)
}

// b64TokenReference is RFC 6750's b64token, byte by byte, as validB64Token
// must decide it: 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" )
// *"=".
func b64TokenReference(s string) bool {
	i := 0
	for i < len(s) && strings.IndexByte("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~+/", s[i]) >= 0 {
		i++
	}
	if i == 0 {
		return false
	}
	for i < len(s) && s[i] == '=' {
		i++
	}
	return i == len(s)
}

// FuzzValidB64Token: validB64Token decides exactly as the byte-by-byte
// reference.
func FuzzValidB64Token(f *testing.F) {
	for _, s := range []string{"", "=", "a", "a=", "a==", "a=b", "abcdefgh", "abcdefgh=", "abcdefg=h", "abcdefghijklmnop~+/.-_", "a b", "abcdefghi\x00", "ab\xffcdefgh"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := validB64Token(s), b64TokenReference(s); got != want {
			t.Fatalf("validB64Token(%q) = %v, want %v", s, got, want)
		}
	})
}

// TestValidB64TokenEveryByte: each byte value at every position of a
// 17-byte token (both the eight-byte rounds and the tail) is decided as
// the reference decides it.
func TestValidB64TokenEveryByte(t *testing.T) {
	base := []byte("abcdefghijklmnopq")
	for pos := range base {
		for c := range 256 {
			b := append([]byte(nil), base...)
			b[pos] = byte(c)
			if got, want := validB64Token(string(b)), b64TokenReference(string(b)); got != want {
				t.Fatalf("validB64Token(%q) = %v, want %v", b, got, want)
			}
		}
	}
}
