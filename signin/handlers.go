package signin

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/authgate/authgate"
	"golang.org/x/oauth2"
)

// Login and callback errors, wrapped by the *authgate.Error that
// Callback hands to Config.OnError.
var (
	// ErrNoLogin: the callback came to a browser with no login in
	// progress (no login cookie, an expired one, or one that does not
	// open) — a login CSRF attempt, or a login that took longer than
	// LoginLifetime.
	ErrNoLogin = errors.New("signin: no login in progress in this browser")
	// ErrState: the callback's state is not the one this browser's login
	// sent, or was used already.
	ErrState = errors.New("signin: state does not match this browser's login")
	// ErrProviderError: the provider answered the login with an error
	// (the user refused consent, for example).
	ErrProviderError = errors.New("signin: the provider refused the login")
	// ErrExchange: the provider refused to exchange the code for tokens.
	ErrExchange = errors.New("signin: the provider refused the code")
	// ErrNoIDToken: the token response holds no ID token.
	ErrNoIDToken = errors.New("signin: the token response holds no ID token")
	// ErrIssuerMixUp: the callback's "iss" parameter (RFC 9207) names
	// another provider.
	ErrIssuerMixUp = errors.New("signin: the callback names another issuer")
	// ErrMethod: the handler was called with a method it does not serve.
	ErrMethod = errors.New("signin: method not allowed")
)

// login is the sealed content of the login cookie: what binds the
// callback to the browser that started the login.
type login struct {
	State    string `json:"state"`
	Nonce    string `json:"nonce"`
	Verifier string `json:"verifier"` // PKCE code_verifier
	Next     string `json:"next"`
	Expires  int64  `json:"exp"`
}

// Login starts a sign-in (GET or HEAD): it binds a fresh state, nonce and
// PKCE verifier to the browser in a sealed, short-lived login cookie and
// redirects to the provider's authorization endpoint (response_type code,
// code_challenge_method S256, max_age when MaxAge is set). The query
// parameter "next" names where to land afterwards: a same-origin path
// (see SafeRedirect); anything else lands on AfterLogin.
func (h *Handler) Login(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		h.fail(w, r, http.StatusMethodNotAllowed, h.reject(authgate.ErrMalformedRequest, ErrMethod))
		return
	}
	p, err := h.disc.get(r.Context())
	if err != nil {
		h.fail(w, r, 0, err)
		return
	}
	next, ok := SafeRedirect(r.URL.Query().Get("next"))
	if !ok {
		next = h.cfg.AfterLogin
	}
	l := login{
		State:    randomString(32),
		Nonce:    randomString(32),
		Verifier: oauth2.GenerateVerifier(),
		Next:     next,
		Expires:  h.now().Add(LoginLifetime).Unix(),
	}
	plain, _ := json.Marshal(l)
	c, err := h.makeCookie(h.loginName, h.seal.seal(h.loginName, plain), int(LoginLifetime/time.Second))
	if err != nil {
		h.fail(w, r, http.StatusBadRequest, h.reject(authgate.ErrMalformedRequest, err))
		return
	}
	opts := []oauth2.AuthCodeOption{oauth2.S256ChallengeOption(l.Verifier), oauth2.SetAuthURLParam("nonce", l.Nonce)}
	if h.cfg.MaxAge > 0 {
		opts = append(opts, oauth2.SetAuthURLParam("max_age", strconv.FormatInt(int64(h.cfg.MaxAge/time.Second), 10)))
	}
	http.SetCookie(w, c)
	noStore(w)
	http.Redirect(w, r, p.oauth.AuthCodeURL(l.State, opts...), http.StatusSeeOther)
}

// Callback finishes a sign-in (GET): it requires this browser's login
// cookie (else ErrNoLogin), the same state (else ErrState; a state is
// accepted once), an "iss" parameter, when present, naming the issuer
// (RFC 9207, else ErrIssuerMixUp) and no error from the provider
// (ErrProviderError), then exchanges the code with the PKCE verifier
// through x/oauth2, verifies the
// ID token with authgate's verifier and the rules of OpenID Connect Core
// §3.1.3.7 (audience = client ID, azp, nonce, at_hash, auth_time with
// MaxAge), starts a new session (a session cookie of an earlier sign-in is
// ended) and redirects to the login's "next". The login cookie is cleared
// whatever the outcome; a failure starts no session and goes to OnError.
func (h *Handler) Callback(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		h.fail(w, r, http.StatusMethodNotAllowed, h.reject(authgate.ErrMalformedRequest, ErrMethod))
		return
	}
	h.clearCookie(w, h.loginName)
	noStore(w)
	l, err := h.readLogin(r)
	if err != nil {
		h.fail(w, r, http.StatusBadRequest, err)
		return
	}
	q := r.URL.Query()
	state := q.Get("state")
	if state == "" || subtle.ConstantTimeCompare([]byte(state), []byte(l.State)) != 1 ||
		!h.used.use(l.State, h.now(), time.Unix(l.Expires, 0)) {
		h.fail(w, r, http.StatusBadRequest, &authgate.Error{Provider: h.name, Kind: authgate.ErrMalformedRequest, Description: "Sign-in state does not match", Err: ErrState})
		return
	}
	// RFC 9207: a provider that names itself in the answer must be ours
	// (a mix-up attack sends another provider's answer here).
	if q.Has("iss") && q.Get("iss") != h.cfg.Issuer {
		h.fail(w, r, http.StatusBadRequest, &authgate.Error{Provider: h.name, Kind: authgate.ErrInvalidIssuer, Description: "The answer comes from another identity provider", Err: ErrIssuerMixUp})
		return
	}
	if code := q.Get("error"); code != "" {
		h.fail(w, r, http.StatusUnauthorized, &authgate.Error{Provider: h.name, Kind: authgate.ErrInvalidCredentials,
			Description: "The identity provider refused the sign-in (" + errorCode(code) + ")", Err: ErrProviderError})
		return
	}
	code := q.Get("code")
	if code == "" {
		h.fail(w, r, http.StatusBadRequest, h.reject(authgate.ErrMalformedRequest, ErrExchange))
		return
	}
	p, err := h.disc.get(r.Context())
	if err != nil {
		h.fail(w, r, 0, err)
		return
	}
	ctx := oauthContext(r, h.client)
	tok, err := p.oauth.Exchange(ctx, code, oauth2.VerifierOption(l.Verifier))
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) && re.Response != nil && re.Response.StatusCode >= 400 && re.Response.StatusCode < 500 {
			h.fail(w, r, http.StatusUnauthorized, &authgate.Error{Provider: h.name, Kind: authgate.ErrInvalidCredentials,
				Description: "The identity provider refused the code", Err: fmt.Errorf("%w (%s)", ErrExchange, errorCode(re.ErrorCode))})
			return
		}
		h.fail(w, r, 0, h.reject(authgate.ErrUnavailable, &shortError{prefix: "signin: code exchange: ", err: err}))
		return
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		h.fail(w, r, http.StatusUnauthorized, h.reject(authgate.ErrInvalidCredentials, ErrNoIDToken))
		return
	}
	t, err := h.verifyIDToken(r.Context(), p, raw, l.Nonce, tok.AccessToken)
	if err != nil {
		h.fail(w, r, 0, err)
		return
	}
	claims, _ := json.Marshal(t.Claims)
	rec := &Record{
		Subject:      t.Subject,
		Claims:       claims,
		IDToken:      raw,
		AccessToken:  tok.AccessToken,
		TokenType:    tok.TokenType,
		RefreshToken: tok.RefreshToken,
		Expiry:       h.expiryOf(tok),
	}
	h.endSession(r) // no session fixation: a new sign-in is a new session
	if err := h.newSession(w, r, rec); err != nil {
		h.fail(w, r, 0, err)
		return
	}
	http.Redirect(w, r, l.Next, http.StatusSeeOther)
}

// readLogin opens this browser's login cookie.
func (h *Handler) readLogin(r *http.Request) (*login, error) {
	noLogin := &authgate.Error{Provider: h.name, Kind: authgate.ErrMalformedRequest, Description: "No sign-in in progress in this browser", Err: ErrNoLogin}
	value, err := h.readCookie(r, h.loginName)
	if err != nil {
		return nil, noLogin
	}
	plain, err := h.seal.open(h.loginName, value)
	if err != nil {
		noLogin.Err = fmt.Errorf("%w: %w", ErrNoLogin, err)
		return nil, noLogin
	}
	var l login
	if err := json.Unmarshal(plain, &l); err != nil || l.State == "" || l.Nonce == "" || l.Verifier == "" || h.now().Unix() >= l.Expires {
		return nil, noLogin
	}
	if next, ok := SafeRedirect(l.Next); ok {
		l.Next = next
	} else {
		l.Next = h.cfg.AfterLogin
	}
	return &l, nil
}

// Logout signs out (POST only, and only from the same origin): it ends the
// session in the Store, clears the cookies and, when the provider offers
// RP-initiated logout (end_session_endpoint), redirects there with
// id_token_hint, client_id and, when AfterLogout is an absolute URL,
// post_logout_redirect_uri; otherwise it redirects to AfterLogout.
func (h *Handler) Logout(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		h.fail(w, r, http.StatusMethodNotAllowed, h.reject(authgate.ErrMalformedRequest, ErrMethod))
		return
	}
	if err := crossOrigin.Check(r); err != nil {
		h.fail(w, r, http.StatusForbidden, &authgate.Error{Provider: h.name, Kind: authgate.ErrForbidden, Description: "Cross-origin request refused", Err: ErrCrossOrigin})
		return
	}
	rec := h.endSession(r)
	h.clearCookie(w, h.cookie)
	h.clearCookie(w, h.loginName)
	noStore(w)
	target := h.cfg.AfterLogout
	if p, err := h.disc.get(r.Context()); err == nil && p.endSession != "" {
		u, _ := url.Parse(p.endSession)
		q := u.Query()
		q.Set("client_id", h.cfg.ClientID)
		if rec != nil && rec.IDToken != "" {
			q.Set("id_token_hint", rec.IDToken)
		}
		if _, ok := SafeRedirect(h.cfg.AfterLogout); !ok {
			q.Set("post_logout_redirect_uri", h.cfg.AfterLogout)
		}
		u.RawQuery = q.Encode()
		target = u.String()
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// endSession deletes the Store's record of r's session, if any, and
// returns the session's record.
func (h *Handler) endSession(r *http.Request) *Record {
	pl, rec, err := h.load(r)
	if err != nil {
		return nil
	}
	if pl.ID != "" {
		if err := h.store.Delete(r.Context(), pl.ID); err != nil {
			h.logger.Warn("signin: ending a session failed", "provider", h.name, "error", err)
		}
	}
	return rec
}

// SafeRedirect reports whether target is a same-origin relative path a
// sign-in may land on, and returns it: it must start with one "/" (not
// "//" or "/\", which browsers read as another host), hold no backslash,
// no control character and no scheme or host, and be at most 2048 bytes.
func SafeRedirect(target string) (string, bool) {
	if len(target) == 0 || len(target) > 2048 || target[0] != '/' ||
		strings.HasPrefix(target, "//") || strings.ContainsAny(target, "\\") {
		return "", false
	}
	for _, c := range []byte(target) {
		if c < 0x20 || c == 0x7f {
			return "", false
		}
	}
	u, err := url.Parse(target)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return "", false
	}
	return target, true
}

// WantsHTML reports whether r is a browser's request for a page: a GET or
// HEAD whose Accept header lists text/html, without an Authorization
// header. Such a request without a session is sent to sign in; any other
// gets the API's 401.
func WantsHTML(r *http.Request) bool {
	if (r.Method != http.MethodGet && r.Method != http.MethodHead) || r.Header.Get("Authorization") != "" {
		return false
	}
	for _, v := range r.Header.Values("Accept") {
		for part := range strings.SplitSeq(v, ",") {
			media, params, _ := strings.Cut(strings.TrimSpace(part), ";")
			if !strings.EqualFold(strings.TrimSpace(media), "text/html") {
				continue
			}
			if q, ok := strings.CutPrefix(strings.ReplaceAll(params, " ", ""), "q="); ok {
				if f, err := strconv.ParseFloat(q, 64); err == nil && f == 0 {
					continue
				}
			}
			return true
		}
	}
	return false
}

// RedirectToLogin sends the browser to LoginPath with "next" set to the
// requested path, so it lands there after signing in (303 See Other).
func (h *Handler) RedirectToLogin(w http.ResponseWriter, r *http.Request) {
	target := h.cfg.LoginPath
	if next, ok := SafeRedirect(r.URL.RequestURI()); ok && next != h.cfg.LoginPath {
		target += "?next=" + url.QueryEscape(next)
	}
	noStore(w)
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// WriteError renders an authentication failure with content negotiation,
// as an httpauth or ginauth error handler: a page request (WantsHTML)
// without a usable session — no credentials, or a rejected or expired
// session, whose cookie is then cleared — is redirected to sign in, and a
// refusal (403) gets a short HTML page; everything else, and every API
// request, gets authgate.WriteError (401 with WWW-Authenticate, 403, 503).
//
//	httpauth.Require(auth, httpauth.WithErrorHandler(h.WriteError))
//	ginauth.Require(auth, ginauth.WithErrorHandler(func(c *gin.Context, err error) { h.WriteError(c.Writer, c.Request, err) }))
func (h *Handler) WriteError(w http.ResponseWriter, r *http.Request, err error) {
	h.writeError(w, r, err, WantsHTML(r))
}

// WritePageError is WriteError for routes that are pages whatever the
// request's Accept header says (a per-route choice): every GET or HEAD
// without a usable session is redirected to sign in. Other methods get
// authgate.WriteError.
func (h *Handler) WritePageError(w http.ResponseWriter, r *http.Request, err error) {
	h.writeError(w, r, err, r.Method == http.MethodGet || r.Method == http.MethodHead)
}

func (h *Handler) writeError(w http.ResponseWriter, r *http.Request, err error, page bool) {
	if page {
		switch status := authgate.StatusCode(err); {
		case status == http.StatusUnauthorized:
			if !errors.Is(err, authgate.ErrNoCredentials) {
				h.clearCookie(w, h.cookie)
			}
			h.RedirectToLogin(w, r)
			return
		case status == http.StatusForbidden:
			writePage(w, status, "Forbidden", authgate.Detail(err))
			return
		}
	}
	authgate.WriteError(w, err, h.cfg.Realm)
}

// fail renders a failed Login, Callback or Logout through OnError (status
// 0: authgate.StatusCode's).
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, status int, err error) {
	h.logger.Info("signin: sign-in step failed", "provider", h.name, "path", r.URL.Path, "reason", authgate.Reason(err), "error", err)
	if h.cfg.OnError != nil {
		h.cfg.OnError(w, r, err)
		return
	}
	if status == 0 {
		status = authgate.StatusCode(err)
	}
	if status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", authgate.RetryAfterSeconds)
	}
	writePage(w, status, "Sign-in failed", authgate.Detail(err))
}

// writePage writes a minimal HTML page.
func writePage(w http.ResponseWriter, status int, title, detail string) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	fmt.Fprintf(w, "<!doctype html><title>%s</title><h1>%s</h1><p>%s</p>\n", html.EscapeString(title), html.EscapeString(title), html.EscapeString(detail))
}

func noStore(w http.ResponseWriter) { w.Header().Set("Cache-Control", "no-store") }

// errorCode returns an OAuth error code fit to show: the characters RFC
// 6749 §5.2 allows, at most 64 of them.
func errorCode(code string) string {
	var b strings.Builder
	for _, c := range []byte(code) {
		if b.Len() == 64 {
			break
		}
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-' || c == '.' {
			b.WriteByte(c)
		}
	}
	if b.Len() == 0 {
		return "unknown"
	}
	return b.String()
}
