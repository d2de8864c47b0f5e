package authgate

import (
	"encoding/json"
	"slices"
	"strings"
	"time"
)

// Principal is the verified identity behind a request, in one normalized
// shape for every provider. Each request gets its own Principal: a handler
// or resolver may change its fields and lists without any other request
// seeing it. Claims and Header are read-only views, which may be shared
// with other requests (the verified-token cache hands every hit the same
// ones); what they return can be changed freely (see Object).
//
// Its JSON encoding (see MarshalJSON) uses the snake_case names in the field
// tags; it never includes User.
type Principal struct {
	// Provider is the name of the authenticator that verified the
	// credential ("static", "auth0", "keycloak", "apikey", …). Together with
	// Issuer and Subject it identifies the principal: the same Subject from
	// two providers is two different principals.
	Provider string `json:"provider"`
	// Method is how the credential was presented: "jwt", "apikey",
	// "firebase", "session_cookie", …
	Method string `json:"method"`
	// Subject is the verified subject (the token's "sub", the API key's
	// owner).
	Subject string `json:"subject"`
	// Issuer is the verified token issuer ("iss"); empty for API keys.
	Issuer string `json:"issuer"`
	// Audience is the verified token audience ("aud") as a list.
	Audience []string `json:"audience"`
	// Email, Name and Tenant come from the provider's claims when present.
	Email  string `json:"email"`
	Name   string `json:"name"`
	Tenant string `json:"tenant"`
	// Roles, Scopes and Permissions are what guards check.
	Roles       []string `json:"roles"`
	Scopes      []string `json:"scopes"`
	Permissions []string `json:"permissions"`
	// Claims holds every verified claim of a token, read-only (see
	// Object): read it with Claims.Get, Claims.GetString or p.Claim.
	Claims Object `json:"claims,omitzero"`
	// Header is the token's protected header, read-only like Claims.
	Header Object `json:"header,omitzero"`
	// CredentialID identifies the credential presented when it has a
	// stable, non-secret identifier: the API key's ID (a token's jti may go
	// in Claims). Empty when unknown.
	CredentialID string `json:"credential_id"`
	// TokenID is the token's "jti" when it has one as a string: what a
	// deny-list refuses one token by. Empty for API keys and tokens
	// without a jti.
	TokenID string `json:"token_id,omitempty"`
	// ExpiresAt and IssuedAt are the token's exp and iat (zero when absent).
	ExpiresAt time.Time `json:"expires_at,omitzero"`
	IssuedAt  time.Time `json:"issued_at,omitzero"`
	// User is what a resolver returned (see Resolve): the application's own
	// user object. It is never JSON-encoded with the principal: it may hold
	// what the application keeps from its users (a password hash, internal
	// flags), and a handler that answers with the principal must not leak
	// it; encode it yourself where you mean to.
	User any `json:"-"`
}

// MarshalJSON encodes the principal with the names of its field tags.
// Every string and list field is always present, and a list without
// elements is [] rather than null, so a client can read "roles" or "scopes"
// without checking for null first; Claims and Header are left out when
// empty, ExpiresAt and IssuedAt when zero, and User always. It returns the
// error of encoding a claim or header value.
func (p Principal) MarshalJSON() ([]byte, error) {
	type fields Principal // the same fields and tags, without this method
	f := fields(p)
	f.Audience = orEmpty(f.Audience)
	f.Roles = orEmpty(f.Roles)
	f.Scopes = orEmpty(f.Scopes)
	f.Permissions = orEmpty(f.Permissions)
	return json.Marshal(f)
}

// orEmpty returns s, or an empty non-nil list for a nil s, which JSON
// encodes as [] instead of null.
func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// HasRole reports whether the principal has the role exactly (case-sensitive).
func (p *Principal) HasRole(role string) bool {
	return p != nil && slices.Contains(p.Roles, role)
}

// HasScope reports whether the principal was granted the scope exactly.
func (p *Principal) HasScope(scope string) bool {
	return p != nil && slices.Contains(p.Scopes, scope)
}

// HasPermission reports whether the principal has the permission exactly.
func (p *Principal) HasPermission(permission string) bool {
	return p != nil && slices.Contains(p.Permissions, permission)
}

// Claim returns the claim at a dotted path ("realm_access.roles") and
// whether it exists; see LookupClaim. An object or array is a deep copy.
func (p *Principal) Claim(path string) (any, bool) {
	if p == nil {
		return nil, false
	}
	return p.Claims.Lookup(path)
}

// LookupClaim returns the value at a path inside a claims object. A path
// with a "/" is a URI-namespaced claim name (Auth0's
// "https://example.com/roles") and is looked up as one name; any other path
// is dotted: "realm_access.roles" is the member "roles" of the object
// "realm_access", and never a top-level member literally named
// "realm_access.roles" — which a token could carry to impersonate the
// nested claim.
func LookupClaim(claims map[string]any, path string) (any, bool) {
	if strings.Contains(path, "/") {
		v, ok := claims[path]
		return v, ok
	}
	var cur any = claims
	for part := range strings.SplitSeq(path, ".") {
		obj, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = obj[part]; !ok {
			return nil, false
		}
	}
	return cur, true
}
