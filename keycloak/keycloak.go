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
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/internal/remote"
	"github.com/authgate/authgate/providers"
)

// DefaultTokensNotBeforeRefresh is how often the realm's tokens-not-before
// is re-read when TokensNotBefore is set.
const DefaultTokensNotBeforeRefresh = time.Minute

// Config configures an Authenticator. BaseURL, Realm, and ClientID or
// Audience are required.
type Config struct {
	// Name names the provider in principals, errors and logs (default
	// "keycloak").
	Name string
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
	// Audience lists accepted "aud" values (add an audience mapper in
	// Keycloak). When set, tokens that do not name it in aud are refused,
	// whatever their azp, unless AuthorizedParties says otherwise.
	Audience []string
	// AuthorizedParties accepts a token whose aud names none of Audience
	// when its "azp" is one of these clients.
	AuthorizedParties []string
	// HTTPClient fetches keys and realm data (default:
	// http.DefaultTransport). It is copied: the copy follows no redirects,
	// sends no cookies and times out after 5 s.
	HTTPClient *http.Client
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
	// authgate.ErrRevoked. The realm is re-read every
	// TokensNotBeforeRefresh (default 1 min, within [10 s, 1 h]); while it
	// cannot be read and was never read, tokens are refused with
	// authgate.ErrUnavailable.
	TokensNotBefore        bool
	TokensNotBeforeRefresh time.Duration
	// Algorithms is the allow-list (default {"RS256"}, Keycloak's default;
	// realms may sign with PS256, ES256, EdDSA…). Asymmetric only.
	Algorithms []string
	// TokenTypes lists accepted "typ" headers (default: absent or "JWT", as
	// Keycloak sends).
	TokenTypes []string
	// Leeway is the clock skew tolerated: 0 means providers.DefaultLeeway
	// (60 s), providers.NoLeeway none, at most 5 minutes.
	Leeway time.Duration
	// Claims are extra claim rules.
	Claims providers.Claims
	// TenantClaim is the dotted path of a tenant claim (default "tenant").
	TenantClaim string
	// Validate, if set, runs last on every verified token.
	Validate func(*providers.Token) error
	// Cooldown, MaxKeyAge and RefreshInterval tune the key manager (see
	// providers.RemoteKeySetConfig); zero means the default.
	Cooldown        time.Duration
	MaxKeyAge       time.Duration
	RefreshInterval time.Duration
	// Logger, if set, receives failed fetches.
	Logger *slog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Authenticator verifies bearer access tokens of one Keycloak realm.
type Authenticator struct {
	name      string
	clientID  string
	verifier  *providers.Verifier
	keys      *providers.RemoteKeySet
	notBefore *remote.Cache[int64] // nil unless TokensNotBefore
	mapping   providers.Mapping
}

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
	name := cfg.Name
	if name == "" {
		name = "keycloak"
	}
	base, err := remote.CheckURL(cfg.BaseURL)
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
	algs := slices.Clone(cfg.Algorithms)
	if len(algs) == 0 {
		algs = []string{providers.RS256}
	}
	audience := slices.Clone(cfg.Audience)
	parties := slices.Clone(cfg.AuthorizedParties)
	if len(audience) == 0 {
		audience = []string{cfg.ClientID}
		if !slices.Contains(parties, cfg.ClientID) {
			parties = append(parties, cfg.ClientID)
		}
	}

	rcfg := providers.RemoteKeySetConfig{
		Name:            name,
		URL:             issuer + "/protocol/openid-connect/certs",
		HTTPClient:      cfg.HTTPClient,
		Algorithms:      algs,
		Cooldown:        cfg.Cooldown,
		MaxKeyAge:       cfg.MaxKeyAge,
		RefreshInterval: cfg.RefreshInterval,
		Logger:          cfg.Logger,
		Now:             cfg.Now,
	}
	if cfg.UseRealmPublicKey {
		rcfg.URL, rcfg.Parse = issuer, parseRealmPublicKey
	}
	keys, err := providers.NewRemoteKeySet(rcfg)
	if err != nil {
		return nil, prefix(name, err)
	}
	var keySet providers.KeySet = keys
	if cfg.UseRealmPublicKey {
		keySet = anyKeyID{keys}
	}

	a := &Authenticator{
		name:     name,
		clientID: cfg.ClientID,
		keys:     keys,
		mapping:  providers.Mapping{Provider: name, TenantClaim: cfg.TenantClaim},
	}
	if cfg.TokensNotBefore {
		every := cfg.TokensNotBeforeRefresh
		if every == 0 {
			every = DefaultTokensNotBeforeRefresh
		}
		if every < 10*time.Second || every > time.Hour {
			return nil, fmt.Errorf("keycloak: TokensNotBeforeRefresh %v outside [10s, 1h]", every)
		}
		a.notBefore = newNotBefore(issuer, cfg, every)
	}
	validate := cfg.Validate
	a.verifier, err = providers.NewVerifier(providers.VerifierConfig{
		Name:              name,
		Issuer:            issuer,
		Audience:          audience,
		AuthorizedParties: parties,
		Algorithms:        algs,
		Keys:              keySet,
		Leeway:            cfg.Leeway,
		TokenTypes:        slices.Clone(cfg.TokenTypes),
		Claims:            cfg.Claims,
		Validate: func(t *providers.Token) error {
			if typ, _ := t.Claims["typ"].(string); typ != "Bearer" {
				return &authgate.Error{Provider: name, Kind: authgate.ErrInvalidClaim, Err: errNotAccessToken}
			}
			if validate != nil {
				return validate(t)
			}
			return nil
		},
		Now: cfg.Now,
	})
	if err != nil {
		return nil, prefix(name, err)
	}
	return a, nil
}

var (
	errNotAccessToken = errors.New(`keycloak: "typ" claim is not "Bearer": not an access token`)
	errRevoked        = errors.New("keycloak: token issued before the realm's tokens-not-before")
)

// prefix makes every error of New start with "keycloak: ", also under a
// custom Name (the providers package prefixes its errors with Name).
func prefix(name string, err error) error {
	if name == "keycloak" {
		return err
	}
	return fmt.Errorf("keycloak: %w", err)
}

// anyKeyID looks keys up without the token's kid: the realm public_key has
// none.
type anyKeyID struct{ keys *providers.RemoteKeySet }

func (k anyKeyID) VerificationKeys(ctx context.Context, _, alg string) ([]providers.Key, error) {
	return k.keys.VerificationKeys(ctx, "", alg)
}

// realmInfo is the part of GET BASE/realms/REALM authgate reads.
func realmInfo(doc []byte) (map[string]json.RawMessage, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(doc, &m); err != nil {
		return nil, errors.New("keycloak: realm document is not a JSON object")
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
		return nil, 0, errors.New(`keycloak: realm document has no "public_key"`)
	}
	keys, err := providers.ParseKeys([]byte(pk))
	if err != nil {
		return nil, 0, fmt.Errorf("keycloak: realm public_key: %w", err)
	}
	return keys, 0, nil
}

func newNotBefore(issuer string, cfg Config, every time.Duration) *remote.Cache[int64] {
	client := remote.Client(cfg.HTTPClient, remote.DefaultTimeout)
	maxAge := cfg.MaxKeyAge
	if maxAge == 0 {
		maxAge = providers.DefaultMaxKeyAge
	}
	var onError func(error)
	if cfg.Logger != nil {
		onError = func(err error) {
			cfg.Logger.Warn("authgate: realm fetch failed", "issuer", issuer, "err", err)
		}
	}
	return remote.New(func(ctx context.Context) (int64, time.Duration, error) {
		body, _, err := remote.Get(ctx, client, issuer)
		if err != nil {
			return 0, 0, err
		}
		m, err := realmInfo(body)
		if err != nil {
			return 0, 0, err
		}
		var nb float64
		raw, ok := m["tokens-not-before"]
		if !ok || json.Unmarshal(raw, &nb) != nil || nb < 0 || nb > math.MaxInt32*4 || nb != math.Trunc(nb) {
			return 0, 0, errors.New(`keycloak: realm document has no valid "tokens-not-before"`)
		}
		return int64(nb), every, nil
	}, remote.Options{Now: cfg.Now, MaxStale: maxAge, OnError: onError})
}

// Authenticate reads "Authorization: Bearer <token>" and verifies the token.
// No bearer credential, or a token of another issuer (another realm), is
// "not mine" and costs no network I/O; see Verify for the rest.
func (a *Authenticator) Authenticate(r *http.Request) (*authgate.Principal, error) {
	token, err := providers.BearerToken(r)
	if err != nil {
		if e, ok := err.(*authgate.Error); ok {
			e.Provider = a.name
		}
		return nil, err
	}
	return a.Verify(r.Context(), token)
}

// Verify verifies a token outside HTTP. It returns the principal, or an
// error wrapping one of authgate's sentinels: ErrUnrecognizedCredential
// (not a JWT of this realm), ErrUnavailable (keys or realm data cannot be
// fetched), ErrInvalidClaim (not an access token), ErrRevoked (issued
// before tokens-not-before), ErrTokenExpired, ErrInvalidSignature,
// ErrInvalidAudience, ….
func (a *Authenticator) Verify(ctx context.Context, token string) (*authgate.Principal, error) {
	t, err := a.verifier.Verify(ctx, token)
	if err != nil {
		return nil, err
	}
	if a.notBefore != nil {
		nb, err := a.notBefore.Get(ctx)
		if err != nil {
			return nil, &authgate.Error{Provider: a.name, Kind: authgate.ErrUnavailable, Err: err}
		}
		if nb > 0 && (t.IssuedAt.IsZero() || t.IssuedAt.Unix() < nb) {
			return nil, &authgate.Error{Provider: a.name, Kind: authgate.ErrRevoked, Err: errRevoked}
		}
	}
	return a.principal(t), nil
}

func (a *Authenticator) principal(t *providers.Token) *authgate.Principal {
	p := a.mapping.Principal(t)
	var roles []string
	if ra, ok := t.Claims["realm_access"].(map[string]any); ok {
		roles = append(roles, providers.StringList(ra["roles"])...)
	}
	if a.clientID != "" {
		if res, ok := t.Claims["resource_access"].(map[string]any); ok {
			if c, ok := res[a.clientID].(map[string]any); ok {
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
	return p
}

// Prefetch fetches the realm's keys (and its tokens-not-before when
// configured) and waits until ctx is done: call it at start-up to warm the
// cache. Its error wraps authgate.ErrUnavailable.
func (a *Authenticator) Prefetch(ctx context.Context) error {
	if err := a.keys.Prefetch(ctx); err != nil {
		return err
	}
	if a.notBefore != nil {
		if err := a.notBefore.Prefetch(ctx); err != nil {
			return &authgate.Error{Provider: a.name, Kind: authgate.ErrUnavailable, Err: err}
		}
	}
	return nil
}

// Describe tells chains what this authenticator accepts: bearer tokens of
// its realm's issuer.
func (a *Authenticator) Describe() authgate.Description {
	return authgate.Description{Name: a.name, Scheme: "Bearer", Issuers: []string{a.verifier.Issuer()}}
}
