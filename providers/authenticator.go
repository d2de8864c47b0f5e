package providers

import (
	"cmp"
	"context"
	"errors"
	"net/http"
	"slices"

	"github.com/authgate/authgate"
)

// TokenAuthenticator is the request side every JWT provider shares: it
// reads "Authorization: Bearer <token>" (BearerToken), verifies the token
// (Verifier), runs the provider's Check on every request (cache hits
// included) and maps the token to a principal (Mapping plus the preset's
// Principal hook). Build one with Preset.New, or with NewTokenAuthenticator
// over a Verifier of your own. It is immutable and safe for concurrent use.
type TokenAuthenticator struct {
	verifier *Verifier
	mapping  Mapping
	keys     *RemoteKeySet // nil for keys held in memory
	check    func(context.Context, *Token) error
	extend   func(*Token, *authgate.Principal)
	prefetch []func(context.Context) error
	ready    []func() error
	extract  func(*http.Request) (string, error) // nil: BearerToken
	scheme   string                              // "": Bearer
	unsigned bool
	refuse   []string // issuers claimed only to be refused (Preset.RefuseIssuers)
	reason   error
}

// NewTokenAuthenticator returns the authenticator of v and m. m.Provider
// defaults to v's name.
func NewTokenAuthenticator(v *Verifier, m Mapping) *TokenAuthenticator {
	if m.Provider == "" {
		m.Provider = v.Name()
	}
	return &TokenAuthenticator{verifier: v, mapping: m}
}

// Authenticate reads the bearer token and verifies it. No bearer
// credential, or a token of another issuer, is "not mine"
// (authgate.ErrNoCredentials, authgate.ErrUnrecognizedCredential) and costs
// no key lookup; an ambiguous header is authgate.ErrMalformedRequest; see
// Verify for the rest.
func (a *TokenAuthenticator) Authenticate(r *http.Request) (*authgate.Principal, error) {
	if a.extract != nil {
		token, err := a.extract(r)
		if err != nil {
			return nil, a.own(err)
		}
		return a.Verify(r.Context(), token)
	}
	// BearerToken, with its check of the token's characters left to
	// verifyToken, which skips it on a cache hit.
	token, err := bearerCredential(r)
	if err != nil {
		return nil, a.own(err)
	}
	return a.verify(r.Context(), token, true)
}

// Verify verifies a token outside HTTP and returns its principal, or an
// error wrapping one of authgate's sentinels: ErrUnrecognizedCredential
// (not a JWT of this issuer), ErrUnavailable (keys or a document the
// provider checks cannot be fetched), ErrTokenExpired,
// ErrInvalidSignature, ErrInvalidAudience, ErrRevoked, ….
//
// With the verified-token cache on, a token verified before costs a hash,
// a map lookup, a comparison of the whole token, the provider's Check and
// a copy of the principal the cache keeps for it. The principal returned
// is the caller's own: it shares only immutable strings with the cache and
// with other requests, so a handler or resolver may change anything in it
// (fields, list elements, claims at any depth) without any other request
// seeing it.
func (a *TokenAuthenticator) Verify(ctx context.Context, token string) (*authgate.Principal, error) {
	return a.verify(ctx, token, false)
}

// verify is Verify; bearer is set for a token from bearerCredential, whose
// characters verifyToken still has to check.
func (a *TokenAuthenticator) verify(ctx context.Context, token string, bearer bool) (*authgate.Principal, error) {
	if a.direct() {
		p, err := a.verifier.verifyToPrincipal(ctx, token, &a.mapping)
		if err != nil {
			// A token that verifies is base64url and dots only, all of
			// them b64token characters, so BearerToken's check can fail
			// only here; it is made first, for BearerToken's 400. A token
			// that fails it never got past the framing, before any key
			// lookup.
			if bearer {
				if err := a.bearerChars(token); err != nil {
					return nil, err
				}
			}
			return nil, a.refused(token, err)
		}
		return p, nil
	}
	t, p, e, err := a.verifyToken(ctx, token, bearer)
	switch {
	case err != nil:
		return nil, err
	case p != nil:
		return p, nil
	case e != nil:
		if p, ok := e.principal(a); ok {
			return p, nil
		}
		if t, err = a.verifier.verify(ctx, token); err != nil {
			return nil, err
		}
	}
	return a.Principal(t), nil
}

// VerifyToken is Verify without the mapping: it returns the verified token.
// The token may be shared with the verified-token cache: read it, never
// modify it.
func (a *TokenAuthenticator) VerifyToken(ctx context.Context, token string) (*Token, error) {
	t, _, e, err := a.verifyToken(ctx, token, false)
	if err != nil || t != nil {
		return t, err
	}
	if t, ok := e.token(); ok {
		return t, nil
	}
	return a.verifier.verify(ctx, token)
}

// verifyToken verifies token and runs the provider's Check. On a cache hit
// it returns the entry, and the token only when Check needed it; on a miss
// the token, and the principal when it was built for the cache. A bearer
// token's characters are checked unless the cache holds it, before any
// other work: BearerToken's 400 for a token that is not a b64token.
func (a *TokenAuthenticator) verifyToken(ctx context.Context, token string, bearer bool) (t *Token, p *authgate.Principal, e *cacheEntry, err error) {
	switch {
	case !a.unsigned:
		t, p, e, err = a.verifier.verifyCached(ctx, token, a, bearer)
	case bearer:
		if err = a.bearerChars(token); err != nil {
			return nil, nil, nil, err
		}
		fallthrough
	default:
		t, err = a.verifier.InsecureVerifyUnsigned(token)
	}
	if err != nil {
		return nil, nil, nil, a.refused(token, err)
	}
	// The provider's Check runs on every request, cache hits included:
	// its answer (revocation, tokens-not-before) can change while the
	// token is valid.
	if a.check != nil {
		if t == nil {
			var ok bool
			if t, ok = e.token(); !ok {
				if t, err = a.verifier.verify(ctx, token); err != nil {
					return nil, nil, nil, err
				}
				e = nil
			}
		}
		if err := a.check(ctx, t); err != nil {
			return nil, nil, nil, a.rejection(err)
		}
	}
	return t, p, e, nil
}

// refused is err, the failure of token, or ErrInvalidIssuer when token is
// not this provider's but claims an issuer it refuses
// (Preset.RefuseIssuers).
func (a *TokenAuthenticator) refused(token string, err error) error {
	if len(a.refuse) > 0 && authgate.IsNotMine(err) {
		if iss, ok := PeekIssuer(token); ok && slices.Contains(a.refuse, iss) {
			return &authgate.Error{Provider: a.mapping.Provider, Kind: authgate.ErrInvalidIssuer, Err: a.reason}
		}
	}
	return err
}

// Principal maps a verified token to the principal this provider hands
// out. The principal shares t's Claims, Header and Audience.
func (a *TokenAuthenticator) Principal(t *Token) *authgate.Principal {
	p := a.mapping.Principal(t)
	if a.extend != nil {
		a.extend(t, p)
	}
	return p
}

// Prefetch fetches the keys (and what else the provider checks, such as
// Keycloak's realm document) and waits until ctx is done: call it at
// start-up to warm the caches. Keys held in memory need nothing. Its error
// wraps authgate.ErrUnavailable.
func (a *TokenAuthenticator) Prefetch(ctx context.Context) error {
	if a.keys != nil {
		if err := a.keys.Prefetch(ctx); err != nil {
			return err
		}
	}
	for _, f := range a.prefetch {
		if err := f(ctx); err != nil {
			return a.rejection(err)
		}
	}
	return nil
}

// Ready reports, without any I/O, whether the authenticator can answer a
// token now: its remote keys (when it has any) and what else the provider
// checks (Preset.Ready, such as Keycloak's realm document) are held and
// not older than MaxKeyAge. Its error wraps authgate.ErrUnavailable. A
// readiness probe calls it on every request and runs Prefetch only when
// it fails.
func (a *TokenAuthenticator) Ready() error {
	if a.keys != nil {
		if err := a.keys.Ready(); err != nil {
			return err
		}
	}
	for _, f := range a.ready {
		if err := f(); err != nil {
			return a.rejection(err)
		}
	}
	return nil
}

// Describe tells chains what the authenticator accepts: bearer tokens of
// its verifier's issuers and of the issuers it refuses
// (Preset.RefuseIssuers), which are its own to reject, or tokens in the
// header Preset.Scheme names.
func (a *TokenAuthenticator) Describe() authgate.Description {
	return authgate.Description{Name: a.mapping.Provider, Scheme: cmp.Or(a.scheme, "Bearer"), Issuers: append(a.verifier.Issuers(), a.refuse...)}
}

// Verifier returns the verifier behind the authenticator.
func (a *TokenAuthenticator) Verifier() *Verifier { return a.verifier }

// Name returns the provider's name.
func (a *TokenAuthenticator) Name() string { return a.mapping.Provider }

// bearerChars is BearerToken's check of a token's characters, with a's
// name on its error.
func (a *TokenAuthenticator) bearerChars(token string) error {
	if !validB64Token(token) {
		return a.own(malformed(errBearerCharset))
	}
	return nil
}

func (a *TokenAuthenticator) own(err error) error {
	var e *authgate.Error
	if errors.As(err, &e) && e.Provider == "" {
		e.Provider = a.mapping.Provider
	}
	return err
}

// rejection gives a hook's error the provider's name and the finest
// authgate sentinel it wraps; one without any is ErrInvalidCredentials
// (fail closed).
func (a *TokenAuthenticator) rejection(err error) error {
	var e *authgate.Error
	if errors.As(err, &e) {
		return a.own(err)
	}
	kind := authgate.ErrInvalidCredentials
	for _, k := range hookKinds {
		if errors.Is(err, k) {
			kind = k
			break
		}
	}
	return &authgate.Error{Provider: a.mapping.Provider, Kind: kind, Err: err}
}

// hookKinds are the sentinels a hook's error is classified by, finest
// first.
var hookKinds = []error{
	authgate.ErrRevoked, authgate.ErrTokenExpired, authgate.ErrTokenNotYetValid,
	authgate.ErrMissingClaim, authgate.ErrInvalidClaim, authgate.ErrInvalidAudience,
	authgate.ErrInvalidIssuer, authgate.ErrInvalidSignature, authgate.ErrMalformedToken,
	authgate.ErrUnsupportedAlgorithm, authgate.ErrForbidden, authgate.ErrMalformedRequest,
	authgate.ErrRateLimited, authgate.ErrUnavailable,
}
