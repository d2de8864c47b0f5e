package firebase

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/providers"
)

// Authenticator verifies Firebase ID tokens (bearer) and, when enabled,
// session cookies. It is immutable after New and safe for concurrent use.
type Authenticator struct {
	name       string
	projectID  string
	idIssuer   string
	sesIssuer  string
	cookieName string // "" when session cookies are off

	id      *providers.TokenAuthenticator
	session *providers.TokenAuthenticator // nil when session cookies are off
}

// New validates cfg and returns an Authenticator. It does no network I/O:
// certificates are fetched on first use (or by Prefetch). It returns an
// error for a missing or malformed project id, a malformed tenant id,
// TenantID together with AnyTenant, a certificate URL that is not https
// (outside loopback), a leeway over 5 minutes, claim rules that cannot be
// checked, revocation settings out of bounds, options Firebase fixes (an
// audience, algorithms), and InsecureEmulator with a non-"demo-" project
// (unless InsecureEmulatorAnyProject) or with a certificate URL.
func New(cfg Config) (*Authenticator, error) {
	if err := cfg.check(); err != nil {
		return nil, fmt.Errorf("firebase: %w", err)
	}
	name := cmp.Or(cfg.Name, "firebase")
	logger := cfg.Logger
	if logger == nil {
		logger = slog.Default()
	}
	a := &Authenticator{
		name:      name,
		projectID: cfg.ProjectID,
		idIssuer:  IDTokenIssuer(cfg.ProjectID),
		sesIssuer: SessionCookieIssuer(cfg.ProjectID),
	}
	r := &rules{
		name:      name,
		tenantID:  cfg.TenantID,
		anyTenant: cfg.AnyTenant,
		requireID: !cfg.InsecureEmulator,
		now:       cfg.Now,
	}
	if r.now == nil {
		r.now = time.Now
	}
	var check func(context.Context, *providers.Token) error
	if cfg.Revocation.Users != nil {
		check = newRevoker(name, cfg.Revocation, cfg.Now, logger, cfg.Observer).checkToken
	}
	var err error
	if a.id, err = newTokens(cfg, a.idIssuer, cmp.Or(cfg.CertsURL, DefaultCertsURL), MethodIDToken, r, check); err != nil {
		return nil, err
	}
	r.leeway = a.id.Verifier().Leeway() // the one leeway, also for auth_time
	if cfg.SessionCookies {
		a.cookieName = cmp.Or(cfg.SessionCookieName, DefaultSessionCookieName)
		if a.session, err = newTokens(cfg, a.sesIssuer, cmp.Or(cfg.SessionCertsURL, DefaultSessionCertsURL), MethodSessionCookie, r, check); err != nil {
			return nil, err
		}
	}

	switch {
	case cfg.InsecureEmulator:
		logger.Warn("authgate: firebase emulator mode is on: token signatures are NOT verified and anyone can mint an accepted token; never use it in production",
			"provider", name, "project", cfg.ProjectID)
	case os.Getenv("FIREBASE_AUTH_EMULATOR_HOST") != "":
		logger.Warn("authgate: FIREBASE_AUTH_EMULATOR_HOST is set, but it does not switch authgate's firebase provider to emulator mode: "+
			"the emulator's unsigned tokens are rejected unless Config.InsecureEmulator is set",
			"provider", name)
	}
	return a, nil
}

// newTokens builds the shared token path for one of Firebase's two token
// kinds: its issuer, its certificates, Firebase's rules and, when
// configured, the revocation check (which runs on every request, cache hits
// included).
func newTokens(cfg Config, issuer, certsURL, method string, r *rules, check func(context.Context, *providers.Token) error) (*providers.TokenAuthenticator, error) {
	p := providers.Preset{
		Package:    "firebase",
		Issuer:     issuer,
		Audience:   []string{cfg.ProjectID},
		Algorithms: []string{providers.RS256},
		RolesClaim: DefaultRolesClaim,
		Method:     method,
		Validate:   r.validate,
		Check:      check,
	}
	if cfg.InsecureEmulator {
		p.Keys, p.InsecureUnsigned = noKeys{}, true
	} else {
		p.JWKSURL, p.ParseKeys = certsURL, providers.ParseX509CertMap
		p.WrapKeys = func(k providers.KeySet) providers.KeySet {
			return kidRequired{name: cmp.Or(cfg.Name, "firebase"), keys: k}
		}
	}
	opts := cfg.TokenOptions
	opts.TenantClaim = tenantClaim
	return p.New(opts, cfg.FetchOptions)
}

var (
	errBothCredentials   = errors.New("a bearer token and a session cookie were both sent")
	errTwoCookies        = errors.New("more than one session cookie")
	errSessionAsBearer   = errors.New("a session cookie is not accepted as a bearer token")
	errIDTokenAsSession  = errors.New("an ID token is not accepted as a session cookie")
	errSessionCookiesOff = errors.New("session cookies are not enabled")
)

// Authenticate authenticates r with a Firebase ID token in "Authorization:
// Bearer <token>" or, when session cookies are enabled, a session cookie in
// the cookie SessionCookieName.
//
//   - Neither present (or another Authorization scheme, or an empty
//     cookie): authgate.ErrNoCredentials.
//   - Both a bearer token and the session cookie, or the session cookie
//     twice: authgate.ErrMalformedRequest (400; RFC 6750 §2, one method
//     only).
//   - A bearer token or cookie that names no issuer of this project
//     (another project, another provider, a cookie of another
//     application): authgate.ErrUnrecognizedCredential, so a chain can try
//     the next authenticator.
//   - This project's session cookie sent as a bearer token, or its ID token
//     sent in the session cookie: authgate.ErrInvalidIssuer (401).
//
// See Verify and VerifySessionCookie for the rest. Session cookies are
// ambient credentials: routes that change state need CSRF protection
// (SameSite cookies, a CSRF token), as for any cookie-based login.
func (a *Authenticator) Authenticate(r *http.Request) (*authgate.Principal, error) {
	token, berr := providers.BearerToken(r)
	bearer := berr == nil
	if berr != nil && !errors.Is(berr, authgate.ErrNoCredentials) {
		return nil, a.own(berr) // malformed Authorization header
	}
	if a.session != nil {
		cookie, found, err := a.sessionCookie(r)
		switch {
		case err != nil:
			return nil, err
		case found && bearer:
			return nil, &authgate.Error{Provider: a.name, Kind: authgate.ErrMalformedRequest, Err: errBothCredentials}
		case found:
			return a.VerifySessionCookie(r.Context(), cookie)
		}
	}
	if !bearer {
		return nil, a.own(berr)
	}
	return a.Verify(r.Context(), token)
}

// sessionCookie returns the value of the session cookie, if one non-empty
// cookie of that name was sent.
func (a *Authenticator) sessionCookie(r *http.Request) (string, bool, error) {
	value, found := "", false
	for _, c := range r.CookiesNamed(a.cookieName) {
		if c.Value == "" {
			continue // a cleared cookie is no credential
		}
		if found {
			return "", false, &authgate.Error{Provider: a.name, Kind: authgate.ErrMalformedRequest, Err: errTwoCookies}
		}
		value, found = c.Value, true
	}
	return value, found, nil
}

// own names this provider in an *authgate.Error that does not name one.
func (a *Authenticator) own(err error) error {
	if e, ok := err.(*authgate.Error); ok && e.Provider == "" {
		e.Provider = a.name
	}
	return err
}

// Verify verifies a Firebase ID token outside HTTP and returns its
// principal. The token must be signed with RS256 by a key of the
// certificate map, name that key's kid, and have "iss"
// https://securetoken.google.com/<ProjectID>, "aud" exactly ProjectID, a
// "sub" (the uid) of 1 to 128 bytes, "iat" and "auth_time" not in the
// future, "exp" not passed (each within Leeway), and the tenant Config
// asks for. Errors wrap authgate's sentinels:
//
//   - ErrUnrecognizedCredential: not a JWT, or the "iss" of another project
//     or provider (decided before any key fetch or signature check);
//   - ErrInvalidIssuer: this project's session cookie;
//   - ErrUnsupportedAlgorithm, ErrMalformedToken (no kid),
//     ErrInvalidSignature, ErrTokenExpired, ErrTokenNotYetValid,
//     ErrInvalidAudience, ErrMissingClaim, ErrInvalidClaim (wrong tenant);
//   - ErrRevoked: revoked token, disabled or deleted user (Revocation);
//   - ErrUnavailable: certificates cannot be had, or the user lookup failed.
func (a *Authenticator) Verify(ctx context.Context, idToken string) (*authgate.Principal, error) {
	p, err := a.id.Verify(ctx, idToken)
	if err != nil {
		if authgate.IsNotMine(err) {
			if iss, ok := providers.PeekIssuer(idToken); ok && iss == a.sesIssuer {
				return nil, &authgate.Error{Provider: a.name, Kind: authgate.ErrInvalidIssuer, Err: errSessionAsBearer}
			}
		}
		return nil, err
	}
	return p, nil
}

// VerifySessionCookie verifies a Firebase session cookie (created with the
// Admin SDK's SessionCookie) and returns its principal. The rules are those
// of Verify with "iss" https://session.firebase.google.com/<ProjectID> and
// the keys at SessionCertsURL; this project's ID token is rejected with
// authgate.ErrInvalidIssuer. Without Config.SessionCookies it returns an
// error wrapping authgate.ErrUnrecognizedCredential.
func (a *Authenticator) VerifySessionCookie(ctx context.Context, cookie string) (*authgate.Principal, error) {
	if a.session == nil {
		return nil, &authgate.Error{Provider: a.name, Kind: authgate.ErrUnrecognizedCredential, Err: errSessionCookiesOff}
	}
	p, err := a.session.Verify(ctx, cookie)
	if err != nil {
		if authgate.IsNotMine(err) {
			if iss, ok := providers.PeekIssuer(cookie); ok && iss == a.idIssuer {
				return nil, &authgate.Error{Provider: a.name, Kind: authgate.ErrInvalidIssuer, Err: errIDTokenAsSession}
			}
		}
		return nil, err
	}
	return p, nil
}

// Prefetch fetches the certificates now (ID tokens, and session cookies
// when enabled) and waits until ctx is done: call it at start-up to warm
// the cache and to see a wrong CertsURL early. In emulator mode it does
// nothing. Its error wraps authgate.ErrUnavailable.
func (a *Authenticator) Prefetch(ctx context.Context) error {
	errs := []error{a.id.Prefetch(ctx)}
	if a.session != nil {
		errs = append(errs, a.session.Prefetch(ctx))
	}
	return errors.Join(errs...)
}

// Describe tells chains what this authenticator accepts: bearer tokens of
// the project's ID-token issuer. The session-cookie issuer is claimed too,
// since such a token sent as a bearer token is this provider's to reject.
func (a *Authenticator) Describe() authgate.Description {
	return authgate.Description{Name: a.name, Scheme: "Bearer", Issuers: []string{a.idIssuer, a.sesIssuer}}
}

// ProjectID returns the configured project id.
func (a *Authenticator) ProjectID() string { return a.projectID }

// SignInProvider returns how a Firebase principal signed in — the token's
// "firebase.sign_in_provider" ("password", "google.com", "anonymous",
// "custom", …) — or "" when absent. It is also in p.Claims.
func SignInProvider(p *authgate.Principal) string {
	v, _ := p.Claim(signInProviderClaim)
	s, _ := v.(string)
	return s
}

// noKeys is the key set of emulator mode, where no signature is checked.
type noKeys struct{}

func (noKeys) VerificationKeys(context.Context, string, string) ([]providers.Key, error) {
	return nil, nil
}

var errNoKid = errors.New(`token header has no "kid"`)

// kidRequired refuses tokens without kid before any key is tried: Firebase
// always names the signing certificate.
type kidRequired struct {
	name string
	keys providers.KeySet
}

func (k kidRequired) VerificationKeys(ctx context.Context, kid, alg string) ([]providers.Key, error) {
	if kid == "" {
		return nil, &authgate.Error{Provider: k.name, Kind: authgate.ErrMalformedToken, Err: errNoKid}
	}
	return k.keys.VerificationKeys(ctx, kid, alg)
}
