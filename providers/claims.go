package providers

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/internal/bytesconv"
)

// Claim is a rule for one claim, in the seed project's vocabulary:
//
//   - Essential: the claim must be present.
//   - Value: when the claim is present it must equal Value.
//   - Values: when the claim is present it must equal one of Values.
//
// A claim that is a JSON array matches when any member matches, and "scope"
// (a space-separated string) matches when any of its scopes does. Values are
// strings, booleans or numbers; they are compared by JSON type, so the
// string "1" never equals the number 1.
type Claim struct {
	Essential bool
	Value     any
	Values    []any
}

// Claims maps claim names, dotted for nested claims ("realm_access.roles"),
// to their rules.
type Claims map[string]Claim

type compiledClaim struct {
	path      string
	essential bool
	allowed   []any // nil: any value
	scopeLike bool
}

type compiledClaims []compiledClaim

// claimError carries the sentinel kind of a failed rule.
type claimError struct {
	kind error
	msg  string
}

func (e *claimError) Error() string { return e.msg }

func (cs Claims) compile() (compiledClaims, error) {
	names := make([]string, 0, len(cs))
	for n := range cs {
		names = append(names, n)
	}
	slices.Sort(names) // a fixed order makes failures reproducible
	out := make(compiledClaims, 0, len(cs))
	for _, n := range names {
		c := cs[n]
		if n == "" || strings.HasPrefix(n, ".") || strings.HasSuffix(n, ".") || strings.Contains(n, "..") {
			return nil, fmt.Errorf("invalid claim name %q", n)
		}
		cc := compiledClaim{path: n, essential: c.Essential, scopeLike: lastSegment(n) == "scope"}
		if c.Value != nil {
			v, err := scalar(c.Value)
			if err != nil {
				return nil, fmt.Errorf("claim %q: %w", n, err)
			}
			cc.allowed = []any{v}
		}
		if c.Values != nil {
			if c.Value != nil {
				return nil, fmt.Errorf("claim %q: set Value or Values, not both", n)
			}
			if len(c.Values) == 0 {
				return nil, fmt.Errorf("claim %q: Values is empty", n)
			}
			for _, x := range c.Values {
				v, err := scalar(x)
				if err != nil {
					return nil, fmt.Errorf("claim %q: %w", n, err)
				}
				cc.allowed = append(cc.allowed, v)
			}
		}
		if !cc.essential && cc.allowed == nil {
			return nil, fmt.Errorf("claim %q: a rule needs Essential, Value or Values", n)
		}
		out = append(out, cc)
	}
	return out, nil
}

func lastSegment(path string) string {
	if i := strings.LastIndexByte(path, '.'); i >= 0 {
		return path[i+1:]
	}
	return path
}

// scalar normalizes a rule value to the types the JSON decoder produces.
func scalar(v any) (any, error) {
	switch x := v.(type) {
	case string, bool, float64:
		return x, nil
	case float32:
		return float64(x), nil
	case int:
		return float64(x), nil
	case int8:
		return float64(x), nil
	case int16:
		return float64(x), nil
	case int32:
		return float64(x), nil
	case int64:
		return float64(x), nil
	case uint:
		return float64(x), nil
	case uint8:
		return float64(x), nil
	case uint16:
		return float64(x), nil
	case uint32:
		return float64(x), nil
	case uint64:
		return float64(x), nil
	}
	return nil, fmt.Errorf("value of type %T: use a string, bool or number", v)
}

func (cs compiledClaims) check(claims map[string]any) *claimError {
	for i := range cs {
		c := &cs[i]
		v, ok := authgate.LookupClaim(claims, c.path)
		if !ok {
			if c.essential {
				return &claimError{authgate.ErrMissingClaim, fmt.Sprintf("claim %q is required", c.path)}
			}
			continue
		}
		if c.allowed != nil && !c.matches(v) {
			return &claimError{authgate.ErrInvalidClaim, fmt.Sprintf("claim %q has a value that is not allowed", c.path)}
		}
	}
	return nil
}

func (c *compiledClaim) matches(v any) bool {
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			if slices.Contains(c.allowed, e) {
				return true
			}
		}
		return false
	case string:
		if c.scopeLike && strings.Contains(x, " ") {
			for s := range strings.FieldsSeq(x) {
				if slices.Contains(c.allowed, any(s)) {
					return true
				}
			}
			return false
		}
	case map[string]any:
		return false
	}
	return slices.Contains(c.allowed, v)
}

// Mapping turns a verified token into an authgate.Principal.
type Mapping struct {
	// Provider and Method fill Principal.Provider and Principal.Method
	// (default "jwt").
	Provider string
	Method   string
	// RolesClaim is the dotted path of the roles claim (default "roles"),
	// an array of strings; a value of another type gives no roles.
	RolesClaim string
	// TenantClaim is the dotted path of the tenant claim (default
	// "tenant"), a string.
	TenantClaim string
}

// Principal builds the principal of a verified token: subject, issuer,
// audience, email and name, tenant, roles from RolesClaim, scopes from
// "scope" (space-separated) or "scp" (array or space-separated string),
// permissions from "permissions", every claim and the header.
//
// The principal and its Roles, Scopes and Permissions are one allocation
// when the lists have at most principalInline elements in all; each list is
// capped at its length, so appending to one never writes into another.
func (m Mapping) Principal(t *Token) *authgate.Principal {
	// Claims Verify saw absent need no lookup (claimsSeen); RolesClaim
	// and TenantClaim only at their default names.
	absent := t.absentClaims()
	rolesClaim, tenantClaim := cmp.Or(m.RolesClaim, "roles"), cmp.Or(m.TenantClaim, "tenant")
	if rolesClaim != "roles" {
		absent &^= seenRoles
	}
	if tenantClaim != "tenant" {
		absent &^= seenTenant
	}
	var c mappedClaims
	if absent&seenRoles == 0 {
		c.roles, _ = lookupClaim(t.Claims, rolesClaim)
	}
	if absent&seenTenant == 0 {
		c.tenant, _ = lookupClaim(t.Claims, tenantClaim)
	}
	for _, claim := range [...]struct {
		seen uint8
		name string
		val  *any
	}{
		{seenScope, "scope", &c.scope}, {seenScp, "scp", &c.scp}, {seenPermissions, "permissions", &c.permissions},
		{seenJti, "jti", &c.jti}, {seenEmail, "email", &c.email}, {seenName, "name", &c.name},
	} {
		if absent&claim.seen == 0 {
			*claim.val = t.Claims[claim.name]
		}
	}
	b := new(principalWithLists)
	p := &b.p
	p.Audience = t.Audience
	m.fill(p, t, &c, b.lists[:0])
	p.Claims = authgate.AdoptObject(t.Claims)
	return p
}

// mappedClaims are the members of a claim set Principal reads besides
// the registered ones (at the default names of RolesClaim and
// TenantClaim); nil for one that is absent.
type mappedClaims struct {
	roles, tenant, scope, scp, permissions, jti, email, name any
}

// pick records val as the member name, if it is one of c's, and returns
// its seen… bit (0 for another name).
func (c *mappedClaims) pick(name string, val any) uint8 {
	switch name {
	case "roles":
		c.roles = val
		return seenRoles
	case "tenant":
		c.tenant = val
		return seenTenant
	case "scope":
		c.scope = val
		return seenScope
	case "scp":
		c.scp = val
		return seenScp
	case "permissions":
		c.permissions = val
		return seenPermissions
	case "jti":
		c.jti = val
		return seenJti
	case "email":
		c.email = val
		return seenEmail
	case "name":
		c.name = val
		return seenName
	}
	return 0
}

// fill sets every field of the zero principal p that comes from the
// mapping, t and c, but Audience and Claims. The lists are carved from
// buf's free capacity when they fit there.
func (m Mapping) fill(p *authgate.Principal, t *Token, c *mappedClaims, buf []string) {
	// Field by field: the new principal is zero, and assigning a whole
	// struct to it would copy every word with write barriers.
	p.Provider = m.Provider
	p.Method = cmp.Or(m.Method, "jwt")
	p.Subject = t.Subject
	p.Issuer = t.Issuer
	p.Header = authgate.AdoptObject(t.Header)
	p.ExpiresAt = t.ExpiresAt
	p.IssuedAt = t.IssuedAt
	p.TokenID, _ = c.jti.(string)
	p.Email, _ = c.email.(string)
	p.Name, _ = c.name.(string)
	p.Tenant, _ = c.tenant.(string)
	scopes := c.scp
	if s, ok := c.scope.(string); ok {
		scopes = s
	}
	if n := listBound(c.roles) + listBound(scopes) + listBound(c.permissions); n > cap(buf)-len(buf) {
		buf = make([]string, 0, n)
	}
	if c.roles != nil {
		p.Roles, buf = carveStrings(c.roles, buf)
	}
	if s, ok := scopes.(string); ok {
		p.Scopes, buf = carveFields(s, buf)
	} else if scopes != nil {
		p.Scopes, buf = carveStrings(scopes, buf)
	}
	p.Permissions, _ = carveStrings(c.permissions, buf)
}

// claimsSeen records which of the top-level claims Principal reads a
// claim set had when Verify decoded it, picked with the registered claims
// (registeredClaims.pick), so that Principal looks up only those present:
// most tokens have few of them, and each lookup of an absent name costs a
// hash of the name. It holds for Token.Claims as long as that is the map
// it was taken from (claims), with as many members: Claims is read-only,
// and a Token given other claims, by assignment or built by hand, has
// every claim looked up.
type claimsSeen struct {
	claims  map[string]any
	n       uint32
	present uint8 // seen… bits
}

const (
	seenRoles  = 1 << iota // "roles", Mapping.RolesClaim's default
	seenTenant             // "tenant", Mapping.TenantClaim's default
	seenScope
	seenScp
	seenPermissions
	seenJti
	seenEmail
	seenName
)

// absentClaims returns the seen… bits of the claims t.Claims is known
// not to have: none unless t.seen describes t.Claims.
func (t *Token) absentClaims() uint8 {
	s := &t.seen
	if s.claims == nil || uint32(len(t.Claims)) != s.n || !bytesconv.SameMap(s.claims, t.Claims) {
		return 0
	}
	return ^s.present
}

// lookupClaim is authgate.LookupClaim with a shortcut for a path that is a
// plain member name (no "." and no "/"), which LookupClaim too looks up as
// one name.
func lookupClaim(claims map[string]any, path string) (any, bool) {
	if strings.IndexByte(path, '.') < 0 && strings.IndexByte(path, '/') < 0 {
		v, ok := claims[path]
		return v, ok
	}
	return authgate.LookupClaim(claims, path)
}

// listBound is at least the number of strings carveStrings or carveFields
// takes from v, in the common case exactly: an array's length, one more
// than a string's spaces.
func listBound(v any) int {
	switch x := v.(type) {
	case []any:
		return len(x)
	case string:
		return strings.Count(x, " ") + 1
	}
	return 0
}

// carveStrings is StringList into the front of buf's free capacity: it
// returns the list (capped at its length; nil when StringList gives nil)
// and the rest of buf.
func carveStrings(v any, buf []string) (list, rest []string) {
	arr, ok := v.([]any)
	if !ok || len(arr) == 0 {
		return nil, buf
	}
	for _, e := range arr {
		if s, ok := e.(string); ok {
			buf = append(buf, s)
		}
	}
	return buf[:len(buf):len(buf)], buf[len(buf):]
}

// carveFields is strings.Fields into the front of buf's free capacity, as
// carveStrings. Like strings.Fields, it returns an empty list, not nil, for
// a string without fields.
func carveFields(s string, buf []string) (list, rest []string) {
	n := len(buf)
	start := -1
	for i := 0; i < len(s); i++ {
		switch fieldByte[s[i]] {
		case fieldSpace:
			if start >= 0 {
				buf = append(buf, s[start:i])
				start = -1
			}
		case fieldOther:
			if start < 0 {
				start = i
			}
		default: // not ASCII: Unicode spaces too, as strings.Fields
			buf = buf[:n]
			for f := range strings.FieldsSeq(s) {
				buf = append(buf, f)
			}
			return buf[:len(buf):len(buf)], buf[len(buf):]
		}
	}
	if start >= 0 {
		buf = append(buf, s[start:])
	}
	return buf[:len(buf):len(buf)], buf[len(buf):]
}

// Classes of bytes for carveFields: the ASCII spaces strings.Fields
// splits at, other ASCII, and the bytes of other characters.
const (
	fieldOther = iota
	fieldSpace
	fieldNonASCII
)

var fieldByte = func() (t [256]byte) {
	for c := 0x80; c < 0x100; c++ {
		t[c] = fieldNonASCII
	}
	for _, c := range []byte(" \t\n\v\f\r") {
		t[c] = fieldSpace
	}
	return t
}()

// StringList returns the strings of a JSON array claim, or nil when v is not
// an array. Non-string members are left out.
func StringList(v any) []string {
	arr, ok := v.([]any)
	if !ok || len(arr) == 0 {
		return nil
	}
	out := make([]string, 0, len(arr))
	for _, e := range arr {
		if s, ok := e.(string); ok {
			out = append(out, s)
		}
	}
	return out
}
