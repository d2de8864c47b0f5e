package github_test

import (
	"bytes"
	"errors"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/authtest"
	"github.com/authgate/authgate/github"
	"github.com/authgate/authgate/providers"
)

var now = time.Unix(1_800_000_000, 0)

func clock() time.Time { return now }

const aud = "https://deploy.example.com"

func newGitHub(t *testing.T) *authtest.GitHubActions {
	return authtest.GitHub(t, authtest.WithNow(clock), authtest.WithAudience(aud))
}

func newAuth(t *testing.T, g *authtest.GitHubActions, edit func(*github.Config)) *github.Authenticator {
	t.Helper()
	cfg := github.Config{
		JWKSURL:      g.JWKSURL(),
		Repositories: []string{"octo-org/octo-repo"},
		TokenOptions: providers.TokenOptions{Audience: []string{aud}, Now: clock},
		FetchOptions: providers.FetchOptions{HTTPClient: g.Client()},
	}
	if edit != nil {
		edit(&cfg)
	}
	a, err := github.New(cfg)
	if err != nil {
		t.Fatalf("github.New: %v", err)
	}
	return a
}

func authenticate(a *github.Authenticator, token string) (*authgate.Principal, error) {
	r := httptest.NewRequest("POST", "/deploy", nil)
	r.Header.Set("Authorization", "Bearer "+token)
	return a.Authenticate(r)
}

// deployProd is "only main of octo-org/octo-repo, environment prod".
func deployProd(c *github.Config) {
	c.Refs = []string{"refs/heads/main"}
	c.Environments = []string{"prod"}
}

func TestTokens(t *testing.T) {
	g := newGitHub(t)
	other := authtest.GitHub(t, authtest.WithNow(clock), authtest.WithAudience(aud))
	tests := []struct {
		name    string
		edit    func(*github.Config)
		claims  map[string]any
		wantErr error
	}{
		{"the repository", nil, nil, nil},
		{"main in prod", deployProd, nil, nil},
		{"another repository", nil, map[string]any{"repository": "evil-org/octo-repo", "repository_owner": "evil-org"}, authgate.ErrInvalidClaim},
		{"another repository on main in prod", deployProd, map[string]any{"repository": "octo-org/other"}, authgate.ErrInvalidClaim},
		{"a feature branch", deployProd, map[string]any{"ref": "refs/heads/feature"}, authgate.ErrInvalidClaim},
		{"a tag", deployProd, map[string]any{"ref": "refs/tags/v1.0.0", "ref_type": "tag"}, authgate.ErrInvalidClaim},
		{"staging", deployProd, map[string]any{"environment": "staging"}, authgate.ErrInvalidClaim},
		{"no environment", deployProd, map[string]any{"environment": nil}, authgate.ErrMissingClaim},
		{"no repository claim", nil, map[string]any{"repository": nil}, authgate.ErrMissingClaim},
		{"owner", func(c *github.Config) { c.Repositories, c.RepositoryOwners = nil, []string{"octo-org"} }, nil, nil},
		{"another owner", func(c *github.Config) { c.Repositories, c.RepositoryOwners = nil, []string{"octo-org"} },
			map[string]any{"repository_owner": "evil-org", "repository": "evil-org/octo-repo"}, authgate.ErrInvalidClaim},
		{"the reusable workflow", func(c *github.Config) {
			c.JobWorkflowRefs = []string{"octo-org/octo-automation/.github/workflows/oidc.yml@refs/heads/main"}
		}, nil, nil},
		{"another workflow", func(c *github.Config) {
			c.JobWorkflowRefs = []string{"octo-org/octo-automation/.github/workflows/oidc.yml@refs/heads/main"}
		}, map[string]any{"job_workflow_ref": "octo-org/octo-repo/.github/workflows/mine.yml@refs/heads/main"}, authgate.ErrInvalidClaim},
		{"pinned repository_id", func(c *github.Config) {
			c.Repositories = nil
			c.Claims = providers.Claims{"repository_id": {Value: "74"}}
		}, nil, nil},
		{"a reused name with another id", func(c *github.Config) {
			c.Claims = providers.Claims{"repository_id": {Value: "74"}}
		}, map[string]any{"repository_id": "9001"}, authgate.ErrInvalidClaim},
		{"pinned id, claim missing", func(c *github.Config) {
			c.Repositories = nil
			c.Claims = providers.Claims{"repository_id": {Value: "74"}}
		}, map[string]any{"repository_id": nil}, authgate.ErrMissingClaim},
		{"the default audience of the owner", nil, map[string]any{"aud": "https://github.com/octo-org"}, authgate.ErrInvalidAudience},
		{"expired", nil, map[string]any{"iat": now.Add(-10 * time.Minute)}, authgate.ErrTokenExpired},
		{"nbf in the future", nil, map[string]any{"nbf": now.Add(5 * time.Minute)}, authgate.ErrTokenNotYetValid},
		{"another issuer", nil, map[string]any{"iss": "https://token.actions.githubusercontent.com/octo-enterprise"}, authgate.ErrUnrecognizedCredential},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newAuth(t, g, tt.edit)
			p, err := authenticate(a, g.Token(tt.claims))
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("Authenticate = %v, want %v", err, tt.wantErr)
			}
			if err == nil && (p.Provider != "github" || p.Subject != "repo:octo-org/octo-repo:environment:prod") {
				t.Errorf("principal = %q/%q", p.Provider, p.Subject)
			}
		})
	}
	t.Run("signed by another key", func(t *testing.T) {
		if _, err := authenticate(newAuth(t, g, nil), other.Token(nil)); !errors.Is(err, authgate.ErrInvalidSignature) {
			t.Fatalf("Authenticate = %v, want ErrInvalidSignature", err)
		}
	})
	t.Run("GitHub's x5t header", func(t *testing.T) {
		p, err := authenticate(newAuth(t, g, nil), g.Token(nil))
		if err != nil {
			t.Fatal(err)
		}
		if x5t, _ := p.Header.Map()["x5t"].(string); x5t == "" {
			t.Errorf("Header = %v, want an x5t", p.Header)
		}
	})
}

// The subject follows the ref when the job has no environment, as
// GitHub's default subject template does.
func TestSubjectWithoutEnvironment(t *testing.T) {
	g := newGitHub(t)
	a := newAuth(t, g, func(c *github.Config) { c.Refs = []string{"refs/heads/main"} })
	p, err := authenticate(a, g.Token(map[string]any{"environment": nil}))
	if err != nil {
		t.Fatal(err)
	}
	if want := "repo:octo-org/octo-repo:ref:refs/heads/main"; p.Subject != want {
		t.Errorf("Subject = %q, want %q", p.Subject, want)
	}
}

func TestForeignTokenCostsNoFetch(t *testing.T) {
	g := newGitHub(t)
	a := newAuth(t, g, nil)
	foreign := authtest.NewIssuer(t, authtest.WithNow(clock), authtest.WithAudience(aud))
	if _, err := authenticate(a, foreign.Token(map[string]any{"repository": "octo-org/octo-repo"})); !errors.Is(err, authgate.ErrUnrecognizedCredential) {
		t.Fatalf("Authenticate(foreign) = %v, want ErrUnrecognizedCredential", err)
	}
	if n := g.JWKSRequests(); n != 0 {
		t.Errorf("JWKSRequests = %d, want 0", n)
	}
}

// An Enterprise Server issuer has a path; the keys hang below it.
func TestEnterpriseServerIssuer(t *testing.T) {
	g := newGitHub(t)
	a := newAuth(t, g, func(c *github.Config) { c.Issuer = "https://ghe.example.com/_services/token" })
	if got := a.Describe().Issuers; len(got) != 1 || got[0] != "https://ghe.example.com/_services/token" {
		t.Errorf("Issuers = %q", got)
	}
	if _, err := authenticate(a, g.Token(nil)); !errors.Is(err, authgate.ErrUnrecognizedCredential) {
		t.Errorf("github.com token on a GHES authenticator = %v, want not mine", err)
	}
	p, err := authenticate(a, g.Token(map[string]any{"iss": "https://ghe.example.com/_services/token"}))
	if err != nil || p.Issuer != "https://ghe.example.com/_services/token" {
		t.Fatalf("Authenticate(GHES token) = %v, %v", p, err)
	}
}

func TestInsecureAnyRepository(t *testing.T) {
	g := newGitHub(t)
	var logs bytes.Buffer
	a := newAuth(t, g, func(c *github.Config) {
		c.Repositories, c.InsecureAnyRepository = nil, true
		c.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	})
	if _, err := authenticate(a, g.Token(map[string]any{"repository": "anyone/anything", "repository_owner": "anyone"})); err != nil {
		t.Fatalf("Authenticate = %v, want any repository accepted", err)
	}
	if !strings.Contains(logs.String(), "every repository") {
		t.Errorf("log = %q, want a warning", logs.String())
	}
}

func TestNewErrors(t *testing.T) {
	base := func(edit func(*github.Config)) github.Config {
		c := github.Config{Repositories: []string{"octo-org/octo-repo"}, TokenOptions: providers.TokenOptions{Audience: []string{aud}}}
		edit(&c)
		return c
	}
	tests := []struct {
		name string
		cfg  github.Config
		want string
	}{
		{"zero value", github.Config{}, "audience is required"},
		{"no repository restriction", base(func(c *github.Config) { c.Repositories = nil }), "no repository restriction"},
		{"only a ref", base(func(c *github.Config) { c.Repositories, c.Refs = nil, []string{"refs/heads/main"} }), "no repository restriction"},
		{"only an environment", base(func(c *github.Config) { c.Repositories, c.Environments = nil, []string{"prod"} }), "no repository restriction"},
		{"an Essential-only rule", base(func(c *github.Config) {
			c.Repositories, c.Claims = nil, providers.Claims{"repository": {Essential: true}}
		}), "no repository restriction"},
		{"repository without owner", base(func(c *github.Config) { c.Repositories = []string{"octo-repo"} }), "OWNER/REPO"},
		{"repository URL", base(func(c *github.Config) { c.Repositories = []string{"https://github.com/octo-org/octo-repo"} }), "OWNER/REPO"},
		{"owner with slash", base(func(c *github.Config) { c.RepositoryOwners = []string{"octo-org/"} }), "OWNER"},
		{"branch name instead of ref", base(func(c *github.Config) { c.Refs = []string{"main"} }), "refs/heads/"},
		{"empty environment", base(func(c *github.Config) { c.Environments = []string{""} }), "environment"},
		{"workflow without ref", base(func(c *github.Config) { c.JobWorkflowRefs = []string{"octo-org/x/.github/workflows/a.yml"} }), "@REF"},
		{"restricted twice", base(func(c *github.Config) { c.Claims = providers.Claims{"repository": {Value: "a/b"}} }), "restricted twice"},
		{"http issuer", base(func(c *github.Config) { c.Issuer = "http://ghe.example.com/_services/token" }), "https"},
		{"HMAC", base(func(c *github.Config) { c.Algorithms = []string{"HS256"} }), "HS256"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := github.New(tt.cfg)
			if err == nil || a != nil {
				t.Fatalf("New = %v, %v; want an error", a, err)
			}
			if !strings.HasPrefix(err.Error(), "github: ") || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("New error = %q, want github: …%s…", err, tt.want)
			}
		})
	}
}
