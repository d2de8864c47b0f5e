package authtest_test

import (
	"strings"
	"testing"

	"github.com/authgate/authgate/authtest"
)

func TestGoogleShape(t *testing.T) {
	g := authtest.Google(t)
	var set struct{ Keys []map[string]any }
	resp := get(t, g.Client(), g.CertsURL(), &set)
	if cc := resp.Header.Get("Cache-Control"); !strings.Contains(cc, "max-age=21600") {
		t.Errorf("Cache-Control = %q, want Google's", cc)
	}
	if k := set.Keys[0]; k["alg"] != "RS256" || k["use"] != "sig" || k["x5c"] != nil || k["kid"] == nil {
		t.Errorf("key = %v, want RS256 with kid and no x5c", k)
	}
	var doc map[string]any
	get(t, g.Client(), g.URL()+"/.well-known/openid-configuration", &doc)
	if doc["issuer"] != "https://accounts.google.com" || doc["jwks_uri"] != g.CertsURL() {
		t.Errorf("discovery = %v", doc)
	}
	h, c, _ := parts(t, g.IDToken(map[string]any{"iss": "accounts.google.com"}))
	if h["alg"] != "RS256" || h["typ"] != "JWT" || h["kid"] != set.Keys[0]["kid"] {
		t.Errorf("header = %v", h)
	}
	if c["iss"] != "accounts.google.com" || c["aud"] != g.ClientID() || c["azp"] != g.ClientID() ||
		!strings.HasSuffix(g.ClientID(), ".apps.googleusercontent.com") || c["hd"] != "example.test" ||
		c["email_verified"] != true || num(t, c["exp"])-num(t, c["iat"]) != 3600 {
		t.Errorf("ID token claims = %v", c)
	}
	_, c, _ = parts(t, g.ServiceIdentityToken("https://svc.a.run.app", nil))
	if c["aud"] != "https://svc.a.run.app" || c["azp"] != c["sub"] || c["email"] != authtest.GoogleServiceAccount || c["hd"] != nil {
		t.Errorf("identity token claims = %v", c)
	}
}

func TestIAPShape(t *testing.T) {
	p := authtest.IAP(t, "/projects/1/global/backendServices/2")
	var set struct{ Keys []map[string]any }
	get(t, p.Client(), p.KeysURL(), &set)
	if k := set.Keys[0]; k["alg"] != "ES256" || k["kty"] != "EC" || k["crv"] != "P-256" {
		t.Errorf("key = %v, want an ES256 P-256 key", k)
	}
	h, c, _ := parts(t, p.Assertion(nil))
	if h["alg"] != "ES256" || h["kid"] != set.Keys[0]["kid"] {
		t.Errorf("header = %v", h)
	}
	if c["iss"] != "https://cloud.google.com/iap" || c["aud"] != "/projects/1/global/backendServices/2" ||
		!strings.HasPrefix(c["sub"].(string), "accounts.google.com:") || strings.Contains(c["email"].(string), ":") ||
		num(t, c["exp"])-num(t, c["iat"]) != 600 {
		t.Errorf("claims = %v", c)
	}
	if p.KeysRequests() != 1 {
		t.Errorf("KeysRequests = %d, want 1", p.KeysRequests())
	}
}

func TestGitHubShape(t *testing.T) {
	g := authtest.GitHub(t)
	var doc map[string]any
	get(t, g.Client(), g.URL()+"/.well-known/openid-configuration", &doc)
	if doc["issuer"] != "https://token.actions.githubusercontent.com" || doc["jwks_uri"] != g.JWKSURL() {
		t.Errorf("discovery = %v", doc)
	}
	var set struct{ Keys []map[string]any }
	get(t, g.Client(), g.JWKSURL(), &set)
	k := set.Keys[0]
	if k["alg"] != "RS256" || k["x5c"] == nil || k["x5t"] == nil {
		t.Errorf("key = %v, want RS256 with x5c and x5t", k)
	}
	h, c, _ := parts(t, g.Token(nil))
	if h["typ"] != "JWT" || h["x5t"] != k["x5t"] || h["kid"] != k["kid"] {
		t.Errorf("header = %v, want GitHub's with x5t", h)
	}
	iat := num(t, c["iat"])
	if c["iss"] != g.Issuer() || c["aud"] != "https://github.com/octo-org" || c["sub"] != "repo:octo-org/octo-repo:environment:prod" ||
		c["repository_id"] != "74" || num(t, c["nbf"]) != iat-600 || num(t, c["exp"]) != iat+300 {
		t.Errorf("claims = %v", c)
	}
	tests := []struct {
		name   string
		claims map[string]any
		want   string
	}{
		{"branch", map[string]any{"environment": nil}, "repo:octo-org/octo-repo:ref:refs/heads/main"},
		{"pull request", map[string]any{"environment": nil, "event_name": "pull_request", "ref": "refs/pull/7/merge"}, "repo:octo-org/octo-repo:pull_request"},
		{"another repository", map[string]any{"repository": "o/r"}, "repo:o/r:environment:prod"},
		{"explicit sub", map[string]any{"sub": "custom"}, "custom"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, c, _ := parts(t, g.Token(tt.claims)); c["sub"] != tt.want {
				t.Errorf("sub = %v, want %q", c["sub"], tt.want)
			}
		})
	}
	if _, c, _ := parts(t, g.Token(map[string]any{"sub": nil})); c["sub"] != nil {
		t.Errorf(`"sub": nil kept sub = %v`, c["sub"])
	}
}
