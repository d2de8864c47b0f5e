package providers

import (
	"context"
	"sync"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/internal/bytesconv"
)

// The direct path: TokenAuthenticator.Verify and Authenticate map a token
// straight to its principal when nothing but the mapping reads the token
// (TokenAuthenticator.direct). The claims are then checked in full, as
// Verify checks them, but the claim set is not built into a map: the
// members the checks and the mapping read are picked while the JSON is
// checked (strictjson.ValidateObjectFunc), and the principal's Claims
// decode that JSON on their first read (authgate.LazyObject). Most
// requests never read Claims; building the map cost a fifth of an HS256
// verification and a third of its bytes.
//
// The token itself, and the arena its picked values are boxed from, are
// then scratch: the principal keeps nothing of them (its strings point
// into the decode buffer, as the map path's do, and its Audience is a
// copy), so they are pooled.

// tokenStorages holds the scratch tokens of the direct path, zeroed.
var tokenStorages = sync.Pool{New: func() any { return new(tokenStorage) }}

// directInline is how many list elements, Audience included, a principal
// of the direct path keeps in its own allocation: as many as fit in the
// allocator's 576-byte size class with the 8-byte header it keeps in an
// object over 512 bytes that holds pointers (TestDirectPrincipalSize).
const directInline = 11

// directPrincipal is a principal of the direct path with its lists and
// the claims its Claims reads, in one allocation.
type directPrincipal struct {
	p      authgate.Principal
	claims authgate.LazyObject
	lists  [directInline]string
}

// direct reports whether Verify may take the direct path: the token has a
// signature, no hook reads the Token (Check, the Principal extension, the
// verifier's Validate), no claim rule or cache needs its claim set, and
// the mapping reads only claims it can pick by name (RolesClaim and
// TenantClaim at their defaults).
func (a *TokenAuthenticator) direct() bool {
	v, m := a.verifier, &a.mapping
	return !a.unsigned && a.check == nil && a.extend == nil &&
		v.cache == nil && v.validate == nil && len(v.claims) == 0 &&
		(m.RolesClaim == "" || m.RolesClaim == "roles") && (m.TenantClaim == "" || m.TenantClaim == "tenant")
}

// verifyToPrincipal is Verify followed by m.Principal, for a mapping and
// a verifier that direct accepts: the same checks in the same order, with
// the same errors, and a principal equal to m.Principal's field for field
// (Claims by their members).
func (v *Verifier) verifyToPrincipal(ctx context.Context, token string, m *Mapping) (*authgate.Principal, error) {
	st := tokenStorages.Get().(*tokenStorage)
	defer func() {
		*st = tokenStorage{}
		tokenStorages.Put(st)
	}()
	var reg registeredClaims
	t, payload, err := v.verifyInto(ctx, st, token, &reg)
	if err != nil {
		return nil, err
	}
	b := new(directPrincipal)
	p := &b.p
	lists := b.lists[:0]
	if n := len(t.Audience); n > 0 { // nil stays nil, as m.Principal gives it
		if n > len(b.lists) {
			lists = make([]string, 0, n)
		}
		lists = append(lists, t.Audience...)
		p.Audience, lists = lists[:n:n], lists[n:]
	}
	m.fill(p, t, &reg.claims, lists)
	b.claims.Init(bytesconv.String(payload), decodeClaims)
	p.Claims = b.claims.Object()
	return p, nil
}
