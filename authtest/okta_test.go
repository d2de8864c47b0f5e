package authtest_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/authgate/authgate/authtest"
	"github.com/authgate/authgate/providers"
)

func TestOktaShape(t *testing.T) {
	c := newClock()
	o := authtest.Okta(t, "default", authtest.WithNow(c.Now))
	for _, doc := range []struct{ url, issuer string }{
		{o.Issuer() + "/.well-known/oauth-authorization-server", o.Issuer()},
		{o.Issuer() + "/.well-known/openid-configuration", o.Issuer()},
		{o.OrgIssuer() + "/.well-known/openid-configuration", o.OrgIssuer()},
	} {
		var md map[string]any
		get(t, o.Client(), doc.url, &md)
		if md["issuer"] != doc.issuer || !strings.HasSuffix(md["jwks_uri"].(string), "/v1/keys") || md["introspection_endpoint"] == nil {
			t.Errorf("%s: issuer %v, jwks_uri %v, introspection %v", doc.url, md["issuer"], md["jwks_uri"], md["introspection_endpoint"])
		}
	}
	if md, err := providers.Discover(context.Background(), o.Client(), o.Issuer()); err != nil || md.JWKSURI != o.Issuer()+"/v1/keys" {
		t.Errorf("Discover(custom server) = %+v, %v", md, err)
	}

	h, claims, _ := parts(t, o.Token(nil))
	if len(h) != 2 || h["alg"] != "RS256" || len(h["kid"].(string)) != 43 {
		t.Errorf("header = %v, want kid (43 characters) and alg only", h)
	}
	if claims["iss"] != o.Issuer() || claims["aud"] != authtest.OktaDefaultAudience || claims["cid"] != o.ClientID() ||
		claims["uid"] != o.UserID() || !strings.HasPrefix(claims["jti"].(string), "AT.") {
		t.Errorf("access token claims = %v", claims)
	}
	if scp, ok := claims["scp"].([]any); !ok || !slices.Contains(scp, any("openid")) {
		t.Errorf("scp = %v, want an array", claims["scp"])
	}
	if num(t, claims["exp"])-num(t, claims["iat"]) != 3600 {
		t.Errorf("lifetime = %d s, want 3600", num(t, claims["exp"])-num(t, claims["iat"]))
	}
	_, id, _ := parts(t, o.IDToken(nil))
	if id["sub"] != o.UserID() || id["aud"] != o.ClientID() || id["cid"] != nil || !strings.HasPrefix(id["jti"].(string), "ID.") {
		t.Errorf("ID token claims = %v", id)
	}
	oh, org, _ := parts(t, o.OrgToken(nil))
	if org["iss"] != o.OrgIssuer() || org["aud"] != o.OrgIssuer() || oh["kid"] == h["kid"] {
		t.Errorf("org token: header %v, claims %v", oh, org)
	}
	_, m2m, _ := parts(t, o.ClientCredentialsToken(nil))
	if m2m["sub"] != o.ClientID() || m2m["uid"] != nil {
		t.Errorf("client credentials claims = %v", m2m)
	}
}
