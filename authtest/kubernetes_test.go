package authtest_test

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/authgate/authgate/authtest"
	"github.com/authgate/authgate/providers"
)

func TestKubernetesShape(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	c := authtest.Kubernetes(t, "https://kubernetes.default.svc.cluster.local", authtest.WithNow(func() time.Time { return now }))
	if !strings.HasPrefix(c.APIServer(), "https://127.0.0.1:") || c.JWKSURL() != c.APIServer()+"/openid/v1/jwks" {
		t.Fatalf("APIServer() = %s, JWKSURL() = %s", c.APIServer(), c.JWKSURL())
	}
	for _, url := range []string{c.JWKSURL(), c.APIServer() + "/.well-known/openid-configuration"} {
		if resp := get(t, c.Client(), url, nil); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("anonymous GET %s = %d, want 401", url, resp.StatusCode)
		}
	}
	c.AllowAnonymous()
	var md map[string]any
	get(t, c.Client(), c.APIServer()+"/.well-known/openid-configuration", &md)
	if md["issuer"] != c.Issuer() || md["jwks_uri"] != c.JWKSURL() || len(md) != 5 {
		t.Errorf("discovery = %v, want the API server's five members", md)
	}
	var set struct{ Keys []map[string]any }
	resp := get(t, c.Client(), c.JWKSURL(), &set)
	if cc := resp.Header.Get("Cache-Control"); cc != "public, max-age=3600" {
		t.Errorf("Cache-Control = %q", cc)
	}
	der, err := x509.MarshalPKIXPublicKey(c.Keys()[0].Public())
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(der)
	if k := set.Keys[0]; k["kid"] != base64.RawURLEncoding.EncodeToString(sum[:]) || k["use"] != "sig" || k["alg"] != "RS256" || k["x5c"] != nil {
		t.Errorf("key = %v, want Kubernetes' kid, use sig, RS256, no x5c", k)
	}
	header, claims, _ := parts(t, c.Token("shop", "checkout", nil))
	if _, ok := header["typ"]; ok || header["kid"] != c.KeyID() {
		t.Errorf("header = %v, want alg and kid only", header)
	}
	k8s, _ := claims["kubernetes.io"].(map[string]any)
	aud, _ := claims["aud"].([]any)
	if claims["sub"] != "system:serviceaccount:shop:checkout" || len(aud) != 1 || aud[0] != authtest.DefaultAudience ||
		num(t, claims["nbf"]) != now.Unix() || num(t, claims["exp"]) != now.Add(time.Hour).Unix() ||
		k8s["namespace"] != "shop" || k8s["pod"] == nil || k8s["node"] == nil || k8s["warnafter"] != nil {
		t.Errorf("claims = %v, want a pod-bound projected token", claims)
	}
	_, claims, _ = parts(t, c.APIAccessToken("shop", "checkout", nil))
	k8s, _ = claims["kubernetes.io"].(map[string]any)
	if aud, _ := claims["aud"].([]any); !slices.Equal(aud, []any{c.Issuer()}) || num(t, k8s["warnafter"]) != now.Unix()+3607 {
		t.Errorf("mounted token claims = %v, want the API server's audience and warnafter", claims)
	}
	_, claims, _ = parts(t, c.LegacyToken("shop", "checkout"))
	if claims["iss"] != "kubernetes/serviceaccount" || claims["exp"] != nil || claims["kubernetes.io/serviceaccount/namespace"] != "shop" {
		t.Errorf("legacy claims = %v", claims)
	}
	kid := c.Rotate()
	if _, claims, _ := parts(t, c.Token("a", "b", nil)); claims == nil || !slices.ContainsFunc(c.Keys(), func(k providers.Key) bool { return k.ID == kid }) {
		t.Errorf("Rotate = %s, not published", kid)
	}
}
