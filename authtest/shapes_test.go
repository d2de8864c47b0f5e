package authtest_test

import (
	"context"
	"crypto"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/authgate/authgate/authtest"
	"github.com/authgate/authgate/providers"
)

func TestAuth0Shape(t *testing.T) {
	a := authtest.Auth0(t)
	if !strings.HasPrefix(a.URL(), "https://127.0.0.1:") || a.Issuer() != "https://"+a.Host()+"/" {
		t.Fatalf("URL() = %s, Issuer() = %s, want https and a trailing slash", a.URL(), a.Issuer())
	}
	md, err := providers.Discover(context.Background(), a.Client(), a.Issuer())
	if err != nil {
		t.Fatal(err)
	}
	if md.JWKSURI != a.Issuer()+".well-known/jwks.json" || md.JWKSURI != a.JWKSURL() {
		t.Errorf("jwks_uri = %s", md.JWKSURI)
	}
	var set struct{ Keys []map[string]any }
	resp := get(t, a.Client(), a.JWKSURL(), &set)
	if cc := resp.Header.Get("Cache-Control"); !strings.Contains(cc, "max-age=15") {
		t.Errorf("Cache-Control = %q, want Auth0's", cc)
	}
	if k := set.Keys[0]; k["alg"] != "RS256" || k["x5c"] == nil || k["x5t"] == nil {
		t.Errorf("key = %v, want RS256 with x5c and x5t", k)
	}
	_, cl, _ := parts(t, a.Token(nil))
	aud, _ := cl["aud"].([]any)
	if len(aud) != 2 || aud[0] != authtest.DefaultAudience || aud[1] != a.Issuer()+"userinfo" {
		t.Errorf("aud = %v, want [API, userinfo]", cl["aud"])
	}
	if cl["scope"] != "openid profile email" || cl["azp"] != authtest.DefaultClientID || !strings.HasPrefix(cl["sub"].(string), "auth0|") {
		t.Errorf("claims = %v", cl)
	}
	if exp, iat := num(t, cl["exp"]), num(t, cl["iat"]); exp-iat != 86400 {
		t.Errorf("lifetime = %d s, want 86400", exp-iat)
	}
}

func TestKeycloakShape(t *testing.T) {
	c := newClock()
	kc := authtest.Keycloak(t, "demo", authtest.WithNow(c.Now), authtest.WithClientID("web"))
	if kc.Issuer() != kc.URL()+"/realms/demo" || kc.BaseURL() != kc.URL() {
		t.Fatalf("Issuer() = %s, BaseURL() = %s", kc.Issuer(), kc.BaseURL())
	}
	var realm map[string]any
	get(t, kc.Client(), kc.Issuer(), &realm)
	if realm["realm"] != "demo" || realm["token-service"] != kc.Issuer()+"/protocol/openid-connect" ||
		realm["account-service"] != kc.Issuer()+"/account" || realm["tokens-not-before"] != 0.0 {
		t.Errorf("realm document = %v", realm)
	}
	pk, _ := realm["public_key"].(string)
	if strings.ContainsAny(pk, "\n-") {
		t.Errorf("public_key %q is not one line of bare base64", pk)
	}
	keys, err := providers.ParseKeys([]byte(pk))
	if err != nil || len(keys) != 1 || keys[0].ID != "" {
		t.Fatalf("ParseKeys(public_key) = %v, %v: want one key without kid", keys, err)
	}
	if !keys[0].Public().(interface{ Equal(crypto.PublicKey) bool }).Equal(kc.Keys()[0].Public()) {
		t.Error("public_key is not the signing key")
	}
	kc.SetTokensNotBefore(epoch)
	get(t, kc.Client(), kc.Issuer(), &realm)
	if realm["tokens-not-before"] != float64(epoch.Unix()) {
		t.Errorf("tokens-not-before = %v, want %d", realm["tokens-not-before"], epoch.Unix())
	}
	if got := kc.RealmRequests(); got != 2 {
		t.Errorf("RealmRequests() = %d, want 2", got)
	}

	md, err := providers.Discover(context.Background(), nil, kc.Issuer())
	if err != nil || md.JWKSURI != kc.Issuer()+"/protocol/openid-connect/certs" {
		t.Fatalf("Discover = %v, %v", md, err)
	}
	var set struct{ Keys []map[string]any }
	resp := get(t, kc.Client(), md.JWKSURI, &set)
	if cc := resp.Header.Get("Cache-Control"); cc != "no-cache" {
		t.Errorf("Cache-Control = %q, want no-cache", cc)
	}
	var uses []string
	for _, k := range set.Keys {
		uses = append(uses, fmt.Sprint(k["use"], "/", k["alg"]))
	}
	if want := []string{"sig/RS256", "enc/RSA-OAEP"}; !slices.Equal(uses, want) {
		t.Fatalf("certs hold keys %v, want %v", uses, want)
	}
	for _, k := range set.Keys {
		x5c, _ := k["x5c"].([]any)
		if len(x5c) != 1 {
			t.Fatalf("x5c = %v", k["x5c"])
		}
		der, err := base64.StdEncoding.DecodeString(x5c[0].(string))
		if err != nil {
			t.Fatal(err)
		}
		cert, err := x509.ParseCertificate(der)
		if err != nil || cert.Subject.CommonName != "demo" {
			t.Fatalf("x5c certificate: %v, %v", cert, err)
		}
		s1, s256 := sha1.Sum(der), sha256.Sum256(der)
		if k["x5t"] != base64.RawURLEncoding.EncodeToString(s1[:]) || k["x5t#S256"] != base64.RawURLEncoding.EncodeToString(s256[:]) {
			t.Errorf("x5t / x5t#S256 do not match the certificate")
		}
	}
	raw, err := json.Marshal(map[string]any{"keys": set.Keys})
	if err != nil {
		t.Fatal(err)
	}
	if parsed, skipped, err := providers.ParseJWKS(raw); err != nil || len(parsed) != 1 || skipped != 1 {
		t.Errorf("ParseJWKS(certs) = %d keys, %d skipped, %v: want the enc key skipped", len(parsed), skipped, err)
	}

	h, cl, _ := parts(t, kc.Token(nil))
	if h["typ"] != "JWT" || h["alg"] != "RS256" {
		t.Errorf("header = %v", h)
	}
	ra, _ := cl["realm_access"].(map[string]any)
	if cl["typ"] != "Bearer" || cl["aud"] != "account" || cl["azp"] != "web" || cl["sid"] == nil || cl["acr"] != "1" ||
		cl["preferred_username"] == nil || cl["scope"] == nil || ra["roles"] == nil || cl["nbf"] != nil {
		t.Errorf("access token claims = %v", cl)
	}
	if num(t, cl["exp"])-num(t, cl["iat"]) != 300 {
		t.Errorf("lifetime = %d, want 300", num(t, cl["exp"])-num(t, cl["iat"]))
	}
	if _, cl, _ := parts(t, kc.IDToken(nil)); cl["typ"] != "ID" || cl["aud"] != "web" {
		t.Errorf("ID token claims = %v", cl)
	}
	if h, cl, _ := parts(t, kc.RefreshToken(nil)); h["alg"] != "HS512" || cl["typ"] != "Refresh" || cl["aud"] != kc.Issuer() {
		t.Errorf("refresh token = %v %v", h, cl)
	}
	if _, cl, _ := parts(t, kc.ServiceAccountToken("orders", nil)); cl["preferred_username"] != "service-account-orders" || cl["sid"] != nil || cl["client_id"] != "orders" {
		t.Errorf("service account token claims = %v", cl)
	}
}

func TestKeycloakLegacyPath(t *testing.T) {
	kc := authtest.Keycloak(t, "demo", authtest.WithPath("/auth"), authtest.WithAudience("orders-api"))
	if kc.Issuer() != kc.URL()+"/auth/realms/demo" || kc.BaseURL() != kc.URL()+"/auth" {
		t.Fatalf("Issuer() = %s, BaseURL() = %s", kc.Issuer(), kc.BaseURL())
	}
	if _, err := providers.Discover(context.Background(), nil, kc.Issuer()); err != nil {
		t.Fatal(err)
	}
	if _, cl, _ := parts(t, kc.Token(nil)); !slices.Equal(anyStrings(cl["aud"]), []string{"orders-api", "account"}) {
		t.Errorf("aud = %v, want [orders-api account]", cl["aud"])
	}
}

func anyStrings(v any) []string {
	var out []string
	l, _ := v.([]any)
	for _, e := range l {
		s, _ := e.(string)
		out = append(out, s)
	}
	return out
}

func TestFirebaseShape(t *testing.T) {
	c := newClock()
	fb := authtest.Firebase(t, "my-project", authtest.WithNow(c.Now), authtest.WithTenant("tenant-1"))
	var certs map[string]string
	resp := get(t, fb.Client(), fb.CertsURL(), &certs)
	if cc := resp.Header.Get("Cache-Control"); !strings.Contains(cc, "max-age=21600") {
		t.Errorf("Cache-Control = %q", cc)
	}
	raw, _ := json.Marshal(certs)
	keys, skipped, err := providers.ParseX509CertMap(raw)
	if err != nil || len(keys) != 1 || skipped != 0 {
		t.Fatalf("ParseX509CertMap = %v, %d, %v", keys, skipped, err)
	}
	h, cl, _ := parts(t, fb.IDToken(map[string]any{"sub": "uid-2"}))
	if h["kid"] != keys[0].ID || h["alg"] != "RS256" {
		t.Errorf("header = %v, want the certificate's kid", h)
	}
	f, _ := cl["firebase"].(map[string]any)
	if cl["iss"] != "https://securetoken.google.com/my-project" || cl["aud"] != "my-project" || cl["user_id"] != "uid-2" ||
		num(t, cl["auth_time"]) != epoch.Unix() || f["sign_in_provider"] != "password" || f["tenant"] != "tenant-1" {
		t.Errorf("ID token claims = %v", cl)
	}
	var sessionCerts map[string]string
	get(t, fb.Client(), fb.SessionCertsURL(), &sessionCerts)
	h, cl, _ = parts(t, fb.SessionCookie(nil))
	if _, ok := sessionCerts[h["kid"].(string)]; !ok || h["kid"] == keys[0].ID {
		t.Errorf("session cookie kid %v not in the session certificates", h["kid"])
	}
	if cl["iss"] != "https://session.firebase.google.com/my-project" || num(t, cl["exp"])-num(t, cl["iat"]) != 14*24*3600 {
		t.Errorf("session cookie claims = %v", cl)
	}
	if fb.CertsRequests() != 1 || fb.SessionCertsRequests() != 1 {
		t.Errorf("requests = %d, %d, want 1, 1", fb.CertsRequests(), fb.SessionCertsRequests())
	}
}
