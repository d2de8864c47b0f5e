// Package cognito authenticates the tokens of an Amazon Cognito user pool:
// give it the pool ID, which kind of token the route accepts and the app
// clients it accepts them from.
//
//   - The issuer is https://cognito-idp.REGION.amazonaws.com/POOL (the
//     region is the pool ID's prefix), compared exactly: a token of another
//     pool is "not mine" and costs no network I/O. The keys come from the
//     pool's /.well-known/jwks.json through a [providers.RemoteKeySet];
//     only RS256.
//   - The kind is explicit: TokenUse "access" accepts access tokens
//     ("token_use": "access"), whose app client is "client_id" (they carry
//     no "aud"); TokenUse "id" accepts ID tokens ("token_use": "id"),
//     whose app client is "aud". A token of the other kind is refused with
//     authgate.ErrInvalidClaim and a reason naming the kind; a token of
//     another app client with authgate.ErrInvalidAudience.
//   - Mapping: "cognito:groups" becomes Principal.Roles, "scope"
//     Principal.Scopes, "email" (ID tokens) Principal.Email, and the user
//     name ("username" in access tokens, "cognito:username" in ID tokens)
//     Principal.Name when the token has no "name"; [Username] reads it
//     whatever "name" says. Principal.Subject is "sub": the user's UUID, or
//     the app client for a client-credentials token.
//
// New does no network I/O. Authenticators are safe for concurrent use.
package cognito

import (
	"cmp"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/providers"
)

// The kinds of token a route accepts (Config.TokenUse), as Cognito names
// them in "token_use".
const (
	AccessTokens = "access"
	IDTokens     = "id"
)

// Config configures an Authenticator. UserPoolID, TokenUse and ClientIDs
// are required.
type Config struct {
	// UserPoolID is the pool's ID, "REGION_ID" ("eu-west-1_AbCdEfGhI").
	UserPoolID string
	// Region, if set, must be the pool ID's region; it is read from the
	// pool ID otherwise.
	Region string
	// TokenUse is the kind of token accepted: AccessTokens ("access") for
	// an API called with access tokens, IDTokens ("id") for one called
	// with ID tokens. There is no default.
	TokenUse string
	// ClientIDs are the app clients whose tokens are accepted: the
	// "client_id" of an access token, the "aud" of an ID token.
	ClientIDs []string
	// BaseURL replaces https://cognito-idp.REGION.amazonaws.com in the
	// issuer and the key set's address: for another AWS partition or a
	// local stand-in (https, plain http only for loopback hosts). Tokens
	// must then name BaseURL/POOL in "iss".
	BaseURL string
	// TokenOptions are the options every JWT provider shares. Audience is
	// for access tokens only: when set, their "aud" must also name one of
	// its values (resource binding); for ID tokens the audience is
	// ClientIDs. AuthorizedParties is not used. Algorithms defaults to
	// {"RS256"}, RolesClaim to "cognito:groups".
	providers.TokenOptions
	// FetchOptions tune the key manager.
	providers.FetchOptions
}

// Authenticator verifies the bearer tokens of one user pool; see
// [providers.TokenAuthenticator] for its methods.
type Authenticator = providers.TokenAuthenticator

// DefaultRolesClaim is the claim Cognito puts the user's groups in.
const DefaultRolesClaim = "cognito:groups"

// poolID is REGION_ID, the region like "us-east-1" or "us-gov-west-1".
var poolID = regexp.MustCompile(`^([a-z]{2}(?:-[a-z]+)+-[0-9]+)_[0-9A-Za-z]+$`)

// Issuer returns the issuer of a pool's tokens,
// https://cognito-idp.REGION.amazonaws.com/POOL, for a well-formed pool ID
// (else "").
func Issuer(userPoolID string) string {
	m := poolID.FindStringSubmatch(userPoolID)
	if m == nil {
		return ""
	}
	return "https://cognito-idp." + m[1] + ".amazonaws.com/" + userPoolID
}

// New validates cfg and returns an Authenticator. It does no network I/O.
// It returns an error for a missing or malformed pool ID, a region that
// is not the pool's, a missing or unknown TokenUse, no app client (or an
// empty one), a base URL that is not https (outside loopback), an
// Audience for ID tokens, AuthorizedParties, an unknown or HMAC
// algorithm, a leeway over 5 minutes and claim rules that cannot be
// checked.
func New(cfg Config) (*Authenticator, error) {
	m := poolID.FindStringSubmatch(cfg.UserPoolID)
	switch {
	case cfg.UserPoolID == "":
		return nil, errors.New("cognito: a user pool ID is required")
	case m == nil:
		return nil, fmt.Errorf("cognito: user pool ID %q is not REGION_ID (like eu-west-1_AbCdEfGhI)", cfg.UserPoolID)
	case cfg.Region != "" && cfg.Region != m[1]:
		return nil, fmt.Errorf("cognito: region %q is not the user pool's (%s)", cfg.Region, m[1])
	case cfg.TokenUse != AccessTokens && cfg.TokenUse != IDTokens:
		return nil, errors.New(`cognito: TokenUse must be "access" or "id"`)
	case len(cfg.ClientIDs) == 0 || slices.Contains(cfg.ClientIDs, ""):
		return nil, errors.New("cognito: the app client IDs are required (ClientIDs)")
	case cfg.TokenUse == IDTokens && len(cfg.Audience) > 0:
		return nil, errors.New("cognito: an ID token's audience is its app client: use ClientIDs, not Audience")
	case len(cfg.AuthorizedParties) > 0:
		return nil, errors.New("cognito: Cognito tokens have no azp: use ClientIDs, not AuthorizedParties")
	}
	base := "https://cognito-idp." + m[1] + ".amazonaws.com"
	if cfg.BaseURL != "" {
		u, err := providers.CheckURL(cfg.BaseURL)
		if err != nil {
			return nil, fmt.Errorf("cognito: base %w", err)
		}
		if u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
			return nil, fmt.Errorf("cognito: base URL %q has a query or fragment", cfg.BaseURL)
		}
		base = strings.TrimRight(cfg.BaseURL, "/")
	}
	issuer := base + "/" + cfg.UserPoolID
	name := cmp.Or(cfg.Name, "cognito")
	return providers.Preset{
		Package:       "cognito",
		Issuer:        issuer,
		JWKSURL:       issuer + "/.well-known/jwks.json",
		Algorithms:    []string{providers.RS256},
		RolesClaim:    DefaultRolesClaim,
		CheckAudience: checkClient(name, cfg.TokenUse, slices.Clone(cfg.ClientIDs)),
		Principal:     usernameAsName,
	}.New(cfg.TokenOptions, cfg.FetchOptions)
}

var (
	errIDToken     = errors.New(`an ID token ("token_use": "id") where access tokens are accepted`)
	errAccessToken = errors.New(`an access token ("token_use": "access") where ID tokens are accepted`)
	errTokenUse    = errors.New(`"token_use" is neither "access" nor "id"`)
	errClient      = errors.New("the token's app client is not an accepted one")
)

// checkClient decides whether a verified token is of the accepted kind and
// was issued to an accepted app client: "client_id" for access tokens,
// "aud" for ID tokens.
func checkClient(name, use string, clients []string) func(*providers.Token) error {
	return func(t *providers.Token) error {
		fail := func(kind, err error) error { return &authgate.Error{Provider: name, Kind: kind, Err: err} }
		got, _ := t.Claims["token_use"].(string)
		switch {
		case got == use:
		case got == IDTokens:
			return fail(authgate.ErrInvalidClaim, errIDToken)
		case got == AccessTokens:
			return fail(authgate.ErrInvalidClaim, errAccessToken)
		case got == "":
			return fail(authgate.ErrMissingClaim, errTokenUse)
		default:
			return fail(authgate.ErrInvalidClaim, errTokenUse)
		}
		if use == AccessTokens {
			if c, _ := t.Claims["client_id"].(string); !slices.Contains(clients, c) {
				return fail(authgate.ErrInvalidAudience, errClient)
			}
			return nil
		}
		for _, aud := range t.Audience {
			if slices.Contains(clients, aud) {
				return nil
			}
		}
		return fail(authgate.ErrInvalidAudience, errClient)
	}
}

// usernameAsName makes the user name Principal.Name when the token has no
// "name".
func usernameAsName(t *providers.Token, p *authgate.Principal) {
	if p.Name == "" {
		p.Name = username(authgate.AdoptObject(t.Claims))
	}
}

func username(claims authgate.Object) string {
	if s, ok := claims.GetString("username"); ok {
		return s
	}
	s, _ := claims.GetString("cognito:username")
	return s
}

// Username returns a Cognito principal's user name: "username" of an
// access token, "cognito:username" of an ID token, or "" (a
// client-credentials token has none).
func Username(p *authgate.Principal) string { return username(p.Claims) }
