package firebase_test

import (
	"testing"
)

// A token of tenant "t-2" that also carries a top-level custom claim whose
// name is literally "firebase.tenant" must not pass as a token of tenant
// "t-1": the tenant is Firebase's nested firebase.tenant, and custom claims
// (set through the Admin API or a tenant's blocking function) are not the
// tenant. LookupClaim once preferred the literal dotted key over the nested path.
func TestRegressionTenantSpoofedByDottedCustomClaim(t *testing.T) {
	e := newEnv(t, tenant("t-1"))
	tok := idToken(claims(t0, withTenant("t-2"), set("firebase.tenant", "t-1")))
	p, err := e.auth.Verify(t.Context(), tok)
	if err == nil {
		t.Fatalf("token of tenant t-2 accepted by the t-1 authenticator (Principal.Tenant = %q)", p.Tenant)
	}
}

// With AnyTenant, Principal.Tenant is what authorization must check; it
// must be the token's real tenant.
func TestRegressionAnyTenantPrincipalTenantSpoofed(t *testing.T) {
	e := newEnv(t, anyTenant)
	tok := idToken(claims(t0, withTenant("t-2"), set("firebase.tenant", "t-1")))
	p, err := e.auth.Verify(t.Context(), tok)
	if err == nil && p.Tenant != "t-2" {
		t.Fatalf("Principal.Tenant = %q for a token of tenant t-2", p.Tenant)
	}
}
