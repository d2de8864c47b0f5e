package keyfuncset_test

import (
	"context"
	"crypto/rsa"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/MicahParks/keyfunc/v3"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/compat/keyfuncset"
	"github.com/authgate/authgate/providers"
)

const (
	issuer   = "https://login.example.com"
	audience = "orders-api"
)

func claims() map[string]any {
	now := time.Now()
	return map[string]any{
		"iss": issuer,
		"aud": audience,
		"sub": "user-1",
		"iat": now.Unix(),
		"exp": now.Add(5 * time.Minute).Unix(),
	}
}

func header(alg, kid string) map[string]any {
	h := map[string]any{"alg": alg, "typ": "JWT"}
	if kid != "" {
		h["kid"] = kid
	}
	return h
}

// newKeyfunc is what a keyfunc/v3 user already has: a Keyfunc over an
// HTTP JWK Set storage, fetched once at start.
func newKeyfunc(t testing.TB, srv *jwksServer) keyfunc.Keyfunc {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	kf, err := keyfunc.NewDefaultOverrideCtx(ctx, []string{srv.URL}, keyfunc.Override{
		Client:                  srv.Client(),
		RefreshErrorHandlerFunc: func(string) func(context.Context, error) { return func(context.Context, error) {} },
	})
	if err != nil {
		t.Fatal(err)
	}
	return kf
}

// newKeySet is a KeySet over a keyfunc storage of srv's JWKS, RS256 only.
func newKeySet(t testing.TB, srv *jwksServer) *keyfuncset.KeySet {
	t.Helper()
	ks, err := keyfuncset.New(keyfuncset.Config{Storage: newKeyfunc(t, srv).Storage(), Algorithms: []string{"RS256"}})
	if err != nil {
		t.Fatal(err)
	}
	return ks
}

// newAuthenticator verifies tokens of issuer with keys from storage. The
// verifier's allow-list is algs; the key set's is keyAlgs.
func newAuthenticator(t *testing.T, storage jwkset.Storage, algs, keyAlgs []string) *providers.TokenAuthenticator {
	t.Helper()
	ks, err := keyfuncset.New(keyfuncset.Config{Name: "corp", Storage: storage, Algorithms: keyAlgs, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	a, err := providers.Preset{Package: "corp", Issuer: issuer, Keys: ks, Algorithms: algs}.New(
		providers.TokenOptions{Audience: []string{audience}}, providers.FetchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func verify(a *providers.TokenAuthenticator, token string) error {
	_, err := a.Verify(context.Background(), token)
	return err
}

func TestSharedStorage(t *testing.T) {
	good, wide, noAlg, enc, private := rsaKey(t), rsaKey(t), rsaKey(t), rsaKey(t), rsaKey(t)
	secret := []byte("a shared secret of at least thirty-two bytes")
	srv := newJWKSServer(t,
		rsaJWK(good, map[string]any{"kid": "rsa-1", "alg": "RS256", "use": "sig"}),
		rsaJWK(wide, map[string]any{"kid": "rsa-512", "alg": "RS512", "use": "sig"}),
		rsaJWK(noAlg, map[string]any{"kid": "rsa-noalg"}),
		rsaJWK(enc, map[string]any{"kid": "rsa-enc", "alg": "RS256", "use": "enc"}),
		privateJWK(private, map[string]any{"kid": "rsa-private", "alg": "RS256"}),
		map[string]any{"kty": "oct", "kid": "hmac-1", "alg": "HS256", "k": b64(secret)},
	)
	kf := newKeyfunc(t, srv)
	if n := srv.count(); n != 1 {
		t.Fatalf("keyfunc made %d requests at start, want 1", n)
	}
	stored, err := kf.Storage().KeyReadAll(context.Background())
	if err != nil || len(stored) != 6 {
		t.Fatalf("keyfunc stored %d keys (%v), want all 6: the refusals below are authgate's", len(stored), err)
	}

	// The verifier allows HS256 as a misconfigured one might; the key set
	// binds its keys to RS256 or RS512 only, so no key of the storage is
	// ever an HMAC secret.
	a := newAuthenticator(t, kf.Storage(), []string{"RS256", "RS512", "HS256"}, []string{"RS256", "RS512"})
	tests := []struct {
		name    string
		token   string
		wantErr error
	}{
		{"RS256 with kid", signRS256(t, good, header("RS256", "rsa-1"), claims()), nil},
		{"RS256 without kid", signRS256(t, good, header("RS256", ""), claims()), nil},
		{"RS512 key named by its kid", signRS256(t, wide, header("RS256", "rsa-512"), claims()), authgate.ErrInvalidSignature},
		{"RS512 key without kid", signRS256(t, wide, header("RS256", ""), claims()), authgate.ErrInvalidSignature},
		{"key without alg fitting two algorithms", signRS256(t, noAlg, header("RS256", "rsa-noalg"), claims()), authgate.ErrInvalidSignature},
		{"encryption key", signRS256(t, enc, header("RS256", "rsa-enc"), claims()), authgate.ErrInvalidSignature},
		{"key with private members", signRS256(t, private, header("RS256", "rsa-private"), claims()), authgate.ErrInvalidSignature},
		{"HS256 over the RSA public key (DER)", signHS256(t, publicDER(t, good), header("HS256", "rsa-1"), claims()), authgate.ErrInvalidSignature},
		{"HS256 over the RSA modulus", signHS256(t, good.N.Bytes(), header("HS256", "rsa-1"), claims()), authgate.ErrInvalidSignature},
		{"HS256 over the oct entry", signHS256(t, secret, header("HS256", "hmac-1"), claims()), authgate.ErrInvalidSignature},
		{"HS256 over the oct entry without kid", signHS256(t, secret, header("HS256", ""), claims()), authgate.ErrInvalidSignature},
		{"RS256 by an unpublished key", signRS256(t, rsaKey(t), header("RS256", "rsa-1"), claims()), authgate.ErrInvalidSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := verify(a, tt.token)
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("Verify = %v, want accepted", err)
				}
				return
			}
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Verify = %v, want %v", err, tt.wantErr)
			}
		})
	}
	if n := srv.count(); n != 1 {
		t.Errorf("the JWKS got %d requests, want 1 (keyfunc's, at start)", n)
	}
}

// The key set itself never hands out a key outside its binding, whatever
// the verifier asks for.
func TestVerificationKeys(t *testing.T) {
	good, wide := rsaKey(t), rsaKey(t)
	srv := newJWKSServer(t,
		rsaJWK(good, map[string]any{"kid": "rsa-1", "alg": "RS256"}),
		rsaJWK(wide, map[string]any{"kid": "rsa-512", "alg": "RS512"}),
		map[string]any{"kty": "oct", "kid": "hmac-1", "k": b64([]byte("a shared secret of at least thirty-two bytes"))},
	)
	ks, err := keyfuncset.New(keyfuncset.Config{Storage: newKeyfunc(t, srv).Storage(), Algorithms: []string{"RS256", "RS512"}})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		kid, alg string
		want     []string // kids
	}{
		{"rsa-1", "RS256", []string{"rsa-1"}},
		{"", "RS256", []string{"rsa-1"}},
		{"", "RS512", []string{"rsa-512"}},
		{"rsa-1", "RS512", nil},
		{"rsa-1", "PS256", nil},
		{"rsa-1", "HS256", nil},
		{"hmac-1", "HS256", nil},
		{"", "HS256", nil},
		{"rsa-512", "RS256", nil},
	}
	for _, tt := range tests {
		t.Run(tt.kid+"/"+tt.alg, func(t *testing.T) {
			keys, err := ks.VerificationKeys(context.Background(), tt.kid, tt.alg)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, k := range keys {
				if k.Algorithm != tt.alg || k.IsSecret() {
					t.Errorf("key %q is bound to %s (secret %v), want %s", k.ID, k.Algorithm, k.IsSecret(), tt.alg)
				}
				got = append(got, k.ID)
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("VerificationKeys(%q, %s) = %v, want %v", tt.kid, tt.alg, got, tt.want)
			}
		})
	}
}

// A rotation is seen through keyfunc: its refetch on an unknown kid fills
// the storage that authgate reads.
func TestRotationThroughKeyfunc(t *testing.T) {
	k1, k2 := rsaKey(t), rsaKey(t)
	srv := newJWKSServer(t, rsaJWK(k1, map[string]any{"kid": "k1", "alg": "RS256"}))
	a := newAuthenticator(t, newKeyfunc(t, srv).Storage(), []string{"RS256"}, []string{"RS256"})

	srv.set(rsaJWK(k1, map[string]any{"kid": "k1", "alg": "RS256"}), rsaJWK(k2, map[string]any{"kid": "k2", "alg": "RS256"}))
	if err := verify(a, signRS256(t, k2, header("RS256", "k2"), claims())); err != nil {
		t.Fatalf("Verify(token of the new key) = %v, want accepted", err)
	}
	if n := srv.count(); n != 2 {
		t.Fatalf("the JWKS got %d requests, want 2 (keyfunc's start and its refetch)", n)
	}
	// keyfunc's limiter allows one refetch per 5 minutes: another unknown
	// kid is refused at once as unknown, not reported as an outage.
	start := time.Now()
	err := verify(a, signRS256(t, rsaKey(t), header("RS256", "k3"), claims()))
	if !errors.Is(err, authgate.ErrInvalidSignature) || authgate.StatusCode(err) != http.StatusUnauthorized {
		t.Fatalf("Verify(unknown kid) = %v (status %d), want ErrInvalidSignature, 401", err, authgate.StatusCode(err))
	}
	if d := time.Since(start); d > 500*time.Millisecond {
		t.Errorf("an unknown kid held the request for %v", d)
	}
	if n := srv.count(); n != 2 {
		t.Errorf("the JWKS got %d requests, want still 2", n)
	}
}

// A key the storage no longer holds is refused, however often it was used.
func TestDeletedKey(t *testing.T) {
	k1, k2 := rsaKey(t), rsaKey(t)
	storage := jwkset.NewMemoryStorage()
	ctx := context.Background()
	for kid, k := range map[string]*rsa.PrivateKey{"k1": k1, "k2": k2} {
		jwk, err := jwkset.NewJWKFromKey(&k.PublicKey, jwkset.JWKOptions{Metadata: jwkset.JWKMetadataOptions{KID: kid, ALG: jwkset.AlgRS256}})
		if err != nil {
			t.Fatal(err)
		}
		if err := storage.KeyWrite(ctx, jwk); err != nil {
			t.Fatal(err)
		}
	}
	a := newAuthenticator(t, storage, []string{"RS256"}, []string{"RS256"})
	token := signRS256(t, k1, header("RS256", "k1"), claims())
	for range 3 {
		if err := verify(a, token); err != nil {
			t.Fatalf("Verify = %v, want accepted", err)
		}
	}
	if ok, err := storage.KeyDelete(ctx, "k1"); !ok || err != nil {
		t.Fatalf("KeyDelete = %v, %v", ok, err)
	}
	if err := verify(a, token); !errors.Is(err, authgate.ErrInvalidSignature) {
		t.Errorf("Verify(token of a deleted key) = %v, want ErrInvalidSignature", err)
	}
	if err := verify(a, signRS256(t, k1, header("RS256", ""), claims())); !errors.Is(err, authgate.ErrInvalidSignature) {
		t.Errorf("Verify(token of a deleted key, no kid) = %v, want ErrInvalidSignature", err)
	}
}

func TestUnavailable(t *testing.T) {
	k := rsaKey(t)
	srv := newJWKSServer(t)
	srv.fail(http.StatusServiceUnavailable)
	a := newAuthenticator(t, newKeyfunc(t, srv).Storage(), []string{"RS256"}, []string{"RS256"})
	for _, kid := range []string{"k1", ""} {
		t.Run("kid "+kid, func(t *testing.T) {
			err := verify(a, signRS256(t, k, header("RS256", kid), claims()))
			if !errors.Is(err, authgate.ErrUnavailable) || authgate.StatusCode(err) != http.StatusServiceUnavailable {
				t.Fatalf("Verify with an empty storage = %v, want ErrUnavailable, 503", err)
			}
		})
	}
}

// brokenStorage fails every read with a message that quotes the kid, as
// jwkset's do.
type brokenStorage struct{ jwkset.Storage }

func (brokenStorage) KeyRead(_ context.Context, kid string) (jwkset.JWK, error) {
	return jwkset.JWK{}, fmt.Errorf("storage down while reading kid %q", kid)
}

func (brokenStorage) KeyReadAll(context.Context) ([]jwkset.JWK, error) {
	return nil, errors.New("storage down")
}

func TestStorageError(t *testing.T) {
	kid := "kid-chosen-by-the-client"
	a := newAuthenticator(t, brokenStorage{}, []string{"RS256"}, []string{"RS256"})
	err := verify(a, signRS256(t, rsaKey(t), header("RS256", kid), claims()))
	if !errors.Is(err, authgate.ErrUnavailable) {
		t.Fatalf("Verify with a failing storage = %v, want ErrUnavailable", err)
	}
	if strings.Contains(err.Error(), kid) || strings.Contains(err.Error(), "storage down") {
		t.Errorf("error %q repeats the kid or the storage's message", err)
	}
}

func TestNew(t *testing.T) {
	storage := jwkset.NewMemoryStorage()
	tests := []struct {
		name    string
		cfg     keyfuncset.Config
		wantErr string
	}{
		{"zero", keyfuncset.Config{}, "keyfuncset: a key storage is required"},
		{"no algorithms", keyfuncset.Config{Storage: storage}, "keyfuncset: no algorithms allowed"},
		{"HMAC", keyfuncset.Config{Storage: storage, Algorithms: []string{"RS256", "HS256"}}, "keyfuncset: HS256 needs a shared secret"},
		{"none", keyfuncset.Config{Storage: storage, Algorithms: []string{"none"}}, `keyfuncset: unsupported algorithm "none"`},
		{"timeout too long", keyfuncset.Config{Storage: storage, Algorithms: []string{"RS256"}, Timeout: time.Minute}, "keyfuncset: Timeout 1m0s outside"},
		{"negative timeout", keyfuncset.Config{Storage: storage, Algorithms: []string{"RS256"}, Timeout: -time.Second}, "keyfuncset: Timeout -1s outside"},
		{"name prefixes errors", keyfuncset.Config{Name: "corp"}, "corp: a key storage is required"},
		{"valid", keyfuncset.Config{Storage: storage, Algorithms: []string{"RS256", "ES256", "EdDSA"}}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ks, err := keyfuncset.New(tt.cfg)
			if tt.wantErr == "" {
				if err != nil || ks == nil {
					t.Fatalf("New = %v, %v, want a key set", ks, err)
				}
				return
			}
			if err == nil || !strings.HasPrefix(err.Error(), tt.wantErr) {
				t.Fatalf("New = %v, want an error starting %q", err, tt.wantErr)
			}
		})
	}
}

func TestConcurrent(t *testing.T) {
	k := rsaKey(t)
	srv := newJWKSServer(t, rsaJWK(k, map[string]any{"kid": "k1", "alg": "RS256"}))
	a := newAuthenticator(t, newKeyfunc(t, srv).Storage(), []string{"RS256"}, []string{"RS256"})
	withKid := signRS256(t, k, header("RS256", "k1"), claims())
	withoutKid := signRS256(t, k, header("RS256", ""), claims())
	var wg sync.WaitGroup
	errs := make(chan error, 8*20)
	for g := range 8 {
		wg.Go(func() {
			for i := range 20 {
				token := withKid
				if (g+i)%2 == 0 {
					token = withoutKid
				}
				errs <- verify(a, token)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("concurrent Verify = %v", err)
		}
	}
}

// privateJWK is the private JWK of k with the given members added.
func privateJWK(k *rsa.PrivateKey, members map[string]any) map[string]any {
	k.Precompute()
	m := rsaJWK(k, members)
	m["d"] = b64(k.D.Bytes())
	m["p"] = b64(k.Primes[0].Bytes())
	m["q"] = b64(k.Primes[1].Bytes())
	m["dp"] = b64(k.Precomputed.Dp.Bytes())
	m["dq"] = b64(k.Precomputed.Dq.Bytes())
	m["qi"] = b64(k.Precomputed.Qinv.Bytes())
	return m
}
