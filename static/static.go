// Package static authenticates JWTs signed with keys you hold — the seed
// project's AsyncJwtBearer with jwt_public, jwt_alg and claims.
//
// Keys come as parsed [providers.Key] values (PEM, JWK, JWKS, Keycloak's
// bare base64 DER through providers.ParseKeys, or HMAC secrets through
// providers.SecretKey); several keys with kids allow rotation. Everything is
// validated by New; Authenticate and Verify are safe for concurrent use.
package static

import (
	"errors"
	"strings"

	"github.com/authgate/authgate/providers"
)

// Config configures an Authenticator. Keys, Issuer, Algorithms and
// Audience are required.
type Config struct {
	// Keys are the verification keys. A key without Algorithm is bound to
	// the one allowed algorithm of its family.
	Keys []providers.Key
	// Issuer is the exact "iss" of the tokens. Tokens of another issuer are
	// "not mine", so a chain can route them elsewhere.
	Issuer string
	// TokenOptions are the options every JWT provider shares: Audience,
	// Algorithms (the explicit allow-list, for example {"RS256"}), Claims
	// (the seed's claims dict), Leeway, the token cache, ….
	providers.TokenOptions
}

// Authenticator verifies bearer tokens against static keys; see
// [providers.TokenAuthenticator] for its methods.
type Authenticator = providers.TokenAuthenticator

// New validates cfg and returns an Authenticator. It returns an error for
// missing keys, issuer, audience or algorithms, unsupported algorithms, keys
// that fit no allowed algorithm, a leeway over 5 minutes and claim rules that
// cannot be checked.
func New(cfg Config) (*Authenticator, error) {
	if len(cfg.Keys) == 0 {
		return nil, errors.New("static: no keys")
	}
	if len(cfg.Algorithms) == 0 {
		return nil, errors.New("static: no algorithms allowed (Algorithms)")
	}
	keys, err := providers.NewStaticKeySet(cfg.Keys, cfg.Algorithms)
	if err != nil {
		// "static: key 0 …", not "static: providers: key 0 …".
		return nil, errors.New("static: " + strings.TrimPrefix(err.Error(), "providers: "))
	}
	return providers.Preset{Package: "static", Issuer: cfg.Issuer, Keys: keys}.New(cfg.TokenOptions, providers.FetchOptions{})
}
