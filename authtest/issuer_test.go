package authtest_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/authtest"
	"github.com/authgate/authgate/providers"
	"github.com/authgate/authgate/static"
)

func TestDiscoveryAndJWKS(t *testing.T) {
	iss := authtest.NewIssuer(t, authtest.WithAlgorithms("RS256", "ES256", "EdDSA", "HS256"))
	var doc map[string]any
	get(t, iss.Client(), iss.Issuer()+"/.well-known/openid-configuration", &doc)
	if doc["issuer"] != iss.Issuer() || iss.Issuer() != iss.URL() {
		t.Errorf("discovery issuer = %v, Issuer() = %s, want both %s", doc["issuer"], iss.Issuer(), iss.URL())
	}
	if doc["jwks_uri"] != iss.JWKSURL() || iss.JWKSURL() != iss.URL()+"/jwks" {
		t.Errorf("jwks_uri = %v, JWKSURL() = %s", doc["jwks_uri"], iss.JWKSURL())
	}
	md, err := providers.Discover(context.Background(), iss.Client(), iss.Issuer())
	if err != nil {
		t.Fatalf("providers.Discover: %v", err)
	}
	if want := []string{"RS256", "ES256", "EdDSA"}; !slices.Equal(md.SigningAlgorithms, want) {
		t.Errorf("id_token_signing_alg_values_supported = %v, want %v", md.SigningAlgorithms, want)
	}

	var set struct{ Keys []map[string]any }
	resp := get(t, iss.Client(), iss.JWKSURL(), &set)
	if cc := resp.Header.Get("Cache-Control"); cc != "" {
		t.Errorf("Cache-Control = %q, want none", cc)
	}
	if len(set.Keys) != 3 {
		t.Fatalf("JWKS has %d keys, want 3 (the HMAC secret is never published): %v", len(set.Keys), set.Keys)
	}
	for i, k := range set.Keys {
		if k["use"] != "sig" || k["kid"] == "" || k["alg"] != []string{"RS256", "ES256", "EdDSA"}[i] {
			t.Errorf("key %d = %v, want use sig, a kid and its alg", i, k)
		}
		if _, ok := k["d"]; ok {
			t.Errorf("key %d publishes its private part", i)
		}
	}
	if set.Keys[0]["kid"] != iss.KeyID() {
		t.Errorf("first key %v, want the signing key %s", set.Keys[0]["kid"], iss.KeyID())
	}
	if got, want := iss.DiscoveryRequests(), 2; got != want {
		t.Errorf("DiscoveryRequests() = %d, want %d", got, want)
	}
	if got, want := iss.JWKSRequests(), 1; got != want {
		t.Errorf("JWKSRequests() = %d, want %d", got, want)
	}
}

// TestEveryAlgorithmVerifies signs with every supported algorithm and
// verifies with authgate's verifier, selecting keys by kid.
func TestEveryAlgorithmVerifies(t *testing.T) {
	algs := []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA", "HS256", "HS384", "HS512"}
	c := newClock()
	iss := authtest.NewIssuer(t, authtest.WithAlgorithms(algs...), authtest.WithNow(c.Now))
	v := verifier(t, iss, c.Now, algs...)
	for _, k := range iss.Keys() {
		t.Run(k.Algorithm, func(t *testing.T) {
			tok := iss.TokenWithHeader(map[string]any{"kid": k.ID}, nil)
			h, _, _ := parts(t, tok)
			if h["alg"] != k.Algorithm || h["kid"] != k.ID || h["typ"] != "JWT" {
				t.Errorf("header = %v, want alg %s, kid %s, typ JWT", h, k.Algorithm, k.ID)
			}
			got, err := v.Verify(context.Background(), tok)
			if err != nil {
				t.Fatalf("Verify = %v, want success", err)
			}
			if got.Subject != iss.Subject() {
				t.Errorf("sub = %q, want %q", got.Subject, iss.Subject())
			}
		})
	}
	if got := len(iss.Keys()); got != len(algs) {
		t.Errorf("Keys() has %d keys, want %d", got, len(algs))
	}
}

func TestTokenClaims(t *testing.T) {
	c := newClock()
	iss := authtest.NewIssuer(t, authtest.WithNow(c.Now))
	v := verifier(t, iss, c.Now, "RS256")
	tests := []struct {
		name    string
		claims  map[string]any
		check   func(t *testing.T, claims map[string]any)
		wantErr error
	}{
		{name: "defaults", check: func(t *testing.T, cl map[string]any) {
			if cl["iss"] != iss.Issuer() || cl["sub"] != iss.Subject() || cl["aud"] != authtest.DefaultAudience {
				t.Errorf("claims = %v", cl)
			}
			if iat, exp := num(t, cl["iat"]), num(t, cl["exp"]); iat != epoch.Unix() || exp != epoch.Add(5*time.Minute).Unix() {
				t.Errorf("iat, exp = %d, %d, want now and now+5m", iat, exp)
			}
			if _, ok := cl["nbf"]; ok {
				t.Error("nbf set by default")
			}
		}},
		{name: "override", claims: map[string]any{"sub": "bob", "roles": []string{"admin"}}, check: func(t *testing.T, cl map[string]any) {
			if cl["sub"] != "bob" || cl["iss"] != iss.Issuer() {
				t.Errorf("claims = %v, want sub bob and the default iss", cl)
			}
		}},
		{name: "iat moves exp", claims: map[string]any{"iat": epoch.Add(-time.Hour)}, wantErr: authgate.ErrTokenExpired, check: func(t *testing.T, cl map[string]any) {
			if iat, exp := num(t, cl["iat"]), num(t, cl["exp"]); iat != epoch.Add(-time.Hour).Unix() || exp != iat+300 {
				t.Errorf("iat, exp = %d, %d", iat, exp)
			}
		}},
		{name: "nil removes exp", claims: map[string]any{"exp": nil}, wantErr: authgate.ErrMissingClaim, check: func(t *testing.T, cl map[string]any) {
			if _, ok := cl["exp"]; ok {
				t.Error("exp still present")
			}
		}},
		{name: "time value", claims: map[string]any{"nbf": epoch.Add(time.Minute)}, wantErr: authgate.ErrTokenNotYetValid, check: func(t *testing.T, cl map[string]any) {
			if got := num(t, cl["nbf"]); got != epoch.Add(time.Minute).Unix() {
				t.Errorf("nbf = %d", got)
			}
		}},
		{name: "other audience", claims: map[string]any{"aud": "https://other.example/"}, wantErr: authgate.ErrInvalidAudience},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok := iss.Token(tt.claims)
			_, claims, _ := parts(t, tok)
			if tt.check != nil {
				tt.check(t, claims)
			}
			if _, err := v.Verify(context.Background(), tok); !errors.Is(err, tt.wantErr) || (err == nil) != (tt.wantErr == nil) {
				t.Errorf("Verify = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func TestTokenWithHeader(t *testing.T) {
	c := newClock()
	iss := authtest.NewIssuer(t, authtest.WithNow(c.Now))
	v := verifier(t, iss, c.Now, "RS256")
	tests := []struct {
		name    string
		header  map[string]any
		wantErr error
		wantSig bool
	}{
		{name: "defaults", header: nil, wantSig: true},
		{name: "alg none", header: map[string]any{"alg": "none"}, wantErr: authgate.ErrUnrecognizedCredential},
		{name: "alg confusion", header: map[string]any{"alg": "HS256"}, wantErr: authgate.ErrUnsupportedAlgorithm, wantSig: true},
		{name: "jku", header: map[string]any{"jku": "https://evil.example/jwks"}, wantErr: authgate.ErrUnsupportedAlgorithm, wantSig: true},
		{name: "unknown kid", header: map[string]any{"kid": "nope"}, wantErr: authgate.ErrInvalidSignature, wantSig: true},
		{name: "no kid", header: map[string]any{"kid": nil}, wantSig: true},
		{name: "typ", header: map[string]any{"typ": "at+jwt"}, wantErr: authgate.ErrInvalidCredentials, wantSig: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok := iss.TokenWithHeader(tt.header, nil)
			h, _, sig := parts(t, tok)
			for name, want := range tt.header {
				if got, ok := h[name]; got != want || (want == nil && ok) {
					t.Errorf("header %s = %v, want %v", name, got, want)
				}
			}
			if (sig != "") != tt.wantSig {
				t.Errorf("signature %q, want present = %v", sig, tt.wantSig)
			}
			if _, err := v.Verify(context.Background(), tok); !errors.Is(err, tt.wantErr) || (err == nil) != (tt.wantErr == nil) {
				t.Errorf("Verify = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func TestRotateAndRetire(t *testing.T) {
	c := newClock()
	iss := authtest.NewIssuer(t, authtest.WithNow(c.Now))
	old := iss.KeyID()
	before := iss.Token(nil)
	kid := iss.Rotate()
	if kid == old || iss.KeyID() != kid {
		t.Fatalf("Rotate() = %s, KeyID() = %s, old %s: want a new signing key", kid, iss.KeyID(), old)
	}
	h, _, _ := parts(t, iss.Token(nil))
	if h["kid"] != kid {
		t.Errorf("token after Rotate has kid %v, want %s", h["kid"], kid)
	}
	var set struct{ Keys []map[string]any }
	get(t, iss.Client(), iss.JWKSURL(), &set)
	if len(set.Keys) != 2 || set.Keys[0]["kid"] != kid || set.Keys[1]["kid"] != old {
		t.Errorf("JWKS after Rotate = %v, want the new key then the old", set.Keys)
	}
	// Both keys verify during the overlap.
	v := verifier(t, iss, c.Now, "RS256")
	for _, tok := range []string{before, iss.Token(nil)} {
		if _, err := v.Verify(context.Background(), tok); err != nil {
			t.Errorf("Verify during overlap = %v", err)
		}
	}
	if !iss.Retire(old) || iss.Retire("nope") {
		t.Fatal("Retire(old) = false or Retire(unknown) = true")
	}
	get(t, iss.Client(), iss.JWKSURL(), &set)
	if len(set.Keys) != 1 || set.Keys[0]["kid"] != kid {
		t.Errorf("JWKS after Retire = %v, want only %s", set.Keys, kid)
	}
	// A retired key still signs when named, and no longer verifies.
	stale := iss.TokenWithHeader(map[string]any{"kid": old}, nil)
	if h, _, _ := parts(t, stale); h["kid"] != old {
		t.Errorf("kid = %v, want %s", h["kid"], old)
	}
	if _, err := verifier(t, iss, c.Now, "RS256").Verify(context.Background(), stale); !errors.Is(err, authgate.ErrInvalidSignature) {
		t.Errorf("retired key's token: Verify = %v, want ErrInvalidSignature", err)
	}
	if _, err := v.Verify(context.Background(), stale); err != nil {
		t.Errorf("retired key's token with the old key set: Verify = %v, want success (signed by the old key)", err)
	}
}

func TestOutage(t *testing.T) {
	iss := authtest.NewIssuer(t)
	if resp := get(t, iss.Client(), iss.JWKSURL(), nil); resp.StatusCode != 200 {
		t.Fatalf("status = %d, want 200", resp.StatusCode)
	}
	iss.Fail(http.StatusServiceUnavailable)
	for _, u := range []string{iss.JWKSURL(), iss.Issuer() + "/.well-known/openid-configuration"} {
		if resp := get(t, iss.Client(), u, nil); resp.StatusCode != http.StatusServiceUnavailable {
			t.Errorf("GET %s during Fail(503) = %d, want 503", u, resp.StatusCode)
		}
	}
	if got := iss.JWKSRequests(); got != 2 {
		t.Errorf("JWKSRequests() = %d, want 2 (failed requests count)", got)
	}
	iss.Drop()
	if resp, err := iss.Client().Get(iss.JWKSURL()); err == nil {
		resp.Body.Close()
		t.Errorf("GET during Drop = %d, want a transport error", resp.StatusCode)
	}
	iss.Recover()
	if resp := get(t, iss.Client(), iss.JWKSURL(), nil); resp.StatusCode != 200 {
		t.Errorf("status after Recover = %d, want 200", resp.StatusCode)
	}
	if got := iss.JWKSRequests(); got != 3 {
		t.Errorf("JWKSRequests() = %d, want 3 (dropped connections do not count)", got)
	}
}

func TestPathIssuer(t *testing.T) {
	tests := []struct{ path, wantIssuer, wantJWKS string }{
		{"/tenants/a", "/tenants/a", "/tenants/a/jwks"},
		{"/", "/", "/jwks"},
		{"/oauth2/", "/oauth2/", "/oauth2/jwks"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			iss := authtest.NewIssuer(t, authtest.WithPath(tt.path))
			if iss.Issuer() != iss.URL()+tt.wantIssuer || iss.JWKSURL() != iss.URL()+tt.wantJWKS {
				t.Fatalf("Issuer() = %s, JWKSURL() = %s", iss.Issuer(), iss.JWKSURL())
			}
			md, err := providers.Discover(context.Background(), nil, iss.Issuer())
			if err != nil {
				t.Fatalf("Discover(%s) = %v", iss.Issuer(), err)
			}
			if md.JWKSURI != iss.JWKSURL() {
				t.Errorf("jwks_uri = %s, want %s", md.JWKSURI, iss.JWKSURL())
			}
			if resp := get(t, iss.Client(), iss.JWKSURL(), nil); resp.StatusCode != 200 {
				t.Errorf("GET %s = %d", iss.JWKSURL(), resp.StatusCode)
			}
		})
	}
}

func TestRFC9068(t *testing.T) {
	iss := authtest.NewIssuer(t, authtest.WithRFC9068(), authtest.WithClientID("svc"), authtest.WithAudience("a", "b"))
	h, cl, _ := parts(t, iss.Token(nil))
	if h["typ"] != "at+jwt" || cl["client_id"] != "svc" || cl["jti"] == nil {
		t.Errorf("header %v, claims %v: want typ at+jwt, client_id, jti", h, cl)
	}
	if aud, ok := cl["aud"].([]any); !ok || len(aud) != 2 {
		t.Errorf("aud = %v, want [a b]", cl["aud"])
	}
}

func TestNilT(t *testing.T) {
	iss := authtest.NewIssuer(nil)
	if resp := get(t, iss.Client(), iss.JWKSURL(), nil); resp.StatusCode != 200 {
		t.Fatalf("status = %d", resp.StatusCode)
	}
	iss.Close()
	if resp, err := iss.Client().Get(iss.JWKSURL()); err == nil {
		resp.Body.Close()
		t.Error("GET after Close succeeded")
	}
}

// TestStaticWithKeys: Keys feeds a static authenticator directly.
func TestStaticWithKeys(t *testing.T) {
	c := newClock()
	iss := authtest.NewIssuer(t, authtest.WithAlgorithms("ES256"), authtest.WithNow(c.Now))
	a, err := static.New(static.Config{Keys: iss.Keys(), Issuer: iss.Issuer(), TokenOptions: providers.TokenOptions{Algorithms: []string{"ES256"}, Audience: []string{authtest.DefaultAudience}, Now: c.Now}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Verify(context.Background(), iss.Token(nil)); err != nil {
		t.Errorf("Verify = %v", err)
	}
	c.Advance(6 * time.Minute)
	if _, err := a.Verify(context.Background(), iss.Token(map[string]any{"iat": epoch})); !errors.Is(err, authgate.ErrTokenExpired) {
		t.Errorf("Verify(expired) = %v, want ErrTokenExpired", err)
	}
}

// TestConcurrentMinting mints from many goroutines while rotating, for the
// race detector.
func TestConcurrentMinting(t *testing.T) {
	iss := authtest.NewIssuer(t)
	done := make(chan string)
	for range 8 {
		go func() { done <- iss.Token(map[string]any{"n": 1}) }()
	}
	iss.Rotate()
	for range 8 {
		if tok := <-done; strings.Count(tok, ".") != 2 {
			t.Errorf("token %q", tok)
		}
	}
}
