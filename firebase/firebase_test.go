package firebase_test

import (
	"bytes"
	"context"
	"crypto/rsa"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/firebase"
	"github.com/authgate/authgate/internal/jwttest"
	"github.com/authgate/authgate/providers"
)

func TestNewValidates(t *testing.T) {
	users := newFakeUsers()
	tests := []struct {
		name    string
		cfg     firebase.Config
		wantErr string // substring of the error; "" means New succeeds
	}{
		{name: "zero value", cfg: firebase.Config{}, wantErr: "project id is required"},
		{name: "minimal", cfg: firebase.Config{ProjectID: "my-project"}},
		{name: "project with slash", cfg: firebase.Config{ProjectID: "my-project/x"}, wantErr: "not a Firebase project id"},
		{name: "project upper case", cfg: firebase.Config{ProjectID: "My-Project"}, wantErr: "not a Firebase project id"},
		{name: "project with query", cfg: firebase.Config{ProjectID: "proj?x=1"}, wantErr: "not a Firebase project id"},
		{name: "bad tenant", cfg: firebase.Config{ProjectID: "my-project", TenantID: "t/1"}, wantErr: "tenant id"},
		{name: "tenant and any tenant", cfg: firebase.Config{ProjectID: "my-project", TenantID: "t-1", AnyTenant: true}, wantErr: "not both"},
		{name: "http certs URL", cfg: firebase.Config{ProjectID: "my-project", CertsURL: "http://certs.example.com/x"}, wantErr: "not https"},
		{name: "loopback http certs URL", cfg: firebase.Config{ProjectID: "my-project", CertsURL: "http://127.0.0.1:1/x"}},
		{name: "session name without sessions", cfg: firebase.Config{ProjectID: "my-project", SessionCookieName: "s"}, wantErr: "need SessionCookies"},
		{name: "session certs without sessions", cfg: firebase.Config{ProjectID: "my-project", SessionCertsURL: "https://x.example/"}, wantErr: "need SessionCookies"},
		{name: "bad cookie name", cfg: firebase.Config{ProjectID: "my-project", SessionCookies: true, SessionCookieName: "a b"}, wantErr: "not a cookie name"},
		{name: "http session certs URL", cfg: firebase.Config{ProjectID: "my-project", SessionCookies: true, SessionCertsURL: "http://x.example/"}, wantErr: "not https"},
		{name: "leeway too large", cfg: firebase.Config{ProjectID: "my-project", TokenOptions: providers.TokenOptions{Leeway: 10 * time.Minute}}, wantErr: "leeway"},
		{name: "bad claim rule", cfg: firebase.Config{ProjectID: "my-project", TokenOptions: providers.TokenOptions{Claims: providers.Claims{"x": {}}}}, wantErr: "a rule needs"},
		{name: "emulator with real project", cfg: firebase.Config{ProjectID: "my-project", InsecureEmulator: true}, wantErr: `"demo-" project id`},
		{name: "emulator with demo project", cfg: firebase.Config{ProjectID: "demo-x", InsecureEmulator: true}},
		{name: "emulator any project", cfg: firebase.Config{ProjectID: "my-project", InsecureEmulator: true, InsecureEmulatorAnyProject: true}},
		{name: "emulator with certs URL", cfg: firebase.Config{ProjectID: "demo-x", InsecureEmulator: true, CertsURL: "https://x.example/"}, wantErr: "cannot be combined"},
		{name: "any project without emulator", cfg: firebase.Config{ProjectID: "my-project", InsecureEmulatorAnyProject: true}, wantErr: "needs InsecureEmulator"},
		{name: "revocation settings without users", cfg: firebase.Config{ProjectID: "my-project", Revocation: firebase.Revocation{CacheTTL: time.Minute}}, wantErr: "without Revocation.Users"},
		{name: "revocation TTL too long", cfg: firebase.Config{ProjectID: "my-project", Revocation: firebase.Revocation{Users: users, CacheTTL: 2 * time.Hour}}, wantErr: "CacheTTL"},
		{name: "revocation size negative", cfg: firebase.Config{ProjectID: "my-project", Revocation: firebase.Revocation{Users: users, CacheSize: -1}}, wantErr: "CacheSize"},
		{name: "revocation timeout too long", cfg: firebase.Config{ProjectID: "my-project", Revocation: firebase.Revocation{Users: users, Timeout: time.Minute}}, wantErr: "Timeout"},
		{name: "revocation with any tenant", cfg: firebase.Config{ProjectID: "my-project", AnyTenant: true, Revocation: firebase.Revocation{Users: users}}, wantErr: "AnyTenant"},
		{name: "revocation", cfg: firebase.Config{ProjectID: "my-project", TenantID: "t-1", Revocation: firebase.Revocation{Users: users}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.cfg.Logger = slog.New(slog.DiscardHandler)
			a, err := firebase.New(tt.cfg)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("New() = %v, want no error", err)
			case tt.wantErr != "" && err == nil:
				t.Fatalf("New() = %v, want error containing %q", a, tt.wantErr)
			case tt.wantErr != "" && !strings.Contains(err.Error(), tt.wantErr):
				t.Fatalf("New() = %v, want error containing %q", err, tt.wantErr)
			case err != nil && !strings.HasPrefix(err.Error(), "firebase: "):
				t.Fatalf("New() = %v, want the package prefix", err)
			}
		})
	}
}

func TestNewDoesNoIO(t *testing.T) {
	e := newEnv(t, func(c *firebase.Config) { c.SessionCookies = true })
	if n := e.id.hits.Load() + e.session.hits.Load(); n != 0 {
		t.Fatalf("New fetched %d times, want 0", n)
	}
	if err := e.auth.Prefetch(t.Context()); err != nil {
		t.Fatalf("Prefetch: %v", err)
	}
	if e.id.hits.Load() != 1 || e.session.hits.Load() != 1 {
		t.Fatalf("Prefetch fetched id %d, session %d times, want 1 and 1", e.id.hits.Load(), e.session.hits.Load())
	}
}

// TestVerifyRules accepts and rejects every rule of an ID token in turn
// (SECURITY.md#attacks-providers).
func TestVerifyRules(t *testing.T) {
	now := t0
	sign := idToken
	long := strings.Repeat("u", firebase.MaxUIDLength)
	tests := []struct {
		name    string
		token   string
		cfg     func(*firebase.Config)
		wantErr error
	}{
		{name: "valid", token: sign(claims(now))},
		// Algorithm and key.
		{name: "RS384 refused", token: jwttest.Token("RS384", "id-1", rsaKey("id-1"), claims(now)), wantErr: authgate.ErrUnsupportedAlgorithm},
		{name: "PS256 refused", token: jwttest.Token("PS256", "id-1", rsaKey("id-1"), claims(now)), wantErr: authgate.ErrUnsupportedAlgorithm},
		{name: "HS256 refused", token: jwttest.Token("HS256", "id-1", []byte(strings.Repeat("k", 32)), claims(now)), wantErr: authgate.ErrUnsupportedAlgorithm},
		{name: "alg none refused", token: jwttest.Sign("RS256", rsaKey("id-1"), []byte(`{"alg":"none","kid":"id-1"}`), jwttest.JSON(claims(now))), wantErr: authgate.ErrUnsupportedAlgorithm},
		{name: "emulator token refused", token: unsigned(claims(now)), wantErr: authgate.ErrUnrecognizedCredential},
		{name: "kid missing", token: jwttest.Token("RS256", "", rsaKey("id-1"), claims(now)), wantErr: authgate.ErrMalformedToken},
		{name: "kid unknown", token: jwttest.Token("RS256", "nope", rsaKey("id-1"), claims(now)), wantErr: authgate.ErrInvalidSignature},
		{name: "second key", token: jwttest.Token("RS256", "id-2", rsaKey("id-2"), claims(now))},
		{name: "kid of another key", token: jwttest.Token("RS256", "id-2", rsaKey("id-1"), claims(now)), wantErr: authgate.ErrInvalidSignature},
		{name: "key not published", token: jwttest.Token("RS256", "id-1", rsaKey("attacker"), claims(now)), wantErr: authgate.ErrInvalidSignature},
		{name: "tampered payload", token: tamper(sign(claims(now))), wantErr: authgate.ErrInvalidSignature},
		{name: "session key", token: jwttest.Token("RS256", "ses-1", rsaKey("ses-1"), claims(now)), wantErr: authgate.ErrInvalidSignature},
		// Issuer and audience.
		{name: "other project", token: sign(claims(now, set("iss", firebase.IDTokenIssuer(otherProj)), set("aud", otherProj))), wantErr: authgate.ErrUnrecognizedCredential},
		{name: "other project's audience", token: sign(claims(now, set("aud", otherProj))), wantErr: authgate.ErrInvalidAudience},
		{name: "our audience, other issuer", token: sign(claims(now, set("iss", firebase.IDTokenIssuer(otherProj)))), wantErr: authgate.ErrUnrecognizedCredential},
		{name: "issuer with trailing slash", token: sign(claims(now, set("iss", firebase.IDTokenIssuer(project)+"/"))), wantErr: authgate.ErrUnrecognizedCredential},
		{name: "issuer prefix only", token: sign(claims(now, set("iss", "https://securetoken.google.com/"))), wantErr: authgate.ErrUnrecognizedCredential},
		{name: "audience array with project", token: sign(claims(now, set("aud", []any{project, otherProj}))), wantErr: authgate.ErrInvalidAudience},
		{name: "audience array of project only", token: sign(claims(now, set("aud", []any{project})))},
		{name: "audience missing", token: sign(claims(now, set("aud", nil))), wantErr: authgate.ErrInvalidAudience},
		{name: "custom token", token: sign(customToken(now)), wantErr: authgate.ErrUnrecognizedCredential},
		{name: "custom token aud with our issuer", token: sign(claims(now, set("aud", customTokenAudience))), wantErr: authgate.ErrInvalidAudience},
		{name: "session cookie as ID token", token: sessionCookie(sessionClaims(now)), wantErr: authgate.ErrInvalidIssuer},
		// Subject.
		{name: "sub of 128 bytes", token: sign(claims(now, set("sub", long)))},
		{name: "sub of 129 bytes", token: sign(claims(now, set("sub", long+"u"))), wantErr: authgate.ErrInvalidClaim},
		{name: "sub empty", token: sign(claims(now, set("sub", ""))), wantErr: authgate.ErrInvalidClaim},
		{name: "sub missing", token: sign(claims(now, set("sub", nil))), wantErr: authgate.ErrInvalidClaim},
		{name: "sub not a string", token: sign(claims(now, set("sub", 42))), wantErr: authgate.ErrInvalidClaim},
		// Times (default leeway 60 s).
		{name: "exp passed", token: sign(claims(now, expired(now, 2*time.Minute))), wantErr: authgate.ErrTokenExpired},
		{name: "exp passed within leeway", token: sign(claims(now, expired(now, 30*time.Second)))},
		{name: "exp passed, no leeway", token: sign(claims(now, expired(now, 0))), cfg: noLeeway, wantErr: authgate.ErrTokenExpired},
		{name: "exp missing", token: sign(claims(now, set("exp", nil))), wantErr: authgate.ErrMissingClaim},
		{name: "exp as string", token: sign(claims(now, set("exp", "1800003540"))), wantErr: authgate.ErrInvalidClaim},
		{name: "iat in the future", token: sign(claims(now, set("iat", now.Add(2*time.Minute).Unix()))), wantErr: authgate.ErrTokenNotYetValid},
		{name: "iat in the future within leeway", token: sign(claims(now, set("iat", now.Add(30*time.Second).Unix())))},
		{name: "iat in the future, no leeway", token: sign(claims(now, set("iat", now.Add(time.Second).Unix()))), cfg: noLeeway, wantErr: authgate.ErrTokenNotYetValid},
		{name: "iat missing", token: sign(claims(now, set("iat", nil))), wantErr: authgate.ErrMissingClaim},
		{name: "auth_time in the future", token: sign(claims(now, set("auth_time", now.Add(2*time.Minute).Unix()))), wantErr: authgate.ErrTokenNotYetValid},
		{name: "auth_time in the future within leeway", token: sign(claims(now, set("auth_time", now.Add(30*time.Second).Unix())))},
		{name: "auth_time in the future, 5 min leeway", token: sign(claims(now, set("auth_time", now.Add(4*time.Minute).Unix()))), cfg: func(c *firebase.Config) { c.Leeway = 5 * time.Minute }},
		{name: "auth_time in the future, no leeway", token: sign(claims(now, set("auth_time", now.Add(time.Second).Unix()))), cfg: noLeeway, wantErr: authgate.ErrTokenNotYetValid},
		{name: "auth_time missing", token: sign(claims(now, set("auth_time", nil))), wantErr: authgate.ErrMissingClaim},
		{name: "auth_time as string", token: sign(claims(now, set("auth_time", "1800000000"))), wantErr: authgate.ErrInvalidClaim},
		{name: "auth_time negative", token: sign(claims(now, set("auth_time", -1))), wantErr: authgate.ErrInvalidClaim},
		// Tenants (none configured).
		{name: "tenant token without TenantID", token: sign(claims(now, withTenant("t-1"))), wantErr: authgate.ErrInvalidClaim},
		// Extra rules.
		{name: "claim rule holds", token: sign(claims(now)), cfg: requireVerified},
		{name: "claim rule fails", token: sign(claims(now, set("email_verified", false))), cfg: requireVerified, wantErr: authgate.ErrInvalidClaim},
		// Framing (SECURITY.md#framing): rejected before any key is needed.
		{name: "many dots", token: sign(claims(now)) + strings.Repeat(".", 100000), wantErr: authgate.ErrUnrecognizedCredential},
		{name: "trailing JSON", token: jwttest.Sign("RS256", rsaKey("id-1"), []byte(`{"alg":"RS256","kid":"id-1"}xyz`), jwttest.JSON(claims(now))), wantErr: authgate.ErrMalformedToken},
		{name: "duplicate claim", token: jwttest.Sign("RS256", rsaKey("id-1"), []byte(`{"alg":"RS256","kid":"id-1"}`), duplicateSub(claims(now))), wantErr: authgate.ErrUnrecognizedCredential},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, tt.cfg)
			p, err := e.auth.Verify(t.Context(), tt.token)
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("Verify() = %v, want success", err)
				}
				if p == nil || p.Subject == "" {
					t.Fatalf("Verify() = %+v, want a principal", p)
				}
				return
			}
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Verify() = %v, want %v", err, tt.wantErr)
			}
			if p != nil {
				t.Fatalf("Verify() returned a principal with error %v", err)
			}
			if !errors.Is(tt.wantErr, authgate.ErrUnrecognizedCredential) && authgate.IsNotMine(err) {
				t.Fatalf("Verify() = %v is 'not mine', want a rejection", err)
			}
			if msg := err.Error(); strings.Contains(msg, tt.token[:20]) || strings.Contains(msg, uid) {
				t.Fatalf("Verify() error %q contains token material or the uid", msg)
			}
		})
	}
}

const customTokenAudience = "https://identitytoolkit.googleapis.com/google.identity.identitytoolkit.v1.IdentityToolkit"

// customToken is a Firebase custom token as firebase-admin-go mints it:
// issued by the service account, for the identitytoolkit audience.
func customToken(now time.Time) map[string]any {
	sa := "firebase-adminsdk-x@" + project + ".iam.gserviceaccount.com"
	return map[string]any{
		"iss": sa, "sub": sa, "aud": customTokenAudience, "uid": uid,
		"iat": now.Unix(), "exp": now.Add(time.Hour).Unix(),
	}
}

// expired sets exp (and iat, auth_time before it) to d before now.
func expired(now time.Time, d time.Duration) func(map[string]any) {
	return func(c map[string]any) {
		c["exp"] = now.Add(-d).Unix()
		c["iat"] = now.Add(-d - time.Hour).Unix()
		c["auth_time"] = now.Add(-d - time.Hour).Unix()
	}
}

func withTenant(tenant string) func(map[string]any) {
	return func(c map[string]any) {
		fb := clone(c["firebase"].(map[string]any))
		fb["tenant"] = tenant
		c["firebase"] = fb
	}
}

func noLeeway(c *firebase.Config) { c.Leeway = providers.NoLeeway }

func requireVerified(c *firebase.Config) {
	c.Claims = providers.Claims{"email_verified": {Essential: true, Value: true}}
}

// tamper flips one character inside the signature.
func tamper(token string) string {
	b := []byte(token)
	i := len(b) - 10
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	return string(b)
}

// duplicateSub encodes claims with a second "sub" member.
func duplicateSub(c map[string]any) []byte {
	b := jwttest.JSON(c)
	return append(b[:len(b)-1], []byte(`,"sub":"admin"}`)...)
}

func TestCrossProjectNeedsNoFetch(t *testing.T) {
	e := newEnv(t, nil)
	for _, tok := range []string{
		idToken(claims(t0, set("iss", firebase.IDTokenIssuer(otherProj)), set("aud", otherProj))),
		idToken(customToken(t0)),
		"not-a-jwt",
	} {
		if _, err := e.auth.Verify(t.Context(), tok); !errors.Is(err, authgate.ErrUnrecognizedCredential) {
			t.Fatalf("Verify(foreign) = %v, want ErrUnrecognizedCredential", err)
		}
	}
	if n := e.id.hits.Load(); n != 0 {
		t.Fatalf("foreign tokens caused %d certificate fetches, want 0", n)
	}
}

func TestTenants(t *testing.T) {
	tests := []struct {
		name       string
		cfg        func(*firebase.Config)
		edit       func(map[string]any)
		wantErr    error
		wantTenant string
	}{
		{name: "project token, no tenant configured", edit: func(map[string]any) {}},
		{name: "tenant token, no tenant configured", edit: withTenant("t-1"), wantErr: authgate.ErrInvalidClaim},
		{name: "matching tenant", cfg: tenant("t-1"), edit: withTenant("t-1"), wantTenant: "t-1"},
		{name: "other tenant", cfg: tenant("t-1"), edit: withTenant("t-2"), wantErr: authgate.ErrInvalidClaim},
		{name: "tenant case differs", cfg: tenant("t-1"), edit: withTenant("T-1"), wantErr: authgate.ErrInvalidClaim},
		{name: "tenant missing", cfg: tenant("t-1"), edit: func(map[string]any) {}, wantErr: authgate.ErrMissingClaim},
		{name: "tenant not a string", cfg: tenant("t-1"), edit: func(c map[string]any) { withTenant("t-1")(c); c["firebase"].(map[string]any)["tenant"] = 1 }, wantErr: authgate.ErrInvalidClaim},
		{name: "top-level tenant claim is not Firebase's", cfg: tenant("t-1"), edit: set("tenant", "t-1"), wantErr: authgate.ErrMissingClaim},
		{name: "any tenant, tenant token", cfg: anyTenant, edit: withTenant("t-2"), wantTenant: "t-2"},
		{name: "any tenant, project token", cfg: anyTenant, edit: func(map[string]any) {}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, tt.cfg)
			p, err := e.auth.Verify(t.Context(), idToken(claims(t0, tt.edit)))
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("Verify() = %v, want %v", err, tt.wantErr)
			}
			if err == nil && p.Tenant != tt.wantTenant {
				t.Fatalf("Principal.Tenant = %q, want %q", p.Tenant, tt.wantTenant)
			}
		})
	}
}

func tenant(id string) func(*firebase.Config) {
	return func(c *firebase.Config) { c.TenantID = id }
}

func anyTenant(c *firebase.Config) { c.AnyTenant = true }

func TestPrincipal(t *testing.T) {
	tests := []struct {
		name      string
		cfg       func(*firebase.Config)
		edit      func(map[string]any)
		wantName  string
		wantRoles []string
	}{
		{name: "defaults", edit: func(map[string]any) {}, wantName: "firebase", wantRoles: []string{"editor", "auditor"}},
		{name: "named, roles claim", cfg: func(c *firebase.Config) { c.Name = "accounts"; c.RolesClaim = "app.roles" },
			edit: set("app", map[string]any{"roles": []any{"admin"}}), wantName: "accounts", wantRoles: []string{"admin"}},
		{name: "roles not an array", edit: set("roles", "admin"), wantName: "firebase", wantRoles: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, tt.cfg)
			c := claims(t0, tt.edit)
			p, err := e.auth.Verify(t.Context(), idToken(c))
			if err != nil {
				t.Fatalf("Verify() = %v", err)
			}
			checks := []struct {
				field     string
				got, want any
			}{
				{"Provider", p.Provider, tt.wantName},
				{"Method", p.Method, firebase.MethodIDToken},
				{"Subject", p.Subject, uid},
				{"Issuer", p.Issuer, firebase.IDTokenIssuer(project)},
				{"Audience", strings.Join(p.Audience, ","), project},
				{"Email", p.Email, "alice@example.com"},
				{"Name", p.Name, "Alice"},
				{"Tenant", p.Tenant, ""},
				{"SignInProvider", firebase.SignInProvider(p), "password"},
				{"ExpiresAt", p.ExpiresAt, time.Unix(c["exp"].(int64), 0)},
				{"IssuedAt", p.IssuedAt, time.Unix(c["iat"].(int64), 0)},
				{"Claims[plan]", p.Claims.Map()["plan"], "pro"},
				{"Header[kid]", p.Header.Map()["kid"], "id-1"},
			}
			for _, c := range checks {
				if c.got != c.want {
					t.Errorf("Principal.%s = %v, want %v", c.field, c.got, c.want)
				}
			}
			if !slices.Equal(p.Roles, tt.wantRoles) {
				t.Errorf("Principal.Roles = %v, want %v", p.Roles, tt.wantRoles)
			}
		})
	}
}

func TestSignInProviderAbsent(t *testing.T) {
	if got := firebase.SignInProvider(&authgate.Principal{}); got != "" {
		t.Fatalf("SignInProvider(empty) = %q, want \"\"", got)
	}
}

func TestAuthenticate(t *testing.T) {
	now := t0
	id := idToken(claims(now))
	ses := sessionCookie(sessionClaims(now))
	sessions := func(c *firebase.Config) { c.SessionCookies = true }
	named := func(c *firebase.Config) { c.SessionCookies = true; c.SessionCookieName = "__session" }
	tests := []struct {
		name       string
		cfg        func(*firebase.Config)
		header     []string
		cookies    []*http.Cookie
		wantErr    error
		wantMethod string
	}{
		{name: "bearer ID token", header: []string{"Bearer " + id}, wantMethod: firebase.MethodIDToken},
		{name: "scheme case-insensitive", header: []string{"bearer " + id}, wantMethod: firebase.MethodIDToken},
		{name: "nothing", wantErr: authgate.ErrNoCredentials},
		{name: "basic", header: []string{"Basic dXNlcjpwYXNz"}, wantErr: authgate.ErrNoCredentials},
		{name: "two authorization headers", header: []string{"Bearer " + id, "Bearer " + id}, wantErr: authgate.ErrMalformedRequest},
		{name: "bearer without token", header: []string{"Bearer "}, wantErr: authgate.ErrMalformedRequest},
		{name: "session cookie as bearer", header: []string{"Bearer " + ses}, wantErr: authgate.ErrInvalidIssuer},
		{name: "session cookie as bearer, sessions on", cfg: sessions, header: []string{"Bearer " + ses}, wantErr: authgate.ErrInvalidIssuer},
		{name: "cookie ignored when sessions are off", cookies: []*http.Cookie{{Name: "session", Value: ses}}, wantErr: authgate.ErrNoCredentials},
		{name: "session cookie", cfg: sessions, cookies: []*http.Cookie{{Name: "session", Value: ses}}, wantMethod: firebase.MethodSessionCookie},
		{name: "session cookie, other name", cfg: named, cookies: []*http.Cookie{{Name: "__session", Value: ses}}, wantMethod: firebase.MethodSessionCookie},
		{name: "cookie of the default name, other name configured", cfg: named, cookies: []*http.Cookie{{Name: "session", Value: ses}}, wantErr: authgate.ErrNoCredentials},
		{name: "empty cookie", cfg: sessions, cookies: []*http.Cookie{{Name: "session", Value: ""}}, wantErr: authgate.ErrNoCredentials},
		{name: "bearer and empty cookie", cfg: sessions, header: []string{"Bearer " + id}, cookies: []*http.Cookie{{Name: "session", Value: ""}}, wantMethod: firebase.MethodIDToken},
		{name: "two session cookies", cfg: sessions, cookies: []*http.Cookie{{Name: "session", Value: ses}, {Name: "session", Value: ses}}, wantErr: authgate.ErrMalformedRequest},
		{name: "bearer and cookie", cfg: sessions, header: []string{"Bearer " + id}, cookies: []*http.Cookie{{Name: "session", Value: ses}}, wantErr: authgate.ErrMalformedRequest},
		{name: "basic and cookie", cfg: sessions, header: []string{"Basic dXNlcjpwYXNz"}, cookies: []*http.Cookie{{Name: "session", Value: ses}}, wantMethod: firebase.MethodSessionCookie},
		{name: "ID token in the session cookie", cfg: sessions, cookies: []*http.Cookie{{Name: "session", Value: id}}, wantErr: authgate.ErrInvalidIssuer},
		{name: "another application's cookie", cfg: sessions, cookies: []*http.Cookie{{Name: "session", Value: "eyJfZnJlc2giOmZhbHNlfQ.ZXk1Ag.c2lnbmF0dXJl"}}, wantErr: authgate.ErrUnrecognizedCredential},
		{name: "session cookie of another project", cfg: sessions, cookies: []*http.Cookie{{Name: "session", Value: sessionCookie(sessionClaims(now, set("iss", firebase.SessionCookieIssuer(otherProj)), set("aud", otherProj)))}}, wantErr: authgate.ErrUnrecognizedCredential},
		{name: "session cookie signed with an ID-token key", cfg: sessions, cookies: []*http.Cookie{{Name: "session", Value: jwttest.Token("RS256", "id-1", rsaKey("id-1"), sessionClaims(now))}}, wantErr: authgate.ErrInvalidSignature},
		{name: "expired session cookie", cfg: sessions, cookies: []*http.Cookie{{Name: "session", Value: sessionCookie(sessionClaims(now, expired(now, time.Hour)))}}, wantErr: authgate.ErrTokenExpired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, tt.cfg)
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			for _, h := range tt.header {
				r.Header.Add("Authorization", h)
			}
			for _, c := range tt.cookies {
				r.AddCookie(c)
			}
			p, err := e.auth.Authenticate(r)
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("Authenticate() = %v, want success", err)
				}
				if p.Method != tt.wantMethod || p.Subject != uid {
					t.Fatalf("Authenticate() = method %q subject %q, want %q %q", p.Method, p.Subject, tt.wantMethod, uid)
				}
				return
			}
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Authenticate() = %v, want %v", err, tt.wantErr)
			}
			if tt.wantErr == authgate.ErrNoCredentials && errors.Is(err, authgate.ErrUnrecognizedCredential) {
				t.Fatalf("Authenticate() = %v, want no credentials at all", err)
			}
			var ae *authgate.Error
			if errors.As(err, &ae) && ae.Provider != "firebase" {
				t.Fatalf("Authenticate() error names provider %q, want firebase", ae.Provider)
			}
		})
	}
}

func TestVerifySessionCookieWhenDisabled(t *testing.T) {
	e := newEnv(t, nil)
	_, err := e.auth.VerifySessionCookie(t.Context(), sessionCookie(sessionClaims(t0)))
	if !errors.Is(err, authgate.ErrUnrecognizedCredential) {
		t.Fatalf("VerifySessionCookie() = %v, want ErrUnrecognizedCredential", err)
	}
}

func TestDescribe(t *testing.T) {
	e := newEnv(t, nil)
	d := e.auth.Describe()
	want := []string{firebase.IDTokenIssuer(project), firebase.SessionCookieIssuer(project)}
	if d.Name != "firebase" || d.Scheme != "Bearer" || !slices.Equal(d.Issuers, want) {
		t.Fatalf("Describe() = %+v, want firebase, Bearer, %v", d, want)
	}
	if got := e.auth.ProjectID(); got != project {
		t.Fatalf("ProjectID() = %q, want %q", got, project)
	}
}

// TestKeyCache: keys are fetched once, kept for max-age, fetched on demand
// for a new kid, and kept through an outage after a warm-up (up to 24 h).
func TestKeyCache(t *testing.T) {
	e := newEnv(t, nil)
	ctx := t.Context()
	verify := func(step string, kid string, key string, wantErr error) {
		t.Helper()
		tok := jwttest.Token("RS256", kid, rsaKey(key), claims(e.clock.Now()))
		_, err := e.auth.Verify(ctx, tok)
		if !errors.Is(err, wantErr) || (wantErr == nil) != (err == nil) {
			t.Fatalf("%s: Verify() = %v, want %v", step, err, wantErr)
		}
	}
	hits := func(step string, want int64) {
		t.Helper()
		if got := e.id.hits.Load(); got != want {
			t.Fatalf("%s: %d fetches, want %d", step, got, want)
		}
	}

	verify("cold", "id-1", "id-1", nil)
	hits("cold", 1)
	for range 10 {
		verify("warm", "id-2", "id-2", nil)
	}
	hits("warm", 1)

	// Known kid, bad signature: no refetch (SECURITY.md#remote-keys).
	verify("bad signature", "id-1", "id-2", authgate.ErrInvalidSignature)
	hits("bad signature", 1)

	// Google publishes a new key: the first fetch did not start the
	// unknown-kid cooldown, so one fetch finds it at once. That fetch
	// starts the cooldown (1 min): a key published right after is refused
	// until it ends, then one fetch finds it.
	e.id.setKeys(t, map[string]*rsa.PrivateKey{"id-1": rsaKey("id-1"), "id-2": rsaKey("id-2"), "id-3": rsaKey("id-3")})
	verify("new kid", "id-3", "id-3", nil)
	hits("new kid", 2)
	e.id.setKeys(t, map[string]*rsa.PrivateKey{"id-1": rsaKey("id-1"), "id-2": rsaKey("id-2"), "id-3": rsaKey("id-3"), "id-5": rsaKey("id-5")})
	verify("next new kid, cooling down", "id-5", "id-5", authgate.ErrInvalidSignature)
	hits("next new kid, cooling down", 2)
	e.clock.Add(2 * time.Minute)
	verify("next new kid", "id-5", "id-5", nil)
	hits("next new kid", 3)

	// Google goes down. Past max-age (1 h) a background refresh fails; the
	// last good keys keep verifying.
	e.id.setDown(true)
	e.clock.Add(2 * time.Hour)
	verify("outage", "id-1", "id-1", nil)
	waitFor(t, "refresh attempt", func() bool { return e.id.hits.Load() >= 4 })
	verify("outage, after the failed refresh", "id-1", "id-1", nil)
	e.clock.Add(10 * time.Hour)
	verify("outage, 12 h in", "id-3", "id-3", nil)
	// A kid that cannot be looked up while Google is down is 503, not 401.
	verify("unknown kid during outage", "id-4", "id-4", authgate.ErrUnavailable)
	if err := e.auth.Prefetch(ctx); !errors.Is(err, authgate.ErrUnavailable) {
		t.Fatalf("Prefetch during the outage = %v, want ErrUnavailable", err)
	}

	// Back up with a rotated set: the next fetch replaces the whole set, so
	// the new kid verifies and the removed one no longer does.
	e.id.setDown(false)
	e.id.setKeys(t, map[string]*rsa.PrivateKey{"id-2": rsaKey("id-2"), "id-4": rsaKey("id-4")})
	if err := e.auth.Prefetch(ctx); err != nil {
		t.Fatalf("Prefetch after the outage = %v", err)
	}
	verify("rotated in", "id-4", "id-4", nil)
	verify("rotated out", "id-1", "id-1", authgate.ErrInvalidSignature)

	// More than MaxKeyAge (24 h) of outage: no keys, 503.
	e.id.setDown(true)
	e.clock.Add(25 * time.Hour)
	_, err := e.auth.Verify(ctx, jwttest.Token("RS256", "id-2", rsaKey("id-2"), claims(e.clock.Now())))
	if !errors.Is(err, authgate.ErrUnavailable) || authgate.StatusCode(err) != http.StatusServiceUnavailable {
		t.Fatalf("after MaxKeyAge: Verify() = %v (status %d), want ErrUnavailable and 503", err, authgate.StatusCode(err))
	}
}

// TestCheapRejectionsNeedNoFetch: tokens refused by framing, routing, the
// header or a missing kid never reach Google (SECURITY.md#remote-keys).
func TestCheapRejectionsNeedNoFetch(t *testing.T) {
	e := newEnv(t, nil)
	tests := []struct {
		name    string
		token   string
		wantErr error
	}{
		{name: "no kid", token: jwttest.Token("RS256", "", rsaKey("id-1"), claims(t0)), wantErr: authgate.ErrMalformedToken},
		{name: "alg", token: jwttest.Token("ES256", "id-1", jwttest.Key("ES256", ""), claims(t0)), wantErr: authgate.ErrUnsupportedAlgorithm},
		{name: "other project", token: idToken(claims(t0, set("iss", firebase.IDTokenIssuer(otherProj)))), wantErr: authgate.ErrUnrecognizedCredential},
		{name: "not a JWT", token: "opaque", wantErr: authgate.ErrUnrecognizedCredential},
	}
	for _, tt := range tests {
		if _, err := e.auth.Verify(t.Context(), tt.token); !errors.Is(err, tt.wantErr) {
			t.Errorf("%s: Verify() = %v, want %v", tt.name, err, tt.wantErr)
		}
	}
	if n := e.id.hits.Load(); n != 0 {
		t.Fatalf("cheaply rejected tokens caused %d certificate fetches, want 0", n)
	}
}

func TestKeysUnavailableAtStart(t *testing.T) {
	e := newEnv(t, nil)
	e.id.setDown(true)
	_, err := e.auth.Verify(t.Context(), idToken(claims(t0)))
	if !errors.Is(err, authgate.ErrUnavailable) {
		t.Fatalf("Verify() with the endpoint down = %v, want ErrUnavailable", err)
	}
	if err := e.auth.Prefetch(t.Context()); !errors.Is(err, authgate.ErrUnavailable) {
		t.Fatalf("Prefetch() = %v, want ErrUnavailable", err)
	}
}

// waitFor polls cond (a background fetch runs on its own goroutine).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestEmulator(t *testing.T) {
	emu := func(c *firebase.Config) {
		c.InsecureEmulator = true
		c.CertsURL = ""
		c.HTTPClient = nil
	}
	now := t0
	tests := []struct {
		name    string
		cfg     func(*firebase.Config)
		token   string
		env     bool // FIREBASE_AUTH_EMULATOR_HOST set
		wantErr error
	}{
		{name: "unsigned accepted in emulator mode", cfg: emu, token: unsigned(claims(now))},
		{name: "variable alone: unsigned refused", env: true, token: unsigned(claims(now)), wantErr: authgate.ErrUnrecognizedCredential},
		{name: "variable alone: alg none with a signature refused", env: true,
			token: jwttest.Sign("RS256", rsaKey("id-1"), []byte(`{"alg":"none","typ":"JWT"}`), jwttest.JSON(claims(now))), wantErr: authgate.ErrUnsupportedAlgorithm},
		{name: "variable alone: signed accepted", env: true, token: idToken(claims(now))},
		{name: "emulator: signed refused", cfg: emu, token: idToken(claims(now)), wantErr: authgate.ErrUnsupportedAlgorithm},
		{name: "emulator: none with a signature refused", cfg: emu,
			token: unsigned(claims(now)) + "c2ln", wantErr: authgate.ErrMalformedToken},
		{name: "emulator: claims still checked (expired)", cfg: emu, token: unsigned(claims(now, expired(now, time.Hour))), wantErr: authgate.ErrTokenExpired},
		{name: "emulator: claims still checked (audience)", cfg: emu, token: unsigned(claims(now, set("aud", otherProj))), wantErr: authgate.ErrInvalidAudience},
		{name: "emulator: claims still checked (auth_time)", cfg: emu, token: unsigned(claims(now, set("auth_time", nil))), wantErr: authgate.ErrMissingClaim},
		{name: "emulator: other project", cfg: emu, token: unsigned(claims(now, set("iss", firebase.IDTokenIssuer(otherProj)))), wantErr: authgate.ErrUnrecognizedCredential},
		{name: "emulator: crit refused", cfg: emu,
			token: jwttest.B64([]byte(`{"alg":"none","crit":["x"],"x":1}`)) + "." + jwttest.B64(jwttest.JSON(claims(now))) + ".", wantErr: authgate.ErrUnsupportedAlgorithm},
		{name: "emulator: jwk header refused", cfg: emu,
			token: jwttest.B64([]byte(`{"alg":"none","jwk":{}}`)) + "." + jwttest.B64(jwttest.JSON(claims(now))) + ".", wantErr: authgate.ErrUnsupportedAlgorithm},
		{name: "emulator: duplicate header member refused", cfg: emu,
			token: jwttest.B64([]byte(`{"alg":"none","alg":"none"}`)) + "." + jwttest.B64(jwttest.JSON(claims(now))) + ".", wantErr: authgate.ErrMalformedToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.env {
				t.Setenv("FIREBASE_AUTH_EMULATOR_HOST", "127.0.0.1:9099")
			}
			e := newEnv(t, tt.cfg)
			p, err := e.auth.Verify(t.Context(), tt.token)
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("Verify() = %v, want success", err)
				}
				if p.Subject != uid || firebase.SignInProvider(p) != "password" {
					t.Fatalf("Verify() = %+v, want uid and sign-in provider", p)
				}
				return
			}
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Verify() = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func TestEmulatorLogs(t *testing.T) {
	tests := []struct {
		name     string
		env      bool
		emulator bool
		want     string
	}{
		{name: "emulator mode", emulator: true, want: "emulator mode is on"},
		{name: "variable without emulator mode", env: true, want: "FIREBASE_AUTH_EMULATOR_HOST is set"},
		{name: "neither", want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.env {
				t.Setenv("FIREBASE_AUTH_EMULATOR_HOST", "127.0.0.1:9099")
			}
			var buf bytes.Buffer
			_, err := firebase.New(firebase.Config{
				ProjectID:        "demo-x",
				InsecureEmulator: tt.emulator,
				TokenOptions: providers.TokenOptions{
					Logger: slog.New(slog.NewTextHandler(&buf, nil)),
				},
			})
			if err != nil {
				t.Fatal(err)
			}
			got := buf.String()
			switch {
			case tt.want == "" && got != "":
				t.Fatalf("New logged %q, want nothing", got)
			case tt.want != "" && (!strings.Contains(got, tt.want) || !strings.Contains(got, "level=WARN")):
				t.Fatalf("New logged %q, want a warning containing %q", got, tt.want)
			}
		})
	}
}

func TestEmulatorSessionCookies(t *testing.T) {
	e := newEnv(t, func(c *firebase.Config) {
		c.InsecureEmulator, c.CertsURL, c.SessionCookies = true, "", true
	})
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.AddCookie(&http.Cookie{Name: "session", Value: unsigned(sessionClaims(t0))})
	p, err := e.auth.Authenticate(r)
	if err != nil || p.Method != firebase.MethodSessionCookie {
		t.Fatalf("Authenticate(emulator session cookie) = %v, %v; want a session principal", p, err)
	}
	if n := e.session.hits.Load() + e.id.hits.Load(); n != 0 {
		t.Fatalf("emulator mode fetched certificates %d times", n)
	}
	if err := e.auth.Prefetch(context.Background()); err != nil {
		t.Fatalf("Prefetch in emulator mode = %v, want nil", err)
	}
}
