// Package oidc authenticates JWT access tokens of any OpenID Connect issuer:
// give it the issuer URL and the audience, and it finds the signing keys
// through discovery (/.well-known/openid-configuration → jwks_uri) and a
// [providers.RemoteKeySet].
//
// New validates the configuration and does no network I/O. Discovery and
// the first key fetch happen on first use, once, shared by all requests;
// [Authenticator.Prefetch] does them at start-up. While the issuer cannot
// be reached and no keys were ever fetched, tokens are refused with
// authgate.ErrUnavailable (503), never accepted and never reported as
// invalid. A token of another issuer is "not mine" and costs no network
// I/O. See [providers.RemoteKeySet] for caching, rotation and outage
// behaviour.
//
// Authenticators are safe for concurrent use.
package oidc

import (
	"errors"

	"github.com/authgate/authgate/providers"
)

// Config configures an Authenticator. Issuer and Audience (or
// AuthorizedParties) are required.
type Config struct {
	// Issuer is the exact issuer URL ("https://login.example.com"); the
	// discovery document must name the same issuer. https only, except for
	// loopback hosts.
	Issuer string
	// JWKSURL, if set, skips discovery and fetches the keys from there.
	JWKSURL string
	// TokenOptions are the options every JWT provider shares. Algorithms
	// defaults to {"RS256"} and only asymmetric algorithms are accepted:
	// a published key set never holds shared secrets, and what discovery
	// advertises never widens the list.
	providers.TokenOptions
	// FetchOptions tune the key manager (HTTP client, cooldown, maximum
	// key age, refresh interval).
	providers.FetchOptions
}

// Authenticator verifies bearer tokens of one OpenID Connect issuer; see
// [providers.TokenAuthenticator] for its methods.
type Authenticator = providers.TokenAuthenticator

// New validates cfg and returns an Authenticator. It does no network I/O.
// It returns an error for a missing or non-https issuer or key set URL, a
// missing audience, an HMAC or unknown algorithm, a leeway over 5 minutes,
// durations out of bounds and claim rules that cannot be checked.
func New(cfg Config) (*Authenticator, error) {
	if cfg.Issuer == "" {
		return nil, errors.New("oidc: an issuer is required")
	}
	return providers.Preset{
		Package:    "oidc",
		Issuer:     cfg.Issuer,
		JWKSURL:    cfg.JWKSURL,
		Discovery:  cfg.JWKSURL == "",
		Algorithms: []string{providers.RS256},
	}.New(cfg.TokenOptions, cfg.FetchOptions)
}
