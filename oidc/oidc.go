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
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/providers"
)

// Config configures an Authenticator. Issuer and Audience (or
// AuthorizedParties) are required.
type Config struct {
	// Name names the provider in principals, errors and logs (default
	// "oidc").
	Name string
	// Issuer is the exact "iss" of the tokens and the base of discovery.
	// It must be https (plain http for loopback hosts only), and the
	// discovery document must name exactly this issuer.
	Issuer string
	// Audience lists accepted "aud" values (the API's identifier).
	Audience []string
	// AuthorizedParties accepts a token whose aud names none of Audience
	// when its "azp" is one of these.
	AuthorizedParties []string
	// Algorithms is the allow-list (default {"RS256"}, the OpenID Connect
	// default). Only asymmetric algorithms: a published key set holds no
	// shared secrets. What discovery advertises never widens it.
	Algorithms []string
	// HTTPClient sends discovery and key requests (default:
	// http.DefaultTransport). It is copied: the copy follows no redirects,
	// sends no cookies and times out after 5 s.
	HTTPClient *http.Client
	// JWKSURL, when set, is used as the key set's address and discovery is
	// skipped. It must be https (plain http for loopback hosts only).
	JWKSURL string
	// Leeway is the clock skew tolerated: 0 means providers.DefaultLeeway
	// (60 s), providers.NoLeeway none, at most 5 minutes.
	Leeway time.Duration
	// Claims are extra claim rules.
	Claims providers.Claims
	// RolesClaim is the dotted path of the roles claim (default "roles").
	RolesClaim string
	// TenantClaim is the dotted path of the tenant claim (default "tenant").
	TenantClaim string
	// TokenTypes lists accepted "typ" headers (default: absent or "JWT";
	// {"at+jwt"} for RFC 9068 access tokens only).
	TokenTypes []string
	// Validate, if set, runs last on every verified token; its error
	// rejects the token.
	Validate func(*providers.Token) error
	// Cooldown, MaxKeyAge and RefreshInterval tune the key manager (see
	// providers.RemoteKeySetConfig); zero means the default.
	Cooldown        time.Duration
	MaxKeyAge       time.Duration
	RefreshInterval time.Duration
	// Logger, if set, receives failed fetches. Nothing logged contains a
	// token or key material.
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

// Authenticator verifies bearer JWTs of one OpenID Connect issuer.
type Authenticator struct {
	keys   *providers.RemoteKeySet
	tokens *providers.TokenAuthenticator
}

// New validates cfg and returns an Authenticator. It does no network I/O.
// It returns an error for a missing or non-https issuer, a missing
// audience, an HMAC or unknown algorithm, an invalid JWKSURL, a leeway over
// 5 minutes, key-manager durations out of bounds, and claim rules that
// cannot be checked.
func New(cfg Config) (*Authenticator, error) {
	name := cfg.Name
	if name == "" {
		name = "oidc"
	}
	if cfg.Issuer == "" {
		return nil, prefix(name, fmt.Errorf("%s: an issuer is required", name))
	}
	algs := slices.Clone(cfg.Algorithms)
	if len(algs) == 0 {
		algs = []string{providers.RS256}
	}
	keys, err := providers.NewRemoteKeySet(providers.RemoteKeySetConfig{
		Name:            name,
		URL:             cfg.JWKSURL,
		Issuer:          cfg.Issuer,
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
		Name:              name,
		Issuer:            cfg.Issuer,
		Audience:          slices.Clone(cfg.Audience),
		AuthorizedParties: slices.Clone(cfg.AuthorizedParties),
		Algorithms:        algs,
		Keys:              keys,
		Leeway:            cfg.Leeway,
		TokenTypes:        slices.Clone(cfg.TokenTypes),
		Claims:            cfg.Claims,
		Validate:          cfg.Validate,
		Now:               cfg.Now,
		CacheSize:         cfg.CacheSize,
		CacheTTL:          cfg.CacheTTL,
	})
	if err != nil {
		return nil, prefix(name, err)
	}
	return &Authenticator{
		keys:   keys,
		tokens: providers.NewTokenAuthenticator(v, providers.Mapping{Provider: name, RolesClaim: cfg.RolesClaim, TenantClaim: cfg.TenantClaim}),
	}, nil
}

// prefix makes every error of New start with "oidc: ", also under a
// custom Name.
func prefix(name string, err error) error {
	if name == "oidc" {
		return err
	}
	return fmt.Errorf("oidc: %w", err)
}

// Authenticate reads "Authorization: Bearer <token>" and verifies the token.
// No bearer credential, or a token of another issuer, is "not mine"
// (authgate.ErrNoCredentials, authgate.ErrUnrecognizedCredential) and costs
// no network I/O; an ambiguous header is authgate.ErrMalformedRequest; see
// Verify for the rest.
func (a *Authenticator) Authenticate(r *http.Request) (*authgate.Principal, error) {
	return a.tokens.Authenticate(r)
}

// Verify verifies a token outside HTTP. It returns the principal, or an
// error wrapping one of authgate's sentinels: ErrUnrecognizedCredential for
// something that is not a JWT of the configured issuer; ErrUnavailable
// (503) when discovery or the keys cannot be had; ErrTokenExpired,
// ErrInvalidSignature (also for a kid the issuer does not publish),
// ErrInvalidAudience, … (all wrapping ErrInvalidCredentials). ctx bounds
// the wait for a key fetch already in flight.
func (a *Authenticator) Verify(ctx context.Context, token string) (*authgate.Principal, error) {
	return a.tokens.Verify(ctx, token)
}

// Prefetch runs discovery (unless JWKSURL is set) and fetches the keys,
// waiting until ctx is done: call it at start-up to warm the cache and see
// configuration errors (an issuer mismatch, an unreachable issuer) before
// serving. Its error wraps authgate.ErrUnavailable, and
// providers.ErrIssuerMismatch when discovery named another issuer.
// Serving without it is fine: the first request does the same.
func (a *Authenticator) Prefetch(ctx context.Context) error {
	return a.keys.Prefetch(ctx)
}

// Describe tells chains what this authenticator accepts: bearer tokens of
// its issuer.
func (a *Authenticator) Describe() authgate.Description {
	return a.tokens.Describe()
}
