package providers

import (
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/internal/jwttest"
)

func headerCacheVerifier(t *testing.T) *Verifier {
	t.Helper()
	keys, err := NewStaticKeySet([]Key{SecretKey(jwttest.Key("HS256", "headers").([]byte))}, []string{"HS256"})
	if err != nil {
		t.Fatal(err)
	}
	v, err := NewVerifier(VerifierConfig{Issuer: "https://issuer.test/", Audience: []string{"api"}, Algorithms: []string{"HS256"}, Keys: keys,
		CriticalHeaders: []string{"urn:x"}, Now: func() time.Time { return time.Unix(1_800_000_000, 0) }})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func headerCacheToken(header string, key any) string {
	return jwttest.Sign("HS256", key, []byte(header), jwttest.JSON(map[string]any{
		"iss": "https://issuer.test/", "aud": "api", "sub": "alice", "exp": 1_800_000_300, "iat": 1_799_999_999}))
}

// TestHeaderCacheHit: a header remembered from a verified token gives a
// later token exactly what decoding and checking it gives, and each token
// its own copy, nested values included.
func TestHeaderCacheHit(t *testing.T) {
	key := jwttest.Key("HS256", "headers")
	for _, header := range []string{
		`{"alg":"HS256","typ":"JWT"}`,
		`{"alg":"HS256","kid":"","typ":"jwt","x":{"y":[1,"z"]}}`,
		`{"alg":"HS256","crit":["urn:x"],"urn:x":[true]}`,
	} {
		t.Run(header, func(t *testing.T) {
			v := headerCacheVerifier(t)
			token := headerCacheToken(header, key)
			first, err := v.Verify(t.Context(), token)
			if err != nil {
				t.Fatal(err)
			}
			if v.headers.lookup(headerSegment(token)) == nil {
				t.Fatal("the header of a verified token is not remembered")
			}
			want := *first
			want.Header = authgate.AdoptObject(first.Header).Map()
			// Each caller owns its token: write everywhere in the header
			// of the first token and of one built from the remembered
			// header, then check a third.
			for range 2 {
				for k, val := range first.Header {
					if l, ok := val.([]any); ok {
						l[0] = "changed"
					}
					if m, ok := val.(map[string]any); ok {
						m["y"] = "changed"
					}
					first.Header[k] = "changed"
				}
				first.Header["new"] = 1.0
				if first, err = v.Verify(t.Context(), token); err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(first.Header, want.Header) || first.Algorithm != want.Algorithm || first.KeyID != want.KeyID || first.Type != want.Type {
					t.Fatalf("Verify from the remembered header = %v %q %q %q, want %v %q %q %q", first.Header, first.Algorithm, first.KeyID, first.Type,
						want.Header, want.Algorithm, want.KeyID, want.Type)
				}
			}
		})
	}
}

func headerSegment(token string) string {
	h, _, _, _ := split(token, MaxTokenSizeLimit)
	return h
}

// TestHeaderCacheOnlyVerified: the header of a token whose signature does
// not verify is never remembered, and a remembered header does not spare
// a later token its signature check or the header checks of another
// header.
func TestHeaderCacheOnlyVerified(t *testing.T) {
	v := headerCacheVerifier(t)
	good := jwttest.Key("HS256", "headers")
	forger := jwttest.Key("HS256", "forger")
	header := `{"alg":"HS256","kid":"","typ":"JWT"}`
	forged := headerCacheToken(header, forger)
	if _, err := v.Verify(t.Context(), forged); !errors.Is(err, authgate.ErrInvalidSignature) {
		t.Fatalf("Verify(forged) = %v, want ErrInvalidSignature", err)
	}
	if v.headers.lookup(headerSegment(forged)) != nil {
		t.Fatal("the header of a forged token was remembered")
	}
	if _, err := v.Verify(t.Context(), headerCacheToken(header, good)); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(t.Context(), forged); !errors.Is(err, authgate.ErrInvalidSignature) {
		t.Fatalf("Verify(forged) with its header remembered = %v, want ErrInvalidSignature", err)
	}
	for _, tt := range []struct {
		header  string
		wantErr error
	}{
		{`{"alg":"HS256","kid":"","typ":"JWT","jku":"https://evil.test/"}`, authgate.ErrUnsupportedAlgorithm},
		{`{"alg":"HS256","kid":"","typ":"text/plain"}`, authgate.ErrInvalidCredentials},
		{`{"alg":"HS256","kid":7,"typ":"JWT"}`, authgate.ErrMalformedToken},
	} {
		if _, err := v.Verify(t.Context(), headerCacheToken(tt.header, good)); !errors.Is(err, tt.wantErr) {
			t.Errorf("Verify(%s) = %v, want %v", tt.header, err, tt.wantErr)
		}
	}
}

// TestHeaderCacheBounded: many distinct verified headers, some verified
// concurrently, all verify, and the cache never holds more than
// maxHeaderEntries of them.
func TestHeaderCacheBounded(t *testing.T) {
	v := headerCacheVerifier(t)
	key := jwttest.Key("HS256", "headers")
	var tokens []string
	for i := range 3 * maxHeaderEntries {
		tokens = append(tokens, headerCacheToken(fmt.Sprintf(`{"alg":"HS256","typ":"JWT","n":%d}`, i), key))
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 200 {
				if _, err := v.Verify(t.Context(), tokens[(i*(g+1))%len(tokens)]); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if p := v.headers.entries.Load(); p == nil || len(*p) == 0 || len(*p) > maxHeaderEntries {
		t.Fatalf("header cache holds %v entries, want 1 to %d", p, maxHeaderEntries)
	}
}
