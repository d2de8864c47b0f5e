// Package github authenticates GitHub Actions OIDC tokens: the token a
// workflow job asks for (permissions: id-token: write) and sends to a
// deploy endpoint, so the endpoint knows which repository, branch and
// environment the job runs for, without a shared secret.
//
// The issuer is https://token.actions.githubusercontent.com (Issuer for
// GitHub Enterprise Server, "https://HOSTNAME/_services/token", or an
// enterprise's own issuer), the keys come from its /.well-known/jwks, the
// algorithm is RS256 and "aud" must be the configured audience (by default
// a job asks for "https://github.com/OWNER"; core.getIDToken(audience)
// sets another).
//
// Every GitHub repository can get such a token for any audience it likes,
// so the audience alone admits all of GitHub: New refuses to build without
// a restriction on the repository (Repositories, RepositoryOwners, or a
// Claims rule with Value or Values on "repository", "repository_id",
// "repository_owner", "repository_owner_id" or "sub"), unless
// InsecureAnyRepository is set. The typed fields compile to claim rules
// ([providers.Claim] with Essential and Values); every rule must hold:
//
//	github.Config{
//		Repositories: []string{"octo-org/octo-repo"},
//		Refs:         []string{"refs/heads/main"},
//		Environments: []string{"prod"},
//		TokenOptions: providers.TokenOptions{Audience: []string{"https://deploy.example.com"}},
//	}
//
// accepts only jobs of octo-org/octo-repo on main in environment prod.
// Values are compared exactly, as GitHub writes them. Repository and
// owner names can be renamed and then reused by someone else; pin
// "repository_id" and "repository_owner_id" in Claims where that matters.
//
// Principal.Subject is "sub" ("repo:octo-org/octo-repo:environment:prod");
// every claim is in Principal.Claims. New does no network I/O.
// Authenticators are safe for concurrent use.
package github

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"strings"

	"github.com/authgate/authgate/providers"
)

// DefaultIssuer is the issuer of GitHub Actions OIDC tokens on github.com.
const DefaultIssuer = "https://token.actions.githubusercontent.com"

// Config configures an Authenticator. Audience and a repository
// restriction are required.
type Config struct {
	// Issuer is the tokens' "iss" (default DefaultIssuer). https only,
	// except for loopback hosts.
	Issuer string
	// JWKSURL is where the keys are fetched (default
	// Issuer+"/.well-known/jwks").
	JWKSURL string

	// Repositories accepts jobs of these repositories ("repository",
	// "OWNER/REPO").
	Repositories []string
	// RepositoryOwners accepts jobs of repositories of these users or
	// organisations ("repository_owner").
	RepositoryOwners []string
	// Refs accepts jobs that run on these refs ("ref", as
	// "refs/heads/main" or "refs/tags/v1.2.3").
	Refs []string
	// Environments accepts jobs that run in these deployment environments
	// ("environment"); a job without an environment is refused.
	Environments []string
	// JobWorkflowRefs accepts jobs defined in these workflows
	// ("job_workflow_ref", "OWNER/REPO/.github/workflows/FILE@REF"): the
	// reusable workflow a job comes from.
	JobWorkflowRefs []string
	// InsecureAnyRepository builds an authenticator without a repository
	// restriction. It then accepts a token of any repository on GitHub
	// that asks for the audience; it MUST only be set when Claims or
	// Validate restrict the workflow by other means.
	InsecureAnyRepository bool

	// TokenOptions are the options every JWT provider shares. Audience is
	// required. Claims may add rules on any claim (but not on one of the
	// typed fields above as well). Algorithms defaults to {"RS256"}.
	providers.TokenOptions
	// FetchOptions tune the key manager.
	providers.FetchOptions
}

// Authenticator verifies GitHub Actions OIDC tokens; see
// [providers.TokenAuthenticator] for its methods.
type Authenticator = providers.TokenAuthenticator

// repositoryClaims are the claims whose rules restrict the repository.
var repositoryClaims = []string{"repository", "repository_id", "repository_owner", "repository_owner_id", "sub"}

// New validates cfg and returns an Authenticator. It does no network I/O.
// It returns an error for a missing audience, no repository restriction
// (without InsecureAnyRepository), a malformed value in a typed field
// (a repository without "/", a ref without "refs/", …), a typed field
// together with a Claims rule on its claim, a non-https issuer or key set
// URL, an HMAC or unknown algorithm, a leeway over 5 minutes and claim
// rules that cannot be checked.
func New(cfg Config) (*Authenticator, error) {
	if len(cfg.Audience) == 0 {
		return nil, errors.New("github: an audience is required (what the workflow asks for; by default https://github.com/OWNER)")
	}
	claims := maps.Clone(cfg.Claims)
	if claims == nil {
		claims = providers.Claims{}
	}
	typed := []struct {
		claim  string
		values []string
		valid  func(string) bool
		shape  string
	}{
		{"repository", cfg.Repositories, func(s string) bool {
			return strings.Count(s, "/") == 1 && !strings.HasPrefix(s, "/") && !strings.HasSuffix(s, "/")
		}, "OWNER/REPO"},
		{"repository_owner", cfg.RepositoryOwners, func(s string) bool { return !strings.Contains(s, "/") }, "OWNER"},
		{"ref", cfg.Refs, func(s string) bool { return strings.HasPrefix(s, "refs/") }, "refs/heads/BRANCH or refs/tags/TAG"},
		{"environment", cfg.Environments, func(string) bool { return true }, "NAME"},
		{"job_workflow_ref", cfg.JobWorkflowRefs, func(s string) bool { return strings.Contains(s, "/.github/workflows/") && strings.Contains(s, "@") }, "OWNER/REPO/.github/workflows/FILE@REF"},
	}
	for _, f := range typed {
		if len(f.values) == 0 {
			continue
		}
		if _, ok := claims[f.claim]; ok {
			return nil, fmt.Errorf("github: %q is restricted twice: in Claims and in its Config field", f.claim)
		}
		rule := providers.Claim{Essential: true}
		for _, v := range f.values {
			if v == "" || strings.ContainsAny(v, " \t\n") || !f.valid(v) {
				return nil, fmt.Errorf("github: %q value %q is not of the form %s", f.claim, v, f.shape)
			}
			rule.Values = append(rule.Values, v)
		}
		claims[f.claim] = rule
	}
	restricted := false
	for _, c := range repositoryClaims {
		if r, ok := claims[c]; ok && (r.Value != nil || r.Values != nil) {
			r.Essential = true // GitHub always sends them: absent is never allowed
			claims[c], restricted = r, true
		}
	}
	if !restricted && !cfg.InsecureAnyRepository {
		return nil, errors.New("github: no repository restriction: set Repositories or RepositoryOwners " +
			"(or a Claims rule on repository, repository_id, repository_owner, repository_owner_id or sub), " +
			"or InsecureAnyRepository to accept every repository on GitHub")
	}
	issuer := cmp.Or(cfg.Issuer, DefaultIssuer)
	if _, err := providers.CheckURL(issuer); err != nil {
		return nil, fmt.Errorf("github: issuer %w", err)
	}
	opts := cfg.TokenOptions
	opts.Claims = claims
	if !restricted {
		cmp.Or(opts.Logger, slog.Default()).Warn("authgate: github provider accepts tokens of every repository on GitHub (InsecureAnyRepository)",
			"provider", cmp.Or(opts.Name, "github"))
	}
	return providers.Preset{
		Package:    "github",
		Issuer:     issuer,
		JWKSURL:    cmp.Or(cfg.JWKSURL, strings.TrimSuffix(issuer, "/")+"/.well-known/jwks"),
		Algorithms: []string{providers.RS256},
	}.New(opts, cfg.FetchOptions)
}
