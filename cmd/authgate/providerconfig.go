package main

import (
	"fmt"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/authgate/authgate/providers"
)

// ProviderConfig is one entry of "providers". Which fields apply depends on
// Type (see providerFields).
type ProviderConfig struct {
	Index int
	Line  int
	Name  string
	Type  string

	// Token providers.
	Keys              string // static: key file (PEM, JWK, JWKS), absolute
	SecretEnv         string // static: environment variable of an HMAC secret
	Algorithms        []string
	Issuer            string
	Audience          []string
	AuthorizedParties []string
	Leeway            time.Duration // 0: the provider's default; see leewaySet
	Claims            providers.Claims
	RolesClaim        string
	TenantClaim       string
	TokenTypes        []string
	JWKSURL           string
	Domain            string // auth0
	BaseURL           string // keycloak
	Realm             string // keycloak
	ClientID          string // keycloak
	ProjectID         string // firebase
	TenantID          string // firebase
	AnyTenant         bool   // firebase
	SessionCookies    bool   // firebase
	SessionCookieName string // firebase

	// API keys.
	Prefix         string
	Store          string // DSN; sqlite paths resolved against Config.Dir
	StoreEnv       string
	PepperEnv      string
	Header         string
	CacheTTL       time.Duration // apikey, static, oidc
	CacheSize      int           // static, oidc, auth0: verified-token cache
	RequireExpiry  bool
	FailureLimit   int           // apikey: failed attempts per client and window
	FailureWindow  time.Duration // apikey
	ClientIPHeader string        // apikey: header the proxy sets to the client address

	leewaySet bool
	secret    []byte // from SecretEnv; never printed
	pepper    []byte // from PepperEnv; never printed
	storeDSN  string // from StoreEnv or Store; may hold a password, never printed
	lines     map[string]int
}

// line returns the line of a field of the provider, or of the provider.
func (p *ProviderConfig) line(name string) int {
	if l, ok := p.lines[name]; ok {
		return l
	}
	return p.Line
}

// path returns "providers[i].name" for messages.
func (p *ProviderConfig) path(name string) string {
	s := fmt.Sprintf("providers[%d]", p.Index)
	if name != "" {
		s += "." + name
	}
	return s
}

// The provider types and the fields each accepts besides name and type.
var providerFields = map[string][]string{
	"static":   {"keys", "secret_env", "algorithms", "issuer", "audience", "leeway", "claims", "roles_claim", "tenant_claim", "token_types", "cache_size", "cache_ttl"},
	"oidc":     {"issuer", "audience", "authorized_parties", "algorithms", "jwks_url", "leeway", "claims", "roles_claim", "tenant_claim", "token_types", "cache_size", "cache_ttl"},
	"auth0":    {"domain", "audience", "algorithms", "leeway", "claims", "roles_claim", "tenant_claim", "token_types", "cache_size", "cache_ttl"},
	"keycloak": {"base_url", "realm", "client_id", "audience", "authorized_parties", "algorithms", "leeway", "claims", "tenant_claim", "token_types"},
	"firebase": {"project_id", "tenant_id", "any_tenant", "session_cookies", "session_cookie_name", "leeway", "claims", "roles_claim"},
	"apikey":   {"prefix", "store", "store_env", "pepper_env", "header", "cache_ttl", "require_expiry", "failure_limit", "failure_window", "client_ip_header"},
}

// providerTypes lists the types in the order messages name them.
var providerTypes = []string{"static", "oidc", "auth0", "keycloak", "firebase", "apikey"}

// secretFields are field names people use for secrets. The file never holds
// one: each gets an error pointing at the environment instead.
var secretFields = map[string]string{
	"secret":        "secret_env",
	"hmac_secret":   "secret_env",
	"shared_secret": "secret_env",
	"client_secret": "secret_env",
	"private_key":   "secret_env",
	"password":      "store_env",
	"pepper":        "pepper_env",
	"api_key":       "an API key store",
	"token":         "an API key store",
}

func (c *Config) decodeProviders(d *decoder, n *yaml.Node) {
	if n.Kind != yaml.SequenceNode {
		d.errorf(n, "providers", "expected a list, found %s", describe(n))
		return
	}
	for i, e := range n.Content {
		e = resolve(e)
		p := &ProviderConfig{Index: i, Line: e.Line, lines: map[string]int{}}
		c.Providers = append(c.Providers, p)
		fs, ok := d.fields(e, p.path(""))
		if !ok {
			continue
		}
		// name and type first: the other fields depend on the type.
		var typeNode *yaml.Node
		for _, f := range fs {
			switch f.name {
			case "name":
				p.Name = d.nonEmpty(f.value, p.path("name"))
				if p.Name != "" && !nameRE.MatchString(p.Name) {
					d.errorf(f.value, p.path("name"), "invalid name %q: use 1 to 64 letters, digits, '.', '_' or '-'", p.Name)
				}
			case "type":
				typeNode = f.value
				p.Type = d.nonEmpty(f.value, p.path("type"))
			}
		}
		if p.Name == "" && !hasField(fs, "name") {
			d.errorf(e, p.path("name"), "a name is required")
		}
		known, ok := providerFields[p.Type]
		switch {
		case typeNode == nil:
			d.errorf(e, p.path("type"), "a type is required (one of %s)", strings.Join(providerTypes, ", "))
			continue
		case !ok:
			if p.Type != "" {
				d.errorf(typeNode, p.path("type"), "unknown provider type %q (want one of %s)", p.Type, strings.Join(providerTypes, ", "))
			}
			continue
		}
		for _, f := range fs {
			if f.name == "name" || f.name == "type" {
				continue
			}
			if !slices.Contains(known, f.name) {
				if _, secret := secretFields[f.name]; secret || !isProviderField(f.name) {
					unknownField(d, f, p.path(""), append([]string{"name", "type"}, known...))
				} else {
					d.errorf(f.key, p.path(f.name), "not a field of type %s (want one of %s)", p.Type, strings.Join(known, ", "))
				}
				continue
			}
			p.lines[f.name] = f.value.Line
			p.decodeField(d, c.Dir, f)
		}
	}
}

func hasField(fs []field, name string) bool {
	return slices.ContainsFunc(fs, func(f field) bool { return f.name == name })
}

func isProviderField(name string) bool {
	for _, fs := range providerFields {
		if slices.Contains(fs, name) {
			return true
		}
	}
	return false
}

// decodeField decodes one type-specific field of a provider.
func (p *ProviderConfig) decodeField(d *decoder, dir string, f field) {
	path, n := p.path(f.name), f.value
	switch f.name {
	case "keys":
		if p.Keys = d.nonEmpty(n, path); p.Keys != "" && !filepath.IsAbs(p.Keys) {
			p.Keys = filepath.Join(dir, p.Keys)
		}
	case "secret_env":
		p.SecretEnv = d.envName(n, path)
	case "pepper_env":
		p.PepperEnv = d.envName(n, path)
	case "store_env":
		p.StoreEnv = d.envName(n, path)
	case "algorithms":
		p.Algorithms = d.strings(n, path)
		for i, a := range p.Algorithms {
			if a != "" && !providers.SupportedAlgorithm(a) {
				d.errorf(itemNode(n, i), path, "unsupported algorithm %q (want one of %s)", a, strings.Join(providers.Algorithms(), ", "))
			}
		}
	case "issuer":
		p.Issuer = d.nonEmpty(n, path)
	case "audience":
		p.Audience = d.strings(n, path)
	case "authorized_parties":
		p.AuthorizedParties = d.strings(n, path)
	case "leeway":
		p.Leeway, p.leewaySet = d.duration(n, path), true
		if p.Leeway > providers.MaxLeeway {
			d.errorf(n, path, "leeway %q is over the maximum of %v", n.Value, providers.MaxLeeway)
		}
	case "claims":
		p.Claims = d.claims(n, path)
	case "roles_claim":
		p.RolesClaim = d.nonEmpty(n, path)
	case "tenant_claim":
		p.TenantClaim = d.nonEmpty(n, path)
	case "token_types":
		p.TokenTypes = d.strings(n, path)
	case "jwks_url":
		p.JWKSURL = d.nonEmpty(n, path)
	case "domain":
		p.Domain = d.nonEmpty(n, path)
	case "base_url":
		p.BaseURL = d.nonEmpty(n, path)
	case "realm":
		p.Realm = d.nonEmpty(n, path)
	case "client_id":
		p.ClientID = d.nonEmpty(n, path)
	case "project_id":
		p.ProjectID = d.nonEmpty(n, path)
	case "tenant_id":
		p.TenantID = d.nonEmpty(n, path)
	case "any_tenant":
		p.AnyTenant = d.boolean(n, path)
	case "session_cookies":
		p.SessionCookies = d.boolean(n, path)
	case "session_cookie_name":
		p.SessionCookieName = d.nonEmpty(n, path)
	case "prefix":
		p.Prefix = d.nonEmpty(n, path)
	case "store":
		p.Store = d.nonEmpty(n, path)
		if hasPassword(p.Store) {
			d.errorf(n, path, "the DSN holds a password: secrets are never read from the configuration file; put the whole DSN in an environment variable and name it with store_env")
			p.Store = ""
		}
	case "header":
		p.Header = d.nonEmpty(n, path)
	case "cache_ttl":
		p.CacheTTL = d.duration(n, path)
	case "cache_size":
		p.CacheSize = d.integer(n, path, 0, 1_000_000)
	case "require_expiry":
		p.RequireExpiry = d.boolean(n, path)
	case "failure_limit":
		p.FailureLimit = d.integer(n, path, 0, 1_000_000)
	case "failure_window":
		p.FailureWindow = d.duration(n, path)
	case "client_ip_header":
		p.ClientIPHeader = d.nonEmpty(n, path)
	}
}

func itemNode(n *yaml.Node, i int) *yaml.Node {
	if n.Kind == yaml.SequenceNode && i < len(n.Content) {
		return n.Content[i]
	}
	return n
}

func (d *decoder) envName(n *yaml.Node, path string) string {
	s := d.nonEmpty(n, path)
	if s != "" && !envNameRE.MatchString(s) {
		d.errorf(n, path, "invalid environment variable name %q", s)
		return ""
	}
	return s
}

// hasPassword reports whether a store DSN carries a password: a URL with
// user:password@ or a password query parameter.
func hasPassword(dsn string) bool {
	u, err := url.Parse(dsn)
	if err != nil {
		return strings.Contains(strings.ToLower(dsn), "password")
	}
	if u.User != nil {
		if _, ok := u.User.Password(); ok {
			return true
		}
	}
	for k := range u.Query() {
		if strings.EqualFold(k, "password") {
			return true
		}
	}
	return false
}

// claims decodes claim rules: name → {essential, value, values}.
func (d *decoder) claims(n *yaml.Node, path string) providers.Claims {
	fs, _ := d.fields(n, path)
	out := providers.Claims{}
	for _, f := range fs {
		p := join(path, f.name)
		var c providers.Claim
		rule, _ := d.fields(f.value, p)
		for _, r := range rule {
			rp := join(p, r.name)
			switch r.name {
			case "essential":
				c.Essential = d.boolean(r.value, rp)
			case "value":
				c.Value = d.scalar(r.value, rp)
			case "values":
				if r.value.Kind != yaml.SequenceNode || len(r.value.Content) == 0 {
					d.errorf(r.value, rp, "expected a non-empty list")
					continue
				}
				for i, e := range r.value.Content {
					c.Values = append(c.Values, d.scalar(resolve(e), fmt.Sprintf("%s[%d]", rp, i)))
				}
			default:
				unknownField(d, r, p, []string{"essential", "value", "values"})
			}
		}
		switch {
		case c.Value != nil && c.Values != nil:
			d.errorf(f.value, p, "set value or values, not both")
		case !c.Essential && c.Value == nil && c.Values == nil:
			d.errorf(f.value, p, "a claim rule needs essential: true, value or values")
		}
		out[f.name] = c
	}
	return out
}

func (p *ProviderConfig) validate(d *decoder, dir string, getenv func(string) string) {
	require := func(field string, ok bool, why string) {
		if !ok {
			d.errorAt(p.Line, p.path(field), "%s", why)
		}
	}
	switch p.Type {
	case "static":
		require("keys", p.Keys != "" || p.SecretEnv != "", "keys (a key file) or secret_env (an HMAC secret in the environment) is required")
		require("algorithms", len(p.Algorithms) > 0, "an explicit algorithms list is required (for example [RS256])")
		require("issuer", p.Issuer != "", "an issuer is required")
		require("audience", len(p.Audience) > 0, "an audience is required")
	case "oidc":
		require("issuer", p.Issuer != "", "an issuer is required")
		require("audience", len(p.Audience) > 0 || len(p.AuthorizedParties) > 0, "an audience is required")
	case "auth0":
		require("domain", p.Domain != "", "a domain is required")
		require("audience", len(p.Audience) > 0, "an audience is required")
	case "keycloak":
		require("base_url", p.BaseURL != "", "a base_url is required")
		require("realm", p.Realm != "", "a realm is required")
		require("client_id", p.ClientID != "" || len(p.Audience) > 0, "a client_id (or an audience) is required")
	case "firebase":
		require("project_id", p.ProjectID != "", "a project_id is required")
	case "apikey":
		require("prefix", p.Prefix != "", "a prefix is required")
		require("store", p.Store != "" || p.StoreEnv != "", "a store DSN (store) or store_env is required")
		if p.Store != "" && p.StoreEnv != "" {
			d.errorAt(p.line("store_env"), p.path("store_env"), "set store or store_env, not both")
		}
	}
	env := func(field, name string) []byte {
		if name == "" {
			return nil
		}
		v := getenv(name)
		if v == "" {
			d.errorAt(p.line(field), p.path(field), "environment variable %s is not set", name)
			return nil
		}
		return []byte(v)
	}
	p.secret = env("secret_env", p.SecretEnv)
	p.pepper = env("pepper_env", p.PepperEnv)
	if dsn := env("store_env", p.StoreEnv); dsn != nil {
		p.storeDSN = string(dsn)
	} else if p.Store != "" {
		p.storeDSN = resolveDSN(p.Store, dir)
	}
	if p.leewaySet && p.Leeway == 0 {
		p.Leeway = providers.NoLeeway // "0s" in the file means none, not the default
	}
}

// resolveDSN anchors a relative SQLite path at dir.
func resolveDSN(dsn, dir string) string {
	path, ok := strings.CutPrefix(dsn, "sqlite:")
	if !ok || path == "" || strings.HasPrefix(path, ":memory:") || strings.HasPrefix(path, "file:") {
		return dsn
	}
	file, query, _ := strings.Cut(path, "?")
	if filepath.IsAbs(file) {
		return dsn
	}
	out := "sqlite:" + filepath.Join(dir, file)
	if query != "" {
		out += "?" + query
	}
	return out
}
