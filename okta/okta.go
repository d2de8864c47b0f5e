// Package okta authenticates access tokens of an Okta custom authorization
// server: give it the org's domain and, for a server other than
// "default", the server's ID and audience.
//
//   - The issuer is https://DOMAIN/oauth2/SERVERID, compared exactly; the
//     keys come from ISSUER/v1/keys (the jwks_uri of the server's
//     /.well-known/oauth-authorization-server) through a
//     [providers.RemoteKeySet]; only RS256.
//   - Tokens of the org authorization server (issuer https://DOMAIN) are
//     refused with authgate.ErrInvalidIssuer, before any key is fetched,
//     and a reason saying to use introspection: Okta documents them as
//     opaque to everyone but Okta, so their keys are not meant for local
//     validation. Tokens of any other issuer are "not mine".
//   - Audience defaults to "api://default" for the "default" server; a
//     custom server's audience must be given. "cid" must be present (ID
//     tokens have none) and, with ClientIDs, be one of them.
//   - Mapping: "scp" (an array) becomes Principal.Scopes and "groups" (the
//     usual name of a server's groups claim) Principal.Roles.
//     Principal.Subject is "sub": the user's login for a user, the client
//     ID for a client-credentials token; [UserID] and [ClientID] read
//     "uid" and "cid".
//
// New does no network I/O. Authenticators are safe for concurrent use.
package okta

import (
	"cmp"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/providers"
)

// DefaultServerID is the custom authorization server every Okta org has.
const DefaultServerID = "default"

// DefaultAudience is the audience of the "default" server's tokens.
const DefaultAudience = "api://default"

// DefaultRolesClaim is the claim Okta's groups claim is usually named.
const DefaultRolesClaim = "groups"

// ErrOrgServer is wrapped by the error refusing a token of the org
// authorization server.
var ErrOrgServer = errors.New("a token of the org authorization server cannot be validated locally; " +
	"use a custom authorization server (/oauth2/default) or RFC 7662 introspection")

// Config configures an Authenticator. Domain is required, and Audience for
// a server other than "default".
type Config struct {
	// Domain is the org's domain ("example.okta.com") or its custom
	// domain ("login.example.com"), lower case, without scheme or path.
	Domain string
	// ServerID is the custom authorization server's ID (default
	// "default"; others look like "aus1a2b3c4d5e6f7g8h9").
	ServerID string
	// ClientIDs, if set, lists the clients ("cid") whose tokens are
	// accepted.
	ClientIDs []string
	// OrgTokensNotMine leaves tokens of the org authorization server to
	// another authenticator ("not mine" instead of refused): set it on all
	// but one of several okta authenticators of the same domain in one
	// chain, or to let an introspection provider take them.
	OrgTokensNotMine bool
	// TokenOptions are the options every JWT provider shares. Audience
	// defaults to {"api://default"} for the "default" server. Algorithms
	// defaults to {"RS256"}, RolesClaim to "groups".
	providers.TokenOptions
	// FetchOptions tune the key manager.
	providers.FetchOptions
}

// Authenticator verifies bearer access tokens of one custom authorization
// server; see [providers.TokenAuthenticator] for its methods.
type Authenticator = providers.TokenAuthenticator

// Issuer returns the issuer of a custom authorization server's tokens,
// https://DOMAIN/oauth2/SERVERID.
func Issuer(domain, serverID string) string { return "https://" + domain + "/oauth2/" + serverID }

// New validates cfg and returns an Authenticator. It does no network I/O.
// It returns an error for a missing or malformed domain (a scheme, a path,
// upper case) or server ID, a missing audience for a server other than
// "default", an empty client ID, an unknown or HMAC algorithm, a leeway
// over 5 minutes and claim rules that cannot be checked.
func New(cfg Config) (*Authenticator, error) {
	if err := checkDomain(cfg.Domain); err != nil {
		return nil, err
	}
	server := cmp.Or(cfg.ServerID, DefaultServerID)
	if url.PathEscape(server) != server || server == "." || server == ".." {
		return nil, fmt.Errorf("okta: server ID %q needs escaping; use the authorization server's ID", server)
	}
	opts := cfg.TokenOptions
	if len(opts.Audience) == 0 && len(opts.AuthorizedParties) == 0 {
		if server != DefaultServerID {
			return nil, errors.New("okta: an audience (the authorization server's Audience setting) is required")
		}
		opts.Audience = []string{DefaultAudience}
	}
	if slices.Contains(cfg.ClientIDs, "") {
		return nil, errors.New("okta: empty client ID")
	}
	name := cmp.Or(cfg.Name, "okta")
	issuer := Issuer(cfg.Domain, server)
	p := providers.Preset{
		Package:    "okta",
		Issuer:     issuer,
		JWKSURL:    issuer + "/v1/keys",
		Algorithms: []string{providers.RS256},
		RolesClaim: DefaultRolesClaim,
		Validate:   checkClient(name, slices.Clone(cfg.ClientIDs)),
	}
	if !cfg.OrgTokensNotMine {
		org := "https://" + cfg.Domain
		p.RefuseIssuers = []string{org}
		p.RefuseReason = fmt.Errorf("%w (%s/oauth2/v1/introspect)", ErrOrgServer, org)
	}
	return p.New(opts, cfg.FetchOptions)
}

var (
	errNoClient = errors.New(`token has no "cid": not an access token`)
	errClient   = errors.New("the token's client is not an accepted one")
)

// checkClient requires "cid", Okta's marker of an access token, and, when
// clients are listed, one of them.
func checkClient(name string, clients []string) func(*providers.Token) error {
	return func(t *providers.Token) error {
		cid, _ := t.Claims["cid"].(string)
		switch {
		case cid == "":
			return &authgate.Error{Provider: name, Kind: authgate.ErrMissingClaim, Err: errNoClient}
		case len(clients) > 0 && !slices.Contains(clients, cid):
			return &authgate.Error{Provider: name, Kind: authgate.ErrInvalidAudience, Err: errClient}
		}
		return nil
	}
}

// UserID returns the Okta user ID ("uid") of a principal, or "" for a
// client-credentials token.
func UserID(p *authgate.Principal) string {
	s, _ := p.Claims.GetString("uid")
	return s
}

// ClientID returns the client ("cid") a principal's token was issued to.
func ClientID(p *authgate.Principal) string {
	s, _ := p.Claims.GetString("cid")
	return s
}

func checkDomain(d string) error {
	if d == "" {
		return errors.New("okta: a domain is required")
	}
	if strings.Contains(d, "://") || strings.ContainsAny(d, "/?#@ ") {
		return fmt.Errorf("okta: domain %q must be a host name (like example.okta.com), without scheme or path", d)
	}
	if strings.ToLower(d) != d {
		return fmt.Errorf("okta: domain %q must be lower case, as in the tokens' issuer", d)
	}
	u, err := url.Parse("https://" + d + "/")
	if err != nil || u.Host != d || u.Hostname() == "" {
		return fmt.Errorf("okta: domain %q is not a valid host name", d)
	}
	return nil
}
