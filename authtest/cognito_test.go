package authtest_test

import (
	"context"
	"strings"
	"testing"

	"github.com/authgate/authgate/authtest"
	"github.com/authgate/authgate/providers"
)

func TestCognitoShape(t *testing.T) {
	c := newClock()
	p := authtest.Cognito(t, "us-east-1_AbCdEfGhI", authtest.WithNow(c.Now))
	if p.Issuer() != p.URL()+"/us-east-1_AbCdEfGhI" || p.JWKSURL() != p.Issuer()+"/.well-known/jwks.json" {
		t.Errorf("Issuer() = %q, JWKSURL() = %q", p.Issuer(), p.JWKSURL())
	}
	if md, err := providers.Discover(context.Background(), p.Client(), p.Issuer()); err != nil || md.JWKSURI != p.JWKSURL() {
		t.Errorf("Discover() = %+v, %v", md, err)
	}
	var set struct{ Keys []map[string]any }
	get(t, p.Client(), p.JWKSURL(), &set)
	if len(set.Keys) != 2 || set.Keys[0]["use"] != "sig" || set.Keys[0]["alg"] != "RS256" || set.Keys[0]["x5c"] != nil {
		t.Errorf("JWKS = %v, want two RS256 keys without x5c", set.Keys)
	}
	ah, access, _ := parts(t, p.AccessToken(nil))
	ih, id, _ := parts(t, p.IDToken(nil))
	if len(ah) != 2 || ah["kid"] == ih["kid"] || !strings.HasSuffix(ah["kid"].(string), "=") {
		t.Errorf("headers %v, %v: want kid and alg, two standard-base64 kids", ah, ih)
	}
	if access["aud"] != nil || access["client_id"] != p.ClientID() || access["token_use"] != "access" || access["username"] != "alice" {
		t.Errorf("access token claims = %v", access)
	}
	if id["aud"] != p.ClientID() || id["token_use"] != "id" || id["cognito:username"] != "alice" || id["client_id"] != nil {
		t.Errorf("ID token claims = %v", id)
	}
	_, m2m, _ := parts(t, p.ClientCredentialsToken(nil))
	if m2m["sub"] != p.ClientID() || m2m["username"] != nil {
		t.Errorf("client credentials claims = %v", m2m)
	}
}
