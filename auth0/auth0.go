// Package auth0 authenticates Auth0 access tokens: give it the tenant's
// domain and the API's identifier. The issuer is "https://DOMAIN/" (with
// the trailing slash Auth0 puts in "iss"), the keys come from
// "https://DOMAIN/.well-known/jwks.json" through a
// [providers.RemoteKeySet], and the token's "scope" becomes
// Principal.Scopes, its "permissions" (RBAC) Principal.Permissions and a
// namespaced roles claim ("https://example.com/roles", added by an Action)
// Principal.Roles.
//
// It is a preset over the same pieces as package oidc (a discovery-free
// configuration of providers.RemoteKeySet and providers.Verifier), like
// x/oauth2's provider packages. New does no network I/O; the keys are
// fetched on first use or by [Authenticator.Prefetch]. Authenticators are
// safe for concurrent use.
package auth0

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/authgate/authgate/providers"
)

// Config configures an Authenticator. Domain and Audience are required.
type Config struct {
	// Domain is the tenant's domain ("example.eu.auth0.com") or its custom
	// domain ("login.example.com"), lower case, without scheme or path.
	Domain string
	// TokenOptions are the options every JWT provider shares. Audience
	// lists the API identifier(s) set in the Auth0 dashboard: a token whose
	// aud is an array (the API plus the userinfo URL) is accepted when it
	// contains one of them; an ID token (aud = a client ID) is not.
	// RolesClaim is usually namespaced ("https://example.com/roles").
	// Algorithms defaults to {"RS256"}, asymmetric only: for an API set to
	// HS256, use package static with the signing secret. TokenTypes
	// defaults to {"JWT", "at+jwt"}: Auth0's token profile and RFC 9068's.
	providers.TokenOptions
	// FetchOptions tune the key manager.
	providers.FetchOptions
}

// Authenticator verifies bearer access tokens of one Auth0 tenant; see
// [providers.TokenAuthenticator] for its methods.
type Authenticator = providers.TokenAuthenticator

// Issuer returns the issuer of a domain's tokens, "https://DOMAIN/".
func Issuer(domain string) string { return "https://" + domain + "/" }

// New validates cfg and returns an Authenticator. It does no network I/O.
// It returns an error for a missing or malformed domain (a scheme, a path,
// upper case), a missing audience, an HMAC or unknown algorithm, a leeway
// over 5 minutes and claim rules that cannot be checked.
func New(cfg Config) (*Authenticator, error) {
	if err := checkDomain(cfg.Domain); err != nil {
		return nil, err
	}
	if len(cfg.Audience) == 0 {
		return nil, errors.New("auth0: an audience (the API identifier) is required")
	}
	issuer := Issuer(cfg.Domain)
	return providers.Preset{
		Package:    "auth0",
		Issuer:     issuer,
		JWKSURL:    issuer + ".well-known/jwks.json",
		Algorithms: []string{providers.RS256},
		TokenTypes: []string{"JWT", "at+jwt"},
	}.New(cfg.TokenOptions, cfg.FetchOptions)
}

func checkDomain(d string) error {
	if d == "" {
		return errors.New("auth0: a domain is required")
	}
	if strings.Contains(d, "://") || strings.ContainsAny(d, "/?#@ ") {
		return fmt.Errorf("auth0: domain %q must be a host name (like example.eu.auth0.com), without scheme or path", d)
	}
	if strings.ToLower(d) != d {
		return fmt.Errorf("auth0: domain %q must be lower case, as in the tokens' issuer", d)
	}
	u, err := url.Parse("https://" + d + "/")
	if err != nil || u.Host != d || u.Hostname() == "" {
		return fmt.Errorf("auth0: domain %q is not a valid host name", d)
	}
	return nil
}
