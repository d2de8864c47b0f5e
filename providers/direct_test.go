package providers

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
	"unsafe"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/internal/jwttest"
)

// directAuthenticators returns two authenticators of one HS256 verifier
// without a cache: one that takes the direct path, and one that cannot
// (a Check that accepts everything), whose principals come from the map
// path (Mapping.Principal over Token.Claims).
func directAuthenticators(t testing.TB) (direct, mapped *TokenAuthenticator, secret []byte) {
	t.Helper()
	secret = []byte("0123456789abcdef0123456789abcdef")
	set, err := NewStaticKeySet([]Key{SecretKey(secret)}, []string{HS256})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1_800_000_000, 0)
	v, err := NewVerifier(VerifierConfig{Issuer: "https://issuer.test/", Audience: []string{"api"}, Algorithms: []string{HS256}, Keys: set, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	direct = NewTokenAuthenticator(v, Mapping{Provider: "test"})
	mapped = NewTokenAuthenticator(v, Mapping{Provider: "test"})
	mapped.check = func(context.Context, *Token) error { return nil }
	if !direct.direct() || mapped.direct() {
		t.Fatalf("direct() = %v and %v, want true and false", direct.direct(), mapped.direct())
	}
	return direct, mapped, secret
}

// directPayloads are claim sets of every shape the mapping reads, and
// some it must refuse.
func directPayloads() []string {
	many := make([]string, 20)
	for i := range many {
		many[i] = fmt.Sprintf("r%d", i)
	}
	roles := `["` + strings.Join(many, `","`) + `"]`
	base := `"iss":"https://issuer.test/","sub":"u","exp":1800003600`
	return []string{
		`{"iss":"https://issuer.test/","sub":"auth0|5f7c8ec7","aud":["api","other"],"exp":1800003600,"iat":1800000000,"jti":"j-1","azp":"c","scope":"openid profile email","email":"a@b.test","name":"A B"}`,
		`{"iss":"https:\/\/issuer.test\/","sub":"caf\u00e9 \"q\"","aud":"api","exp":1800003600,"scope":"a\/b c\u0020d","name":"line\nbreak"}`,
		`{` + base + `,"aud":"api","roles":` + roles + `,"scp":["x","y","z"],"permissions":["p1","p2"],"tenant":"t1"}`,
		`{` + base + `,"aud":["api","b","c","d","e","f","g","h","i","j","k","l","m"],"roles":["a"],"scope":"s1 s2"}`,
		`{` + base + `,"aud":["api","b","c","d","e","f","g","h","i","j","k"],"roles":["a"]}`,
		`{` + base + `,"aud":"api","scope":"","roles":[],"permissions":null,"scp":"ignored"}`,
		`{` + base + `,"aud":"api","scope":42,"scp":"x y  z","roles":"admin","tenant":7,"email":true,"jti":1}`,
		`{` + base + `,"aud":"api","scope":"x\u2003y\u00a0z","roles":["a",1,null,"b"],"permissions":["p",{"q":1}]}`,
		`{` + base + `,"aud":"api","nbf":1799999000,"iat":1799999999.5,"exp":1800003600.25,"realm":{"roles":["x"]},"tid":"t9"}`,
		`{` + base + `,"aud":"api","name":"dup","name":"dup"}`,
		`{` + base + `,"aud":"api","Name":"a","name":"b"}`,
		`{` + base + `,"aud":"other"}`,
		`{` + base + `,"aud":["api",3]}`,
		`{"iss":"https://issuer.test/","sub":"u","aud":"api","exp":1799999000}`,
		`{"iss":"https://issuer.test/","sub":"u","aud":"api"}`,
		`{"iss":"https://evil.test/","sub":"u","aud":"api","exp":1800003600}`,
		`{"iss":"https://issuer.test/","sub":"","aud":"api","exp":1800003600}`,
		`{"iss":"https://issuer.test/","sub":"u","aud":"api","exp":1800003600,"nbf":1800001000}`,
		`{` + base + `,"aud":"api"} `,
		`[1]`,
	}
}

// checkDirect verifies token on both paths and fails unless they agree:
// the same error, or principals equal field for field (Claims by their
// members, nil and empty lists told apart).
func checkDirect(t *testing.T, direct, mapped *TokenAuthenticator, token string) *authgate.Principal {
	t.Helper()
	got, err := direct.Verify(t.Context(), token)
	wantTok, wantErr := mapped.VerifyToken(t.Context(), token)
	if (err == nil) != (wantErr == nil) || err != nil && err.Error() != wantErr.Error() {
		t.Fatalf("direct path: %v\nmap path:    %v", err, wantErr)
	}
	if err != nil {
		var ae *authgate.Error
		if !errors.As(err, &ae) || !errors.Is(err, ae.Kind) {
			t.Fatalf("direct path: %v is no authgate.Error", err)
		}
		return nil
	}
	want := mapped.Principal(wantTok)
	if !equalPrincipals(got, want) {
		t.Fatalf("direct path: %+v\nmap path:    %+v", got, want)
	}
	for _, l := range [][2][]string{{got.Audience, want.Audience}, {got.Roles, want.Roles}, {got.Scopes, want.Scopes}, {got.Permissions, want.Permissions}} {
		if (l[0] == nil) != (l[1] == nil) || cap(l[0]) != len(l[0]) {
			t.Fatalf("direct path lists %q (caps %d), map path %q", l[0], cap(l[0]), l[1])
		}
	}
	return got
}

// TestDirectPrincipal: Verify's direct path hands out the principal the
// map path builds, and refuses what it refuses with the same error, for
// claim sets of every shape the mapping reads; a key bound to an issuer
// template still needs the token's own tenant.
func TestDirectPrincipal(t *testing.T) {
	direct, mapped, secret := directAuthenticators(t)
	accepted := 0
	for _, payload := range directPayloads() {
		token := jwttest.Sign(HS256, secret, []byte(`{"alg":"HS256","typ":"JWT"}`), []byte(payload))
		if p := checkDirect(t, direct, mapped, token); p != nil {
			accepted++
			sub, _ := p.Claims.GetString("sub")
			if sub != p.Subject {
				t.Errorf("Claims.sub = %q, Subject %q", sub, p.Subject)
			}
		}
		checkDirect(t, direct, mapped, token[:len(token)-2]+"AA") // a bad signature
	}
	if accepted != 9 {
		t.Errorf("%d claim sets accepted, want 9", accepted)
	}

	tmpl := "https://login.test/" + tenantPlaceholder + "/v2.0"
	k := SecretKey(secret)
	k.Issuer = tmpl
	set, err := NewStaticKeySet([]Key{k}, []string{HS256})
	if err != nil {
		t.Fatal(err)
	}
	v, err := NewVerifier(VerifierConfig{Issuer: "https://login.test/t1/v2.0", Audience: []string{"api"}, Algorithms: []string{HS256}, Keys: set, Now: direct.verifier.now})
	if err != nil {
		t.Fatal(err)
	}
	direct = NewTokenAuthenticator(v, Mapping{})
	mapped = NewTokenAuthenticator(v, Mapping{})
	mapped.check = func(context.Context, *Token) error { return nil }
	for tid, ok := range map[string]bool{`"t1"`: true, `"t2"`: false, `null`: false} {
		payload := `{"iss":"https://login.test/t1/v2.0","sub":"u","aud":"api","exp":1800003600,"tid":` + tid + `}`
		p := checkDirect(t, direct, mapped, jwttest.Sign(HS256, secret, []byte(`{"alg":"HS256"}`), []byte(payload)))
		if (p != nil) != ok {
			t.Errorf("tid %s: accepted = %v, want %v", tid, p != nil, ok)
		}
	}
}

// TestDirectPath: only an authenticator that nothing but the mapping
// reads tokens of takes the direct path.
func TestDirectPath(t *testing.T) {
	direct, _, _ := directAuthenticators(t)
	base := direct.verifier
	verifier := func(change func(*VerifierConfig)) *Verifier {
		c := VerifierConfig{Issuer: base.issuer, Audience: base.audience, Algorithms: []string{HS256}, Keys: base.keys, Now: base.now}
		change(&c)
		v, err := NewVerifier(c)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for name, a := range map[string]TokenAuthenticator{
		"check":        {verifier: base, check: func(context.Context, *Token) error { return nil }},
		"extend":       {verifier: base, extend: func(*Token, *authgate.Principal) {}},
		"unsigned":     {verifier: base, unsigned: true},
		"roles claim":  {verifier: base, mapping: Mapping{RolesClaim: "realm.roles"}},
		"tenant claim": {verifier: base, mapping: Mapping{TenantClaim: "org"}},
		"validate":     {verifier: verifier(func(c *VerifierConfig) { c.Validate = func(*Token) error { return nil } })},
		"claim rules":  {verifier: verifier(func(c *VerifierConfig) { c.Claims = Claims{"org": {Essential: true}} })},
		"cache":        {verifier: verifier(func(c *VerifierConfig) { c.CacheSize = 10 })},
	} {
		if a.direct() {
			t.Errorf("%s: direct() = true", name)
		}
	}
	a := TokenAuthenticator{verifier: base, mapping: Mapping{RolesClaim: "roles", TenantClaim: "tenant"}}
	if !a.direct() {
		t.Error("default claim names spelled out: direct() = false")
	}
}

// TestDirectPrincipalIsolation: the direct path's scratch tokens are
// reused, and nothing a principal holds is: principals verified
// concurrently stay what they were after many more verifications, and a
// handler writing to one changes no other.
func TestDirectPrincipalIsolation(t *testing.T) {
	direct, mapped, secret := directAuthenticators(t)
	const workers, rounds = 4, 200
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Go(func() {
			type kept struct {
				p, want *authgate.Principal
			}
			var all []kept
			for i := range rounds {
				payload := fmt.Sprintf(`{"iss":"https://issuer.test/","sub":"w%d-%d","aud":["api","a%d"],"exp":1800003600,"roles":["r%d"],"scope":"s%d t%d","tenant":"t%d","email":"e%d"}`, w, i, i, i, i, i, i, i)
				token := jwttest.Sign(HS256, secret, []byte(`{"alg":"HS256"}`), []byte(payload))
				p, err := direct.Verify(context.Background(), token)
				if err != nil {
					errs <- err
					return
				}
				tok, err := mapped.VerifyToken(context.Background(), token)
				if err != nil {
					errs <- err
					return
				}
				all = append(all, kept{p, mapped.Principal(tok)})
				if i%2 == 0 {
					scribble2(p) // a handler's writes stay in its principal
					all[len(all)-1].want = nil
				}
			}
			for i, k := range all {
				if k.want != nil && !equalPrincipals(k.p, k.want) {
					errs <- fmt.Errorf("worker %d, principal %d changed: %+v, want %+v", w, i, k.p, k.want)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

// TestDirectAllocs: an HS256 token of the benchmark's shape costs the
// direct path two allocations: the decode buffer and the principal.
func TestDirectAllocs(t *testing.T) {
	if testing.CoverMode() != "" || raceEnabled {
		t.Skip("allocation counts differ under -cover and -race (where sync.Pool drops items at random)")
	}
	direct, _, secret := directAuthenticators(t)
	payload := `{"iss":"https://issuer.test/","sub":"auth0|5f7c8ec7c33c6c004bbafe82","aud":["api","https://issuer.test/userinfo"],"exp":1800003600,"iat":1800000000,"jti":"6c0e7a1d-6a5f-4a0b-9a41-1f3b2f3c4d5e","azp":"VvQ8kZ3m1y2xJ4pL","scope":"openid profile email read:articles write:articles"}`
	token := jwttest.Sign(HS256, secret, []byte(`{"alg":"HS256","typ":"JWT"}`), []byte(payload))
	if _, err := direct.Verify(t.Context(), token); err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(200, func() {
		if _, err := direct.Verify(context.Background(), token); err != nil {
			t.Fatal(err)
		}
	}); n > 2 {
		t.Errorf("%v allocations a verification, want at most 2", n)
	}
}

// TestDirectPrincipalSize: a principal of the direct path, with the
// allocator's 8-byte header, fills its 576-byte size class and no more
// (directInline).
func TestDirectPrincipalSize(t *testing.T) {
	if n := unsafe.Sizeof(directPrincipal{}) + 8; n > 576 || n+unsafe.Sizeof("") <= 576 {
		t.Errorf("directPrincipal is %d bytes with its header: set directInline so that it is at most 576, and a string more would not fit", n)
	}
}

// FuzzDirectPrincipal: for any claim set, the direct path and the map
// path agree (checkDirect).
func FuzzDirectPrincipal(f *testing.F) {
	for _, p := range directPayloads() {
		f.Add([]byte(p))
	}
	direct, mapped, secret := directAuthenticators(f)
	f.Fuzz(func(t *testing.T, payload []byte) {
		checkDirect(t, direct, mapped, jwttest.Sign(HS256, secret, []byte(`{"alg":"HS256","typ":"JWT"}`), payload))
	})
}
