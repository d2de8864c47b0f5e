package providers

import (
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/internal/jwttest"
)

// TestEqualEncoded: equalEncoded agrees with encoding and comparing, for
// every length up to 80 bytes and a change at every position of the
// encoding (each to every other base64url character, and to a byte
// outside the alphabet), and for encodings one character short or long.
func TestEqualEncoded(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for n := range 81 {
		raw := make([]byte, n)
		for i := range raw {
			raw[i] = byte(rng.Uint32())
		}
		enc := base64.RawURLEncoding.EncodeToString(raw)
		if !equalEncoded(enc, string(raw)) {
			t.Fatalf("len %d: the encoding of raw does not match it", n)
		}
		for i := range len(enc) {
			for _, c := range base64URLAlphabet + ".=\x00\xff" {
				if byte(c) == enc[i] {
					continue
				}
				changed := enc[:i] + string(byte(c)) + enc[i+1:]
				if equalEncoded(changed, string(raw)) {
					t.Fatalf("len %d: %q (character %d changed) matches", n, changed, i)
				}
			}
		}
		if equalEncoded(enc+"A", string(raw)) || (len(enc) > 0 && equalEncoded(enc[:len(enc)-1], string(raw))) {
			t.Fatalf("len %d: an encoding of another length matches", n)
		}
	}
}

// TestDiffBytes: diffBytes is zero exactly for equal strings, for every
// length up to 40 bytes and a change of every bit at every position.
func TestDiffBytes(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for n := range 41 {
		a := make([]byte, n)
		for i := range a {
			a[i] = byte(rng.Uint32())
		}
		if d := diffBytes(string(a), string(a)); d != 0 {
			t.Fatalf("len %d: equal strings differ by %#x", n, d)
		}
		for i := range n {
			for bit := range 8 {
				b := slices.Clone(a)
				b[i] ^= 1 << bit
				if diffBytes(string(a), string(b)) == 0 {
					t.Fatalf("len %d: byte %d with bit %d flipped compares equal", n, i, bit)
				}
			}
		}
		if diffBytes(string(a), string(a)+"x") == 0 {
			t.Fatalf("len %d: a longer string compares equal", n)
		}
	}
}

// FuzzEqualEncoded: equalEncoded(enc, raw) is exactly enc ==
// base64url(raw).
func FuzzEqualEncoded(f *testing.F) {
	f.Add("eyJhbGciOiJSUzI1NiJ9", `{"alg":"RS256"}`)
	f.Add("", "")
	f.Add("AAAAAAAAAAAAAAAAAAAAAAAA", "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00")
	f.Fuzz(func(t *testing.T, enc, raw string) {
		want := enc == base64.RawURLEncoding.EncodeToString([]byte(raw))
		if got := equalEncoded(enc, raw); got != want {
			t.Fatalf("equalEncoded(%q, %q) = %v, want %v", enc, raw, got, want)
		}
		// And with enc the real encoding, changed in one place.
		real := base64.RawURLEncoding.EncodeToString([]byte(raw))
		if !equalEncoded(real, raw) {
			t.Fatalf("equalEncoded(encoding of %q) = false", raw)
		}
	})
}

func BenchmarkEqualEncoded(b *testing.B) {
	raw := make([]byte, 300)
	for i := range raw {
		raw[i] = byte(i * 7)
	}
	enc, s := base64.RawURLEncoding.EncodeToString(raw), string(raw)
	for b.Loop() {
		if !equalEncoded(enc, s) {
			b.Fatal("no match")
		}
	}
}

// benchEntry returns the cache entry, token and authenticator of one token
// of the static benchmark's shape (see BenchmarkCacheEntryMemory).
func benchEntry(tb testing.TB) (*cacheEntry, string, *TokenAuthenticator) {
	set, _ := NewStaticKeySet([]Key{SecretKey(make([]byte, 32))}, []string{HS256})
	now := time.Unix(1_800_000_000, 0)
	v, err := NewVerifier(VerifierConfig{Issuer: "https://issuer.test/", Audience: []string{"https://api.test"}, Algorithms: []string{HS256}, Keys: set, Now: func() time.Time { return now }, CacheSize: 10})
	if err != nil {
		tb.Fatal(err)
	}
	a := NewTokenAuthenticator(v, Mapping{})
	token := jwttest.Token(HS256, "k1", make([]byte, 32), map[string]any{"iss": "https://issuer.test/", "sub": "auth0|5f7c8ec7c33c6c004bbafe82", "aud": []any{"https://api.test", "https://issuer.test/userinfo"}, "exp": now.Unix() + 3600, "iat": now.Unix(), "jti": "6c0e7a1d-6a5f-4a0b-9a41-000000000001", "azp": "VvQ8kZ3m1y2xJ4pL", "scope": "openid profile email read:articles write:articles"})
	if _, err := a.Verify(tb.Context(), token); err != nil {
		tb.Fatal(err)
	}
	e, ok := v.cache.get(v.cache.key(token), token, now)
	if !ok || e.owner != a {
		tb.Fatalf("the token is not cached with its principal packed (%v)", ok)
	}
	return e, token, a
}

// BenchmarkCacheHitParts: what a hit costs beyond the map lookup.
func BenchmarkCacheHitParts(b *testing.B) {
	e, token, _ := benchEntry(b)
	b.Run("matches", func(b *testing.B) {
		for b.Loop() {
			if !e.matches(token) {
				b.Fatal("no match")
			}
		}
	})
	b.Run("copy", func(b *testing.B) {
		b.ReportAllocs()
		p := e.unpack()
		for b.Loop() {
			copyPrincipal(p)
		}
	})
	b.Run("alloc", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			sinkPrincipal = new(principalWithLists)
		}
	})
	b.Run("unpack", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			e.unpack()
		}
	})
}

var sinkPrincipal *principalWithLists

// hsCachedAuthenticator returns an authenticator over an HS256 verifier
// with a cache, a fixed clock, and the secret it verifies with.
func hsCachedAuthenticator(t *testing.T, extend func(*Token, *authgate.Principal)) (*TokenAuthenticator, []byte) {
	t.Helper()
	secret := []byte("0123456789abcdef0123456789abcdef")
	set, err := NewStaticKeySet([]Key{SecretKey(secret)}, []string{HS256})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1_800_000_000, 0)
	v, err := NewVerifier(VerifierConfig{Issuer: "https://issuer.test/", Audience: []string{"api"}, Algorithms: []string{HS256}, Keys: set, Now: func() time.Time { return now }, CacheSize: 100})
	if err != nil {
		t.Fatal(err)
	}
	a := NewTokenAuthenticator(v, Mapping{Provider: "test", RolesClaim: "realm.roles"})
	a.extend = extend
	return a, secret
}

// TestCacheEntryPrincipal: a cache hit hands out the principal the miss
// built, field for field, whatever the claims hold (escaped strings that
// are not in the claims' JSON as they are, long lists, empty and absent
// lists, fractional times) and whatever a provider's mapping adds; a
// principal the entry cannot pack (its Claims replaced by the mapping) is
// kept whole instead, and handed out just the same.
func TestCacheEntryPrincipal(t *testing.T) {
	const exp = 1_800_003_600
	many := make([]string, 20)
	for i := range many {
		many[i] = fmt.Sprintf("role-%d", i)
	}
	tests := []struct {
		name    string
		payload string
		extend  func(*Token, *authgate.Principal)
		packed  bool
	}{
		{name: "usual", payload: `{"iss":"https://issuer.test/","sub":"auth0|5f7c8ec7","aud":["api","other"],"exp":1800003600,"iat":1800000000,"jti":"j-1","scope":"openid profile email","email":"a@b.test","name":"A B"}`, packed: true},
		{name: "escaped strings", payload: `{"iss":"https:\/\/issuer.test\/","sub":"caf\u00e9 \"q\"","aud":"api","exp":1800003600,"scope":"a\/b c\u0020d","name":"line\nbreak"}`, packed: true},
		{name: "long lists", payload: `{"iss":"https://issuer.test/","sub":"u","aud":"api","exp":1800003600,"realm":{"roles":["` + strings.Join(many, `","`) + `"]},"scp":["x","y","z"],"permissions":["p1","p2"]}`, packed: true},
		{name: "empty scope, no lists", payload: `{"iss":"https://issuer.test/","sub":"u","aud":"api","exp":1800003600,"scope":""}`, packed: true},
		{name: "fractional times", payload: `{"iss":"https://issuer.test/","sub":"u","aud":"api","exp":1800003600.25,"iat":1799999999.5,"nbf":1799999000}`, packed: true},
		{name: "mapping adds", payload: `{"iss":"https://issuer.test/","sub":"u","aud":"api","exp":1800003600,"org":"acme"}`, packed: true,
			extend: func(t *Token, p *authgate.Principal) {
				org, _ := t.Claims["org"].(string)
				p.Tenant, p.CredentialID, p.Method = "org:"+org, "cred-7", "custom"
				p.Roles = append(p.Roles, "member", "org:"+org)
			}},
		{name: "mapping replaces claims", payload: `{"iss":"https://issuer.test/","sub":"u","aud":"api","exp":1800003600}`, packed: false,
			extend: func(t *Token, p *authgate.Principal) {
				p.Claims = authgate.NewObject(map[string]any{"sub": "u", "extra": true})
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, secret := hsCachedAuthenticator(t, tt.extend)
			token := jwttest.Sign(HS256, secret, []byte(`{"alg":"HS256","typ":"JWT"}`), []byte(tt.payload))
			uncached := NewTokenAuthenticator(mustHSVerifier(t, a.verifier), a.mapping)
			uncached.extend = tt.extend
			want, err := uncached.Verify(t.Context(), token)
			if err != nil {
				t.Fatal(err)
			}
			wantToken, err := uncached.VerifyToken(t.Context(), token)
			if err != nil {
				t.Fatal(err)
			}
			for i := range 3 { // the miss, then two hits
				p, err := a.Verify(t.Context(), token)
				if err != nil {
					t.Fatal(err)
				}
				if !equalPrincipals(p, want) {
					t.Fatalf("Verify #%d = %+v\nwant %+v", i, p, want)
				}
				if (p.Roles == nil) != (want.Roles == nil) || (p.Scopes == nil) != (want.Scopes == nil) || (p.Permissions == nil) != (want.Permissions == nil) {
					t.Fatalf("Verify #%d: nil and empty lists differ: %#v, want %#v", i, p, want)
				}
				scribble2(p)
			}
			e, ok := a.verifier.cache.get(a.verifier.cache.key(token), token, a.verifier.now())
			if !ok {
				t.Fatal("the token is not cached")
			}
			if packed := e.owner == a; packed != tt.packed {
				t.Errorf("principal packed = %v, want %v", packed, tt.packed)
			}
			// The token a hit rebuilds for Check and VerifyToken is the
			// one Verify built.
			got, err := a.VerifyToken(t.Context(), token)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, wantToken) {
				t.Errorf("VerifyToken on a hit = %+v\nwant %+v", got, wantToken)
			}
			fresh, err := a.verifier.Verify(t.Context(), token)
			if err != nil || !reflect.DeepEqual(fresh, wantToken) {
				t.Errorf("Verifier.Verify on a hit = %+v, %v\nwant %+v", fresh, err, wantToken)
			}
		})
	}
}

// scribble2 changes every field and list element of p, as a handler may.
func scribble2(p *authgate.Principal) {
	p.Subject, p.Issuer, p.Tenant, p.Provider = "admin", "evil", "x", "y"
	for _, l := range [][]string{p.Audience, p.Roles, p.Scopes, p.Permissions} {
		for i := range l {
			l[i] = "changed"
		}
	}
	p.Roles = append(p.Roles, "root")
}

// mustHSVerifier returns a verifier like v without a cache.
func mustHSVerifier(t *testing.T, v *Verifier) *Verifier {
	t.Helper()
	u, err := NewVerifier(VerifierConfig{Issuer: v.issuer, Audience: v.audience, Algorithms: []string{HS256}, Keys: v.keys, Now: v.now})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// TestCacheEntryExactBytes: the entry answers to its token only: a change
// of any one character anywhere in it (header, payload or signature), a
// character more or less, or another token of the same header is a miss.
func TestCacheEntryExactBytes(t *testing.T) {
	e, token, _ := benchEntry(t)
	if !e.matches(token) {
		t.Fatal("the entry does not match its own token")
	}
	for i := range len(token) {
		for _, c := range []byte{'A', 'B', 'z', '-', '_', '.', '='} {
			if token[i] == c {
				continue
			}
			if changed := token[:i] + string(c) + token[i+1:]; e.matches(changed) {
				t.Fatalf("the entry matches its token with character %d changed to %q", i, c)
			}
		}
	}
	for _, other := range []string{token[:len(token)-1], token + "A", "A" + token, token[1:], ""} {
		if e.matches(other) {
			t.Fatalf("the entry matches %q", other)
		}
	}
}

// TestCacheEntryManyHeaders: tokens of more protected headers than the
// verifier remembers are cached too, each entry with a header of its
// own, and each answers with its own header.
func TestCacheEntryManyHeaders(t *testing.T) {
	a, secret := hsCachedAuthenticator(t, nil)
	payload := []byte(`{"iss":"https://issuer.test/","sub":"u","aud":"api","exp":1800003600}`)
	var tokens []string
	for i := range 3 * maxHeaderEntries {
		tokens = append(tokens, jwttest.Sign(HS256, secret, fmt.Appendf(nil, `{"alg":"HS256","typ":"JWT","n":%d}`, i), payload))
	}
	for round := range 2 {
		for i, tok := range tokens {
			p, err := a.Verify(t.Context(), tok)
			if err != nil {
				t.Fatalf("round %d, token %d: %v", round, i, err)
			}
			if n, _ := p.Header.Get("n"); n != float64(i) {
				t.Fatalf("round %d, token %d: header n = %v", round, i, n)
			}
		}
	}
	if n := a.verifier.cache.len(); n != len(tokens) {
		t.Errorf("%d entries, want %d", n, len(tokens))
	}
}

// TestCacheEntryClaimsConcurrent: the claims of an entry, decoded on the
// first read, are read by many hits at once (run with -race).
func TestCacheEntryClaimsConcurrent(t *testing.T) {
	a, secret := hsCachedAuthenticator(t, nil)
	token := jwttest.Sign(HS256, secret, []byte(`{"alg":"HS256","typ":"JWT"}`), []byte(`{"iss":"https://issuer.test/","sub":"u","aud":"api","exp":1800003600,"nested":{"x":[1,2]}}`))
	if _, err := a.Verify(t.Context(), token); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 200 {
				p, err := a.Verify(t.Context(), token)
				if err != nil {
					t.Error(err)
					return
				}
				if sub, _ := p.Claims.GetString("sub"); sub != "u" {
					t.Errorf("sub = %q", sub)
					return
				}
				if x, _ := p.Claim("nested.x"); len(x.([]any)) != 2 {
					t.Errorf("nested.x = %v", x)
					return
				}
				m := p.Claims.Map()
				m["sub"] = "changed" // a copy: no other request sees it
			}
		})
	}
	wg.Wait()
}
