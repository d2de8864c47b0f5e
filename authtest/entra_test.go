package authtest_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/authgate/authgate/authtest"
	"github.com/authgate/authgate/providers"
)

func TestEntraShape(t *testing.T) {
	e := authtest.Entra(t)
	tid := e.TenantID()

	t.Run("discovery", func(t *testing.T) {
		for _, tc := range []struct{ path, issuer, jwks string }{
			{"/" + tid + "/v2.0", e.Issuer(tid), e.URL() + "/" + tid + "/discovery/v2.0/keys"},
			{"/organizations/v2.0", e.Issuer("{tenantid}"), e.URL() + "/organizations/discovery/v2.0/keys"},
			{"/common/v2.0", e.Issuer("{tenantid}"), e.URL() + "/common/discovery/v2.0/keys"},
			{"/consumers/v2.0", e.Issuer(authtest.EntraConsumersTenant), e.URL() + "/" + authtest.EntraConsumersTenant + "/discovery/v2.0/keys"},
			{"/" + tid, "https://sts.windows.net/" + tid + "/", e.URL() + "/" + tid + "/discovery/keys"},
			{"/common", "https://sts.windows.net/{tenantid}/", e.URL() + "/common/discovery/keys"},
		} {
			var doc map[string]any
			get(t, e.Client(), e.URL()+tc.path+"/.well-known/openid-configuration", &doc)
			if doc["issuer"] != tc.issuer || doc["jwks_uri"] != tc.jwks {
				t.Errorf("%s: issuer, jwks_uri = %v, %v, want %s, %s", tc.path, doc["issuer"], doc["jwks_uri"], tc.issuer, tc.jwks)
			}
		}
		// A tenant-specific v2.0 document passes OpenID discovery's exact
		// issuer check; the template one cannot, by design.
		if _, err := providers.Discover(context.Background(), e.Client(), e.Issuer(tid)); err != nil {
			t.Errorf("Discover(tenant) = %v", err)
		}
		if resp := get(t, e.Client(), e.URL()+"/contoso.onmicrosoft.com/v2.0/.well-known/openid-configuration", nil); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("discovery of a domain name = %d, want 400", resp.StatusCode)
		}
	})

	t.Run("keys", func(t *testing.T) {
		for _, tc := range []struct {
			path    string
			issuers []any // the keys' "issuer" members, in order; nil for none
		}{
			{"/" + tid + "/discovery/v2.0/keys", []any{e.Issuer(tid)}},
			{"/organizations/discovery/v2.0/keys", []any{e.Issuer("{tenantid}")}},
			{"/common/discovery/v2.0/keys", []any{e.Issuer("{tenantid}"), e.Issuer(authtest.EntraConsumersTenant)}},
			{"/consumers/discovery/v2.0/keys", []any{e.Issuer(authtest.EntraConsumersTenant)}},
			{"/common/discovery/keys", []any{nil}},
		} {
			var set struct{ Keys []map[string]any }
			resp := get(t, e.Client(), e.URL()+tc.path, &set)
			if cc := resp.Header.Get("Cache-Control"); cc != "max-age=86400, private" {
				t.Errorf("%s: Cache-Control = %q", tc.path, cc)
			}
			var issuers []any
			for _, k := range set.Keys {
				issuers = append(issuers, k["issuer"])
				if _, ok := k["alg"]; ok || k["kty"] != "RSA" || k["use"] != "sig" || k["kid"] != k["x5t"] || k["x5c"] == nil {
					t.Errorf("%s: key %v, want Entra's: RSA, sig, kid = x5t, x5c, no alg", tc.path, k)
				}
			}
			if !slices.Equal(issuers, tc.issuers) {
				t.Errorf("%s: issuers %v, want %v", tc.path, issuers, tc.issuers)
			}
		}
		if e.KeysRequests() != 5 {
			t.Errorf("KeysRequests = %d, want 5", e.KeysRequests())
		}
	})

	t.Run("tokens", func(t *testing.T) {
		for _, tc := range []struct {
			name    string
			token   string
			header  []string
			claims  map[string]any
			without []string
		}{
			{"v2.0 delegated", e.Token(nil), []string{"alg", "kid", "typ"}, map[string]any{
				"iss": e.Issuer(tid), "aud": e.Audience(), "tid": tid, "ver": "2.0", "azp": e.ClientID(),
				"oid": e.UserObjectID(), "sub": e.Subject(), "scp": "access_as_user",
			}, []string{"roles", "appid", "idtyp"}},
			{"v2.0 app-only", e.AppToken(nil), []string{"alg", "kid", "typ"}, map[string]any{
				"iss": e.Issuer(tid), "ver": "2.0", "azpacr": "1", "oid": e.AppObjectID(), "sub": e.AppObjectID(),
			}, []string{"scp", "name", "idtyp"}},
			{"v1.0 delegated", e.V1Token(nil), []string{"alg", "kid", "typ", "x5t"}, map[string]any{
				"iss": "https://sts.windows.net/" + tid + "/", "aud": e.AppIDURI(), "ver": "1.0", "appid": e.ClientID(),
				"scp": "user_impersonation",
			}, []string{"azp", "preferred_username"}},
			{"v1.0 app-only", e.V1AppToken(nil), []string{"alg", "kid", "typ", "x5t"}, map[string]any{
				"ver": "1.0", "appidacr": "1", "sub": e.AppObjectID(), "idp": "https://sts.windows.net/" + tid + "/",
			}, []string{"scp", "azp"}},
			{"other tenant", e.Token(map[string]any{"tid": "72f988bf-86f1-41af-91ab-2d7cd011db47"}), []string{"alg", "kid", "typ"}, map[string]any{
				"iss": e.Issuer("72f988bf-86f1-41af-91ab-2d7cd011db47"),
			}, nil},
		} {
			h, c, _ := parts(t, tc.token)
			var names []string
			for n := range h {
				names = append(names, n)
			}
			slices.Sort(names)
			if !slices.Equal(names, tc.header) || h["alg"] != "RS256" || h["typ"] != "JWT" {
				t.Errorf("%s: header %v, want members %v", tc.name, h, tc.header)
			}
			if x5t, ok := h["x5t"]; ok && x5t != h["kid"] {
				t.Errorf("%s: x5t %v, want the kid %v", tc.name, x5t, h["kid"])
			}
			for n, want := range tc.claims {
				if c[n] != want {
					t.Errorf("%s: %s = %v, want %v", tc.name, n, c[n], want)
				}
			}
			for _, n := range tc.without {
				if _, ok := c[n]; ok {
					t.Errorf("%s: has %s", tc.name, n)
				}
			}
			if num(t, c["exp"])-num(t, c["iat"]) != 75*60 || c["nbf"] == nil {
				t.Errorf("%s: lifetime %d s, want 75 minutes and an nbf", tc.name, num(t, c["exp"])-num(t, c["iat"]))
			}
		}
		h, _, _ := parts(t, e.Token(map[string]any{"tid": authtest.EntraConsumersTenant}))
		if h["kid"] != e.ConsumersKeyID() || strings.EqualFold(e.ConsumersKeyID(), e.KeyID()) {
			t.Errorf("personal-account token signed by %v, want the consumers key %s", h["kid"], e.ConsumersKeyID())
		}
	})
}
