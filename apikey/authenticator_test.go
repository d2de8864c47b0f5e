package apikey_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/apikey"
)

// flipChecksum returns key with its last character changed, so the
// checksum no longer matches.
func flipChecksum(key string) string {
	c := key[len(key)-1]
	r := byte('0')
	if c == '0' {
		r = '1'
	}
	return key[:len(key)-1] + string(r)
}

// TestAuthenticate covers SECURITY.md#attacks-api-keys:
// every way a key can arrive, and which cases reach the store.
func TestAuthenticate(t *testing.T) {
	f := newFixture(t, apikey.Config{})
	valid, _ := f.issue(t, apikey.Key{Roles: []string{"admin"}, Scopes: []string{"orders:read"}})
	revoked, rk := f.issue(t, apikey.Key{})
	if err := f.store.Revoke(context.Background(), rk.ID); err != nil {
		t.Fatal(err)
	}
	expired, _ := f.issue(t, apikey.Key{ExpiresAt: f.clock.Now().Add(time.Hour)})
	unknown, err := apikey.GenerateKey("sk_live") // well-formed, never stored
	if err != nil {
		t.Fatal(err)
	}
	testKey, _ := apikey.GenerateKey("sk_test")
	prefixless := strings.TrimPrefix(valid, "sk_live_")
	f.clock.Add(2 * time.Hour) // "expired" is now past its expiry; the others have none

	type hdr = map[string][]string
	tests := []struct {
		name        string
		header      hdr
		target      string
		wantErr     error // nil: accepted
		wantStatus  int
		wantLookups int64
	}{
		{"X-API-Key", hdr{"X-Api-Key": {valid}}, "", nil, 200, 1},
		{"Authorization ApiKey", hdr{"Authorization": {"ApiKey " + valid}}, "", nil, 200, 1},
		{"scheme is case-insensitive", hdr{"Authorization": {"APIKEY " + valid}}, "", nil, 200, 1},
		{"Bearer with our prefix is routed here (179)", hdr{"Authorization": {"Bearer " + valid}}, "", nil, 200, 1},
		{"bearer lowercase", hdr{"Authorization": {"bearer " + valid}}, "", nil, 200, 1},

		{"no credentials", hdr{}, "", authgate.ErrNoCredentials, 401, 0},
		{"query string is never read (175)", hdr{}, "/orders?api_key=" + valid + "&apikey=" + valid, authgate.ErrNoCredentials, 401, 0},
		{"Bearer JWT is not mine", hdr{"Authorization": {"Bearer eyJhbGciOiJIUzI1NiJ9.e30.sig"}}, "", authgate.ErrUnrecognizedCredential, 401, 0},
		{"Basic is no credential", hdr{"Authorization": {"Basic YWxhZGRpbjpvcGVuc2VzYW1l"}}, "", authgate.ErrNoCredentials, 401, 0},
		{"environment mismatch: sk_test on live (166)", hdr{"X-Api-Key": {testKey}}, "", authgate.ErrUnrecognizedCredential, 401, 0},
		{"Bearer with another prefix", hdr{"Authorization": {"Bearer " + testKey}}, "", authgate.ErrUnrecognizedCredential, 401, 0},
		{"prefix missing", hdr{"X-Api-Key": {prefixless}}, "", authgate.ErrUnrecognizedCredential, 401, 0},
		{"prefix upper-cased (177)", hdr{"X-Api-Key": {strings.Replace(valid, "sk_live", "SK_LIVE", 1)}}, "", authgate.ErrUnrecognizedCredential, 401, 0},

		{"bad checksum, no lookup (165)", hdr{"X-Api-Key": {flipChecksum(valid)}}, "", authgate.ErrMalformedToken, 401, 0},
		{"truncated, no lookup (165)", hdr{"X-Api-Key": {valid[:len(valid)-1]}}, "", authgate.ErrMalformedToken, 401, 0},
		{"one character too many", hdr{"X-Api-Key": {valid + "0"}}, "", authgate.ErrMalformedToken, 401, 0},
		{"body upper-cased (177)", hdr{"X-Api-Key": {"sk_live_" + strings.ToUpper(strings.TrimPrefix(valid, "sk_live_"))}}, "", authgate.ErrInvalidCredentials, 401, 0},
		{"body lower-cased (177)", hdr{"X-Api-Key": {"sk_live_" + strings.ToLower(strings.TrimPrefix(valid, "sk_live_"))}}, "", authgate.ErrInvalidCredentials, 401, 0},
		{"non-base62 body", hdr{"X-Api-Key": {"sk_live_" + strings.Repeat("-", 36)}}, "", authgate.ErrMalformedToken, 401, 0},

		{"unknown key (169)", hdr{"X-Api-Key": {unknown}}, "", authgate.ErrInvalidCredentials, 401, 1},
		{"revoked key", hdr{"X-Api-Key": {revoked}}, "", authgate.ErrRevoked, 401, 1},
		{"expired key", hdr{"X-Api-Key": {expired}}, "", authgate.ErrTokenExpired, 401, 1},

		{"longer than 256 bytes (176)", hdr{"X-Api-Key": {valid + strings.Repeat("a", 257-len(valid))}}, "", authgate.ErrMalformedRequest, 400, 0},
		{"NUL (176)", hdr{"X-Api-Key": {valid[:10] + "\x00" + valid[11:]}}, "", authgate.ErrMalformedRequest, 400, 0},
		{"inner space", hdr{"X-Api-Key": {valid[:10] + " " + valid[11:]}}, "", authgate.ErrMalformedRequest, 400, 0},
		{"trailing space, not trimmed (177)", hdr{"X-Api-Key": {valid + " "}}, "", authgate.ErrMalformedRequest, 400, 0},
		{"tab", hdr{"X-Api-Key": {"\t" + valid}}, "", authgate.ErrMalformedRequest, 400, 0},
		{"non-ASCII", hdr{"X-Api-Key": {valid[:12] + "é" + valid[14:]}}, "", authgate.ErrMalformedRequest, 400, 0},
		{"URL-encoded underscore (176, 177)", hdr{"X-Api-Key": {strings.Replace(valid, "_", "%5F", 1)}}, "", authgate.ErrMalformedRequest, 400, 0},
		{"empty header", hdr{"X-Api-Key": {""}}, "", authgate.ErrMalformedRequest, 400, 0},
		{"ApiKey without a key", hdr{"Authorization": {"ApiKey "}}, "", authgate.ErrMalformedRequest, 400, 0},
		{"ApiKey with two spaces", hdr{"Authorization": {"ApiKey  " + valid}}, "", authgate.ErrMalformedRequest, 400, 0},
		{"header repeated", hdr{"X-Api-Key": {valid, valid}}, "", authgate.ErrMalformedRequest, 400, 0},
		{"Authorization repeated", hdr{"Authorization": {"ApiKey " + valid, "Bearer x"}}, "", authgate.ErrMalformedRequest, 400, 0},
		{"X-API-Key and Bearer JWT (179)", hdr{"X-Api-Key": {valid}, "Authorization": {"Bearer eyJhbGciOiJIUzI1NiJ9.e30.sig"}}, "", authgate.ErrMalformedRequest, 400, 0},
		{"X-API-Key and ApiKey, same key", hdr{"X-Api-Key": {valid}, "Authorization": {"ApiKey " + valid}}, "", authgate.ErrMalformedRequest, 400, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := apikey.New(f.store, apikey.Config{Prefix: "sk_live", CacheTTL: -1, LastUsedInterval: -1, Now: f.clock.Now})
			if err != nil {
				t.Fatal(err)
			}
			target := tt.target
			if target == "" {
				target = "/orders"
			}
			r := httptest.NewRequest(http.MethodGet, target, nil)
			for k, v := range tt.header {
				r.Header[k] = v
			}
			before := f.store.lookups.Load()
			p, err := a.Authenticate(r)
			if lookups := f.store.lookups.Load() - before; lookups != tt.wantLookups {
				t.Errorf("store lookups = %d, want %d", lookups, tt.wantLookups)
			}
			if got := authgate.StatusCode(err); got != tt.wantStatus {
				t.Errorf("StatusCode(%v) = %d, want %d", err, got, tt.wantStatus)
			}
			if tt.wantErr == nil {
				if err != nil || p == nil || p.Subject != "alice" {
					t.Fatalf("Authenticate = %+v, %v; want alice, nil", p, err)
				}
				return
			}
			if !errors.Is(err, tt.wantErr) || p != nil {
				t.Fatalf("Authenticate = %+v, %v; want nil, %v", p, err, tt.wantErr)
			}
			var ae *authgate.Error
			if !errors.As(err, &ae) || ae.Provider != "apikey" || !slices.Equal(ae.Schemes, []string{`ApiKey header="X-API-Key"`}) {
				t.Errorf("error = %#v, want *authgate.Error from apikey with the ApiKey scheme", err)
			}
			if strings.Contains(err.Error(), valid) || strings.Contains(err.Error(), valid[8:30]) {
				t.Errorf("error text contains the key: %q", err)
			}
		})
	}
}

// TestUniformFailure (169): unknown, revoked, expired, bad-checksum and
// wrong-length keys get byte-identical responses.
func TestUniformFailure(t *testing.T) {
	f := newFixture(t, apikey.Config{})
	valid, _ := f.issue(t, apikey.Key{})
	revoked, rk := f.issue(t, apikey.Key{})
	f.auth.Manager().Revoke(context.Background(), rk.ID)
	expired, _ := f.issue(t, apikey.Key{ExpiresAt: f.clock.Now().Add(time.Minute)})
	f.clock.Add(time.Minute)
	unknown, _ := apikey.GenerateKey("sk_live")
	cases := map[string]string{
		"unknown": unknown, "revoked": revoked, "expired": expired,
		"bad checksum": flipChecksum(valid), "wrong length": valid[:len(valid)-2],
	}
	type response struct {
		status int
		header http.Header
		body   string
	}
	var first *response
	var firstName string
	for _, name := range []string{"unknown", "revoked", "expired", "bad checksum", "wrong length"} {
		_, err := f.auth.Authenticate(withKey(cases[name]))
		w := httptest.NewRecorder()
		authgate.WriteError(w, err, "api")
		got := &response{w.Code, w.Header(), w.Body.String()}
		if got.status != 401 || !strings.Contains(got.header.Get("WWW-Authenticate"), `error="invalid_token"`) {
			t.Errorf("%s: status %d, challenge %q; want 401 invalid_token", name, got.status, got.header.Get("WWW-Authenticate"))
		}
		if first == nil {
			first, firstName = got, name
			continue
		}
		if got.status != first.status || got.body != first.body || fmt.Sprint(got.header) != fmt.Sprint(first.header) {
			t.Errorf("%s response differs from %s:\n%d %v %s\n%d %v %s", name, firstName,
				got.status, got.header, got.body, first.status, first.header, first.body)
		}
	}
	if !strings.Contains(first.body, "Invalid API key") {
		t.Errorf("body = %s, want the uniform description", first.body)
	}
}

// TestExpiry (171): now == expires_at rejects, one second before accepts,
// also when the key is served from the cache.
func TestExpiry(t *testing.T) {
	for _, cached := range []bool{false, true} {
		t.Run(fmt.Sprintf("cached=%v", cached), func(t *testing.T) {
			ttl := time.Duration(-1)
			if cached {
				ttl = time.Minute
			}
			f := newFixture(t, apikey.Config{CacheTTL: ttl})
			exp := f.clock.Now().Add(time.Hour)
			key, _ := f.issue(t, apikey.Key{ExpiresAt: exp})
			f.clock.Set(exp.Add(-time.Second))
			if p, err := f.auth.Authenticate(withKey(key)); err != nil || !p.ExpiresAt.Equal(exp) {
				t.Fatalf("at expires_at-1s: Authenticate = %v, %v; want accepted with ExpiresAt %v", p, err, exp)
			}
			f.clock.Set(exp)
			if _, err := f.auth.Authenticate(withKey(key)); !errors.Is(err, authgate.ErrTokenExpired) {
				t.Fatalf("at expires_at: Authenticate = %v, want ErrTokenExpired", err)
			}
		})
	}
}

// TestRevocationLatency (170, 173, 181): a key revoked behind the
// authenticator's back works until the cache TTL runs out, never longer;
// revoked through the authenticator it stops at once; the other key of the
// same owner keeps working.
func TestRevocationLatency(t *testing.T) {
	const ttl = 30 * time.Second
	f := newFixture(t, apikey.Config{CacheTTL: ttl})
	oldKey, old := f.issue(t, apikey.Key{})
	newKey, _ := f.issue(t, apikey.Key{}) // rotation overlap: both work
	for _, k := range []string{oldKey, newKey} {
		if _, err := f.auth.Authenticate(withKey(k)); err != nil {
			t.Fatalf("before revocation: %v", err)
		}
	}
	start := f.clock.Now()
	if err := f.store.Revoke(context.Background(), old.ID); err != nil { // another instance revoked it
		t.Fatal(err)
	}
	for s := time.Duration(0); s <= 60*time.Second; s += time.Second {
		f.clock.Set(start.Add(s))
		_, err := f.auth.Authenticate(withKey(oldKey))
		switch {
		case s < ttl && err != nil:
			t.Fatalf("t+%v (within TTL, cached): %v, want accepted (documented)", s, err)
		case s >= ttl && !errors.Is(err, authgate.ErrRevoked):
			t.Fatalf("t+%v (TTL passed): %v, want ErrRevoked", s, err)
		}
	}
	if _, err := f.auth.Authenticate(withKey(newKey)); err != nil {
		t.Fatalf("new key after old revoked: %v", err)
	}
	// Through the authenticator: immediately.
	if err := f.auth.Manager().Revoke(context.Background(), f.mustID(t, newKey)); err != nil {
		t.Fatal(err)
	}
	if _, err := f.auth.Authenticate(withKey(newKey)); !errors.Is(err, authgate.ErrRevoked) {
		t.Fatalf("right after Authenticator.Manager().Revoke: %v, want ErrRevoked", err)
	}
	if err := f.auth.Manager().Revoke(context.Background(), "nope"); !errors.Is(err, apikey.ErrNotFound) {
		t.Fatalf("Revoke(unknown) = %v, want ErrNotFound", err)
	}
}

func (f *fixture) mustID(t *testing.T, key string) string {
	t.Helper()
	p, err := f.auth.Authenticate(withKey(key))
	if err != nil {
		t.Fatal(err)
	}
	return p.CredentialID
}

// TestStoreFailure (173): a failing or slow store is 503 and nothing is
// marked used; a cached key keeps working (documented).
func TestStoreFailure(t *testing.T) {
	f := newFixture(t, apikey.Config{LookupTimeout: 50 * time.Millisecond})
	cachedKey, _ := f.issue(t, apikey.Key{})
	key, k := f.issue(t, apikey.Key{})
	if _, err := f.auth.Authenticate(withKey(cachedKey)); err != nil {
		t.Fatal(err)
	}
	f.store.failLookup.Store(true)
	_, err := f.auth.Authenticate(withKey(key))
	if !errors.Is(err, authgate.ErrUnavailable) || authgate.StatusCode(err) != 503 {
		t.Fatalf("store down: %v (status %d), want ErrUnavailable 503", err, authgate.StatusCode(err))
	}
	if errors.Is(err, authgate.ErrInvalidCredentials) || authgate.IsNotMine(err) {
		t.Fatalf("store down reported as invalid or not mine: %v", err)
	}
	if _, err := f.auth.Authenticate(withKey(cachedKey)); err != nil {
		t.Fatalf("cached key while store down: %v, want accepted", err)
	}
	f.store.failLookup.Store(false)
	f.store.slowLookup.Store(true)
	start := time.Now()
	_, err = f.auth.Authenticate(withKey(key))
	if !errors.Is(err, authgate.ErrUnavailable) {
		t.Fatalf("slow store: %v, want ErrUnavailable", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("slow store took %v, want bounded by LookupTimeout", d)
	}
	if err := f.auth.Close(); err != nil {
		t.Fatal(err)
	}
	if _, ok := f.store.marked.Load(k.ID); ok {
		t.Fatalf("key marked used although its lookup failed")
	}
	if _, ok := f.store.marked.Load(f.mustIDNoMark(t, cachedKey)); !ok {
		t.Fatalf("cached key not marked used: the test cannot tell")
	}
}

func (f *fixture) mustIDNoMark(t *testing.T, key string) string {
	t.Helper()
	keys, _ := f.store.List(context.Background())
	for _, k := range keys {
		if !k.LastUsedAt.IsZero() {
			return k.ID
		}
	}
	t.Fatal("no key was marked used")
	return ""
}

// TestLastUsed (172): 1 000 requests → one write; another write only after
// the interval; Close writes what is pending; a failing write never fails a
// request.
func TestLastUsed(t *testing.T) {
	const interval = 5 * time.Minute
	f := newFixture(t, apikey.Config{LastUsedInterval: interval})
	key, k := f.issue(t, apikey.Key{})
	ctx := context.Background()
	lastUsed := func() time.Time { return keyByID(t, f.store, k.ID).LastUsedAt }
	for range 1000 {
		if _, err := f.auth.Authenticate(withKey(key)); err != nil {
			t.Fatal(err)
		}
	}
	if f.store.marks.Load() != 0 {
		t.Fatalf("MarkUsed called %d times before any flush, want 0 (not per request)", f.store.marks.Load())
	}
	if err := f.auth.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	t0 := f.clock.Now()
	if f.store.marks.Load() != 1 || !lastUsed().Equal(t0) {
		t.Fatalf("after 1000 requests and a flush: %d writes, last used %v; want 1, %v", f.store.marks.Load(), lastUsed(), t0)
	}
	steps := []struct {
		advance    time.Duration
		wantWrites int64
	}{
		{10 * time.Second, 1}, // within the interval: no write
		{interval - 20*time.Second, 1},
		{10 * time.Second, 2}, // interval reached
		{time.Second, 2},
	}
	for _, st := range steps {
		f.clock.Add(st.advance)
		for range 100 {
			f.auth.Authenticate(withKey(key))
		}
		f.auth.Flush(ctx)
		if got := f.store.marks.Load(); got != st.wantWrites {
			t.Fatalf("at t0+%v: %d writes, want %d", f.clock.Now().Sub(t0), got, st.wantWrites)
		}
	}
	// Failing writes: requests still succeed; Close reports the error.
	f.store.failMark.Store(true)
	f.clock.Add(time.Second)
	if _, err := f.auth.Authenticate(withKey(key)); err != nil {
		t.Fatalf("request while last-use writes fail: %v", err)
	}
	if err := f.auth.Close(); !errors.Is(err, errStoreDown) {
		t.Fatalf("Close with failing store = %v, want the store error", err)
	}
	f.store.failMark.Store(false)
	// Close is final: a successful Close writes what is pending.
	f2 := newFixture(t, apikey.Config{LastUsedInterval: interval})
	key2, k2 := f2.issue(t, apikey.Key{})
	f2.auth.Authenticate(withKey(key2))
	if err := f2.auth.Close(); err != nil {
		t.Fatal(err)
	}
	if got := keyByID(t, f2.store, k2.ID).LastUsedAt; !got.Equal(f2.clock.Now()) {
		t.Fatalf("after Close, last used = %v, want %v", got, f2.clock.Now())
	}
}

func keyByID(t *testing.T, s apikey.Store, id string) apikey.Key {
	t.Helper()
	keys, err := s.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if k.ID == id {
			return k
		}
	}
	t.Fatalf("no key %s", id)
	return apikey.Key{}
}

// TestPrincipal: the principal's fields, and that principals handed out
// share nothing a handler could corrupt.
func TestPrincipal(t *testing.T) {
	f := newFixture(t, apikey.Config{Name: "partners"})
	exp := f.clock.Now().Add(24 * time.Hour)
	key, k := f.issue(t, apikey.Key{Subject: "svc-42", Tenant: "acme", Roles: []string{"admin", "ops"}, Scopes: []string{"orders:read"}, ExpiresAt: exp})
	for i := range 3 { // uncached, cached, cached
		p, err := f.auth.Authenticate(withKey(key))
		if err != nil {
			t.Fatal(err)
		}
		want := authgate.Principal{Provider: "partners", Method: "apikey", Subject: "svc-42", Tenant: "acme",
			Roles: []string{"admin", "ops"}, Scopes: []string{"orders:read"}, CredentialID: k.ID, ExpiresAt: exp, IssuedAt: k.CreatedAt}
		if p.Provider != want.Provider || p.Method != want.Method || p.Subject != want.Subject || p.Tenant != want.Tenant ||
			!slices.Equal(p.Roles, want.Roles) || !slices.Equal(p.Scopes, want.Scopes) || p.CredentialID != want.CredentialID ||
			!p.ExpiresAt.Equal(want.ExpiresAt) || !p.IssuedAt.Equal(want.IssuedAt) || !p.Claims.IsZero() {
			t.Fatalf("request %d: principal = %+v, want %+v", i, p, want)
		}
		if !p.HasScope("orders:read") || p.HasScope("orders:write") {
			t.Errorf("HasScope wrong: a guard would not give 403 for a missing scope (178)")
		}
		// A handler that scribbles on its principal.
		p.Roles[0] = "root"
		p.Roles = append(p.Roles, "extra")
		p.Scopes[0] = "everything"
	}
}

// TestCachedAllocations: a cached hit allocates at most twice.
func TestCachedAllocations(t *testing.T) {
	if testing.CoverMode() != "" || raceEnabled {
		t.Skip("allocation counts differ under -cover and -race")
	}
	f := newFixture(t, apikey.Config{})
	key, _ := f.issue(t, apikey.Key{Roles: []string{"admin"}, Scopes: []string{"a"}})
	r := withKey(key)
	if _, err := f.auth.Authenticate(r); err != nil {
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(1000, func() {
		if _, err := f.auth.Authenticate(r); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > 2 {
		t.Fatalf("cached Authenticate allocates %v times, want ≤ 2", allocs)
	}
}

// TestStoreReturnsWrongRecord (168): the digest the store returns is
// compared with the one asked for, in constant time, and a mismatch is a
// rejection.
func TestStoreReturnsWrongRecord(t *testing.T) {
	f := newFixture(t, apikey.Config{})
	key, _ := f.issue(t, apikey.Key{})
	f.store.wrongRecord.Store(true)
	if _, err := f.auth.Authenticate(withKey(key)); !errors.Is(err, authgate.ErrInvalidCredentials) {
		t.Fatalf("Authenticate with a store returning another record = %v, want ErrInvalidCredentials", err)
	}
	src, err := os.ReadFile("authenticator.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(src, []byte("subtle.ConstantTimeCompare(rec.Digest[:], d[:])")) {
		t.Fatalf("authenticator.go no longer compares digests with subtle.ConstantTimeCompare")
	}
}

// TestPepper: with a pepper, keys are issued and verified with
// HMAC-SHA256; a key hashed without the pepper is unknown.
func TestPepper(t *testing.T) {
	pepper := bytes.Repeat([]byte("p"), 32)
	f := newFixture(t, apikey.Config{Pepper: pepper})
	key, _ := f.issue(t, apikey.Key{})
	if _, err := f.auth.Authenticate(withKey(key)); err != nil {
		t.Fatalf("peppered key: %v", err)
	}
	unpeppered, err := apikey.NewManager(f.store, apikey.Config{Prefix: "sk_live"})
	if err != nil {
		t.Fatal(err)
	}
	plain, _, err := unpeppered.Issue(context.Background(), apikey.Key{Subject: "bob"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.auth.Authenticate(withKey(plain)); !errors.Is(err, authgate.ErrInvalidCredentials) {
		t.Fatalf("unpeppered key on a peppered authenticator = %v, want ErrInvalidCredentials", err)
	}
	other, err := apikey.New(f.store, apikey.Config{Prefix: "sk_live", Pepper: bytes.Repeat([]byte("q"), 32)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.Authenticate(withKey(key)); !errors.Is(err, authgate.ErrInvalidCredentials) {
		t.Fatalf("key under another pepper = %v, want ErrInvalidCredentials", err)
	}
}

func TestNewConfig(t *testing.T) {
	store := apikey.NewMemoryStore()
	tests := []struct {
		name    string
		cfg     apikey.Config
		wantErr error // nil: valid; errAny: any error
	}{
		{"minimal", apikey.Config{Prefix: "sk"}, nil},
		{"stripe style", apikey.Config{Prefix: "sk_live"}, nil},
		{"everything", apikey.Config{Prefix: "acme_rk_test", Header: "X-Acme-Key", Pepper: make([]byte, 32),
			CacheTTL: time.Minute, CacheSize: 5, LastUsedInterval: time.Second, LookupTimeout: time.Second}, nil},
		{"no prefix", apikey.Config{}, apikey.ErrInvalidPrefix},
		{"prefix upper-case", apikey.Config{Prefix: "SK"}, apikey.ErrInvalidPrefix},
		{"prefix trailing underscore", apikey.Config{Prefix: "sk_"}, apikey.ErrInvalidPrefix},
		{"prefix double underscore", apikey.Config{Prefix: "sk__live"}, apikey.ErrInvalidPrefix},
		{"prefix starting with a digit", apikey.Config{Prefix: "1sk"}, apikey.ErrInvalidPrefix},
		{"prefix with a dash", apikey.Config{Prefix: "sk-live"}, apikey.ErrInvalidPrefix},
		{"prefix too long", apikey.Config{Prefix: strings.Repeat("a", 220)}, apikey.ErrInvalidPrefix},
		{"header Authorization", apikey.Config{Prefix: "sk", Header: "authorization"}, errAny},
		{"header with a space", apikey.Config{Prefix: "sk", Header: "X Key"}, errAny},
		{"header with a quote", apikey.Config{Prefix: "sk", Header: `X"Key`}, errAny},
		{"short pepper", apikey.Config{Prefix: "sk", Pepper: make([]byte, 31)}, errAny},
		{"cache TTL above the bound", apikey.Config{Prefix: "sk", CacheTTL: time.Minute + 1}, errAny},
		{"negative cache size", apikey.Config{Prefix: "sk", CacheSize: -1}, errAny},
		{"last-used interval too short", apikey.Config{Prefix: "sk", LastUsedInterval: time.Millisecond}, errAny},
		{"negative lookup timeout", apikey.Config{Prefix: "sk", LookupTimeout: -1}, errAny},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := apikey.New(store, tt.cfg)
			switch {
			case tt.wantErr == nil && err != nil:
				t.Fatalf("New = %v, want nil", err)
			case tt.wantErr == errAny && err == nil, tt.wantErr != nil && tt.wantErr != errAny && !errors.Is(err, tt.wantErr):
				t.Fatalf("New = %v, want %v", err, tt.wantErr)
			}
			if err == nil {
				a.Close()
			} else if !strings.HasPrefix(err.Error(), "apikey: ") {
				t.Errorf("error %q lacks the package prefix", err)
			}
		})
	}
	if _, err := apikey.New(nil, apikey.Config{Prefix: "sk"}); err == nil {
		t.Errorf("New(nil store) = nil error")
	}
}

var errAny = errors.New("any error")

func TestDescribe(t *testing.T) {
	a, err := apikey.New(apikey.NewMemoryStore(), apikey.Config{Prefix: "sk", Header: "X-Acme-Key"})
	if err != nil {
		t.Fatal(err)
	}
	var d authgate.Describer = a
	want := authgate.Description{Name: "apikey", Scheme: `ApiKey header="X-Acme-Key"`}
	if got := d.Describe(); got.Name != want.Name || got.Scheme != want.Scheme || got.Issuers != nil {
		t.Fatalf("Describe() = %+v, want %+v", got, want)
	}
	// The custom header is read, X-API-Key is then not.
	f := newFixture(t, apikey.Config{Header: "X-Acme-Key"})
	key, _ := f.issue(t, apikey.Key{})
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("X-Acme-Key", key)
	if _, err := f.auth.Authenticate(r); err != nil {
		t.Fatalf("custom header: %v", err)
	}
	if _, err := f.auth.Authenticate(withKey(key)); !errors.Is(err, authgate.ErrNoCredentials) {
		t.Fatalf("X-API-Key with a custom header configured = %v, want ErrNoCredentials", err)
	}
	_, err = f.auth.Authenticate(httptest.NewRequest("GET", "/", nil))
	if got := authgate.Challenge(err, "api"); got != `ApiKey realm="api", header="X-Acme-Key"` {
		t.Fatalf("Challenge(no credentials) = %q", got)
	}
}

// TestSecretHygiene (180, 191): with every case of this file's fixtures,
// neither logs nor errors contain a key.
func TestSecretHygiene(t *testing.T) {
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	f := newFixture(t, apikey.Config{Logger: logger, LastUsedInterval: time.Second})
	key, k := f.issue(t, apikey.Key{})
	bad := flipChecksum(key)
	f.store.failMark.Store(true)
	var errs []string
	for _, v := range []string{key, bad, key + " ", key + "\x00", strings.Repeat(key, 6)} {
		for _, h := range []string{"X-Api-Key", "Authorization"} {
			r := httptest.NewRequest("GET", "/?api_key="+key, nil)
			if h == "Authorization" {
				v = "ApiKey " + v
			}
			r.Header[h] = []string{v}
			if _, err := f.auth.Authenticate(r); err != nil {
				errs = append(errs, err.Error(), fmt.Sprintf("%+v %#v", err, err))
			}
		}
	}
	f.store.failLookup.Store(true)
	f.clock.Add(time.Hour)
	if _, err := f.auth.Authenticate(withKey(bad[:len(bad)-1] + "x")); err != nil {
		errs = append(errs, err.Error())
	}
	f.auth.Flush(context.Background())
	f.auth.Close()
	if !strings.Contains(logs.String(), "recording last use failed") {
		t.Fatalf("no log line captured: the test cannot fail. logs: %q", logs.String())
	}
	all := logs.String() + strings.Join(errs, "\n")
	body := strings.TrimPrefix(key, "sk_live_")
	for _, needle := range []string{key, body, body[:20], body[len(body)-20:]} {
		if strings.Contains(all, needle) {
			t.Fatalf("logs or errors contain key material")
		}
	}
	_ = k
}

// TestConcurrent (190): parallel requests with valid, invalid and revoked
// keys while keys are issued and revoked, under -race.
func TestConcurrent(t *testing.T) {
	f := newFixture(t, apikey.Config{CacheSize: 8, LastUsedInterval: time.Second})
	var keys []string
	var ids []string
	for range 16 {
		k, key := f.issue(t, apikey.Key{Roles: []string{"r"}})
		keys = append(keys, k)
		ids = append(ids, key.ID)
	}
	var wg sync.WaitGroup
	errc := make(chan error, 1000)
	for w := range 8 {
		wg.Go(func() {
			for i := range 300 {
				k := keys[(w+i)%len(keys)]
				if i%7 == 0 {
					k = flipChecksum(k)
				}
				p, err := f.auth.Authenticate(withKey(k))
				switch {
				case i%7 == 0 && !errors.Is(err, authgate.ErrInvalidCredentials):
					errc <- fmt.Errorf("bad checksum accepted: %v", err)
				case err == nil && (p.Subject != "alice" || len(p.Roles) != 1):
					errc <- fmt.Errorf("wrong principal %+v", p)
				case err != nil && !errors.Is(err, authgate.ErrInvalidCredentials):
					errc <- fmt.Errorf("unexpected error %v", err)
				}
				if err == nil {
					p.Roles[0] = "scribble"
				}
			}
		})
	}
	wg.Go(func() {
		for i, id := range ids[:8] {
			if err := f.auth.Manager().Revoke(context.Background(), id); err != nil {
				errc <- err
			}
			f.issue(t, apikey.Key{Name: fmt.Sprint(i)})
			f.auth.Flush(context.Background())
		}
	})
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Error(err)
	}
	for _, k := range keys[:8] {
		if _, err := f.auth.Authenticate(withKey(k)); !errors.Is(err, authgate.ErrRevoked) {
			t.Errorf("revoked key after the storm: %v, want ErrRevoked", err)
		}
	}
	if err := f.auth.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestTimingBand (169, soft): the median latency of an unknown, a revoked
// and an expired key is the same order of magnitude (each costs one store
// lookup). A regression guard, not a cryptographic guarantee.
func TestTimingBand(t *testing.T) {
	if testing.Short() {
		t.Skip("timing test skipped in -short mode")
	}
	f := newFixture(t, apikey.Config{CacheTTL: -1, LastUsedInterval: -1})
	for range 1000 { // a store of realistic size
		f.issue(t, apikey.Key{})
	}
	revoked, rk := f.issue(t, apikey.Key{})
	f.auth.Manager().Revoke(context.Background(), rk.ID)
	expired, _ := f.issue(t, apikey.Key{ExpiresAt: f.clock.Now().Add(time.Second)})
	f.clock.Add(time.Second)
	unknown, _ := apikey.GenerateKey("sk_live")
	cases := []string{unknown, revoked, expired}
	samples := make([][]time.Duration, len(cases))
	reqs := []*http.Request{withKey(unknown), withKey(revoked), withKey(expired)}
	for range 501 {
		for i, r := range reqs {
			start := time.Now()
			f.auth.Authenticate(r)
			samples[i] = append(samples[i], time.Since(start))
		}
	}
	var medians []time.Duration
	for _, s := range samples {
		sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
		medians = append(medians, s[len(s)/2])
	}
	lo, hi := slices.Min(medians), slices.Max(medians)
	t.Logf("median latency unknown/revoked/expired: %v", medians)
	if hi > 10*lo+20*time.Microsecond {
		t.Fatalf("latency band too wide: %v", medians)
	}
}

// TestOtherSchemesAreNoCredentials: Basic or Digest beside an API-key
// authenticator is no credential at all (a bare challenge, RFC 6750 §3.1),
// while a bearer token that is not an API key is a credential of another
// kind.
func TestOtherSchemesAreNoCredentials(t *testing.T) {
	a, err := apikey.New(apikey.NewMemoryStore(), apikey.Config{Prefix: "sk_live"})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	for _, tt := range []struct {
		auth             string
		wantUnrecognized bool
	}{
		{"Basic YWxhZGRpbjpvcGVuc2VzYW1l", false},
		{"Digest username=x", false},
		{"Bearer eyJhbGciOiJIUzI1NiJ9.e30.x", true},
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Authorization", tt.auth)
		_, err := a.Authenticate(r)
		if !authgate.IsNotMine(err) || errors.Is(err, authgate.ErrUnrecognizedCredential) != tt.wantUnrecognized {
			t.Errorf("%.12s…: Authenticate = %v, want not-mine (unrecognized %v)", tt.auth, err, tt.wantUnrecognized)
		}
	}
}

// TestFailureLimit (SECURITY.md#attacks-api-keys): a client that keeps failing is
// refused with 429 before any store lookup, even with a valid key, until
// its window ends; other clients are unaffected; a valid-checksum unknown
// key counts twice.
func TestFailureLimit(t *testing.T) {
	f := newFixture(t, apikey.Config{FailureLimit: 4, FailureWindow: time.Minute})
	good, _ := f.issue(t, apikey.Key{})
	unknown := validUnknownKey(t, "sk_live")
	from := func(ip, key string) (*authgate.Principal, error) {
		r := withKey(key)
		r.RemoteAddr = ip + ":1234"
		return f.auth.Authenticate(r)
	}
	// Two targeted guesses (2 × 2) use up the client's 4.
	for i := range 2 {
		if _, err := from("192.0.2.7", unknown); !errors.Is(err, authgate.ErrInvalidCredentials) {
			t.Fatalf("guess %d: %v, want 401", i, err)
		}
	}
	lookups := f.store.lookups.Load()
	_, err := from("192.0.2.7", good)
	if !errors.Is(err, authgate.ErrRateLimited) || authgate.StatusCode(err) != 429 {
		t.Fatalf("after the limit, a valid key = %v (status %d), want 429", err, authgate.StatusCode(err))
	}
	if f.store.lookups.Load() != lookups {
		t.Error("a refused attempt reached the store")
	}
	if p, err := from("198.51.100.9", good); err != nil || p == nil {
		t.Fatalf("another client = %v, want accepted", err)
	}
	f.clock.Add(time.Minute)
	if _, err := from("192.0.2.7", good); err != nil {
		t.Fatalf("after the window = %v, want accepted", err)
	}
	// Typos count once: four bad checksums before the limit bites.
	for i := range 4 {
		if _, err := from("203.0.113.5", flipChecksum(good)); !errors.Is(err, authgate.ErrInvalidCredentials) {
			t.Fatalf("typo %d: %v, want 401", i, err)
		}
	}
	if _, err := from("203.0.113.5", good); !errors.Is(err, authgate.ErrRateLimited) {
		t.Fatalf("after four typos: %v, want 429", err)
	}
	// Other credentials (a JWT, no key) are not this limiter's business.
	r := httptest.NewRequest("GET", "/", nil)
	r.RemoteAddr = "192.0.2.7:1"
	r.Header.Set("Authorization", "Bearer eyJhbGciOiJIUzI1NiJ9.e30.x")
	f.clock.Set(f.clock.Now()) // same window
	for range 3 {
		from("192.0.2.7", unknown)
	}
	if _, err := f.auth.Authenticate(r); !authgate.IsNotMine(err) {
		t.Fatalf("a JWT from a limited client = %v, want not mine", err)
	}
}

func TestFailureLimitConfig(t *testing.T) {
	for _, tt := range []struct {
		limit  int
		window time.Duration
		ok     bool
	}{{0, 0, true}, {10, time.Second, true}, {10, time.Hour, true}, {10, time.Millisecond, false}, {10, 2 * time.Hour, false}, {-1, 0, false}} {
		_, err := apikey.New(apikey.NewMemoryStore(), apikey.Config{Prefix: "sk_live", FailureLimit: tt.limit, FailureWindow: tt.window})
		if (err == nil) != tt.ok {
			t.Errorf("FailureLimit %d FailureWindow %v: New = %v, want ok=%v", tt.limit, tt.window, err, tt.ok)
		}
	}
	// Off by default: a flood of failures from one address changes nothing
	// for a valid key from it.
	f := newFixture(t, apikey.Config{})
	good, _ := f.issue(t, apikey.Key{})
	for range 500 {
		f.auth.Authenticate(withKey(flipChecksum(good)))
	}
	if _, err := f.auth.Authenticate(withKey(good)); err != nil {
		t.Fatalf("limiter off by default: valid key = %v", err)
	}
}
