package main

import (
	"context"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/authgate/authgate/cognito"
	"github.com/authgate/authgate/entra"
	"github.com/authgate/authgate/github"
	"github.com/authgate/authgate/google"
	"github.com/authgate/authgate/introspection"
	"github.com/authgate/authgate/kubernetes"
	"github.com/authgate/authgate/okta"
	"github.com/authgate/authgate/providers"
)

// The identity-provider presets. Each declares only its own fields, as
// the types of registry_token.go do; the packages validate the rest, and
// the checks here only move a mistake the file can show to its line.

// cognitoSettings are the own fields of an Amazon Cognito provider.
type cognitoSettings struct {
	UserPoolID string
	Region     string
	TokenUse   string
	ClientIDs  []string
	BaseURL    string
}

var cognitoType = kind[cognitoSettings]{
	name: "cognito",
	// Cognito tokens carry no azp: the app client is client_ids.
	token: without(tokenKeys, "authorized_parties"),
	fetch: true,
	required: []requirement{
		need("a user_pool_id is required (REGION_ID, like eu-west-1_AbCdEfGhI)", "user_pool_id"),
		need("a token_use is required: access (an API called with access tokens) or id (one called with ID tokens)", "token_use"),
		need("client_ids (the app clients whose tokens are accepted) are required", "client_ids"),
	},
	fields: func(s *cognitoSettings) []spec {
		return []spec{
			stringField("user_pool_id", &s.UserPoolID),
			stringField("region", &s.Region),
			enumField("token_use", &s.TokenUse, cognito.AccessTokens, cognito.IDTokens),
			listField("client_ids", &s.ClientIDs),
			urlField("base_url", &s.BaseURL),
		}
	},
	check: func(s *cognitoSettings, p *ProviderConfig, d *decoder) {
		region, _, _ := strings.Cut(s.UserPoolID, "_")
		switch {
		case s.UserPoolID == "":
		case cognito.Issuer(s.UserPoolID) == "":
			d.errorAt(p.line("user_pool_id"), p.path("user_pool_id"), "%q is not a user pool ID (REGION_ID, like eu-west-1_AbCdEfGhI)", s.UserPoolID)
		case s.Region != "" && s.Region != region:
			d.errorAt(p.line("region"), p.path("region"), "%q is not the user pool's region (%s)", s.Region, region)
		}
		if _, set := p.lines["audience"]; set && s.TokenUse == cognito.IDTokens {
			d.errorAt(p.line("audience"), p.path("audience"), "only for token_use: access (the audience of an ID token is its app client: client_ids)")
		}
	},
	newToken: func(s *cognitoSettings, t providers.TokenOptions, f providers.FetchOptions) (tokenAuthenticator, string, error) {
		a, err := cognito.New(cognito.Config{
			UserPoolID:   s.UserPoolID,
			Region:       s.Region,
			TokenUse:     s.TokenUse,
			ClientIDs:    s.ClientIDs,
			BaseURL:      s.BaseURL,
			TokenOptions: t,
			FetchOptions: f,
		})
		return a, "", err
	},
}.entry()

// oktaSettings are the own fields of an Okta provider.
type oktaSettings struct {
	Domain           string
	ServerID         string
	ClientIDs        []string
	OrgTokensNotMine bool
}

var oktaType = kind[oktaSettings]{
	name:     "okta",
	token:    tokenKeys,
	fetch:    true,
	required: []requirement{need("a domain is required (example.okta.com, without scheme)", "domain")},
	fields: func(s *oktaSettings) []spec {
		return []spec{
			stringField("domain", &s.Domain),
			stringField("server_id", &s.ServerID),
			listField("client_ids", &s.ClientIDs),
			boolField("org_tokens_not_mine", &s.OrgTokensNotMine),
		}
	},
	check: func(s *oktaSettings, p *ProviderConfig, d *decoder) {
		_, aud := p.lines["audience"]
		_, azp := p.lines["authorized_parties"]
		if s.ServerID != "" && s.ServerID != okta.DefaultServerID && !aud && !azp {
			d.errorAt(p.line("server_id"), p.path("audience"), "an audience is required for a server other than %q (the authorization server's Audience setting)", okta.DefaultServerID)
		}
	},
	newToken: func(s *oktaSettings, t providers.TokenOptions, f providers.FetchOptions) (tokenAuthenticator, string, error) {
		a, err := okta.New(okta.Config{
			Domain:           s.Domain,
			ServerID:         s.ServerID,
			ClientIDs:        s.ClientIDs,
			OrgTokensNotMine: s.OrgTokensNotMine,
			TokenOptions:     t,
			FetchOptions:     f,
		})
		return a, "", err
	},
}.entry()

// entraSettings are the own fields of a Microsoft Entra ID provider.
type entraSettings struct {
	Tenant       string
	Tenants      []string
	AnyTenant    bool
	V1           bool
	Authority    string
	V1IssuerBase string
}

// guidRE is a tenant ID.
var guidRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

var entraType = kind[entraSettings]{
	name:  "entra",
	token: tokenKeys,
	fetch: true,
	required: []requirement{
		need("a tenant is required (the tenant ID, organizations or common)", "tenant"),
		need("an audience is required (the API's application ID; its App ID URI for v1 tokens)", "audience"),
	},
	fields: func(s *entraSettings) []spec {
		return []spec{
			stringField("tenant", &s.Tenant),
			listField("tenants", &s.Tenants),
			boolField("any_tenant", &s.AnyTenant),
			boolField("v1", &s.V1),
			urlField("authority", &s.Authority),
			urlField("v1_issuer_base", &s.V1IssuerBase),
		}
	},
	check: func(s *entraSettings, p *ProviderConfig, d *decoder) {
		tenant := strings.ToLower(s.Tenant)
		multi := tenant == "organizations" || tenant == "common"
		_, tenants := p.lines["tenants"]
		_, anyTenant := p.lines["any_tenant"]
		switch {
		case s.Tenant == "":
		case !multi && !guidRE.MatchString(s.Tenant):
			d.errorAt(p.line("tenant"), p.path("tenant"), "%q is not a tenant ID (a GUID), organizations or common: tokens name the tenant by its ID", s.Tenant)
		case !multi && (tenants || anyTenant):
			d.errorAt(p.line(cond(tenants, "tenants", "any_tenant")), p.path(cond(tenants, "tenants", "any_tenant")), "needs a multi-tenant tenant (organizations or common)")
		case multi && tenants && s.AnyTenant:
			d.errorAt(p.line("any_tenant"), p.path("any_tenant"), "set tenants or any_tenant, not both")
		case multi && !tenants && !s.AnyTenant:
			d.errorAt(p.line("tenant"), p.path("tenants"), "a multi-tenant tenant needs tenants (the allow-list of tenant IDs) or any_tenant: true")
		}
		for i, t := range s.Tenants {
			if t != "" && !guidRE.MatchString(t) {
				d.errorAt(p.line("tenants"), p.path("tenants")+"["+strconv.Itoa(i)+"]", "%q is not a tenant ID (a GUID)", t)
			}
		}
	},
	newToken: func(s *entraSettings, t providers.TokenOptions, f providers.FetchOptions) (tokenAuthenticator, string, error) {
		a, err := entra.New(entra.Config{
			Tenant:       s.Tenant,
			Tenants:      s.Tenants,
			AnyTenant:    s.AnyTenant,
			V1:           s.V1,
			Authority:    s.Authority,
			V1IssuerBase: s.V1IssuerBase,
			TokenOptions: t,
			FetchOptions: f,
		})
		return a, "", err
	},
}.entry()

// googleSettings are the own fields of a Google ID token provider.
type googleSettings struct {
	HostedDomains        []string
	RequireVerifiedEmail bool
	CertsURL             string
}

var googleType = kind[googleSettings]{
	name:  "google",
	token: tokenKeys,
	fetch: true,
	required: []requirement{
		need("an audience is required (the OAuth client IDs, or the service URL callers ask their identity tokens for)", "audience"),
	},
	fields: func(s *googleSettings) []spec {
		return []spec{
			listField("hosted_domains", &s.HostedDomains),
			boolField("require_verified_email", &s.RequireVerifiedEmail),
			urlField("certs_url", &s.CertsURL),
		}
	},
	newToken: func(s *googleSettings, t providers.TokenOptions, f providers.FetchOptions) (tokenAuthenticator, string, error) {
		a, err := google.New(google.Config{
			HostedDomains:        s.HostedDomains,
			RequireVerifiedEmail: s.RequireVerifiedEmail,
			CertsURL:             s.CertsURL,
			TokenOptions:         t,
			FetchOptions:         f,
		})
		return a, "", err
	},
}.entry()

// googleIAPSettings are the own fields of a Cloud IAP provider.
type googleIAPSettings struct {
	HostedDomains []string
	KeysURL       string
}

var googleIAPType = kind[googleIAPSettings]{
	name:  "google_iap",
	token: tokenKeys,
	fetch: true,
	required: []requirement{
		need("an audience is required (/projects/NUMBER/global/backendServices/ID or /projects/NUMBER/apps/PROJECT_ID)", "audience"),
	},
	fields: func(s *googleIAPSettings) []spec {
		return []spec{
			listField("hosted_domains", &s.HostedDomains),
			urlField("keys_url", &s.KeysURL),
		}
	},
	newToken: func(s *googleIAPSettings, t providers.TokenOptions, f providers.FetchOptions) (tokenAuthenticator, string, error) {
		a, err := google.NewIAP(google.IAPConfig{
			HostedDomains: s.HostedDomains,
			KeysURL:       s.KeysURL,
			TokenOptions:  t,
			FetchOptions:  f,
		})
		return a, "", err
	},
}.entry()

// githubSettings are the own fields of a GitHub Actions provider.
type githubSettings struct {
	Issuer                string
	JWKSURL               string
	Repositories          []string
	RepositoryOwners      []string
	Refs                  []string
	Environments          []string
	JobWorkflowRefs       []string
	InsecureAnyRepository bool
}

// githubRepositoryClaims are the claims whose rules restrict the
// repository, as package github counts them.
var githubRepositoryClaims = []string{"repository", "repository_id", "repository_owner", "repository_owner_id", "sub"}

var githubType = kind[githubSettings]{
	name:  "github",
	token: tokenKeys,
	fetch: true,
	required: []requirement{
		need("an audience is required (what the workflow asks for; by default https://github.com/OWNER)", "audience"),
	},
	fields: func(s *githubSettings) []spec {
		return []spec{
			urlField("issuer", &s.Issuer),
			urlField("jwks_url", &s.JWKSURL),
			listField("repositories", &s.Repositories),
			listField("repository_owners", &s.RepositoryOwners),
			listField("refs", &s.Refs),
			listField("environments", &s.Environments),
			listField("job_workflow_refs", &s.JobWorkflowRefs),
			boolField("insecure_any_repository", &s.InsecureAnyRepository),
		}
	},
	check: func(s *githubSettings, p *ProviderConfig, d *decoder) {
		_, repos := p.lines["repositories"]
		_, owners := p.lines["repository_owners"]
		restricted := repos || owners || slices.ContainsFunc(githubRepositoryClaims, func(c string) bool {
			r, ok := p.Token.Claims[c]
			return ok && (r.Value != nil || r.Values != nil)
		})
		if !restricted && !s.InsecureAnyRepository {
			d.errorAt(p.Line, p.path("repositories"), "repositories or repository_owners is required "+
				"(or a claims rule with value or values on repository, repository_id, repository_owner, repository_owner_id or sub): "+
				"without one, every repository on GitHub can get a token for the audience; "+
				"insecure_any_repository: true accepts them all")
		}
	},
	newToken: func(s *githubSettings, t providers.TokenOptions, f providers.FetchOptions) (tokenAuthenticator, string, error) {
		a, err := github.New(github.Config{
			Issuer:                s.Issuer,
			JWKSURL:               s.JWKSURL,
			Repositories:          s.Repositories,
			RepositoryOwners:      s.RepositoryOwners,
			Refs:                  s.Refs,
			Environments:          s.Environments,
			JobWorkflowRefs:       s.JobWorkflowRefs,
			InsecureAnyRepository: s.InsecureAnyRepository,
			TokenOptions:          t,
			FetchOptions:          f,
		})
		return a, "", err
	},
}.entry()

// kubernetesSettings are the own fields of a Kubernetes service-account
// token provider.
type kubernetesSettings struct {
	Issuer                  string
	JWKSURL                 string
	APIServer               string
	InCluster               bool
	CAFile                  string // absolute
	TokenFile               string // absolute
	Namespaces              []string
	ServiceAccounts         []string
	AllowAllServiceAccounts bool
}

var kubernetesType = kind[kubernetesSettings]{
	name:  "kubernetes",
	token: tokenKeys,
	fetch: true,
	required: []requirement{
		need("an issuer is required (the cluster's --service-account-issuer)", "issuer"),
		need("an audience is required (the one the pods request in their token projection; never the API server's)", "audience"),
		need("namespaces or service_accounts is required (or allow_all_service_accounts: true)", "namespaces", "service_accounts", "allow_all_service_accounts"),
	},
	fields: func(s *kubernetesSettings) []spec {
		return []spec{
			stringField("issuer", &s.Issuer),
			urlField("jwks_url", &s.JWKSURL),
			urlField("api_server", &s.APIServer),
			boolField("in_cluster", &s.InCluster),
			pathField("ca_file", &s.CAFile),
			pathField("token_file", &s.TokenFile),
			listField("namespaces", &s.Namespaces),
			listField("service_accounts", &s.ServiceAccounts),
			boolField("allow_all_service_accounts", &s.AllowAllServiceAccounts),
		}
	},
	check: func(s *kubernetesSettings, p *ProviderConfig, d *decoder) {
		for _, k := range []string{"ca_file", "token_file"} {
			if _, set := p.lines[k]; set && !s.InCluster {
				d.errorAt(p.line(k), p.path(k), "needs in_cluster: true")
			}
		}
		_, ns := p.lines["namespaces"]
		_, sas := p.lines["service_accounts"]
		if s.AllowAllServiceAccounts && (ns || sas) {
			d.errorAt(p.line("allow_all_service_accounts"), p.path("allow_all_service_accounts"), "cannot be combined with namespaces or service_accounts")
		}
	},
	newToken: func(s *kubernetesSettings, t providers.TokenOptions, f providers.FetchOptions) (tokenAuthenticator, string, error) {
		a, err := kubernetes.New(kubernetes.Config{
			Issuer:                  s.Issuer,
			JWKSURL:                 s.JWKSURL,
			APIServer:               s.APIServer,
			InCluster:               s.InCluster,
			CAFile:                  s.CAFile,
			TokenFile:               s.TokenFile,
			Namespaces:              s.Namespaces,
			ServiceAccounts:         s.ServiceAccounts,
			AllowAllServiceAccounts: s.AllowAllServiceAccounts,
			TokenOptions:            t,
			FetchOptions:            f,
		})
		return a, "", err
	},
}.entry()

// introspectionSettings are the own fields of an RFC 7662 introspection
// provider.
type introspectionSettings struct {
	Issuer          string
	Endpoint        string
	ClientID        string
	ClientSecretEnv string // names the variable holding the client secret
	AuthMethod      string
	TokenTypeHint   string
	Timeout         time.Duration
	secret          []byte // from ClientSecretEnv; never printed
}

var introspectionType = kind[introspectionSettings]{
	name: "introspection",
	// Nothing is signed: there is no algorithm, and no key to fetch.
	token: without(tokenKeys, "algorithms"),
	required: []requirement{
		need("an issuer is required (the authorization server's issuer identifier)", "issuer"),
		need("an endpoint is required (the server's introspection_endpoint)", "endpoint"),
		need("a client_id is required (the client this API authenticates to the endpoint as)", "client_id"),
		need("a client_secret_env is required (the environment variable holding the client's secret)", "client_secret_env"),
		need("an audience (or authorized_parties) is required", "audience", "authorized_parties"),
	},
	fields: func(s *introspectionSettings) []spec {
		return []spec{
			stringField("issuer", &s.Issuer),
			urlField("endpoint", &s.Endpoint),
			stringField("client_id", &s.ClientID),
			envField("client_secret_env", &s.ClientSecretEnv, &s.secret),
			enumField("auth_method", &s.AuthMethod, string(introspection.ClientSecretBasic), string(introspection.ClientSecretPost)),
			stringField("token_type_hint", &s.TokenTypeHint),
			positiveDurationField("timeout", &s.Timeout),
		}
	},
	build: buildIntrospection,
}.entry()

// buildIntrospection constructs an introspection provider. It calls the
// endpoint only when a request comes: there is nothing to prefetch.
func buildIntrospection(_ context.Context, s *introspectionSettings, pc *ProviderConfig, o buildOptions) (*provider, string, error) {
	opts := pc.Token
	opts.Name, opts.Logger, opts.Now = pc.Name, o.logger, o.now
	a, err := introspection.New(introspection.Config{
		Issuer:        s.Issuer,
		Endpoint:      s.Endpoint,
		ClientID:      s.ClientID,
		ClientSecret:  introspection.Secret(s.secret),
		AuthMethod:    introspection.AuthMethod(s.AuthMethod),
		TokenTypeHint: s.TokenTypeHint,
		Timeout:       s.Timeout,
		TokenOptions:  opts,
	})
	if err != nil {
		return nil, "", err
	}
	return &provider{cfg: pc, auth: a}, "", nil
}

// cond returns a when c holds, else b.
func cond(c bool, a, b string) string {
	if c {
		return a
	}
	return b
}
