// Package gooidc builds authgate's [oidc] provider from a go-oidc/v3
// *oidc.Provider (github.com/coreos/go-oidc/v3/oidc) that an application
// already has, typically for browser sign-in, without a second discovery:
// the issuer and the jwks_uri are read from the discovery document go-oidc
// fetched.
//
// go-oidc exposes no keys, so the keys are fetched and cached by authgate's
// own key manager ([providers.RemoteKeySet]: scheduled refresh, one fetch
// in flight, last good keys kept up to a maximum age), and tokens are
// checked by authgate's verifier, not by go-oidc's IDTokenVerifier. The
// two share the discovery document, nothing else.
//
// Authenticators are safe for concurrent use.
package gooidc

import (
	"encoding/json"
	"errors"
	"fmt"

	coreos "github.com/coreos/go-oidc/v3/oidc"

	"github.com/authgate/authgate/oidc"
	"github.com/authgate/authgate/providers"
)

// Config configures an Authenticator. Provider and Audience (or
// AuthorizedParties) are required.
type Config struct {
	// Provider is the go-oidc provider made by oidc.NewProvider, whose
	// discovery document names the issuer and the jwks_uri. A provider
	// made from an oidc.ProviderConfig has no document: use authgate's
	// oidc.New with its IssuerURL and JWKSURL instead.
	Provider *coreos.Provider
	// TokenOptions are the options every JWT provider shares, as in
	// oidc.Config (Algorithms defaults to {"RS256"}, asymmetric only).
	providers.TokenOptions
	// FetchOptions tune authgate's key manager.
	providers.FetchOptions
}

// Authenticator verifies bearer tokens of the provider's issuer; see
// [providers.TokenAuthenticator] for its methods.
type Authenticator = providers.TokenAuthenticator

// New reads the issuer and the jwks_uri from cfg.Provider's discovery
// document and returns authgate's oidc provider for them, as oidc.New does
// with Config.Issuer and Config.JWKSURL set. It does no network I/O: the
// keys are fetched on first use (or by Authenticator.Prefetch). It returns
// an error for a nil provider, a provider without a discovery document, a
// document that is not strict JSON or lacks "issuer" or "jwks_uri", and
// every error of oidc.New (a non-https URL, a missing audience, …).
func New(cfg Config) (*Authenticator, error) {
	if cfg.Provider == nil {
		return nil, errors.New("gooidc: a go-oidc provider is required (Provider)")
	}
	var raw json.RawMessage
	if err := cfg.Provider.Claims(&raw); err != nil {
		return nil, errors.New("gooidc: the provider has no discovery document (make it with oidc.NewProvider)")
	}
	// The document is decoded again under authgate's strict JSON rules: a
	// duplicate or case-variant "issuer" that encoding/json would resolve
	// one way could otherwise be read another way here.
	doc, err := providers.ParseClaimSet(raw)
	if err != nil {
		return nil, fmt.Errorf("gooidc: discovery document: %w", err)
	}
	issuer, err := member(doc, "issuer")
	if err != nil {
		return nil, err
	}
	jwksURL, err := member(doc, "jwks_uri")
	if err != nil {
		return nil, err
	}
	return oidc.New(oidc.Config{
		Issuer:       issuer,
		JWKSURL:      jwksURL,
		TokenOptions: cfg.TokenOptions,
		FetchOptions: cfg.FetchOptions,
	})
}

// member returns the non-empty string member name of the discovery
// document. Its error names the member, never the value.
func member(doc map[string]any, name string) (string, error) {
	s, ok := doc[name].(string)
	if !ok || s == "" {
		return "", fmt.Errorf("gooidc: discovery document has no %q string", name)
	}
	return s, nil
}
