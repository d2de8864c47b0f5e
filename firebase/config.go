package firebase

import (
	"errors"
	"fmt"
	"strings"

	"github.com/authgate/authgate/providers"
)

// Google's endpoints and Firebase's issuers (Firebase's documentation and firebase-admin-go).
const (
	// DefaultCertsURL publishes the X.509 certificates that sign Firebase ID
	// tokens, as a JSON object from key ID to PEM certificate.
	DefaultCertsURL = "https://www.googleapis.com/robot/v1/metadata/x509/securetoken@system.gserviceaccount.com"
	// DefaultSessionCertsURL publishes the certificates that sign Firebase
	// session cookies, in the same format.
	DefaultSessionCertsURL = "https://www.googleapis.com/identitytoolkit/v3/relyingparty/publicKeys"
	// DefaultSessionCookieName is the cookie session cookies are read from
	// when SessionCookieName is empty (the name Firebase's guides use).
	DefaultSessionCookieName = "session"
	// DefaultRolesClaim is the custom claim roles are read from.
	DefaultRolesClaim = "roles"
	// MaxUIDLength is the longest Firebase uid ("sub"), in bytes, as
	// firebase-admin-go counts it.
	MaxUIDLength = 128

	idTokenIssuerPrefix = "https://securetoken.google.com/"
	sessionIssuerPrefix = "https://session.firebase.google.com/"
	tenantClaim         = "firebase.tenant"
	signInProviderClaim = "firebase.sign_in_provider"
	demoProjectPrefix   = "demo-"
)

// Principal methods.
const (
	// MethodIDToken is Principal.Method for an ID token sent as a bearer
	// token.
	MethodIDToken = "firebase"
	// MethodSessionCookie is Principal.Method for a session cookie.
	MethodSessionCookie = "firebase_session"
)

// Config configures an Authenticator. ProjectID is required; everything else
// has a safe default. The zero value is refused.
type Config struct {
	// ProjectID is the Firebase project: ID tokens must have "aud" equal to
	// it and "iss" equal to https://securetoken.google.com/<ProjectID>.
	ProjectID string
	// TenantID, when set, accepts only tokens of this Identity Platform
	// tenant ("firebase.tenant" equal to it; missing or another tenant is
	// rejected). When empty, tokens that carry a tenant are rejected unless
	// AnyTenant is set.
	TenantID string
	// AnyTenant accepts tokens of every tenant of the project and tokens of
	// no tenant; Principal.Tenant says which. Authorization MUST then check
	// the tenant itself. It cannot be combined with TenantID or with
	// Revocation (whose lookup is per tenant).
	AnyTenant bool
	// CertsURL is where ID-token certificates are fetched (default
	// DefaultCertsURL). It must be https; plain http is accepted for
	// loopback hosts only, for tests.
	CertsURL string
	// SessionCookies enables session cookies (issuer
	// https://session.firebase.google.com/<ProjectID>), read from the cookie
	// SessionCookieName and verified with the keys at SessionCertsURL.
	SessionCookies bool
	// SessionCookieName is the cookie holding the session cookie (default
	// DefaultSessionCookieName). Only with SessionCookies.
	SessionCookieName string
	// SessionCertsURL is where session-cookie certificates are fetched
	// (default DefaultSessionCertsURL). Only with SessionCookies.
	SessionCertsURL string
	// Revocation, when its Users is set, checks every verified token
	// against the user record: revoked tokens, disabled and deleted users
	// are rejected. Off by default (as firebase-admin-go's VerifyIDToken).
	Revocation Revocation
	// InsecureEmulator accepts the Firebase Auth emulator's tokens, which
	// are NOT signed ("alg":"none", empty signature): anyone can forge
	// them. It MUST only be set in development and tests against the
	// emulator. It is refused for a project id without the "demo-" prefix
	// (unless InsecureEmulatorAnyProject) and together with CertsURL or
	// SessionCertsURL, and New logs a warning when it is on. The
	// FIREBASE_AUTH_EMULATOR_HOST environment variable never turns it on.
	InsecureEmulator bool
	// InsecureEmulatorAnyProject lets InsecureEmulator run with a project
	// id that is not a "demo-" project. It MUST NOT be set anywhere a real
	// project's users could be reached.
	InsecureEmulatorAnyProject bool
	// TokenOptions are the options every JWT provider shares. Firebase fixes
	// some of them: the audience is the project ID, the algorithm RS256 and
	// the tenant claim firebase.tenant, so Audience, AuthorizedParties,
	// Algorithms, TokenTypes and TenantClaim must stay empty. RolesClaim is
	// the custom claim (SetCustomUserClaims) holding roles (default
	// DefaultRolesClaim); Leeway also applies to auth_time; the Logger
	// receives the emulator-mode warning and failed certificate fetches.
	// With CacheSize, revocation is still checked on every request.
	providers.TokenOptions
	// FetchOptions tune the certificate cache (HTTP client, cooldown, maximum
	// key age, refresh interval).
	providers.FetchOptions
}

// IDTokenIssuer returns the "iss" of projectID's ID tokens.
func IDTokenIssuer(projectID string) string { return idTokenIssuerPrefix + projectID }

// SessionCookieIssuer returns the "iss" of projectID's session cookies.
func SessionCookieIssuer(projectID string) string { return sessionIssuerPrefix + projectID }

// check validates cfg (everything but what providers validates itself).
func (cfg *Config) check() error {
	var errs []error
	fail := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if len(cfg.Audience) > 0 || len(cfg.AuthorizedParties) > 0 {
		fail("the audience is the project id: leave Audience and AuthorizedParties empty")
	}
	if len(cfg.Algorithms) > 0 || len(cfg.TokenTypes) > 0 {
		fail("Firebase signs with RS256 only: leave Algorithms and TokenTypes empty")
	}
	if cfg.TenantClaim != "" {
		fail("the tenant claim is firebase.tenant: leave TenantClaim empty")
	}
	switch {
	case cfg.ProjectID == "":
		fail("a project id is required")
	case !validProjectID(cfg.ProjectID):
		fail("project id %q is not a Firebase project id", cfg.ProjectID)
	}
	if cfg.TenantID != "" && !validTenantID(cfg.TenantID) {
		fail("tenant id %q is not an Identity Platform tenant id", cfg.TenantID)
	}
	if cfg.TenantID != "" && cfg.AnyTenant {
		fail("set TenantID or AnyTenant, not both")
	}
	if !cfg.SessionCookies && (cfg.SessionCookieName != "" || cfg.SessionCertsURL != "") {
		fail("SessionCookieName and SessionCertsURL need SessionCookies")
	}
	if cfg.SessionCookieName != "" && !validCookieName(cfg.SessionCookieName) {
		fail("session cookie name %q is not a cookie name", cfg.SessionCookieName)
	}
	if cfg.InsecureEmulator {
		if cfg.CertsURL != "" || cfg.SessionCertsURL != "" {
			fail("InsecureEmulator verifies no signature: it cannot be combined with CertsURL or SessionCertsURL")
		}
		if !strings.HasPrefix(cfg.ProjectID, demoProjectPrefix) && !cfg.InsecureEmulatorAnyProject {
			fail("InsecureEmulator needs a %q project id (or InsecureEmulatorAnyProject)", demoProjectPrefix)
		}
	} else if cfg.InsecureEmulatorAnyProject {
		fail("InsecureEmulatorAnyProject needs InsecureEmulator")
	}
	if err := cfg.Revocation.check(); err != nil {
		errs = append(errs, err)
	}
	if cfg.Revocation.Users != nil && cfg.AnyTenant {
		fail("Revocation cannot be combined with AnyTenant: a user lookup serves one tenant (configure TenantID)")
	}
	return errors.Join(errs...)
}

// validProjectID accepts Firebase/Google Cloud project ids: lowercase
// letters, digits and hyphens (plus "." and ":" of domain-scoped legacy
// projects), 4 to 100 bytes. Anything that could change the issuer URL's
// meaning ("/", "?", "#", spaces) is refused.
func validProjectID(s string) bool {
	if len(s) < 4 || len(s) > 100 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == ':') {
			return false
		}
	}
	return true
}

// validTenantID accepts Identity Platform tenant ids: letters, digits and
// hyphens, at most 128 bytes.
func validTenantID(s string) bool {
	if len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// validCookieName accepts an RFC 6265 cookie-name (an RFC 9110 token).
func validCookieName(s string) bool {
	if len(s) > 256 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`()<>@,;:\"/[]?={}`, c) >= 0 {
			return false
		}
	}
	return true
}
