// Package keycloak authenticates Keycloak access tokens: give it the
// server's base URL, the realm and the API's client ID.
//
//   - The issuer is BASE/realms/REALM (BASE/auth/realms/REALM with
//     LegacyAuthPrefix, for Keycloak ≤ 16 or --http-relative-path=/auth),
//     compared exactly: a token of another realm is "not mine".
//   - Keys come from the realm's certs endpoint
//     (…/protocol/openid-connect/certs) through a
//     [providers.RemoteKeySet]; the "use":"enc" key Keycloak publishes
//     there never verifies a signature. The realm's bare public_key is an
//     explicit fallback only (UseRealmPublicKey): it has no kid and does
//     not follow rotation.
//   - Only access tokens: the "typ" claim must be "Bearer", so ID, refresh
//     and logout tokens are refused.
//   - Audience: Keycloak's default "aud" is "account" (or absent), which
//     names no API. Add an audience mapper to the client scope so tokens
//     carry your API in "aud" and set Audience; without Audience, a token is
//     accepted when its aud contains ClientID or its "azp" is ClientID.
//   - Roles: realm_access.roles and resource_access.<ClientID>.roles, in
//     that order, become Principal.Roles; "scope" Principal.Scopes;
//     "preferred_username" Principal.Name when "name" is absent.
//   - With TokensNotBefore, the realm's "tokens-not-before" (set by "push
//     revocation" or "revoke all") is honoured: tokens issued before it are
//     authgate.ErrRevoked.
//
// New does no network I/O. Authenticators are safe for concurrent use.
package keycloak

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/providers"
)

// DefaultTokensNotBeforeRefresh is how often the realm's tokens-not-before
// is re-read when TokensNotBefore is set.
const DefaultTokensNotBeforeRefresh = time.Minute

// Config configures an Authenticator. BaseURL, Realm, and ClientID or
// Audience are required.
type Config struct {
	// BaseURL is the server's address, "https://sso.example.com" (a path
	// prefix is kept). It must be https; plain http only for loopback
	// hosts.
	BaseURL string
	// Realm is the realm name.
	Realm string
	// ClientID is the API's client in Keycloak: its client roles
	// (resource_access.<ClientID>.roles) become roles, and without Audience
	// it is the accepted aud or azp.
	ClientID string
	// LegacyAuthPrefix puts "/auth" before "/realms" in the issuer and every
	// URL (Keycloak ≤ 16, or --http-relative-path=/auth).
	LegacyAuthPrefix bool
	// UseRealmPublicKey takes the verification key from the realm's
	// "public_key" (GET BASE/realms/REALM) instead of the certs endpoint.
	// That key has no kid and is only the active RS256 key: tokens of any
	// kid are checked against it, and a rotation breaks verification until
	// the next refresh. Use it only where the certs endpoint is blocked.
	UseRealmPublicKey bool
	// TokensNotBefore honours the realm's "tokens-not-before": tokens whose
	// iat is earlier (or that have no iat while it is set) are refused with
	// authgate.ErrRevoked, on every request, cached tokens included. The
	// realm is re-read every TokensNotBeforeRefresh (default 1 min, within
	// [10 s, 1 h]); while it cannot be read and was never read, tokens are
	// refused with authgate.ErrUnavailable.
	TokensNotBefore        bool
	TokensNotBeforeRefresh time.Duration
	// TokenOptions are the options every JWT provider shares. Audience:
	// add an audience mapper in Keycloak and list your API; when set,
	// tokens that do not name it in aud are refused, whatever their azp,
	// unless AuthorizedParties says otherwise. Algorithms defaults to
	// {"RS256"} (realms may sign with PS256, ES256, EdDSA…), asymmetric
	// only. RolesClaim, when set, replaces the realm and client roles.
	providers.TokenOptions
	// FetchOptions tune the key manager and the realm document's cache.
	providers.FetchOptions
}

// Authenticator verifies bearer access tokens of one Keycloak realm; see
// [providers.TokenAuthenticator] for its methods.
type Authenticator = providers.TokenAuthenticator

// Issuer returns the issuer of a realm's tokens: BASE/realms/REALM, or
// BASE/auth/realms/REALM with legacy set.
func Issuer(baseURL, realm string, legacy bool) string {
	base := strings.TrimSuffix(baseURL, "/")
	if legacy {
		base += "/auth"
	}
	return base + "/realms/" + realm
}

// New validates cfg and returns an Authenticator. It does no network I/O.
// It returns an error for a missing or non-https base URL, a missing or
// malformed realm, neither ClientID nor Audience, an HMAC or unknown
// algorithm, a leeway over 5 minutes, durations out of bounds and claim
// rules that cannot be checked.
func New(cfg Config) (*Authenticator, error) {
	base, err := providers.CheckURL(cfg.BaseURL)
	switch {
	case cfg.BaseURL == "":
		return nil, errors.New("keycloak: a base URL is required")
	case err != nil:
		return nil, fmt.Errorf("keycloak: base %w", err)
	case base.RawQuery != "" || base.ForceQuery:
		return nil, fmt.Errorf("keycloak: base URL %q has a query", cfg.BaseURL)
	case cfg.Realm == "":
		return nil, errors.New("keycloak: a realm is required")
	case url.PathEscape(cfg.Realm) != cfg.Realm || cfg.Realm == "." || cfg.Realm == "..":
		return nil, fmt.Errorf("keycloak: realm name %q needs escaping; use a plain realm name", cfg.Realm)
	case cfg.ClientID == "" && len(cfg.Audience) == 0:
		return nil, errors.New("keycloak: a client ID or an audience is required")
	}
	issuer := Issuer(cfg.BaseURL, cfg.Realm, cfg.LegacyAuthPrefix)
	name := cfg.Name
	if name == "" {
		name = "keycloak"
	}
	p := providers.Preset{
		Package:    "keycloak",
		Issuer:     issuer,
		JWKSURL:    issuer + "/protocol/openid-connect/certs",
		Algorithms: []string{providers.RS256},
		Validate: func(t *providers.Token) error {
			if typ, _ := t.Claims["typ"].(string); typ != "Bearer" {
				return &authgate.Error{Provider: name, Kind: authgate.ErrInvalidClaim, Err: errNotAccessToken}
			}
			return nil
		},
	}
	if len(cfg.Audience) == 0 {
		p.Audience = []string{cfg.ClientID}
		if !slices.Contains(cfg.AuthorizedParties, cfg.ClientID) {
			p.AuthorizedParties = []string{cfg.ClientID}
		}
	}
	if cfg.RolesClaim == "" {
		p.Principal = clientRoles(cfg.ClientID)
	}
	if cfg.UseRealmPublicKey {
		p.JWKSURL, p.ParseKeys = issuer, parseRealmPublicKey
		p.WrapKeys = func(k providers.KeySet) providers.KeySet { return anyKeyID{k} }
	}
	if cfg.TokensNotBefore {
		every := cfg.TokensNotBeforeRefresh
		if every == 0 {
			every = DefaultTokensNotBeforeRefresh
		}
		if every < 10*time.Second || every > time.Hour {
			return nil, fmt.Errorf("keycloak: TokensNotBeforeRefresh %v outside [10s, 1h]", every)
		}
		doc, err := providers.NewRemoteDocument(providers.RemoteDocumentConfig[int64]{
			Name: name,
			URL:  issuer,
			Parse: func(body []byte) (int64, time.Duration, error) {
				nb, err := tokensNotBefore(body)
				return nb, every, err
			},
			HTTPClient: cfg.HTTPClient,
			MaxKeyAge:  cfg.MaxKeyAge,
			MaxWait:    cfg.MaxWait,
			Logger:     cfg.Logger,
			Now:        cfg.Now,
			Observer:   cfg.Observer,
		})
		if err != nil {
			return nil, fmt.Errorf("keycloak: %w", err)
		}
		p.Check = notBefore(name, doc)
		p.Prefetch = []func(context.Context) error{doc.Prefetch}
		p.Ready = []func() error{doc.Ready}
	}
	return p.New(cfg.TokenOptions, cfg.FetchOptions)
}

var (
	errNotAccessToken = errors.New(`"typ" claim is not "Bearer": not an access token`)
	errRevoked        = errors.New("token issued before the realm's tokens-not-before")
)

// notBefore refuses tokens issued before the realm's tokens-not-before. It
// runs on every request, cache hits included.
func notBefore(name string, doc *providers.RemoteDocument[int64]) func(context.Context, *providers.Token) error {
	return func(ctx context.Context, t *providers.Token) error {
		nb, err := doc.Get(ctx)
		if err != nil {
			return err
		}
		if nb > 0 && (t.IssuedAt.IsZero() || t.IssuedAt.Unix() < nb) {
			return &authgate.Error{Provider: name, Kind: authgate.ErrRevoked, Err: errRevoked}
		}
		return nil
	}
}

// clientRoles makes realm_access.roles and resource_access.<clientID>.roles
// the principal's roles, and preferred_username its name when "name" is
// absent.
func clientRoles(clientID string) func(*providers.Token, *authgate.Principal) {
	return func(t *providers.Token, p *authgate.Principal) {
		var roles []string
		if ra, ok := t.Claims["realm_access"].(map[string]any); ok {
			roles = append(roles, providers.StringList(ra["roles"])...)
		}
		if clientID != "" {
			if res, ok := t.Claims["resource_access"].(map[string]any); ok {
				if c, ok := res[clientID].(map[string]any); ok {
					for _, r := range providers.StringList(c["roles"]) {
						if !slices.Contains(roles, r) {
							roles = append(roles, r)
						}
					}
				}
			}
		}
		p.Roles = roles
		if p.Name == "" {
			p.Name, _ = t.Claims["preferred_username"].(string)
		}
	}
}

// anyKeyID looks keys up without the token's kid: the realm public_key has
// none.
type anyKeyID struct{ keys providers.KeySet }

func (k anyKeyID) VerificationKeys(ctx context.Context, _, alg string) ([]providers.Key, error) {
	return k.keys.VerificationKeys(ctx, "", alg)
}

// realmInfo is the part of GET BASE/realms/REALM authgate reads.
func realmInfo(doc []byte) (map[string]json.RawMessage, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(doc, &m); err != nil {
		return nil, errors.New("realm document is not a JSON object")
	}
	return m, nil
}

// parseRealmPublicKey reads the realm's "public_key": one line of base64
// DER (SubjectPublicKeyInfo) without kid.
func parseRealmPublicKey(doc []byte) ([]providers.Key, int, error) {
	m, err := realmInfo(doc)
	if err != nil {
		return nil, 0, err
	}
	var pk string
	if err := json.Unmarshal(m["public_key"], &pk); err != nil || pk == "" {
		return nil, 0, errors.New(`realm document has no "public_key"`)
	}
	keys, err := providers.ParseKeys([]byte(pk))
	if err != nil {
		return nil, 0, fmt.Errorf("keycloak: realm public_key: %w", err)
	}
	return keys, 0, nil
}

// tokensNotBefore reads the realm's "tokens-not-before" (seconds).
func tokensNotBefore(body []byte) (int64, error) {
	m, err := realmInfo(body)
	if err != nil {
		return 0, err
	}
	var nb float64
	raw, ok := m["tokens-not-before"]
	if !ok || json.Unmarshal(raw, &nb) != nil || nb < 0 || nb > math.MaxInt32*4 || nb != math.Trunc(nb) {
		return 0, errors.New(`realm document has no valid "tokens-not-before"`)
	}
	return int64(nb), nil
}
