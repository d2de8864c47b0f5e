package signin

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/providers"
)

// Session errors, wrapped by the *authgate.Error of a refused cookie.
var (
	// ErrSessionExpired: the session outlived its absolute lifetime.
	ErrSessionExpired = errors.New("signin: session expired")
	// ErrSessionIdle: the session went unused for longer than its idle
	// lifetime.
	ErrSessionIdle = errors.New("signin: session expired after inactivity")
	// ErrSessionEnded: the cookie names a session the Store no longer
	// holds (signed out, or expired there).
	ErrSessionEnded = errors.New("signin: session ended")
	// ErrMalformedCookie: the cookie opened but holds no valid session.
	ErrMalformedCookie = errors.New("signin: session cookie holds no valid session")
	// ErrDuplicateCookie: the request carries the session cookie twice (a
	// cookie planted for a parent domain or another path beside the real
	// one).
	ErrDuplicateCookie = errors.New("signin: session cookie sent more than once")
	// ErrCookieTooLarge: a cookie would exceed MaxCookieSize.
	ErrCookieTooLarge = fmt.Errorf("signin: cookie exceeds %d bytes", MaxCookieSize)
	// ErrCrossOrigin: a state-changing request with the session cookie came
	// from another origin (http.CrossOriginProtection).
	ErrCrossOrigin = errors.New("signin: cross-origin request refused")
)

// payload is the sealed content of the session cookie. Times are Unix
// seconds, checked on every request: the cookie's Max-Age is only a hint
// to the browser.
type payload struct {
	Version int     `json:"v"`
	ID      string  `json:"sid,omitempty"` // the Store's key
	Record  *Record `json:"rec,omitempty"` // the session itself (SealTokens)
	Created int64   `json:"iat"`           // sign-in
	Renewed int64   `json:"rnw"`           // last sealed: idle lifetime
	Expires int64   `json:"exp"`           // absolute lifetime
}

const payloadVersion = 1

// Authenticator authenticates requests by their session cookie: it
// implements authgate.Authenticator, so it composes with the token
// providers (chain.Any(session, bearer, apiKey)) under the same guards,
// middleware and outcome mapping. Get it from Handler.Authenticator. It is
// safe for concurrent use.
type Authenticator struct{ h *Handler }

// Authenticator returns the handler's session authenticator.
func (h *Handler) Authenticator() *Authenticator { return h.session }

// Authenticate reads the session cookie and returns the signed-in user's
// principal, built from their ID token's verified claims as the token
// providers build theirs (roles from RolesClaim, tenant from TenantClaim,
// email, name, scopes…), with Method "session", ExpiresAt the session's
// absolute expiry and IssuedAt the sign-in.
//
// No session cookie is authgate.ErrNoCredentials ("not mine"); the cookie
// twice is ErrMalformedRequest; a cookie that does not open (tampered,
// sealed for another cookie, or with a removed key: ErrUnknownKey) or holds
// no valid session is ErrInvalidCredentials; an expired one
// ErrTokenExpired (ErrSessionExpired, ErrSessionIdle); a session the
// Store no longer holds ErrRevoked (ErrSessionEnded); a Store failure
// ErrUnavailable; an unsafe cross-origin request ErrForbidden
// (ErrCrossOrigin). It does no network I/O beyond the Store. A request
// that carries the cookie is decided by the cookie alone, whatever else it
// carries, as chain.Any lets the first authenticator that recognises a
// credential decide.
func (a *Authenticator) Authenticate(r *http.Request) (*authgate.Principal, error) {
	pl, rec, err := a.h.load(r)
	if err != nil {
		return nil, err
	}
	if err := crossOrigin.Check(r); err != nil {
		return nil, &authgate.Error{Provider: a.h.name, Kind: authgate.ErrForbidden, Description: "Cross-origin request refused", Err: ErrCrossOrigin}
	}
	return a.h.principal(pl, rec)
}

// Describe names the authenticator and its cookie for chains and
// challenges.
func (a *Authenticator) Describe() authgate.Description {
	return authgate.Description{Name: a.h.name, Scheme: `Session cookie="` + a.h.cookie + `"`}
}

var crossOrigin = http.NewCrossOriginProtection()

// principal builds the principal of a session.
func (h *Handler) principal(pl *payload, rec *Record) (*authgate.Principal, error) {
	claims, err := providers.ParseClaimSet(rec.Claims)
	if err != nil {
		return nil, h.reject(authgate.ErrInvalidCredentials, ErrMalformedCookie)
	}
	t := &providers.Token{
		Claims:    claims,
		Subject:   rec.Subject,
		ExpiresAt: time.Unix(h.expiry(pl), 0),
		IssuedAt:  time.Unix(pl.Created, 0),
	}
	t.Issuer, _ = claims["iss"].(string)
	if aud, ok := claims["aud"].(string); ok {
		t.Audience = []string{aud}
	} else {
		t.Audience = providers.StringList(claims["aud"])
	}
	return h.mapping.Principal(t), nil
}

// expiry is the session's absolute expiry under the current
// configuration: a shorter AbsoluteLifetime applies to sessions sealed
// before it.
func (h *Handler) expiry(pl *payload) int64 {
	return min(pl.Expires, pl.Created+int64(h.cfg.AbsoluteLifetime/time.Second))
}

// load reads, opens and checks the session cookie of r and returns the
// session.
func (h *Handler) load(r *http.Request) (*payload, *Record, error) {
	value, err := h.readCookie(r, h.cookie)
	if err != nil {
		return nil, nil, err
	}
	plain, err := h.seal.open(h.cookie, value)
	if err != nil {
		return nil, nil, h.refuse(authgate.ErrInvalidCredentials, err, "Invalid session")
	}
	var pl payload
	if err := json.Unmarshal(plain, &pl); err != nil || pl.Version != payloadVersion ||
		(pl.ID == "") == (pl.Record == nil) || pl.Created <= 0 || pl.Renewed < pl.Created || pl.Expires <= pl.Created {
		return nil, nil, h.refuse(authgate.ErrInvalidCredentials, ErrMalformedCookie, "Invalid session")
	}
	now := h.now()
	leeway := int64(h.leeway / time.Second)
	switch {
	case pl.Created > now.Unix()+leeway || pl.Renewed > now.Unix()+leeway:
		return nil, nil, h.refuse(authgate.ErrInvalidCredentials, ErrMalformedCookie, "Invalid session")
	case now.Unix() >= h.expiry(&pl):
		return nil, nil, h.refuse(authgate.ErrTokenExpired, ErrSessionExpired, "Session has expired")
	case now.Unix()-pl.Renewed >= int64(h.cfg.IdleLifetime/time.Second):
		return nil, nil, h.refuse(authgate.ErrTokenExpired, ErrSessionIdle, "Session has expired")
	}
	if pl.Record != nil {
		return &pl, pl.Record, nil
	}
	rec, err := h.store.Load(r.Context(), pl.ID)
	switch {
	case errors.Is(err, ErrNotFound):
		return nil, nil, h.refuse(authgate.ErrRevoked, ErrSessionEnded, "Session has ended")
	case err != nil:
		return nil, nil, h.reject(authgate.ErrUnavailable, err)
	}
	return &pl, rec, nil
}

// reject returns the *authgate.Error of kind for cause.
func (h *Handler) reject(kind, cause error) error {
	return &authgate.Error{Provider: h.name, Kind: kind, Err: cause}
}

// refuse is reject with a client-safe description.
func (h *Handler) refuse(kind, cause error, description string) error {
	return &authgate.Error{Provider: h.name, Kind: kind, Description: description, Err: cause}
}

// readCookie returns the value of the one cookie called name. None is
// authgate.ErrNoCredentials, two ErrMalformedRequest.
func (h *Handler) readCookie(r *http.Request, name string) (string, error) {
	var value string
	n := 0
	for _, c := range r.CookiesNamed(name) {
		value = c.Value
		n++
	}
	switch {
	case n == 0 || value == "":
		return "", h.reject(authgate.ErrNoCredentials, nil)
	case n > 1:
		return "", h.reject(authgate.ErrMalformedRequest, ErrDuplicateCookie)
	}
	return value, nil
}

// newSession seals the session of rec into its cookie and sets it: in the
// cookie itself when SealTokens is set and it fits, else in the Store under
// a new random ID.
func (h *Handler) newSession(w http.ResponseWriter, r *http.Request, rec *Record) error {
	now := h.now().Unix()
	pl := &payload{
		Version: payloadVersion,
		Created: now,
		Renewed: now,
		Expires: now + int64(h.cfg.AbsoluteLifetime/time.Second),
	}
	if h.cfg.SealTokens {
		pl.Record = rec
		if c, err := h.sessionCookie(pl); err == nil {
			http.SetCookie(w, c)
			return nil
		}
		pl.Record = nil // too large for a cookie: keep it on the server
	}
	pl.ID = randomString(32)
	if err := h.store.Save(r.Context(), pl.ID, rec, time.Unix(pl.Expires, 0)); err != nil {
		return h.reject(authgate.ErrUnavailable, err)
	}
	c, err := h.sessionCookie(pl)
	if err != nil {
		h.store.Delete(r.Context(), pl.ID)
		return h.reject(authgate.ErrInvalidCredentials, err)
	}
	http.SetCookie(w, c)
	return nil
}

// sessionCookie seals pl into the session cookie, living until the
// session's absolute expiry.
func (h *Handler) sessionCookie(pl *payload) (*http.Cookie, error) {
	plain, err := json.Marshal(pl)
	if err != nil {
		return nil, err
	}
	return h.makeCookie(h.cookie, h.seal.seal(h.cookie, plain), int(h.expiry(pl)-h.now().Unix()))
}

// makeCookie returns the cookie name=value living maxAge seconds, with
// the handler's attributes: HttpOnly, SameSite=Lax, Path=/, Secure except
// on loopback http, host-only unless CookieDomain is set. Its error is
// ErrCookieTooLarge for a cookie over MaxCookieSize.
func (h *Handler) makeCookie(name, value string, maxAge int) (*http.Cookie, error) {
	c := &http.Cookie{
		Name:     name,
		Value:    value,
		Path:     "/",
		Domain:   h.cfg.CookieDomain,
		MaxAge:   maxAge,
		Secure:   h.secure,
		HttpOnly: true,
		SameSite: http.SameSiteLaxMode,
	}
	if len(c.String()) > MaxCookieSize {
		return nil, ErrCookieTooLarge
	}
	return c, nil
}

// clearCookie tells the browser to drop the cookie name.
func (h *Handler) clearCookie(w http.ResponseWriter, name string) {
	c, _ := h.makeCookie(name, "", -1)
	http.SetCookie(w, c)
}

// Renew keeps an active session alive: when the session cookie of r is
// valid and was sealed more than a quarter of IdleLifetime ago, it seals
// it again with the current time, which the idle lifetime counts from.
// The absolute lifetime never moves. Call it (or use Middleware) on the
// routes whose use counts as activity; without it, the idle lifetime
// counts from sign-in.
func (h *Handler) Renew(w http.ResponseWriter, r *http.Request) {
	pl, _, err := h.load(r)
	if err != nil {
		return
	}
	now := h.now().Unix()
	if now-pl.Renewed < int64(h.cfg.IdleLifetime/time.Second)/4 {
		return
	}
	pl.Renewed = now
	if c, err := h.sessionCookie(pl); err == nil {
		http.SetCookie(w, c)
	}
}

// Middleware returns next behind Renew.
func (h *Handler) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.Renew(w, r)
		next.ServeHTTP(w, r)
	})
}

// randomString returns n random bytes, base64url-encoded.
func randomString(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
