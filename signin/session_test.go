package signin_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/chain"
	"github.com/authgate/authgate/oidc"
	"github.com/authgate/authgate/providers"
	"github.com/authgate/authgate/signin"
)

// signedIn returns an app and a browser signed in to it.
func signedIn(t *testing.T, tweak func(*signin.Config)) (*app, *browser, *testOP, *clock) {
	t.Helper()
	c := newClock()
	op := newOP(t, "", c.Now)
	a := newApp(t, op, c, tweak)
	b := newBrowser()
	if resp := signIn(t, b, a, "/me"); resp.StatusCode != 200 {
		t.Fatalf("sign-in: %d", resp.StatusCode)
	}
	return a, b, op, c
}

// authenticate runs the app's session authenticator on a request carrying
// the browser's cookies.
func authenticate(t *testing.T, a *app, b *browser, mod func(*http.Request)) (*authgate.Principal, error) {
	t.Helper()
	r := httptest.NewRequest("GET", a.srv.URL+"/me", nil)
	for _, c := range b.jar.Cookies(mustURL(a.srv.URL)) {
		r.AddCookie(c)
	}
	if mod != nil {
		mod(r)
	}
	return a.h.Authenticator().Authenticate(r)
}

func TestSessionRefusals(t *testing.T) {
	ended := &flakyStore{Store: signin.NewMemoryStore(10, nil), err: signin.ErrNotFound}
	down := &flakyStore{Store: signin.NewMemoryStore(10, nil), err: errStoreDown}
	for _, tt := range []struct {
		name    string
		tweak   func(*signin.Config)
		act     func(t *testing.T, a *app, b *browser, c *clock)
		mod     func(*http.Request)
		wantErr []error
	}{
		{name: "no cookie", wantErr: []error{authgate.ErrNoCredentials},
			act: func(t *testing.T, a *app, b *browser, c *clock) {
				b.jar.SetCookies(mustURL(a.srv.URL), []*http.Cookie{{Name: "authgate", Path: "/", MaxAge: -1}})
			}},
		{name: "tampered cookie", wantErr: []error{authgate.ErrInvalidCredentials},
			act: func(t *testing.T, a *app, b *browser, c *clock) {
				v := b.cookie(a.srv.URL, "authgate")
				i := len(v) - 10
				flipped := byte('A')
				if v[i] == 'A' {
					flipped = 'B'
				}
				b.setCookie(a.srv.URL, "authgate", v[:i]+string(flipped)+v[i+1:])
			}},
		{name: "truncated cookie", wantErr: []error{authgate.ErrInvalidCredentials},
			act: func(t *testing.T, a *app, b *browser, c *clock) {
				b.setCookie(a.srv.URL, "authgate", b.cookie(a.srv.URL, "authgate")[:20])
			}},
		{name: "cookie with CR LF inside", wantErr: []error{authgate.ErrNoCredentials}, // net/http drops it
			mod: func(r *http.Request) {
				v := r.Header.Get("Cookie")
				r.Header.Set("Cookie", v[:len(v)-5]+"\n"+v[len(v)-5:])
			}},
		{name: "absolute lifetime over", wantErr: []error{authgate.ErrTokenExpired, signin.ErrSessionExpired},
			tweak: func(cfg *signin.Config) { cfg.IdleLifetime = 2 * time.Hour; cfg.AbsoluteLifetime = 2 * time.Hour },
			act:   func(t *testing.T, a *app, b *browser, c *clock) { c.Add(2 * time.Hour) }},
		{name: "idle lifetime over", wantErr: []error{authgate.ErrTokenExpired, signin.ErrSessionIdle},
			act: func(t *testing.T, a *app, b *browser, c *clock) { c.Add(signin.DefaultIdleLifetime) }},
		{name: "session ended in the store", wantErr: []error{authgate.ErrRevoked, signin.ErrSessionEnded},
			tweak: func(cfg *signin.Config) { cfg.Store = ended },
			act:   func(t *testing.T, a *app, b *browser, c *clock) { ended.broken.Store(true) }},
		{name: "store down", wantErr: []error{authgate.ErrUnavailable, errStoreDown},
			tweak: func(cfg *signin.Config) { cfg.Store = down },
			act:   func(t *testing.T, a *app, b *browser, c *clock) { down.broken.Store(true) }},
		{name: "cookie sent twice", wantErr: []error{authgate.ErrMalformedRequest, signin.ErrDuplicateCookie},
			mod: func(r *http.Request) { r.AddCookie(&http.Cookie{Name: "authgate", Value: "k1.planted"}) }},
		{name: "login cookie presented as the session cookie", wantErr: []error{authgate.ErrInvalidCredentials},
			act: func(t *testing.T, a *app, b *browser, c *clock) {
				nf := b.noFollow()
				resp, _ := nf.Get(a.srv.URL + "/login")
				resp.Body.Close()
				b.setCookie(a.srv.URL, "authgate", b.cookie(a.srv.URL, "authgate-login"))
			}},
		{name: "unsafe cross-origin request", wantErr: []error{authgate.ErrForbidden, signin.ErrCrossOrigin},
			mod: func(r *http.Request) { r.Method = "POST"; r.Header.Set("Sec-Fetch-Site", "cross-site") }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a, b, _, c := signedIn(t, tt.tweak)
			if tt.act != nil {
				tt.act(t, a, b, c)
			}
			p, err := authenticate(t, a, b, tt.mod)
			for _, want := range tt.wantErr {
				if !errors.Is(err, want) {
					t.Fatalf("Authenticate = %v, %v; want %v", p, err, want)
				}
			}
			if p != nil {
				t.Fatalf("Authenticate returned a principal with %v", err)
			}
		})
	}
}

var errStoreDown = errors.New("store down")

// flakyStore is a Store whose Load fails with err once broken.
type flakyStore struct {
	signin.Store
	err    error
	broken atomic.Bool
}

func (s *flakyStore) Load(ctx context.Context, id string) (*signin.Record, error) {
	if s.broken.Load() {
		return nil, s.err
	}
	return s.Store.Load(ctx, id)
}

func TestKeyRotation(t *testing.T) {
	c := newClock()
	op := newOP(t, "", c.Now)
	k1, k2 := signin.NewKey("k1"), signin.NewKey("k2")
	store := signin.NewMemoryStore(10, c.Now)
	a := newApp(t, op, c, func(cfg *signin.Config) { cfg.Keys = []signin.Key{k1}; cfg.Store = store })
	b := newBrowser()
	signIn(t, b, a, "/")
	build := func(keys ...signin.Key) *signin.Handler {
		h, err := signin.New(signin.Config{Issuer: op.issuer, ClientID: clientID, ClientSecret: clientSecret, RedirectURL: a.srv.URL + "/callback",
			Keys: keys, Store: store, TokenOptions: providers.TokenOptions{Now: c.Now, Logger: slog.New(slog.DiscardHandler)}})
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	for _, tt := range []struct {
		name    string
		keys    []signin.Key
		wantErr error
	}{
		{"old key still configured after the new one", []signin.Key{k2, k1}, nil},
		{"old key removed", []signin.Key{k2}, signin.ErrUnknownKey},
		{"same ID, other secret", []signin.Key{signin.NewKey("k1")}, authgate.ErrInvalidCredentials},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a.h = build(tt.keys...)
			p, err := authenticate(t, a, b, nil)
			if tt.wantErr == nil && (err != nil || p.Subject != "alice") {
				t.Fatalf("Authenticate = %v, %v; want alice", p, err)
			}
			if tt.wantErr != nil && (!errors.Is(err, tt.wantErr) || !errors.Is(err, authgate.ErrInvalidCredentials) || p != nil) {
				t.Fatalf("Authenticate = %v, %v; want %v", p, err, tt.wantErr)
			}
		})
	}
	// New sessions are sealed with the newest key.
	a2 := newApp(t, op, c, func(cfg *signin.Config) { cfg.Keys = []signin.Key{k2, k1} })
	b2 := newBrowser()
	signIn(t, b2, a2, "/")
	if v := b2.cookie(a2.srv.URL, "authgate"); !strings.HasPrefix(v, "k2.") {
		t.Fatalf("new session cookie %q not sealed with k2", v)
	}
}

func TestRenewExtendsIdleNotAbsolute(t *testing.T) {
	a, b, _, c := signedIn(t, func(cfg *signin.Config) { cfg.IdleLifetime = time.Hour; cfg.AbsoluteLifetime = 3 * time.Hour })
	renew := func() {
		r := httptest.NewRequest("GET", a.srv.URL+"/", nil)
		for _, ck := range b.jar.Cookies(mustURL(a.srv.URL)) {
			r.AddCookie(ck)
		}
		w := httptest.NewRecorder()
		a.h.Middleware(http.NotFoundHandler()).ServeHTTP(w, r)
		b.jar.SetCookies(mustURL(a.srv.URL), w.Result().Cookies())
	}
	for i := 1; i <= 4; i++ { // active every 40 min: idle never runs out
		c.Add(40 * time.Minute)
		if _, err := authenticate(t, a, b, nil); err != nil {
			t.Fatalf("Authenticate %d min after sign-in, renewed every 40 = %v", 40*i, err)
		}
		renew()
	}
	c.Add(40 * time.Minute)
	if _, err := authenticate(t, a, b, nil); !errors.Is(err, signin.ErrSessionExpired) {
		t.Fatalf("Authenticate 200 min after sign-in = %v, want ErrSessionExpired", err)
	}
}

func TestLogout(t *testing.T) {
	store := signin.NewMemoryStore(10, nil)
	a, b, op, _ := signedIn(t, func(cfg *signin.Config) { cfg.Store = store; cfg.AfterLogout = "https://app.example.test/bye" })
	old := b.cookie(a.srv.URL, "authgate")
	if store.Len() != 1 {
		t.Fatalf("store holds %d sessions, want 1", store.Len())
	}
	// GET is refused: a link on another site cannot sign the user out.
	if resp := b.get(t, a.srv.URL+"/logout"); resp.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("GET /logout = %d, want 405", resp.StatusCode)
	}
	req, _ := http.NewRequest("POST", a.srv.URL+"/logout", nil)
	resp, err := b.noFollow().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc := mustURL(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc.String(), op.issuer+"/logout?") ||
		loc.Query().Get("id_token_hint") == "" || loc.Query().Get("client_id") != clientID ||
		loc.Query().Get("post_logout_redirect_uri") != "https://app.example.test/bye" {
		t.Fatalf("logout redirects to %s (%d)", loc, resp.StatusCode)
	}
	if store.Len() != 0 || b.cookie(a.srv.URL, "authgate") != "" {
		t.Fatalf("after logout: store %d sessions, cookie %q", store.Len(), b.cookie(a.srv.URL, "authgate"))
	}
	b.setCookie(a.srv.URL, "authgate", old) // the old cookie, replayed
	if _, err := authenticate(t, a, b, nil); !errors.Is(err, signin.ErrSessionEnded) {
		t.Fatalf("Authenticate(cookie after logout) = %v, want ErrSessionEnded", err)
	}
}

func TestSealedTokens(t *testing.T) {
	store := signin.NewMemoryStore(10, nil)
	a, b, op, _ := signedIn(t, func(cfg *signin.Config) { cfg.Store = store; cfg.SealTokens = true })
	if store.Len() != 0 {
		t.Fatalf("SealTokens: store holds %d sessions, want 0", store.Len())
	}
	if p, err := authenticate(t, a, b, nil); err != nil || p.Subject != "alice" {
		t.Fatalf("Authenticate = %v, %v", p, err)
	}
	// A session too large for a cookie goes to the store.
	op.setUser(map[string]any{"sub": "bob", "bio": strings.Repeat("x", 3000)})
	b2 := newBrowser()
	signIn(t, b2, a, "/")
	if store.Len() != 1 {
		t.Fatalf("large session: store holds %d sessions, want 1", store.Len())
	}
	if p, err := authenticate(t, a, b2, nil); err != nil || p.Subject != "bob" {
		t.Fatalf("Authenticate(large session) = %v, %v", p, err)
	}
	if v := b2.cookie(a.srv.URL, "authgate"); len(v) > signin.MaxCookieSize {
		t.Fatalf("cookie of %d bytes", len(v))
	}
}

func TestTokenRefresh(t *testing.T) {
	for _, sealed := range []bool{false, true} {
		t.Run(map[bool]string{false: "store", true: "sealed"}[sealed], func(t *testing.T) {
			store := signin.NewMemoryStore(10, nil)
			a, b, op, c := signedIn(t, func(cfg *signin.Config) { cfg.SealTokens = sealed; cfg.Store = store })
			if got := store.Len(); got != map[bool]int{false: 1, true: 0}[sealed] {
				t.Fatalf("store holds %d sessions", got)
			}
			call := func() (string, error) {
				r := httptest.NewRequest("GET", a.srv.URL+"/", nil)
				for _, ck := range b.jar.Cookies(mustURL(a.srv.URL)) {
					r.AddCookie(ck)
				}
				w := httptest.NewRecorder()
				tok, err := a.h.Token(w, r)
				b.jar.SetCookies(mustURL(a.srv.URL), w.Result().Cookies())
				if err != nil {
					return "", err
				}
				return tok.AccessToken, nil
			}
			first, err := call()
			if err != nil || !strings.HasPrefix(first, "at-") {
				t.Fatalf("Token = %q, %v", first, err)
			}
			n := op.exchanges.Load()
			if again, _ := call(); again != first || op.exchanges.Load() != n {
				t.Fatalf("a fresh token was refreshed")
			}
			c.Add(5*time.Minute - signin.RefreshBefore + time.Second) // within RefreshBefore of expiry
			second, err := call()
			if err != nil || second == first || op.exchanges.Load() != n+1 {
				t.Fatalf("Token near expiry = %q, %v (exchanges %d → %d)", second, err, n, op.exchanges.Load())
			}
			if third, _ := call(); third != second {
				t.Fatalf("refreshed token not saved to the session")
			}
			// A refresh whose ID token names another user is refused.
			c.Add(5 * time.Minute)
			op.setUser(map[string]any{"sub": "mallory"})
			if _, err := call(); !errors.Is(err, signin.ErrSubjectChanged) {
				t.Fatalf("Token with a refreshed ID token for another subject = %v", err)
			}
		})
	}
}

// TestChain: one route serves the browser's session and an API client's
// bearer token with the same principal shape; without either, a page
// request is sent to sign in and an API request gets 401.
func TestChain(t *testing.T) {
	a, b, op, c := signedIn(t, nil)
	api, err := oidc.New(oidc.Config{Issuer: op.keys.Issuer(), TokenOptions: providers.TokenOptions{
		Audience: []string{"https://api.example.test"}, Now: c.Now, Logger: slog.New(slog.DiscardHandler)}})
	if err != nil {
		t.Fatal(err)
	}
	both, err := chain.New(a.h.Authenticator(), api)
	if err != nil {
		t.Fatalf("chain.New(session, bearer) = %v", err)
	}
	page := false
	handler := func(w http.ResponseWriter, r *http.Request) {
		p, err := both.Authenticate(r)
		if err != nil && page {
			a.h.WritePageError(w, r, err)
			return
		}
		if err != nil {
			a.h.WriteError(w, r, err)
			return
		}
		w.Write([]byte(p.Method + " " + p.Subject + " " + strings.Join(p.Roles, ",")))
	}
	bearer := op.keys.Token(map[string]any{"aud": "https://api.example.test", "sub": "svc", "roles": []string{"admin"}})
	for _, tt := range []struct {
		name     string
		cookies  bool
		header   map[string]string
		status   int
		body     string
		location string
		expired  bool // a day later
		page     bool // WritePageError
	}{
		{name: "browser session", cookies: true, header: map[string]string{"Accept": "text/html"}, status: 200, body: "session alice admin"},
		{name: "API bearer", header: map[string]string{"Authorization": "Bearer " + bearer}, status: 200, body: "jwt svc admin"},
		{name: "page without session", header: map[string]string{"Accept": "text/html,application/xhtml+xml"}, status: 303, location: "/login?next=%2Freports%3Fq%3D1"},
		{name: "API without credentials", header: map[string]string{"Accept": "application/json"}, status: 401},
		{name: "page refusing html", header: map[string]string{"Accept": "text/html;q=0, application/json"}, status: 401},
		{name: "expired session on a page", cookies: true, expired: true, header: map[string]string{"Accept": "text/html"}, status: 303, location: "/login?next=%2Freports%3Fq%3D1"},
		{name: "expired session from a script", cookies: true, expired: true, header: map[string]string{"Accept": "*/*"}, status: 401},
		{name: "per-route page without Accept", page: true, status: 303, location: "/login?next=%2Freports%3Fq%3D1"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", a.srv.URL+"/reports?q=1", nil)
			if tt.cookies {
				for _, ck := range b.jar.Cookies(mustURL(a.srv.URL)) {
					r.AddCookie(ck)
				}
			}
			for k, v := range tt.header {
				r.Header.Set(k, v)
			}
			if tt.expired {
				c.Add(24 * time.Hour)
				defer c.Add(-24 * time.Hour)
			}
			page = tt.page
			w := httptest.NewRecorder()
			handler(w, r)
			if tt.expired && tt.status == 303 && (len(w.Result().Cookies()) != 1 || w.Result().Cookies()[0].MaxAge >= 0) {
				t.Fatalf("expired session redirected without clearing its cookie: %v", w.Result().Cookies())
			}
			if w.Code != tt.status || (tt.body != "" && w.Body.String() != tt.body) || w.Header().Get("Location") != tt.location {
				t.Fatalf("= %d %q Location %q; want %d %q %q", w.Code, w.Body, w.Header().Get("Location"), tt.status, tt.body, tt.location)
			}
			if ch := w.Header().Get("WWW-Authenticate"); tt.status == 401 && !tt.expired && !strings.Contains(ch, "Bearer") {
				t.Fatalf("401 without a Bearer challenge: %q", ch)
			}
			if ch := w.Header().Get("WWW-Authenticate"); tt.status == 401 && tt.expired && !strings.Contains(ch, `error_description="Session has expired"`) {
				t.Fatalf("expired session challenge = %q", ch)
			}
		})
	}
}

// TestConcurrentUse: one handler serves many requests at once (run with
// -race).
func TestConcurrentUse(t *testing.T) {
	a, b, _, _ := signedIn(t, nil)
	cookies := b.jar.Cookies(mustURL(a.srv.URL))
	var wg sync.WaitGroup
	errs := make(chan error, 32)
	for range 16 {
		wg.Go(func() {
			r := httptest.NewRequest("GET", a.srv.URL+"/", nil)
			for _, ck := range cookies {
				r.AddCookie(ck)
			}
			a.h.Middleware(http.NotFoundHandler()).ServeHTTP(httptest.NewRecorder(), r)
			if _, err := a.h.Authenticator().Authenticate(r); err != nil {
				errs <- err
			}
			if resp, err := newBrowser().noFollow().Get(a.srv.URL + "/login"); err == nil {
				resp.Body.Close()
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("concurrent Authenticate = %v", err)
	}
}

func TestPrincipalMapping(t *testing.T) {
	c := newClock()
	op := newOP(t, "/realms/demo", c.Now)
	op.setUser(map[string]any{"sub": "u-1", "realm_access": map[string]any{"roles": []string{"editor", "viewer"}}, "org": "acme", "scope": "openid profile"})
	a := newApp(t, op, c, func(cfg *signin.Config) {
		cfg.RolesClaim = "realm_access.roles"
		cfg.TenantClaim = "org"
		cfg.Name = "corp"
	})
	b := newBrowser()
	signIn(t, b, a, "/")
	p, err := authenticate(t, a, b, nil)
	if err != nil {
		t.Fatal(err)
	}
	if p.Provider != "corp" || p.Method != "session" || !slices.Equal(p.Roles, []string{"editor", "viewer"}) || p.Tenant != "acme" ||
		!slices.Equal(p.Audience, []string{clientID}) || !p.ExpiresAt.Equal(c.Now().Add(signin.DefaultAbsoluteLifetime)) {
		t.Fatalf("principal = %+v", p)
	}
	if v, ok := p.Claim("realm_access.roles"); !ok || len(v.([]any)) != 2 {
		t.Fatalf("Claim(realm_access.roles) = %v, %v", v, ok)
	}
}

func TestMaxAge(t *testing.T) {
	for _, tt := range []struct {
		name     string
		authTime any
		wantErr  error
	}{
		{"recent", time.Now().Add(-time.Minute).Unix(), nil},
		{"too old", time.Now().Add(-time.Hour).Unix(), signin.ErrAuthTime},
		{"missing", nil, signin.ErrAuthTime},
		{"not a number", "yesterday", signin.ErrAuthTime},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := newClock()
			op := newOP(t, "", c.Now)
			op.setHook(func(claims map[string]any, _ string) {
				if tt.authTime != nil {
					claims["auth_time"] = tt.authTime
				}
			})
			var got error
			a := newApp(t, op, c, func(cfg *signin.Config) {
				cfg.MaxAge = 10 * time.Minute
				cfg.OnError = func(w http.ResponseWriter, r *http.Request, err error) { got = err; w.WriteHeader(401) }
			})
			b := newBrowser()
			signIn(t, b, a, "/")
			if op.lastAuth.Get("max_age") != "600" {
				t.Fatalf("max_age = %q, want 600", op.lastAuth.Get("max_age"))
			}
			if !errors.Is(got, tt.wantErr) || (tt.wantErr == nil) != (got == nil) {
				t.Fatalf("callback error = %v, want %v", got, tt.wantErr)
			}
		})
	}
}

// TestLogoutProviderDown: with the provider unreachable, signing out still
// ends the session here.
func TestLogoutProviderDown(t *testing.T) {
	c := newClock()
	op := newOP(t, "", c.Now)
	op.srv.Close()
	a := newApp(t, op, c, nil)
	w := httptest.NewRecorder()
	a.h.Logout(w, httptest.NewRequest("POST", a.srv.URL+"/logout", nil))
	cookies := w.Result().Cookies()
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/" || len(cookies) != 2 || cookies[0].MaxAge >= 0 {
		t.Fatalf("Logout with the provider down = %d to %q, cookies %v", w.Code, w.Header().Get("Location"), cookies)
	}
}
