// Package chain composes authenticators: [Any] accepts a request that one of
// several authenticators accepts (the seed's auth=[JWTAuth(), APIKeyAuth()]),
// [All] one that every authenticator accepts.
//
// The rule that makes [Any] safe: the first authenticator that recognises a
// credential decides. A credential it rejects (an expired token, a revoked
// key) is never offered to the next one, so a weaker authenticator can never
// rescue a credential its owner refused. An authenticator that does not
// recognise the credential (it returns an error for which
// [authgate.IsNotMine] holds) is skipped; deciding that costs it no network
// I/O and no signature check, so chaining many providers costs one
// verification.
//
// Configurations that cannot work as meant are reported by [New] and
// [NewAll] as errors; [Any] and [All] panic on them, at start-up, like
// regexp.MustCompile. A chain never panics while serving: an authenticator
// that panics is recovered and the request is rejected with an error that
// carries [authgate.ErrPanic].
//
// The checks see through decorators: a member such as
// authgate.Resolve(chain.Any(a, b), f) is checked as its members a and b
// are, because decorators and chains describe what they hold
// ([authgate.Description] Members).
//
// Chains are safe for concurrent use when their members are.
package chain

import (
	"errors"
	"fmt"
	"net/http"
	"net/textproto"
	"slices"
	"strings"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/internal/adapter"
)

// ErrAmbiguous is the cause inside the error [Chain.Authenticate] returns
// when a request carries credentials for members of the chain in more than
// one place (SECURITY.md#api-keys), for example "Authorization: Bearer …" and
// "X-API-Key: …". That error carries authgate.ErrMalformedRequest: 400
// invalid_request. See [Chain.Ordered] to let the order decide instead.
var ErrAmbiguous = errors.New("chain: credentials in more than one place")

// provider names the chain in its own errors.
const provider = "chain"

// Chain is an OR ([New]) or AND ([NewAll]) composition of authenticators.
// It is immutable and safe for concurrent use when its members are.
type Chain struct {
	auths   []authgate.Authenticator
	names   []string               // provider name per member, for errors
	own     []string               // non-Bearer challenge scheme per member, or ""
	descs   []authgate.Description // flattened descriptions, for nesting
	all     bool
	ordered bool
	schemes []string

	// carriers are the distinct places credentials of the members are read
	// from; with two or more, Authenticate rejects requests that fill
	// several of them.
	carriers []carrier

	noCredentials error
}

// carrier is one place a credential is sent in: a header, and for the
// Authorization header the auth-schemes the members read there.
type carrier struct {
	header  string   // canonical header key
	schemes []string // auth-schemes looked for in Authorization; nil: any value
}

// New returns the OR of auths, tried in order: the first authenticator that
// recognises a credential decides (its principal, or its rejection, final);
// the others are not called.
//
// When no authenticator recognises anything, Authenticate returns an error
// wrapping authgate.ErrNoCredentials whose Schemes list one challenge per
// member scheme (401, `Bearer realm="api", ApiKey realm="api",
// header="X-API-Key"`), or, when a member saw a credential that is not its
// own and nobody claimed it, an error wrapping
// authgate.ErrUnrecognizedCredential (401 invalid_token). A member's
// rejection is returned unchanged, so errors.Is(err, authgate.ErrTokenExpired)
// still holds.
//
// When credentials for members sit in more than one place (a bearer token and
// an API-key header), Authenticate rejects the request with
// authgate.ErrMalformedRequest ([ErrAmbiguous]) before calling anybody,
// unless the chain is [Chain.Ordered]. Members are placed with their
// [authgate.Describer] Scheme: `Bearer` reads Authorization, `ApiKey
// header="X-API-Key"` reads X-API-Key; members that do not describe
// themselves are not considered.
//
// New returns an error, and no chain, when auths is empty or holds nil, when
// two members claim the same issuer (a token of that issuer would always go
// to the first; the second is dead or, worse, expected to rescue it), when
// a Bearer member that claims every bearer token (no Issuers) stands ahead of
// another Bearer member, which would then never see a token (put such a
// catch-all last), when two API-key members claim the same key prefix
// (Description.APIKeyPrefix; a key sent as "Authorization: Bearer sk_…"
// would always go to the first), or when an API-key member that claims
// every key of its header (no APIKeyPrefix) stands ahead of another member
// reading that header. Members of nested OR chains count as members, also
// under decorators (authgate.Resolve, authgate.Check, authgate.RequireRoles,
// …).
func New(auths ...authgate.Authenticator) (*Chain, error) {
	c, err := build(auths, false)
	if err != nil {
		return nil, err
	}
	if err := validateAny(c.descs); err != nil {
		return nil, err
	}
	return c, nil
}

// Any is [New] for routes set up at start-up: it panics where New returns
// an error. A configuration error is a programming error, found before the
// server serves anything; Any itself never panics while serving. Call
// [Chain.Ordered] on the result to let the order of the members decide
// between several credentials: chain.Any(jwt, keys).Ordered().
func Any(auths ...authgate.Authenticator) *Chain {
	c, err := New(auths...)
	if err != nil {
		panic(err)
	}
	return c
}

// NewAll returns the AND of auths: every member must authenticate the
// request, in order, and the first failure is returned unchanged (a member
// that finds no credential of its own makes the chain answer
// authgate.ErrNoCredentials with every member's challenge). On success the
// first member's principal is returned as it is: the principals of the
// others are verified and dropped, never merged (no roles or scopes are
// added), so put the authenticator that names the user first and use the
// others as extra proofs (a client API key beside a user token).
//
// NewAll returns an error when auths is empty or holds nil.
func NewAll(auths ...authgate.Authenticator) (*Chain, error) {
	return build(auths, true)
}

// All is [NewAll] for routes set up at start-up: it panics where NewAll
// returns an error, never while serving.
func All(auths ...authgate.Authenticator) *Chain {
	c, err := NewAll(auths...)
	if err != nil {
		panic(err)
	}
	return c
}

// Ordered returns a copy of c in which the order of the members is the
// precedence rule for requests that carry several credentials: the first
// member that recognises one decides and the other credentials are ignored
// (never "either may pass"). Without it, such requests are rejected with
// [ErrAmbiguous]. Ordered has no effect on an AND chain.
func (c *Chain) Ordered() *Chain {
	cp := *c
	cp.ordered = true
	return &cp
}

func build(auths []authgate.Authenticator, all bool) (*Chain, error) {
	if len(auths) == 0 {
		return nil, errors.New("chain: no authenticators")
	}
	c := &Chain{auths: slices.Clone(auths), all: all}
	var errs []error
	for i, a := range c.auths {
		if a == nil {
			errs = append(errs, fmt.Errorf("chain: authenticator %d is nil", i))
			continue
		}
		c.names = append(c.names, adapter.Name(a, provider))
		c.own = append(c.own, adapter.Scheme(a))
		var d authgate.Description
		if ds, ok := a.(authgate.Describer); ok {
			d = ds.Describe()
		}
		if len(d.Members) > 0 {
			// An OR chain, possibly under decorators: its members are
			// checked as ours.
			c.descs = append(c.descs, d.Members...)
			continue
		}
		if d.Name == "" {
			d.Name = fmt.Sprintf("authenticator %d", i)
		}
		c.descs = append(c.descs, d)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	for _, d := range c.descs {
		s := d.Scheme
		if s == "" {
			s = "Bearer"
		}
		if !slices.ContainsFunc(c.schemes, func(t string) bool { return strings.EqualFold(s, t) }) {
			c.schemes = append(c.schemes, s)
		}
	}
	c.carriers = carriers(c.descs)
	c.noCredentials = &authgate.Error{Provider: provider, Kind: authgate.ErrNoCredentials, Schemes: c.schemes}
	return c, nil
}

// Describe returns, for an OR chain, the descriptions of its members
// (flattened through nested chains and decorators) as Members, so a chain
// that holds this one, even under a decorator, checks them as its own. An
// AND chain describes nothing: its members are proofs that must all hold,
// not alternatives.
func (c *Chain) Describe() authgate.Description {
	if c.all {
		return authgate.Description{}
	}
	members := make([]authgate.Description, len(c.descs))
	for i, d := range c.descs {
		d.Issuers = slices.Clone(d.Issuers)
		members[i] = d
	}
	return authgate.Description{Members: members}
}

// validateAny finds configurations under which a member of an OR chain
// could never decide what it is meant to.
func validateAny(descs []authgate.Description) error {
	var errs []error
	claimed := map[string]string{}
	prefixes := map[string]string{}
	keyCatchAll := map[string]string{} // canonical header → member claiming every key in it
	catchAll := ""
	for _, d := range descs {
		if isAPIKey(d.Scheme) {
			header := textproto.CanonicalMIMEHeaderKey(headerParam(d.Scheme))
			if prev, ok := keyCatchAll[header]; ok {
				errs = append(errs, fmt.Errorf("chain: %s claims every API key in %s, so %s after it never sees one; put the catch-all last", prev, header, d.Name))
			}
			if d.APIKeyPrefix == "" {
				if _, ok := keyCatchAll[header]; !ok {
					keyCatchAll[header] = d.Name
				}
			} else if prev, ok := prefixes[d.APIKeyPrefix]; ok {
				errs = append(errs, fmt.Errorf("chain: %s and %s both claim API keys with prefix %q", prev, d.Name, d.APIKeyPrefix))
			} else {
				prefixes[d.APIKeyPrefix] = d.Name
			}
		}
		for _, iss := range d.Issuers {
			if prev, ok := claimed[iss]; ok {
				errs = append(errs, fmt.Errorf("chain: %s and %s both claim issuer %q", prev, d.Name, iss))
				continue
			}
			claimed[iss] = d.Name
		}
		if !isBearer(d.Scheme) {
			continue
		}
		if catchAll != "" {
			errs = append(errs, fmt.Errorf("chain: %s claims every bearer token, so %s after it never sees one; put the catch-all last", catchAll, d.Name))
		}
		if len(d.Issuers) == 0 && catchAll == "" {
			catchAll = d.Name
		}
	}
	return errors.Join(errs...)
}

// schemeName returns the auth-scheme of a challenge ("Bearer" in `Bearer
// realm="x"`).
func schemeName(scheme string) string {
	name, _, _ := strings.Cut(strings.TrimSpace(scheme), " ")
	return name
}

func isBearer(scheme string) bool {
	return strings.EqualFold(schemeName(scheme), "Bearer")
}

func isAPIKey(scheme string) bool {
	return strings.EqualFold(schemeName(scheme), "ApiKey")
}

// headerParam returns the value of the header="…" auth-param of a scheme.
func headerParam(scheme string) string {
	_, params, _ := strings.Cut(strings.TrimSpace(scheme), " ")
	for p := range strings.SplitSeq(params, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(p), "=")
		if ok && strings.EqualFold(strings.TrimSpace(k), "header") {
			return strings.Trim(strings.TrimSpace(v), `"`)
		}
	}
	return ""
}

func carriers(descs []authgate.Description) []carrier {
	var out []carrier
	add := func(header, scheme string) {
		header = textproto.CanonicalMIMEHeaderKey(header)
		for i := range out {
			if out[i].header == header {
				if scheme != "" && !slices.Contains(out[i].schemes, scheme) {
					out[i].schemes = append(out[i].schemes, scheme)
				}
				return
			}
		}
		c := carrier{header: header}
		if scheme != "" {
			c.schemes = []string{scheme}
		}
		out = append(out, c)
	}
	for _, d := range descs {
		if d.Scheme == "" {
			continue // undescribed: where it reads is unknown
		}
		if h := headerParam(d.Scheme); h != "" && !strings.EqualFold(h, "Authorization") {
			add(h, "")
			continue
		}
		add("Authorization", schemeName(d.Scheme))
	}
	return out
}

// present reports whether the request fills the carrier.
func (k *carrier) present(h http.Header) bool {
	vs := h[k.header]
	if k.schemes == nil {
		return len(vs) > 0
	}
	for _, v := range vs {
		name, _, _ := strings.Cut(strings.TrimLeft(v, " "), " ")
		for _, s := range k.schemes {
			if strings.EqualFold(name, s) {
				return true
			}
		}
	}
	return false
}

var errAmbiguous = &authgate.Error{
	Provider:    provider,
	Kind:        authgate.ErrMalformedRequest,
	Description: "More than one credential was sent",
	Err:         ErrAmbiguous,
}

// Authenticate applies the chain to r (see [New] and [NewAll]).
func (c *Chain) Authenticate(r *http.Request) (*authgate.Principal, error) {
	if c.all {
		return c.authenticateAll(r)
	}
	if !c.ordered && len(c.carriers) > 1 {
		n := 0
		for i := range c.carriers {
			if c.carriers[i].present(r.Header) {
				n++
			}
		}
		if n > 1 {
			return nil, errAmbiguous
		}
	}
	unrecognized := -1
	var unrecognizedErr error
	for i, a := range c.auths {
		p, err := adapter.Authenticate(a, r, c.names[i])
		if err == nil {
			return p, nil
		}
		if !authgate.IsNotMine(err) {
			return nil, adapter.WithScheme(err, c.own[i], c.names[i])
		}
		if unrecognized < 0 && errors.Is(err, authgate.ErrUnrecognizedCredential) {
			unrecognized, unrecognizedErr = i, adapter.WithScheme(err, c.own[i], c.names[i])
		}
	}
	if unrecognized >= 0 {
		// A credential was sent that nobody claims: 401 invalid_token. The
		// member's own error is kept (it names the scheme it saw).
		return nil, unrecognizedErr
	}
	return nil, c.noCredentials
}

func (c *Chain) authenticateAll(r *http.Request) (*authgate.Principal, error) {
	var first *authgate.Principal
	for i, a := range c.auths {
		p, err := adapter.Authenticate(a, r, c.names[i])
		if err != nil {
			if authgate.IsNotMine(err) && !errors.Is(err, authgate.ErrUnrecognizedCredential) {
				return nil, c.noCredentials
			}
			return nil, adapter.WithScheme(err, c.own[i], c.names[i])
		}
		if first == nil {
			first = p
		}
	}
	return first, nil
}

// Schemes returns the challenges the chain offers when a request carries no
// credentials, one per distinct member scheme, in member order.
func (c *Chain) Schemes() []string { return slices.Clone(c.schemes) }
