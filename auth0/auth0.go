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
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/providers"
)

// Config configures an Authenticator. Domain and Audience are required.
type Config struct {
	// Name names the provider in principals, errors and logs (default
	// "auth0").
	Name string
	// Domain is the tenant's domain ("example.eu.auth0.com") or its custom
	// domain ("login.example.com"), lower case, without scheme or path.
	Domain string
	// Audience lists the accepted "aud" values: the API identifier(s) set
	// in the Auth0 dashboard. A token whose aud is an array (the API plus
	// the userinfo URL) is accepted when it contains one of them; an ID
	// token (aud = a client ID) is not.
	Audience []string
	// HTTPClient fetches the keys (default: http.DefaultTransport). It is
	// copied: the copy follows no redirects, sends no cookies and times out
	// after 5 s.
	HTTPClient *http.Client
	// RolesClaim is the claim holding roles, usually namespaced
	// ("https://example.com/roles"); default "roles".
	RolesClaim string
	// TenantClaim is the dotted path of a tenant claim (default "tenant").
	TenantClaim string
	// Algorithms is the allow-list (default {"RS256"}, Auth0's default).
	// Only asymmetric algorithms: for an API set to HS256, verify its tokens
	// with package static and the signing secret.
	Algorithms []string
	// TokenTypes lists accepted "typ" headers (default {"JWT", "at+jwt"}:
	// Auth0's token profile and the RFC 9068 profile; {"at+jwt"} requires
	// the RFC 9068 profile).
	TokenTypes []string
	// Leeway is the clock skew tolerated: 0 means providers.DefaultLeeway
	// (60 s), providers.NoLeeway none, at most 5 minutes.
	Leeway time.Duration
	// Claims are extra claim rules (for example {"gty": …} to refuse
	// client-credentials tokens).
	Claims providers.Claims
	// Validate, if set, runs last on every verified token.
	Validate func(*providers.Token) error
	// Cooldown, MaxKeyAge and RefreshInterval tune the key manager (see
	// providers.RemoteKeySetConfig); zero means the default.
	Cooldown        time.Duration
	MaxKeyAge       time.Duration
	RefreshInterval time.Duration
	// Logger, if set, receives failed key fetches.
	Logger *slog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
	// CacheSize, when positive, keeps up to that many verified tokens so a
	// token presented again skips the signature check; see
	// providers.VerifierConfig.CacheSize for what that trades.
	CacheSize int
	// CacheTTL bounds the life of a cached token (default 30 s, at most 5 min).
	CacheTTL time.Duration
}

// Authenticator verifies bearer access tokens of one Auth0 tenant.
type Authenticator struct {
	keys   *providers.RemoteKeySet
	tokens *providers.TokenAuthenticator
}

// Issuer returns the issuer of a domain's tokens, "https://DOMAIN/".
func Issuer(domain string) string { return "https://" + domain + "/" }

// New validates cfg and returns an Authenticator. It does no network I/O.
// It returns an error for a missing or malformed domain (a scheme, a path,
// upper case), a missing audience, an HMAC or unknown algorithm, a leeway
// over 5 minutes and claim rules that cannot be checked.
func New(cfg Config) (*Authenticator, error) {
	name := cfg.Name
	if name == "" {
		name = "auth0"
	}
	if err := checkDomain(cfg.Domain); err != nil {
		return nil, err
	}
	if len(cfg.Audience) == 0 {
		return nil, errors.New("auth0: an audience (the API identifier) is required")
	}
	algs := slices.Clone(cfg.Algorithms)
	if len(algs) == 0 {
		algs = []string{providers.RS256}
	}
	types := slices.Clone(cfg.TokenTypes)
	if len(types) == 0 {
		types = []string{"JWT", "at+jwt"}
	}
	issuer := Issuer(cfg.Domain)
	keys, err := providers.NewRemoteKeySet(providers.RemoteKeySetConfig{
		Name:            name,
		URL:             issuer + ".well-known/jwks.json",
		HTTPClient:      cfg.HTTPClient,
		Algorithms:      algs,
		Cooldown:        cfg.Cooldown,
		MaxKeyAge:       cfg.MaxKeyAge,
		RefreshInterval: cfg.RefreshInterval,
		Logger:          cfg.Logger,
		Now:             cfg.Now,
	})
	if err != nil {
		return nil, prefix(name, err)
	}
	v, err := providers.NewVerifier(providers.VerifierConfig{
		Name:       name,
		Issuer:     issuer,
		Audience:   slices.Clone(cfg.Audience),
		Algorithms: algs,
		Keys:       keys,
		Leeway:     cfg.Leeway,
		TokenTypes: types,
		Claims:     cfg.Claims,
		Validate:   cfg.Validate,
		Now:        cfg.Now,
		CacheSize:  cfg.CacheSize,
		CacheTTL:   cfg.CacheTTL,
	})
	if err != nil {
		return nil, prefix(name, err)
	}
	return &Authenticator{
		keys:   keys,
		tokens: providers.NewTokenAuthenticator(v, providers.Mapping{Provider: name, RolesClaim: cfg.RolesClaim, TenantClaim: cfg.TenantClaim}),
	}, nil
}

// prefix makes every error of New start with "auth0: ", also under a
// custom Name (the providers package prefixes its errors with Name).
func prefix(name string, err error) error {
	if name == "auth0" {
		return err
	}
	return fmt.Errorf("auth0: %w", err)
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

// Authenticate reads "Authorization: Bearer <token>" and verifies the token.
// No bearer credential, or a token of another issuer (another tenant), is
// "not mine" and costs no network I/O; see Verify for the rest.
func (a *Authenticator) Authenticate(r *http.Request) (*authgate.Principal, error) {
	return a.tokens.Authenticate(r)
}

// Verify verifies a token outside HTTP. It returns the principal, or an
// error wrapping one of authgate's sentinels: ErrUnrecognizedCredential
// (not a JWT of this tenant), ErrUnavailable (keys cannot be fetched),
// ErrTokenExpired, ErrInvalidSignature, ErrInvalidAudience, ….
func (a *Authenticator) Verify(ctx context.Context, token string) (*authgate.Principal, error) {
	return a.tokens.Verify(ctx, token)
}

// Prefetch fetches the tenant's keys and waits until ctx is done: call it
// at start-up to warm the cache. Its error wraps authgate.ErrUnavailable.
func (a *Authenticator) Prefetch(ctx context.Context) error { return a.keys.Prefetch(ctx) }

// Describe tells chains what this authenticator accepts: bearer tokens of
// its issuer.
func (a *Authenticator) Describe() authgate.Description {
	return a.tokens.Describe()
}
