package providers_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/internal/jwttest"
	"github.com/authgate/authgate/providers"
)

var presetNow = time.Unix(1_800_000_000, 0)

func presetToken(t *testing.T, edit func(map[string]any)) string {
	t.Helper()
	c := map[string]any{"iss": "https://idp.example", "aud": "api", "sub": "u1",
		"exp": presetNow.Add(time.Hour).Unix(), "iat": presetNow.Unix(), "scope": "read"}
	if edit != nil {
		edit(c)
	}
	return jwttest.Token("ES256", "k1", jwttest.Key("ES256", "preset"), c)
}

func presetKeys(t *testing.T) providers.KeySet {
	t.Helper()
	k := providers.PublicKey(jwttest.Public(jwttest.Key("ES256", "preset")))
	k.ID = "k1"
	ks, err := providers.NewStaticKeySet([]providers.Key{k}, []string{"ES256"})
	if err != nil {
		t.Fatal(err)
	}
	return ks
}

// TestPresetHooks pins what each hook of the shared path means: Validate
// runs on verification only, Check on every request (cache hits included),
// Principal completes the mapping, and a hook's bare error is classified by
// the sentinel it wraps (none: invalid credentials).
func TestPresetHooks(t *testing.T) {
	var validated, checked atomic.Int64
	var checkErr atomic.Pointer[error]
	p := providers.Preset{
		Package:    "custom",
		Issuer:     "https://idp.example",
		Keys:       presetKeys(t),
		Algorithms: []string{"ES256"},
		Method:     "custom-jwt",
		Validate:   func(*providers.Token) error { validated.Add(1); return nil },
		Check: func(context.Context, *providers.Token) error {
			checked.Add(1)
			if e := checkErr.Load(); e != nil {
				return *e
			}
			return nil
		},
		Principal: func(t *providers.Token, p *authgate.Principal) { p.Name = "from hook" },
	}
	a, err := p.New(providers.TokenOptions{Audience: []string{"api"}, CacheSize: 10, Now: func() time.Time { return presetNow }}, providers.FetchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tok := presetToken(t, nil)
	for i := range 3 {
		pr, err := a.Verify(t.Context(), tok)
		if err != nil {
			t.Fatalf("Verify #%d = %v", i+1, err)
		}
		if pr.Name != "from hook" || pr.Method != "custom-jwt" || pr.Provider != "custom" || pr.Subject != "u1" {
			t.Fatalf("principal = %+v", pr)
		}
	}
	if v, c := validated.Load(), checked.Load(); v != 1 || c != 3 {
		t.Fatalf("Validate ran %d times and Check %d times for three presentations, want 1 and 3", v, c)
	}
	tests := []struct {
		name    string
		err     error
		wantErr error
		status  int
	}{
		{"plain error fails closed", errors.New("no"), authgate.ErrInvalidCredentials, 401},
		{"bare sentinel", authgate.ErrRevoked, authgate.ErrRevoked, 401},
		{"wrapped unavailable", errors.Join(errors.New("db down"), authgate.ErrUnavailable), authgate.ErrUnavailable, 503},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			checkErr.Store(&tc.err)
			_, err := a.Verify(t.Context(), tok)
			var e *authgate.Error
			if !errors.Is(err, tc.wantErr) || !errors.As(err, &e) || e.Provider != "custom" {
				t.Fatalf("Verify with Check error %v = %v, want %v from provider custom", tc.err, err, tc.wantErr)
			}
			if got := authgate.StatusCode(err); got != tc.status {
				t.Fatalf("StatusCode = %d, want %d", got, tc.status)
			}
		})
	}
	checkErr.Store(nil)
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Authorization", "Bearer "+tok)
	if _, err := a.Authenticate(r); err != nil {
		t.Fatalf("Authenticate = %v", err)
	}
}

// TestPresetErrors: construction errors are prefixed once, with the
// package (and a custom name), and name only fields TokenOptions has.
func TestPresetErrors(t *testing.T) {
	keys := presetKeys(t)
	tests := []struct {
		name string
		p    providers.Preset
		opts providers.TokenOptions
		want string
	}{
		{"no issuer", providers.Preset{Package: "x", Keys: keys, Algorithms: []string{"ES256"}}, providers.TokenOptions{Audience: []string{"a"}}, "x: an issuer is required"},
		{"no audience", providers.Preset{Package: "x", Issuer: "https://i", Keys: keys, Algorithms: []string{"ES256"}}, providers.TokenOptions{}, "x: an audience is required (Audience, or AuthorizedParties)"},
		{"custom name", providers.Preset{Package: "x", Issuer: "https://i", Keys: keys, Algorithms: []string{"ES256"}}, providers.TokenOptions{Name: "corp"}, "x: corp: an audience is required"},
		{"no algorithms", providers.Preset{Package: "x", Issuer: "https://i", Keys: keys}, providers.TokenOptions{Audience: []string{"a"}}, "x: no algorithms allowed (Algorithms)"},
		{"no keys", providers.Preset{Package: "x", Issuer: "https://i", Algorithms: []string{"ES256"}}, providers.TokenOptions{Audience: []string{"a"}}, "x: no keys"},
		{"leeway", providers.Preset{Package: "x", Issuer: "https://i", Keys: keys, Algorithms: []string{"ES256"}}, providers.TokenOptions{Audience: []string{"a"}, Leeway: time.Hour}, "x: leeway"},
		{"remote hmac", providers.Preset{Package: "x", Issuer: "https://i", JWKSURL: "https://i/jwks"}, providers.TokenOptions{Audience: []string{"a"}, Algorithms: []string{"HS256"}}, "x: HS256 needs a shared secret"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.p.New(tc.opts, providers.FetchOptions{})
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Fatalf("New = %v, want an error starting with %q", err, tc.want)
			}
			if strings.Count(err.Error(), "x: ") != 1 || strings.Contains(err.Error(), "Insecure") {
				t.Fatalf("New = %q: prefixed more than once, or names a field TokenOptions lacks", err)
			}
		})
	}
}

// TestPresetIssuers: further exact issuers and an issuer template are
// claimed; anything else stays "not mine"; a key bound to an issuer
// (Entra's JWKS "issuer") verifies only that issuer's tokens, the tenant
// placeholder filled with the token's tid.
func TestPresetIssuers(t *testing.T) {
	const tmpl = "https://login.example/{tenantid}/v2.0"
	k := providers.PublicKey(jwttest.Public(jwttest.Key("ES256", "preset")))
	k.ID, k.Issuer = "k1", tmpl
	ks, err := providers.NewStaticKeySet([]providers.Key{k}, []string{"ES256"})
	if err != nil {
		t.Fatal(err)
	}
	p := providers.Preset{
		Package: "multi", Issuer: "https://accounts.example", Issuers: []string{"accounts.example"},
		MatchIssuer: func(iss string) bool {
			return strings.HasPrefix(iss, "https://login.example/") && strings.HasSuffix(iss, "/v2.0")
		},
		Keys: ks, Algorithms: []string{"ES256"},
	}
	a, err := p.New(providers.TokenOptions{Audience: []string{"api"}, Now: func() time.Time { return presetNow }}, providers.FetchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := a.Describe().Issuers; len(got) != 2 || got[1] != "accounts.example" {
		t.Fatalf("Describe().Issuers = %v", got)
	}
	tests := []struct {
		name    string
		iss     any
		tid     any
		wantErr error
	}{
		{"template with its own tenant", "https://login.example/t1/v2.0", "t1", nil},
		{"template with another tenant's tid", "https://login.example/t1/v2.0", "t2", authgate.ErrInvalidSignature},
		{"template without tid", "https://login.example/t1/v2.0", nil, authgate.ErrInvalidSignature},
		{"exact issuer, key bound to the template", "accounts.example", "t1", authgate.ErrInvalidSignature},
		{"foreign issuer", "https://evil.example/t1/v2.0", "t1", authgate.ErrUnrecognizedCredential},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tok := presetToken(t, func(c map[string]any) {
				c["iss"] = tc.iss
				if tc.tid != nil {
					c["tid"] = tc.tid
				}
			})
			_, err := a.Verify(t.Context(), tok)
			if tc.wantErr == nil && err != nil || tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Fatalf("Verify = %v, want %v", err, tc.wantErr)
			}
		})
	}
}

// TestPresetCheckAudience: a preset that checks the audience itself needs
// no Audience, and its check rejects; Credential replaces the bearer
// header.
func TestPresetCheckAudience(t *testing.T) {
	p := providers.Preset{
		Package: "pool", Issuer: "https://idp.example", Keys: presetKeys(t), Algorithms: []string{"ES256"},
		CheckAudience: func(t *providers.Token) error {
			if t.Claims["client_id"] != "app" {
				return authgate.ErrInvalidAudience
			}
			return nil
		},
		Credential: func(r *http.Request) (string, error) {
			if v := r.Header.Get("X-Assertion"); v != "" {
				return v, nil
			}
			return "", authgate.ErrNoCredentials
		},
	}
	a, err := p.New(providers.TokenOptions{Now: func() time.Time { return presetNow }}, providers.FetchOptions{})
	if err != nil {
		t.Fatalf("New without an audience = %v", err)
	}
	ok := presetToken(t, func(c map[string]any) { delete(c, "aud"); c["client_id"] = "app" })
	other := presetToken(t, func(c map[string]any) { delete(c, "aud"); c["client_id"] = "other" })
	if _, err := a.Verify(t.Context(), ok); err != nil {
		t.Fatalf("Verify(client_id app) = %v", err)
	}
	if _, err := a.Verify(t.Context(), other); !errors.Is(err, authgate.ErrInvalidAudience) {
		t.Fatalf("Verify(client_id other) = %v, want ErrInvalidAudience", err)
	}
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Authorization", "Bearer "+ok)
	if _, err := a.Authenticate(r); !errors.Is(err, authgate.ErrNoCredentials) {
		t.Fatalf("Authenticate(bearer only) = %v, want ErrNoCredentials", err)
	}
	r.Header.Set("X-Assertion", ok)
	if _, err := a.Authenticate(r); err != nil {
		t.Fatalf("Authenticate(X-Assertion) = %v", err)
	}
}

// TestParseKeyIssuer: a JWKS entry's "issuer" binds the key; one that is
// not a string is refused.
func TestParseKeyIssuer(t *testing.T) {
	jwk := jwttest.JWK(jwttest.Key("ES256", "preset"), "k1", "ES256")
	jwk["issuer"] = "https://login.example/{tenantid}/v2.0"
	keys, err := providers.ParseKeys(jwttest.JSON(jwk))
	if err != nil || len(keys) != 1 || keys[0].Issuer != "https://login.example/{tenantid}/v2.0" {
		t.Fatalf("ParseKeys = %+v, %v", keys, err)
	}
	jwk["issuer"] = 7
	if _, err := providers.ParseKeys(jwttest.JSON(jwk)); err == nil {
		t.Fatal(`ParseKeys accepted a non-string "issuer"`)
	}
}

// TestPresetCacheObserver: the verified-token cache reports a miss for a
// token that then verified and a hit for its next presentation; a token
// of another issuer is no lookup of this cache.
func TestPresetCacheObserver(t *testing.T) {
	var mu sync.Mutex
	var got []authgate.Event
	obs := authgate.ObserverFunc(func(_ context.Context, e authgate.Event) {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, e)
	})
	a, err := providers.Preset{Package: "obs", Issuer: "https://idp.example", Keys: presetKeys(t), Algorithms: []string{"ES256"}}.New(
		providers.TokenOptions{Audience: []string{"api"}, CacheSize: 10, Now: func() time.Time { return presetNow }},
		providers.FetchOptions{Observer: obs})
	if err != nil {
		t.Fatal(err)
	}
	tok := presetToken(t, nil)
	for range 2 {
		if _, err := a.Verify(t.Context(), tok); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := a.Verify(t.Context(), presetToken(t, func(c map[string]any) { c["iss"] = "https://other.example" })); err == nil {
		t.Fatal("foreign token accepted")
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 2 || got[0].Outcome != authgate.OutcomeMiss || got[1].Outcome != authgate.OutcomeHit ||
		got[1].Kind != authgate.EventCacheLookup || got[1].Provider != "obs" || got[1].Size != 1 {
		t.Fatalf("events = %+v, want a miss then a hit of size 1", got)
	}
}
