package authtest

import (
	"net/http"
	"testing"
	"time"

	"github.com/authgate/authgate/providers"
)

// The shape below follows GitHub's "About security hardening with OpenID
// Connect" and "OpenID Connect reference"
// (https://docs.github.com/en/actions/reference/security/oidc): issuer
// https://token.actions.githubusercontent.com, discovery and the JWKS at
// /.well-known/jwks below it, header {"typ":"JWT","alg":"RS256","x5t","kid"},
// every custom claim a JSON string (ids and run numbers included), "sub"
// "repo:OWNER/REPO:environment:ENV" for a job with an environment and
// "repo:OWNER/REPO:ref:REF" otherwise, "aud" the owner's URL by default,
// "nbf" ten minutes before "iat" and "exp" five minutes after it, as in
// the documentation's example token.
const (
	githubIssuer        = "https://token.actions.githubusercontent.com"
	githubDiscoveryPath = "/.well-known/openid-configuration"
	githubJWKSPath      = "/.well-known/jwks"
)

// GitHubActions is a server in the shape of GitHub Actions' OIDC provider
// and the minting of the tokens a workflow job gets from it. Make one with
// GitHub. Its methods are safe for concurrent use.
type GitHubActions struct {
	server
	cfg  config
	ring *keyRing
}

// GitHub starts a server in the shape of token.actions.githubusercontent.com
// over https (pass Client() as github.Config.HTTPClient and JWKSURL() as
// github.Config.JWKSURL), and closes it with t.Cleanup. Tokens carry the
// real issuer, Issuer(); the server serves
//
//	/.well-known/openid-configuration  discovery ("issuer" Issuer(), jwks_uri JWKSURL())
//	JWKSURL()                          the JWKS: RS256 keys with kid, alg, "use":"sig", n, e, x5c, x5t
//
// Token mints the token of a job of octo-org/octo-repo on refs/heads/main
// in environment "prod". Options: WithNow, WithLifetime (iat to exp),
// WithAudience (default "https://github.com/octo-org"), WithCacheControl.
// t may be nil as for NewIssuer.
func GitHub(t testing.TB, opts ...Option) *GitHubActions {
	if t != nil {
		t.Helper()
	}
	cfg := newConfig(opts)
	g := &GitHubActions{cfg: cfg}
	mux := http.NewServeMux()
	url := g.init(mux, true)
	var err error
	if g.ring, err = newKeyRing("token.actions.githubusercontent.com", cfg.now, []string{providers.RS256}); err != nil {
		fatal(t, err)
	}
	g.handle(mux, "GET "+githubDiscoveryPath, func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, map[string]any{
			"issuer":                                githubIssuer,
			"jwks_uri":                              url + githubJWKSPath,
			"subject_types_supported":               []string{"public", "pairwise"},
			"response_types_supported":              []string{"id_token"},
			"claims_supported":                      githubClaims,
			"id_token_signing_alg_values_supported": []string{"RS256"},
			"scopes_supported":                      []string{"openid"},
		}, "")
	})
	g.handle(mux, "GET "+githubJWKSPath, func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, publicJWKS(g.ring, true), cfg.cache(""))
	})
	g.begin(t)
	return g
}

var githubClaims = []string{
	"sub", "aud", "exp", "iat", "iss", "jti", "nbf", "ref", "sha", "repository", "repository_id",
	"repository_owner", "repository_owner_id", "enterprise", "enterprise_id", "run_id", "run_number",
	"run_attempt", "actor", "actor_id", "workflow", "workflow_ref", "workflow_sha", "head_ref",
	"base_ref", "event_name", "ref_type", "ref_protected", "environment", "environment_node_id",
	"job_workflow_ref", "job_workflow_sha", "repository_visibility", "runner_environment",
}

// Issuer returns the tokens' "iss", https://token.actions.githubusercontent.com.
func (g *GitHubActions) Issuer() string { return githubIssuer }

// JWKSURL returns the address of the key set (github.Config.JWKSURL).
func (g *GitHubActions) JWKSURL() string { return g.URL() + githubJWKSPath }

// JWKSRequests returns how many requests JWKSURL got, including those
// answered with an error by Fail.
func (g *GitHubActions) JWKSRequests() int { return g.requests("GET " + githubJWKSPath) }

// Rotate publishes a new key and signs with it from now on; it returns the
// new kid.
func (g *GitHubActions) Rotate() string { return g.ring.rotate() }

// Retire takes the key kid out of the key set; it reports whether there is
// such a key.
func (g *GitHubActions) Retire(kid string) bool { return g.ring.retire(kid) }

// Token mints the OIDC token of a workflow job, as in GitHub's example:
// "repository" octo-org/octo-repo, "repository_owner" octo-org, "ref"
// refs/heads/main, "ref_type" branch, "environment" prod, "job_workflow_ref"
// the called workflow at refs/heads/main, the run, actor, event and sha
// claims, "jti", and "sub" built from the final repository, environment and
// ref (override them and "sub" follows: "environment": nil gives
// "repo:…:ref:REF", "event_name" "pull_request" without environment
// "repo:…:pull_request"). claims override as for Issuer.Token.
func (g *GitHubActions) Token(claims map[string]any) string {
	return g.TokenWithHeader(nil, claims)
}

// TokenWithHeader is Token with header overrides, with the rules of
// Issuer.TokenWithHeader. The default header carries GitHub's "x5t".
func (g *GitHubActions) TokenWithHeader(header, claims map[string]any) string {
	lifetime := 5 * time.Minute
	if g.cfg.lifetime > 0 {
		lifetime = g.cfg.lifetime
	}
	iat, exp := times(g.cfg.now, lifetime, claims)
	c := map[string]any{
		"jti": randomUUID(), "environment": "prod", "aud": audience(g.cfg.audience, "https://github.com/octo-org"),
		"ref": "refs/heads/main", "sha": "d6cd1e2bd19e03a81132a23b2025920577f84e37",
		"repository": "octo-org/octo-repo", "repository_owner": "octo-org", "actor_id": "12",
		"repository_visibility": "private", "repository_id": "74", "repository_owner_id": "65",
		"run_id": "5512345678", "run_number": "10", "run_attempt": "2", "runner_environment": "github-hosted",
		"actor": "octocat", "workflow": "deploy", "head_ref": "", "base_ref": "", "event_name": "workflow_dispatch",
		"ref_protected": "true", "ref_type": "branch",
		"workflow_ref":     "octo-org/octo-repo/.github/workflows/deploy.yml@refs/heads/main",
		"job_workflow_ref": "octo-org/octo-automation/.github/workflows/oidc.yml@refs/heads/main",
		"iss":              githubIssuer, "nbf": iat - 600, "iat": iat, "exp": exp,
	}
	apply(c, claims)
	c["sub"] = githubSubject(c)
	if s, ok := claims["sub"]; ok {
		apply(c, map[string]any{"sub": s})
	}
	k := g.ring.find(stringOf(header["kid"]))
	h := map[string]any{"x5t": k.jwk("sig", true, false)["x5t"]}
	apply(h, header)
	return mint(k, "JWT", h, c, nil)
}

// githubSubject builds "sub" as GitHub's default subject template does.
func githubSubject(c map[string]any) string {
	s := "repo:" + stringOf(c["repository"])
	if env, ok := c["environment"].(string); ok {
		return s + ":environment:" + env
	}
	if c["event_name"] == "pull_request" {
		return s + ":pull_request"
	}
	return s + ":ref:" + stringOf(c["ref"])
}

func stringOf(v any) string {
	s, _ := v.(string)
	return s
}
