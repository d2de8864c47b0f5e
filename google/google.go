// Package google authenticates Google ID tokens and Cloud IAP assertions.
//
//   - New verifies Google ID tokens sent as bearer tokens: those of Sign in
//     with Google (aud = the OAuth client ID) and the identity tokens of
//     service-to-service calls (Cloud Run, Cloud Functions, the metadata
//     server; aud = the receiving service's URL). Google signs them with
//     RS256 under the keys at DefaultCertsURL and writes "iss" as
//     "https://accounts.google.com" or as the scheme-less
//     "accounts.google.com"; both are accepted here and by no other
//     provider. HostedDomains limits tokens to Google Workspace domains
//     ("hd"), RequireVerifiedEmail to verified addresses.
//   - NewIAP verifies the assertion Identity-Aware Proxy puts in the
//     x-goog-iap-jwt-assertion header of every request it lets through:
//     ES256, issuer IAPIssuer, keys at DefaultIAPKeysURL, aud the backend
//     service or App Engine app ("/projects/NUMBER/…").
//
// Principal.Email is the token's "email" only when Google says it is
// verified ("email_verified": true); IAP's email is the one IAP
// authenticated. The claims themselves stay in Principal.Claims.
//
// New and NewIAP do no network I/O; keys are fetched on first use or by
// [Authenticator.Prefetch]. A token of another issuer is "not mine" and
// costs no fetch. Authenticators are safe for concurrent use.
package google

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/providers"
)

// Google's issuers and key sets.
const (
	// Issuer is the "iss" of Google ID tokens.
	Issuer = "https://accounts.google.com"
	// SchemelessIssuer is the other "iss" Google writes in ID tokens.
	SchemelessIssuer = "accounts.google.com"
	// DefaultCertsURL publishes the JWKS that signs Google ID tokens.
	DefaultCertsURL = "https://www.googleapis.com/oauth2/v3/certs"
)

// Config configures an Authenticator for Google ID tokens. Audience is
// required.
type Config struct {
	// HostedDomains, when not empty, accepts only accounts of these Google
	// Workspace or Cloud Identity domains: "hd" must be one of them, and a
	// token without "hd" (a consumer account, a service account) is
	// refused. Lower-case domain names ("example.com").
	HostedDomains []string
	// RequireVerifiedEmail refuses tokens whose "email_verified" is not
	// true, and tokens without an email.
	RequireVerifiedEmail bool
	// CertsURL is where the keys are fetched (default DefaultCertsURL): a
	// mirror or a private endpoint. https only, except for loopback hosts.
	CertsURL string
	// TokenOptions are the options every JWT provider shares. Audience
	// lists the OAuth client IDs ("….apps.googleusercontent.com") of the
	// apps whose sign-ins this API accepts, or, for service-to-service
	// calls, the URL the callers ask their identity token for (the Cloud
	// Run service URL). Algorithms defaults to {"RS256"}, Google's only
	// one.
	providers.TokenOptions
	// FetchOptions tune the key manager.
	providers.FetchOptions
}

// Authenticator verifies Google ID tokens or IAP assertions; see
// [providers.TokenAuthenticator] for its methods.
type Authenticator = providers.TokenAuthenticator

var (
	errHostedDomain   = errors.New(`"hd" is not an accepted hosted domain`)
	errNoHostedDomain = errors.New(`"hd" is required: the account belongs to no accepted hosted domain`)
	errNotVerified    = errors.New(`"email_verified" is not true`)
)

// New validates cfg and returns an Authenticator for Google ID tokens. It
// does no network I/O. It returns an error for a missing audience, a
// malformed hosted domain, a certs URL that is not https (outside
// loopback), an HMAC or unknown algorithm, a leeway over 5 minutes and
// claim rules that cannot be checked.
func New(cfg Config) (*Authenticator, error) {
	if len(cfg.Audience) == 0 && len(cfg.AuthorizedParties) == 0 {
		return nil, errors.New("google: an audience is required (the OAuth client ID, or the service URL)")
	}
	hd, err := hostedDomains(cfg.Name, cfg.HostedDomains)
	if err != nil {
		return nil, err
	}
	validate := hd
	if cfg.RequireVerifiedEmail {
		validate = func(t *providers.Token) error {
			if v, _ := t.Claims["email_verified"].(bool); !v {
				return &authgate.Error{Provider: cmp.Or(cfg.Name, "google"), Kind: authgate.ErrInvalidClaim, Err: errNotVerified}
			}
			if hd != nil {
				return hd(t)
			}
			return nil
		}
	}
	return providers.Preset{
		Package:    "google",
		Issuer:     Issuer,
		Issuers:    []string{SchemelessIssuer},
		JWKSURL:    cmp.Or(cfg.CertsURL, DefaultCertsURL),
		Algorithms: []string{providers.RS256},
		Validate:   validate,
		Principal:  verifiedEmail,
	}.New(cfg.TokenOptions, cfg.FetchOptions)
}

// verifiedEmail keeps Principal.Email only when Google verified it.
func verifiedEmail(t *providers.Token, p *authgate.Principal) {
	if v, _ := t.Claims["email_verified"].(bool); !v {
		p.Email = ""
	}
}

// hostedDomains validates the allow-list and returns the check of "hd",
// nil when the list is empty.
func hostedDomains(name string, domains []string) (func(*providers.Token) error, error) {
	if len(domains) == 0 {
		return nil, nil
	}
	for _, d := range domains {
		if d == "" || strings.ContainsAny(d, "/@:?# ") || strings.ToLower(d) != d || !strings.Contains(d, ".") {
			return nil, fmt.Errorf("google: hosted domain %q must be a lower-case domain name (like example.com)", d)
		}
	}
	allowed := slices.Clone(domains)
	name = cmp.Or(name, "google")
	return func(t *providers.Token) error {
		hd, ok := t.Claims["hd"].(string)
		switch {
		case !ok:
			return &authgate.Error{Provider: name, Kind: authgate.ErrMissingClaim, Err: errNoHostedDomain}
		case !slices.Contains(allowed, hd):
			return &authgate.Error{Provider: name, Kind: authgate.ErrInvalidClaim, Err: errHostedDomain}
		}
		return nil
	}, nil
}
