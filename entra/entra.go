package entra

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/providers"
)

// DefaultAuthority is the authority of Entra ID's global cloud.
const DefaultAuthority = "https://login.microsoftonline.com"

// ConsumersTenant is the tenant of personal Microsoft accounts.
const ConsumersTenant = "9188040d-6c67-4c5b-b112-36a304b66dad"

// Config configures an Authenticator. Tenant and Audience are required,
// and a multi-tenant authority also needs Tenants or AnyTenant.
type Config struct {
	// Tenant is the authority's tenant: the directory (tenant) ID, a GUID,
	// for a single-tenant API; "organizations" (any work or school
	// tenant) or "common" (those and personal accounts) for a multi-tenant
	// one. A domain name is refused: tokens name the tenant by its ID.
	Tenant string
	// Tenants is the allow-list of tenant IDs a multi-tenant API accepts;
	// a token of another tenant is "not mine".
	Tenants []string
	// AnyTenant makes a multi-tenant API accept every tenant of its
	// authority. Anyone can create a tenant: the application MUST then
	// authorize by Principal.Tenant (tid) and keep each tenant's data
	// apart.
	AnyTenant bool
	// V1 accepts v1.0 access tokens (the default of an API whose manifest
	// leaves accessTokenAcceptedVersion null or 1), issued by
	// V1IssuerBase/TENANT/ with keys from AUTHORITY/TENANT/discovery/keys,
	// instead of v2.0 ones (AUTHORITY/TENANT/v2.0, keys from
	// AUTHORITY/TENANT/discovery/v2.0/keys).
	V1 bool
	// Authority is the login host (default DefaultAuthority): for the
	// national clouds "https://login.microsoftonline.us" or
	// "https://login.partner.microsoftonline.cn". It must be https; plain
	// http only for loopback hosts.
	Authority string
	// V1IssuerBase is the base of v1.0 issuers (default
	// "https://sts.chinacloudapi.cn" under China's authorities,
	// "https://sts.windows.net" otherwise).
	V1IssuerBase string
	// TokenOptions are the options every JWT provider shares. Audience
	// lists the API's application (client) ID, the "aud" of v2.0 tokens,
	// or for v1.0 tokens its Application ID URI ("api://…"). Algorithms
	// defaults to {"RS256"}, RolesClaim to "roles" (app roles) and
	// TenantClaim to "tid".
	providers.TokenOptions
	// FetchOptions tune the key manager.
	providers.FetchOptions
}

// Authenticator verifies bearer access tokens of Entra ID tenants; see
// [providers.TokenAuthenticator] for its methods.
type Authenticator = providers.TokenAuthenticator

// New validates cfg and returns an Authenticator. It does no network I/O.
// It returns an error for a missing or malformed tenant, a tenant list on
// a single-tenant authority, a multi-tenant authority with neither (or
// both) Tenants and AnyTenant, a malformed authority, a missing audience
// and what [providers.Preset.New] refuses.
func New(cfg Config) (*Authenticator, error) {
	authority, err := base(cmp.Or(cfg.Authority, DefaultAuthority), "authority")
	if err != nil {
		return nil, err
	}
	v1base, err := base(cmp.Or(cfg.V1IssuerBase, defaultV1Base(authority)), "V1IssuerBase")
	if err != nil {
		return nil, err
	}
	tenant := strings.ToLower(cfg.Tenant)
	multi := tenant == "organizations" || tenant == "common"
	allowed := make([]string, len(cfg.Tenants))
	for i, t := range cfg.Tenants {
		if allowed[i] = strings.ToLower(t); !isGUID(allowed[i]) {
			return nil, fmt.Errorf("entra: Tenants[%d] is not a tenant ID (a GUID)", i)
		}
		if tenant == "organizations" && allowed[i] == ConsumersTenant {
			return nil, errors.New(`entra: the personal-account tenant needs the "common" authority`)
		}
	}
	switch {
	case tenant == "":
		return nil, errors.New("entra: a tenant is required (a tenant ID, organizations or common)")
	case !multi && !isGUID(tenant):
		return nil, errors.New("entra: tenant must be a tenant ID (a GUID), organizations or common")
	case !multi && (len(allowed) > 0 || cfg.AnyTenant):
		return nil, errors.New("entra: Tenants and AnyTenant need a multi-tenant authority (organizations or common)")
	case multi && len(allowed) == 0 && !cfg.AnyTenant:
		return nil, errors.New("entra: a multi-tenant authority needs Tenants or AnyTenant")
	case len(allowed) > 0 && cfg.AnyTenant:
		return nil, errors.New("entra: set Tenants or AnyTenant, not both")
	case len(cfg.Audience) == 0:
		return nil, errors.New("entra: an audience (the API's application ID, or its App ID URI for v1.0 tokens) is required")
	}

	template, keys, ver := authority+"/{tenantid}/v2.0", authority+"/"+tenant+"/discovery/v2.0/keys", "2.0"
	if cfg.V1 {
		template, keys, ver = v1base+"/{tenantid}/", authority+"/"+tenant+"/discovery/keys", "1.0"
	}
	prefix, suffix, _ := strings.Cut(template, "{tenantid}")
	accepts := func(tid string) bool {
		if !multi {
			return tid == tenant
		}
		if tenant == "organizations" && tid == ConsumersTenant {
			return false
		}
		return cfg.AnyTenant || slices.Contains(allowed, tid)
	}
	name := cmp.Or(cfg.Name, "entra")
	fail := func(kind, err error) error { return &authgate.Error{Provider: name, Kind: kind, Err: err} }

	p := providers.Preset{
		Package:    "entra",
		Issuer:     prefix + tenant + suffix,
		JWKSURL:    keys,
		Algorithms: []string{providers.RS256},
		Validate: func(t *providers.Token) error {
			tid, _ := t.Claims["tid"].(string)
			switch {
			case !isGUID(tid):
				return fail(authgate.ErrInvalidClaim, errTenantClaim)
			case t.Issuer != prefix+tid+suffix:
				return fail(authgate.ErrInvalidIssuer, errIssuerTenant)
			case !accepts(tid):
				return fail(authgate.ErrInvalidIssuer, errTenant)
			case t.Claims["ver"] != ver:
				return fail(authgate.ErrInvalidClaim, errVersion)
			}
			return nil
		},
		Principal: func(t *providers.Token, p *authgate.Principal) {
			if p.Name == "" {
				p.Name, _ = cmp.Or(t.Claims["preferred_username"], t.Claims["unique_name"]).(string)
			}
		},
	}
	if multi {
		// Routing sees the unverified iss: claim it when its tenant is
		// one we accept; Validate ties it to the verified tid.
		p.Issuer = template
		p.MatchIssuer = func(iss string) bool {
			tid, ok := strings.CutPrefix(iss, prefix)
			if tid, ok = strings.CutSuffix(tid, suffix); !ok {
				return false
			}
			return isGUID(tid) && accepts(tid)
		}
	}
	cfg.TenantClaim = cmp.Or(cfg.TenantClaim, "tid")
	return p.New(cfg.TokenOptions, cfg.FetchOptions)
}

var (
	errTenantClaim  = errors.New(`entra: "tid" claim is not a tenant ID`)
	errIssuerTenant = errors.New(`entra: issuer does not name the token's "tid"`)
	errTenant       = errors.New("entra: tenant not accepted")
	errVersion      = errors.New(`entra: "ver" claim is not the configured token version`)
)

// base checks an authority-like URL (scheme and host, no path) and returns
// it without a trailing slash.
func base(raw, what string) (string, error) {
	u, err := providers.CheckURL(raw)
	if err != nil {
		return "", fmt.Errorf("entra: %s %w", what, err)
	}
	if strings.Trim(u.Path, "/") != "" || u.RawQuery != "" || u.ForceQuery {
		return "", fmt.Errorf("entra: %s %q must be a scheme and host only", what, raw)
	}
	return u.Scheme + "://" + u.Host, nil
}

// defaultV1Base returns the v1.0 issuer base of an authority's cloud.
func defaultV1Base(authority string) string {
	switch strings.TrimPrefix(authority, "https://") {
	case "login.partner.microsoftonline.cn", "login.chinacloudapi.cn":
		return "https://sts.chinacloudapi.cn"
	}
	return "https://sts.windows.net"
}

// isGUID reports whether s is a GUID in the lower-case 8-4-4-4-12 form of
// Entra's tenant and object IDs.
func isGUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := range len(s) {
		switch c := s[i]; {
		case i == 8 || i == 13 || i == 18 || i == 23:
			if c != '-' {
				return false
			}
		case !('0' <= c && c <= '9' || 'a' <= c && c <= 'f'):
			return false
		}
	}
	return true
}
