// Package static authenticates JWTs signed with keys you hold — the seed
// project's AsyncJwtBearer with jwt_public, jwt_alg and claims.
//
// Keys come as parsed [providers.Key] values (PEM, JWK, JWKS, Keycloak's
// bare base64 DER through providers.ParseKeys, or HMAC secrets through
// providers.SecretKey); several keys with kids allow rotation. Everything is
// validated by New; Authenticate and Verify are safe for concurrent use.
package static

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/providers"
)

// Config configures an Authenticator.
type Config struct {
	// Name names the provider in principals, errors and logs (default
	// "static").
	Name string
	// Keys are the verification keys. A key without Algorithm is bound to
	// the one allowed algorithm of its family.
	Keys []providers.Key
	// Algorithms is the explicit allow-list (for example {"RS256"}).
	Algorithms []string
	// Issuer is the exact "iss" of the tokens (required). Tokens of another
	// issuer are "not mine", so a chain can route them elsewhere.
	Issuer string
	// Audience lists the accepted "aud" values (required).
	Audience []string
	// Claims are extra claim rules (the seed's claims dict).
	Claims providers.Claims
	// Leeway is the clock skew tolerated: 0 means providers.DefaultLeeway
	// (60 s), providers.NoLeeway none, at most 5 minutes.
	Leeway time.Duration
	// RolesClaim is the dotted path of the roles claim (default "roles").
	RolesClaim string
	// TenantClaim is the dotted path of the tenant claim (default "tenant").
	TenantClaim string
	// TokenTypes lists accepted "typ" headers (default: absent or "JWT").
	TokenTypes []string
	// Now is the clock (default time.Now).
	Now func() time.Time
	// CacheSize, when positive, keeps up to that many verified tokens so a
	// token presented again skips the signature check; see
	// providers.VerifierConfig.CacheSize for what that trades.
	CacheSize int
	// CacheTTL bounds the life of a cached token (default 30 s, at most 5 min).
	CacheTTL time.Duration
}

// Authenticator verifies bearer JWTs signed with static keys.
type Authenticator struct {
	tokens *providers.TokenAuthenticator
}

// New validates cfg and returns an Authenticator. It returns an error for a
// missing issuer or audience, an unknown algorithm, a key that fits no
// allowed algorithm or several, an HMAC secret shorter than RFC 7518
// requires, an RSA key under 2048 bits, a leeway over 5 minutes, and claim
// rules that cannot be checked.
func New(cfg Config) (*Authenticator, error) {
	name := cfg.Name
	if name == "" {
		name = "static"
	}
	if len(cfg.Keys) == 0 {
		return nil, errors.New("static: no keys")
	}
	keys, err := providers.NewStaticKeySet(cfg.Keys, cfg.Algorithms)
	if err != nil {
		return nil, fmt.Errorf("static: %w", err)
	}
	v, err := providers.NewVerifier(providers.VerifierConfig{
		Name:       name,
		Issuer:     cfg.Issuer,
		Audience:   slices.Clone(cfg.Audience),
		Algorithms: slices.Clone(cfg.Algorithms),
		Keys:       keys,
		Leeway:     cfg.Leeway,
		TokenTypes: slices.Clone(cfg.TokenTypes),
		Claims:     cfg.Claims,
		Now:        cfg.Now,
		CacheSize:  cfg.CacheSize,
		CacheTTL:   cfg.CacheTTL,
	})
	if err != nil {
		return nil, fmt.Errorf("static: %w", err)
	}
	return &Authenticator{
		tokens: providers.NewTokenAuthenticator(v, providers.Mapping{Provider: name, RolesClaim: cfg.RolesClaim, TenantClaim: cfg.TenantClaim}),
	}, nil
}

// Authenticate reads "Authorization: Bearer <token>" and verifies the token.
// No bearer credential, or a token of another issuer, is "not mine"
// (authgate.ErrNoCredentials, authgate.ErrUnrecognizedCredential); an
// ambiguous header is authgate.ErrMalformedRequest; see Verify for the rest.
func (a *Authenticator) Authenticate(r *http.Request) (*authgate.Principal, error) {
	return a.tokens.Authenticate(r)
}

// Verify verifies a token outside HTTP (a message queue, a WebSocket
// handshake). It returns the principal, or an error wrapping one of
// authgate's sentinels: ErrUnrecognizedCredential for something that is not
// a JWT of the configured issuer, ErrTokenExpired, ErrInvalidSignature,
// ErrInvalidAudience, ErrMissingClaim, … (all of which wrap
// ErrInvalidCredentials).
func (a *Authenticator) Verify(ctx context.Context, token string) (*authgate.Principal, error) {
	return a.tokens.Verify(ctx, token)
}

// Describe tells chains what this authenticator accepts: bearer tokens of
// its issuer.
func (a *Authenticator) Describe() authgate.Description {
	return a.tokens.Describe()
}
