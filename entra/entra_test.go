package entra_test

import (
	"errors"
	"log/slog"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/authtest"
	"github.com/authgate/authgate/entra"
	"github.com/authgate/authgate/providers"
)

var now = time.Unix(1_800_000_000, 0)

func clock() time.Time { return now }

// otherTenant is a work tenant other than the authority's default one.
const otherTenant = "72f988bf-86f1-41af-91ab-2d7cd011db47"

func authority(t *testing.T) *authtest.EntraAuthority {
	t.Helper()
	return authtest.Entra(t, authtest.WithNow(clock))
}

// newAuth returns a single-tenant authenticator of e's default tenant for
// v2.0 tokens, edited by edit.
func newAuth(t *testing.T, e *authtest.EntraAuthority, edit func(*entra.Config)) *entra.Authenticator {
	t.Helper()
	cfg := entra.Config{
		Tenant:    e.TenantID(),
		Authority: e.URL(),
		TokenOptions: providers.TokenOptions{
			Audience: []string{e.Audience()},
			Now:      clock,
			Logger:   slog.New(slog.DiscardHandler),
		},
		FetchOptions: providers.FetchOptions{HTTPClient: e.Client()},
	}
	if edit != nil {
		edit(&cfg)
	}
	a, err := entra.New(cfg)
	if err != nil {
		t.Fatalf("entra.New: %v", err)
	}
	return a
}

func TestNew(t *testing.T) {
	const tid = "8eaef023-2b34-4da1-9baa-8bc8c9d6a490"
	aud := providers.TokenOptions{Audience: []string{"6e74172b-be56-4843-9ff4-e66a39bb12e3"}}
	for _, tc := range []struct {
		name string
		cfg  entra.Config
	}{
		{"no tenant", entra.Config{TokenOptions: aud}},
		{"domain name", entra.Config{Tenant: "contoso.onmicrosoft.com", TokenOptions: aud}},
		{"consumers alias", entra.Config{Tenant: "consumers", TokenOptions: aud}},
		{"tenant list on one tenant", entra.Config{Tenant: tid, Tenants: []string{tid}, TokenOptions: aud}},
		{"any tenant on one tenant", entra.Config{Tenant: tid, AnyTenant: true, TokenOptions: aud}},
		{"multi-tenant without tenants", entra.Config{Tenant: "organizations", TokenOptions: aud}},
		{"tenants and any tenant", entra.Config{Tenant: "common", Tenants: []string{tid}, AnyTenant: true, TokenOptions: aud}},
		{"tenant not a GUID", entra.Config{Tenant: "common", Tenants: []string{"contoso.com"}, TokenOptions: aud}},
		{"consumers under organizations", entra.Config{Tenant: "organizations", Tenants: []string{entra.ConsumersTenant}, TokenOptions: aud}},
		{"no audience", entra.Config{Tenant: tid}},
		{"authority with a path", entra.Config{Tenant: tid, Authority: "https://login.microsoftonline.com/" + tid, TokenOptions: aud}},
		{"plain http authority", entra.Config{Tenant: tid, Authority: "http://login.microsoftonline.com", TokenOptions: aud}},
		{"V1IssuerBase with a path", entra.Config{Tenant: tid, V1: true, V1IssuerBase: "https://sts.windows.net/" + tid, TokenOptions: aud}},
		{"HMAC", entra.Config{Tenant: tid, TokenOptions: providers.TokenOptions{Audience: aud.Audience, Algorithms: []string{"HS256"}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := entra.New(tc.cfg); err == nil || !strings.HasPrefix(err.Error(), "entra: ") {
				t.Fatalf("entra.New(%s) = %v, want an error starting with %q", tc.name, err, "entra: ")
			}
		})
	}
	for _, tc := range []struct {
		name string
		cfg  entra.Config
		want []string // Describe().Issuers
	}{
		{"v2.0", entra.Config{Tenant: strings.ToUpper(tid), TokenOptions: aud}, []string{"https://login.microsoftonline.com/" + tid + "/v2.0"}},
		{"v1.0", entra.Config{Tenant: tid, V1: true, TokenOptions: aud}, []string{"https://sts.windows.net/" + tid + "/"}},
		{"US Government", entra.Config{Tenant: tid, Authority: "https://login.microsoftonline.us/", TokenOptions: aud}, []string{"https://login.microsoftonline.us/" + tid + "/v2.0"}},
		{"China v1.0", entra.Config{Tenant: tid, V1: true, Authority: "https://login.partner.microsoftonline.cn", TokenOptions: aud}, []string{"https://sts.chinacloudapi.cn/" + tid + "/"}},
		{"organizations", entra.Config{Tenant: "organizations", AnyTenant: true, TokenOptions: aud}, []string{"https://login.microsoftonline.com/{tenantid}/v2.0"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, err := entra.New(tc.cfg)
			if err != nil {
				t.Fatalf("entra.New = %v", err)
			}
			if got := a.Describe().Issuers; !slices.Equal(got, tc.want) {
				t.Fatalf("Describe().Issuers = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestAccept(t *testing.T) {
	for _, tc := range []struct {
		name      string
		cfg       func(e *authtest.EntraAuthority, c *entra.Config)
		token     func(e *authtest.EntraAuthority) string
		tenant    string // "": the authority's default tenant
		roles     []string
		scopes    []string
		appOnly   bool
		wantName  string
		wantActor func(e *authtest.EntraAuthority) (oid, client string)
	}{
		{
			name:     "v2.0 delegated",
			token:    func(e *authtest.EntraAuthority) string { return e.Token(nil) },
			scopes:   []string{"access_as_user"},
			wantName: "Megan Bowen",
		},
		{
			name: "v2.0 delegated with app roles and scopes",
			token: func(e *authtest.EntraAuthority) string {
				return e.Token(map[string]any{"roles": []string{"Tasks.Admin"}, "scp": "Tasks.Read Tasks.Write", "name": nil})
			},
			roles:    []string{"Tasks.Admin"},
			scopes:   []string{"Tasks.Read", "Tasks.Write"},
			wantName: "meganb@contoso.example",
		},
		{
			name:    "v2.0 app-only",
			token:   func(e *authtest.EntraAuthority) string { return e.AppToken(nil) },
			roles:   []string{"Tasks.Read.All"},
			appOnly: true,
		},
		{
			name:    "v2.0 app-only with idtyp",
			token:   func(e *authtest.EntraAuthority) string { return e.AppToken(map[string]any{"idtyp": "app", "sub": "x"}) },
			roles:   []string{"Tasks.Read.All"},
			appOnly: true,
		},
		{
			name:   "v2.0 delegated with idtyp user",
			token:  func(e *authtest.EntraAuthority) string { return e.Token(map[string]any{"idtyp": "user", "scp": nil}) },
			scopes: nil, wantName: "Megan Bowen",
		},
		{
			name: "v1.0 delegated",
			cfg: func(e *authtest.EntraAuthority, c *entra.Config) {
				c.V1, c.Audience = true, []string{e.AppIDURI()}
			},
			token:    func(e *authtest.EntraAuthority) string { return e.V1Token(nil) },
			scopes:   []string{"user_impersonation"},
			wantName: "Megan Bowen",
		},
		{
			name: "v1.0 app-only",
			cfg: func(e *authtest.EntraAuthority, c *entra.Config) {
				c.V1, c.Audience = true, []string{e.AppIDURI()}
			},
			token:   func(e *authtest.EntraAuthority) string { return e.V1AppToken(nil) },
			roles:   []string{"Tasks.Read.All"},
			appOnly: true,
		},
		{
			name: "organizations, listed tenant",
			cfg: func(e *authtest.EntraAuthority, c *entra.Config) {
				c.Tenant, c.Tenants = "organizations", []string{strings.ToUpper(otherTenant)}
			},
			token:    func(e *authtest.EntraAuthority) string { return e.Token(map[string]any{"tid": otherTenant}) },
			tenant:   otherTenant,
			scopes:   []string{"access_as_user"},
			wantName: "Megan Bowen",
		},
		{
			name:     "organizations, any tenant",
			cfg:      func(e *authtest.EntraAuthority, c *entra.Config) { c.Tenant, c.AnyTenant = "organizations", true },
			token:    func(e *authtest.EntraAuthority) string { return e.Token(map[string]any{"tid": otherTenant}) },
			tenant:   otherTenant,
			scopes:   []string{"access_as_user"},
			wantName: "Megan Bowen",
		},
		{
			name: "common, personal account",
			cfg:  func(e *authtest.EntraAuthority, c *entra.Config) { c.Tenant, c.AnyTenant = "common", true },
			token: func(e *authtest.EntraAuthority) string {
				return e.Token(map[string]any{"tid": authtest.EntraConsumersTenant})
			},
			tenant:   authtest.EntraConsumersTenant,
			scopes:   []string{"access_as_user"},
			wantName: "Megan Bowen",
		},
		{
			name: "common v1.0, listed tenant",
			cfg: func(e *authtest.EntraAuthority, c *entra.Config) {
				c.Tenant, c.Tenants, c.V1, c.Audience = "common", []string{otherTenant}, true, []string{e.AppIDURI()}
			},
			token:   func(e *authtest.EntraAuthority) string { return e.V1AppToken(map[string]any{"tid": otherTenant}) },
			tenant:  otherTenant,
			roles:   []string{"Tasks.Read.All"},
			appOnly: true,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := authority(t)
			a := newAuth(t, e, func(c *entra.Config) {
				if tc.cfg != nil {
					tc.cfg(e, c)
				}
			})
			r := httptest.NewRequest("GET", "/tasks", nil)
			r.Header.Set("Authorization", "Bearer "+tc.token(e))
			p, err := a.Authenticate(r)
			if err != nil {
				t.Fatalf("Authenticate = %v", err)
			}
			tenant := cmpOr(tc.tenant, e.TenantID())
			if p.Provider != "entra" || p.Tenant != tenant {
				t.Errorf("provider, tenant = %q, %q, want entra, %q", p.Provider, p.Tenant, tenant)
			}
			if !slices.Equal(p.Roles, tc.roles) || !slices.Equal(p.Scopes, tc.scopes) {
				t.Errorf("roles, scopes = %q, %q, want %q, %q", p.Roles, p.Scopes, tc.roles, tc.scopes)
			}
			if got := entra.IsAppOnly(p); got != tc.appOnly {
				t.Errorf("IsAppOnly = %v, want %v", got, tc.appOnly)
			}
			if p.Name != tc.wantName {
				t.Errorf("Name = %q, want %q", p.Name, tc.wantName)
			}
			wantOID := e.UserObjectID()
			if tc.appOnly {
				wantOID = e.AppObjectID()
			}
			if got := entra.ObjectID(p); got != wantOID {
				t.Errorf("ObjectID = %q, want %q", got, wantOID)
			}
			if got := entra.ClientID(p); got != e.ClientID() {
				t.Errorf("ClientID = %q, want %q", got, e.ClientID())
			}
		})
	}
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func TestReject(t *testing.T) {
	multi := func(tenant string) func(*authtest.EntraAuthority, *entra.Config) {
		return func(_ *authtest.EntraAuthority, c *entra.Config) { c.Tenant, c.AnyTenant = tenant, true }
	}
	v1 := func(e *authtest.EntraAuthority, c *entra.Config) { c.V1, c.Audience = true, []string{e.AppIDURI()} }
	for _, tc := range []struct {
		name    string
		cfg     func(*authtest.EntraAuthority, *entra.Config)
		token   func(t *testing.T, e *authtest.EntraAuthority) string
		wantErr error
		noFetch bool // "not mine" must cost no key fetch
	}{
		{
			name: "another tenant",
			token: func(t *testing.T, e *authtest.EntraAuthority) string {
				return e.Token(map[string]any{"tid": otherTenant})
			},
			wantErr: authgate.ErrUnrecognizedCredential, noFetch: true,
		},
		{
			name: "a tenant not in the list",
			cfg: func(e *authtest.EntraAuthority, c *entra.Config) {
				c.Tenant, c.Tenants = "organizations", []string{e.TenantID()}
			},
			token: func(t *testing.T, e *authtest.EntraAuthority) string {
				return e.Token(map[string]any{"tid": otherTenant})
			},
			wantErr: authgate.ErrUnrecognizedCredential, noFetch: true,
		},
		{
			name: "personal account under organizations",
			cfg:  multi("organizations"),
			token: func(t *testing.T, e *authtest.EntraAuthority) string {
				return e.Token(map[string]any{"tid": authtest.EntraConsumersTenant})
			},
			wantErr: authgate.ErrUnrecognizedCredential, noFetch: true,
		},
		{
			name: "v1.0 token, v2.0 API",
			token: func(t *testing.T, e *authtest.EntraAuthority) string {
				return e.V1Token(map[string]any{"aud": e.Audience()})
			},
			wantErr: authgate.ErrUnrecognizedCredential, noFetch: true,
		},
		{
			name: "v2.0 token, v1.0 API",
			cfg:  v1,
			token: func(t *testing.T, e *authtest.EntraAuthority) string {
				return e.Token(map[string]any{"aud": e.AppIDURI()})
			},
			wantErr: authgate.ErrUnrecognizedCredential, noFetch: true,
		},
		{
			name: "scheme-less issuer",
			token: func(t *testing.T, e *authtest.EntraAuthority) string {
				return e.Token(map[string]any{"iss": strings.TrimPrefix(e.Issuer(e.TenantID()), "http://")})
			},
			wantErr: authgate.ErrUnrecognizedCredential, noFetch: true,
		},
		{
			name:    "another provider's token",
			token:   func(t *testing.T, _ *authtest.EntraAuthority) string { return authtest.NewIssuer(t).Token(nil) },
			wantErr: authgate.ErrUnrecognizedCredential, noFetch: true,
		},
		{
			name: "issuer of our tenant, tid of another (tenant's key)",
			token: func(t *testing.T, e *authtest.EntraAuthority) string {
				return e.Token(map[string]any{"tid": otherTenant, "iss": e.Issuer(e.TenantID())})
			},
			wantErr: authgate.ErrInvalidIssuer,
		},
		{
			name: "issuer of our tenant, tid of another (v1.0 key without issuer)",
			cfg:  v1,
			token: func(t *testing.T, e *authtest.EntraAuthority) string {
				return e.V1Token(map[string]any{"tid": otherTenant, "iss": e.V1Issuer(e.TenantID())})
			},
			wantErr: authgate.ErrInvalidIssuer,
		},
		{
			name: "issuer of a listed tenant, tid of another listed one (v1.0 key without issuer)",
			cfg: func(e *authtest.EntraAuthority, c *entra.Config) {
				v1(e, c)
				c.Tenant, c.Tenants = "common", []string{e.TenantID(), otherTenant}
			},
			token: func(t *testing.T, e *authtest.EntraAuthority) string {
				return e.V1AppToken(map[string]any{"tid": otherTenant, "iss": e.V1Issuer(e.TenantID())})
			},
			wantErr: authgate.ErrInvalidIssuer,
		},
		{
			name: "issuer of a tenant, tid of another (template key)",
			cfg:  multi("organizations"),
			token: func(t *testing.T, e *authtest.EntraAuthority) string {
				return e.Token(map[string]any{"tid": otherTenant, "iss": e.Issuer(e.TenantID())})
			},
			wantErr: authgate.ErrInvalidSignature,
		},
		{
			name: "the issuer template itself",
			cfg:  multi("common"),
			token: func(t *testing.T, e *authtest.EntraAuthority) string {
				return e.Token(map[string]any{"iss": e.Issuer("{tenantid}")})
			},
			wantErr: authgate.ErrInvalidCredentials,
		},
		{
			name: "no tid",
			token: func(t *testing.T, e *authtest.EntraAuthority) string {
				return e.Token(map[string]any{"tid": nil})
			},
			wantErr: authgate.ErrInvalidClaim,
		},
		{
			name: "personal-account key, work tenant's token",
			cfg:  multi("common"),
			token: func(t *testing.T, e *authtest.EntraAuthority) string {
				return e.TokenWithHeader(map[string]any{"kid": e.ConsumersKeyID()}, nil)
			},
			wantErr: authgate.ErrInvalidSignature,
		},
		{
			name: "key of no set",
			token: func(t *testing.T, e *authtest.EntraAuthority) string {
				return authtest.Entra(t).Token(map[string]any{"tid": e.TenantID(), "iss": e.Issuer(e.TenantID())})
			},
			wantErr: authgate.ErrInvalidSignature,
		},
		{
			name: "Microsoft Graph token",
			token: func(t *testing.T, e *authtest.EntraAuthority) string {
				return e.Token(map[string]any{"aud": "00000003-0000-0000-c000-000000000000"})
			},
			wantErr: authgate.ErrInvalidAudience,
		},
		{
			name:    "wrong version",
			token:   func(t *testing.T, e *authtest.EntraAuthority) string { return e.Token(map[string]any{"ver": "1.0"}) },
			wantErr: authgate.ErrInvalidClaim,
		},
		{
			name: "expired",
			token: func(t *testing.T, e *authtest.EntraAuthority) string {
				return e.Token(map[string]any{"iat": now.Add(-3 * time.Hour)})
			},
			wantErr: authgate.ErrTokenExpired,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := authority(t)
			a := newAuth(t, e, func(c *entra.Config) {
				if tc.cfg != nil {
					tc.cfg(e, c)
				}
			})
			_, err := a.Verify(t.Context(), tc.token(t, e))
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("Verify = %v, want %v", err, tc.wantErr)
			}
			if n := e.KeysRequests(); tc.noFetch && n != 0 {
				t.Fatalf("key sets fetched %d times for a token that is not ours, want 0", n)
			}
		})
	}
}

func TestKeys(t *testing.T) {
	var at atomic.Int64
	at.Store(now.Unix())
	tick := func() time.Time { return time.Unix(at.Load(), 0) }
	e := authtest.Entra(t, authtest.WithNow(tick))
	a := newAuth(t, e, func(c *entra.Config) { c.Now = tick })
	for range 3 {
		if _, err := a.Verify(t.Context(), e.Token(nil)); err != nil {
			t.Fatalf("Verify = %v", err)
		}
	}
	if n := e.KeysRequests(); n != 1 {
		t.Fatalf("key set fetched %d times for three tokens, want 1", n)
	}
	old := e.KeyID()
	kid := e.Rotate()
	e.Retire(old)
	at.Add(int64(providers.DefaultCooldown / time.Second)) // a refetch for an unknown kid waits for the cooldown
	if _, err := a.Verify(t.Context(), e.Token(nil)); err != nil {
		t.Fatalf("Verify after a rotation = %v", err)
	}
	if n := e.KeysRequests(); n != 2 {
		t.Fatalf("key set fetched %d times after a rotation to %s, want 2", n, kid)
	}
	if e.DiscoveryRequests() != 0 {
		t.Fatalf("discovery fetched %d times, want 0: the key set URL is known", e.DiscoveryRequests())
	}
}

func TestHelpersNil(t *testing.T) {
	if entra.IsAppOnly(nil) || entra.ObjectID(nil) != "" || entra.ClientID(nil) != "" {
		t.Fatal("helpers on a nil principal must report nothing")
	}
	// A principal without oid is not app-only, whatever its scopes.
	if entra.IsAppOnly(&authgate.Principal{Claims: authgate.NewObject(map[string]any{})}) {
		t.Fatal("IsAppOnly(no oid) = true")
	}
}
