package main

import (
	"fmt"
	"time"

	"github.com/authgate/authgate/auth0"
	"github.com/authgate/authgate/firebase"
	"github.com/authgate/authgate/keycloak"
	"github.com/authgate/authgate/oidc"
	"github.com/authgate/authgate/providers"
	"github.com/authgate/authgate/static"
)

// The JWT provider types. Each declares only its own fields; the shared
// token options come from tokenFields and fetchFields.

// staticSettings are the own fields of a static provider.
type staticSettings struct {
	Keys      string // key file, absolute
	SecretEnv string // names the variable holding an HMAC secret
	Issuer    string
	secret    []byte // from SecretEnv; never printed
}

var staticType = kind[staticSettings]{
	name:  "static",
	token: tokenKeys,
	required: []requirement{
		need("keys (a key file) or secret_env (an HMAC secret in the environment) is required", "keys", "secret_env"),
		need("an explicit algorithms list is required (for example [RS256])", "algorithms"),
		need("an issuer is required", "issuer"),
		need("an audience is required", "audience"),
	},
	fields: func(s *staticSettings) []spec {
		return []spec{pathField("keys", &s.Keys), envField("secret_env", &s.SecretEnv, &s.secret), stringField("issuer", &s.Issuer)}
	},
	newToken: func(s *staticSettings, t providers.TokenOptions, _ providers.FetchOptions) (tokenAuthenticator, string, error) {
		var keys []providers.Key
		if s.Keys != "" {
			ks, err := readKeyFile(s.Keys)
			if err != nil {
				return nil, "keys", err
			}
			keys = ks
		}
		if s.secret != nil {
			keys = append(keys, providers.SecretKey(s.secret))
		}
		a, err := static.New(static.Config{Keys: keys, Issuer: s.Issuer, TokenOptions: t})
		return a, "", err
	},
}.entry()

// maxKeyFile bounds a key file named by "keys".
const maxKeyFile = 1 << 20

// readKeyFile reads the public keys of a key file; a secret in it is an
// error.
func readKeyFile(path string) ([]providers.Key, error) {
	data, err := readLimited(path, maxKeyFile)
	if err != nil {
		return nil, err
	}
	keys, err := providers.ParseKeys(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", baseName(path), err)
	}
	for _, k := range keys {
		if k.IsSecret() {
			return nil, fmt.Errorf("%s holds an HMAC secret: secrets come from the environment (secret_env), never from a file", baseName(path))
		}
	}
	return keys, nil
}

// oidcSettings are the own fields of an OpenID Connect provider.
type oidcSettings struct {
	Issuer  string
	JWKSURL string
}

var oidcType = kind[oidcSettings]{
	name:  "oidc",
	token: tokenKeys,
	fetch: true,
	required: []requirement{
		need("an issuer is required", "issuer"),
		need("an audience is required", "audience", "authorized_parties"),
	},
	fields: func(s *oidcSettings) []spec {
		return []spec{stringField("issuer", &s.Issuer), stringField("jwks_url", &s.JWKSURL)}
	},
	newToken: func(s *oidcSettings, t providers.TokenOptions, f providers.FetchOptions) (tokenAuthenticator, string, error) {
		a, err := oidc.New(oidc.Config{Issuer: s.Issuer, JWKSURL: s.JWKSURL, TokenOptions: t, FetchOptions: f})
		return a, "", err
	},
}.entry()

// auth0Settings are the own fields of an Auth0 provider.
type auth0Settings struct {
	Domain string
}

var auth0Type = kind[auth0Settings]{
	name:  "auth0",
	token: tokenKeys,
	fetch: true,
	required: []requirement{
		need("a domain is required", "domain"),
		need("an audience is required", "audience"),
	},
	fields: func(s *auth0Settings) []spec {
		return []spec{stringField("domain", &s.Domain)}
	},
	newToken: func(s *auth0Settings, t providers.TokenOptions, f providers.FetchOptions) (tokenAuthenticator, string, error) {
		a, err := auth0.New(auth0.Config{Domain: s.Domain, TokenOptions: t, FetchOptions: f})
		return a, "", err
	},
}.entry()

// keycloakSettings are the own fields of a Keycloak provider.
type keycloakSettings struct {
	BaseURL                string
	Realm                  string
	ClientID               string
	LegacyAuthPrefix       bool
	TokensNotBefore        bool
	TokensNotBeforeRefresh time.Duration
}

var keycloakType = kind[keycloakSettings]{
	name:  "keycloak",
	token: tokenKeys,
	fetch: true,
	required: []requirement{
		need("a base_url is required", "base_url"),
		need("a realm is required", "realm"),
		need("a client_id (or an audience) is required", "client_id", "audience"),
	},
	fields: func(s *keycloakSettings) []spec {
		return []spec{
			stringField("base_url", &s.BaseURL),
			stringField("realm", &s.Realm),
			stringField("client_id", &s.ClientID),
			boolField("legacy_auth_prefix", &s.LegacyAuthPrefix),
			boolField("tokens_not_before", &s.TokensNotBefore),
			positiveDurationField("tokens_not_before_refresh", &s.TokensNotBeforeRefresh),
		}
	},
	check: func(s *keycloakSettings, p *ProviderConfig, d *decoder) {
		if _, set := p.lines["tokens_not_before_refresh"]; set && !s.TokensNotBefore {
			d.errorAt(p.line("tokens_not_before_refresh"), p.path("tokens_not_before_refresh"), "needs tokens_not_before: true")
		}
	},
	newToken: func(s *keycloakSettings, t providers.TokenOptions, f providers.FetchOptions) (tokenAuthenticator, string, error) {
		a, err := keycloak.New(keycloak.Config{
			BaseURL:                s.BaseURL,
			Realm:                  s.Realm,
			ClientID:               s.ClientID,
			LegacyAuthPrefix:       s.LegacyAuthPrefix,
			TokensNotBefore:        s.TokensNotBefore,
			TokensNotBeforeRefresh: s.TokensNotBeforeRefresh,
			TokenOptions:           t,
			FetchOptions:           f,
		})
		return a, "", err
	},
}.entry()

// firebaseSettings are the own fields of a Firebase provider.
type firebaseSettings struct {
	ProjectID         string
	TenantID          string
	AnyTenant         bool
	SessionCookies    bool
	SessionCookieName string
}

var firebaseType = kind[firebaseSettings]{
	name: "firebase",
	// Firebase fixes the audience (the project), the algorithm and the
	// tenant claim.
	token:    without(tokenKeys, "audience", "authorized_parties", "algorithms", "token_types", "tenant_claim"),
	fetch:    true,
	required: []requirement{need("a project_id is required", "project_id")},
	fields: func(s *firebaseSettings) []spec {
		return []spec{
			stringField("project_id", &s.ProjectID),
			stringField("tenant_id", &s.TenantID),
			boolField("any_tenant", &s.AnyTenant),
			boolField("session_cookies", &s.SessionCookies),
			stringField("session_cookie_name", &s.SessionCookieName),
		}
	},
	newToken: func(s *firebaseSettings, t providers.TokenOptions, f providers.FetchOptions) (tokenAuthenticator, string, error) {
		a, err := firebase.New(firebase.Config{
			ProjectID:         s.ProjectID,
			TenantID:          s.TenantID,
			AnyTenant:         s.AnyTenant,
			SessionCookies:    s.SessionCookies,
			SessionCookieName: s.SessionCookieName,
			TokenOptions:      t,
			FetchOptions:      f,
		})
		return a, "", err
	},
}.entry()
