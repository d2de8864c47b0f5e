package signin_test

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/providers"
	"github.com/authgate/authgate/signin"
)

// startLogin runs Login and the provider's authorization for b and returns
// the callback URL the provider sent the browser to, unvisited.
func startLogin(t *testing.T, b *browser, a *app, next string) string {
	t.Helper()
	nf := b.noFollow()
	r1, err := nf.Get(a.srv.URL + "/login?next=" + url.QueryEscape(next))
	if err != nil || r1.StatusCode != http.StatusSeeOther {
		t.Fatalf("GET /login = %v, %v; want 303", r1, err)
	}
	r1.Body.Close()
	r2, err := nf.Get(r1.Header.Get("Location"))
	if err != nil || r2.StatusCode != http.StatusFound {
		t.Fatalf("GET authorize = %v, %v; want 302", r2, err)
	}
	r2.Body.Close()
	return r2.Header.Get("Location")
}

// signIn signs b in to a and returns the response of the landing page.
func signIn(t *testing.T, b *browser, a *app, next string) *http.Response {
	t.Helper()
	return b.get(t, a.srv.URL+"/login?next="+url.QueryEscape(next))
}

// principalOf returns the principal /me shows to b.
func principalOf(t *testing.T, b *browser, a *app) (map[string]any, int) {
	t.Helper()
	resp := b.get(t, a.srv.URL+"/me", "Accept", "application/json")
	var p map[string]any
	json.NewDecoder(resp.Body).Decode(&p)
	return p, resp.StatusCode
}

func TestSignInIssuerShapes(t *testing.T) {
	for _, tt := range []struct {
		name, path string
	}{
		{"oidc", ""},
		{"auth0 trailing slash", "/"},
		{"keycloak realm", "/realms/demo"},
		{"okta authorization server", "/oauth2/default"},
		{"entra tenant", "/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0"},
		{"cognito user pool", "/eu-west-1_AbCdEfGhI"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := newClock()
			op := newOP(t, tt.path, c.Now)
			a := newApp(t, op, c, nil)
			b := newBrowser()
			resp := signIn(t, b, a, "/me")
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != 200 || resp.Request.URL.Path != "/me" {
				t.Fatalf("sign-in landed on %s with %d: %s", resp.Request.URL, resp.StatusCode, body)
			}
			var p map[string]any
			json.Unmarshal(body, &p)
			if p["method"] != "session" || p["subject"] != "alice" || p["issuer"] != op.issuer || p["email"] != "alice@example.test" ||
				p["provider"] != "signin" || !slices.Equal(asStrings(p["roles"]), []string{"admin"}) {
				t.Fatalf("principal = %v", p)
			}
			q := op.lastAuth
			if q.Get("nonce") == "" || q.Get("state") == "" || q.Get("code_challenge_method") != "S256" ||
				q.Get("redirect_uri") != a.srv.URL+"/callback" || q.Get("scope") != "openid profile email" {
				t.Fatalf("authorization request = %v", q)
			}
		})
	}
}

func asStrings(v any) []string {
	var out []string
	for _, e := range v.([]any) {
		out = append(out, e.(string))
	}
	return out
}

func TestCookieAttributes(t *testing.T) {
	c := newClock()
	op := newOP(t, "", c.Now)
	a := newApp(t, op, c, nil)
	b := newBrowser()
	cb := startLogin(t, b, a, "/me")
	resp, err := b.noFollow().Get(cb)
	if err != nil || resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/me" {
		t.Fatalf("callback = %v, %v", resp, err)
	}
	var session, login *http.Cookie
	for _, ck := range resp.Cookies() {
		switch ck.Name {
		case "authgate":
			session = ck
		case "authgate-login":
			login = ck
		}
	}
	if session == nil || !session.HttpOnly || session.SameSite != http.SameSiteLaxMode || session.Secure ||
		session.Path != "/" || session.Domain != "" || session.MaxAge != int(signin.DefaultAbsoluteLifetime/time.Second) {
		t.Fatalf("session cookie = %+v", session)
	}
	if !strings.HasPrefix(session.Value, "k1.") || strings.Contains(session.Value, "alice") {
		t.Fatalf("session cookie value is not sealed by k1: %q", session.Value)
	}
	if login == nil || login.MaxAge >= 0 {
		t.Fatalf("login cookie not cleared by the callback: %+v", login)
	}
}

func TestSecureCookieOverHTTPS(t *testing.T) {
	c := newClock()
	op := newOP(t, "", c.Now)
	h, err := signin.New(signin.Config{Issuer: op.issuer, ClientID: clientID, RedirectURL: "https://app.example.test/callback",
		Keys: []signin.Key{signin.NewKey("k1")}, TokenOptions: providers.TokenOptions{Now: c.Now}})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	h.Login(rec, httptest.NewRequest("GET", "https://app.example.test/login", nil))
	ck := rec.Result().Cookies()
	if len(ck) != 1 || ck[0].Name != "__Host-authgate-login" || !ck[0].Secure || !ck[0].HttpOnly || ck[0].SameSite != http.SameSiteLaxMode {
		t.Fatalf("login cookie over https = %+v", ck)
	}
}

// TestCallbackAttacks: each forged or replayed callback is refused with a
// clear error and starts no session.
func TestCallbackAttacks(t *testing.T) {
	for _, tt := range []struct {
		name    string
		hook    func(claims map[string]any, access string)
		alter   func(t *testing.T, b *browser, a *app, op *testOP, callback string) string
		status  int
		wantErr error
	}{
		{name: "wrong state", status: 400, wantErr: signin.ErrState,
			alter: func(t *testing.T, b *browser, a *app, op *testOP, cb string) string {
				return setParam(cb, "state", "forged-state")
			}},
		{name: "missing state", status: 400, wantErr: signin.ErrState,
			alter: func(t *testing.T, b *browser, a *app, op *testOP, cb string) string {
				return setParam(cb, "state", "")
			}},
		{name: "replayed state with the old login cookie", status: 400, wantErr: signin.ErrState,
			alter: func(t *testing.T, b *browser, a *app, op *testOP, cb string) string {
				loginCookie := b.cookie(a.srv.URL, "authgate-login")
				if resp := b.get(t, cb); resp.StatusCode != 200 {
					t.Fatalf("first callback = %d", resp.StatusCode)
				}
				b.jar.SetCookies(mustURL(a.srv.URL), []*http.Cookie{{Name: "authgate", Path: "/", MaxAge: -1}})
				b.setCookie(a.srv.URL, "authgate-login", loginCookie)
				return cb
			}},
		{name: "login CSRF: attacker's callback in a browser with no login", status: 400, wantErr: signin.ErrNoLogin,
			alter: func(t *testing.T, b *browser, a *app, op *testOP, cb string) string {
				b.jar.SetCookies(mustURL(a.srv.URL), []*http.Cookie{{Name: "authgate-login", Path: "/", MaxAge: -1}})
				return cb
			}},
		{name: "login CSRF: attacker's callback in a browser with its own login", status: 400, wantErr: signin.ErrState,
			alter: func(t *testing.T, b *browser, a *app, op *testOP, cb string) string {
				victim := newBrowser()
				startLogin(t, victim, a, "/")
				*b = *victim // the attacker's code and state land in the victim's browser
				return cb
			}},
		{name: "login cookie sealed with another key", status: 400, wantErr: signin.ErrNoLogin,
			alter: func(t *testing.T, b *browser, a *app, op *testOP, cb string) string {
				b.setCookie(a.srv.URL, "authgate-login", "k9."+strings.Repeat("A", 80))
				return cb
			}},
		{name: "answer of another issuer (RFC 9207 mix-up)", status: 401, wantErr: signin.ErrIssuerMixUp,
			alter: func(t *testing.T, b *browser, a *app, op *testOP, cb string) string {
				return setParam(cb, "iss", "https://evil.example.test")
			}},
		{name: "provider error", status: 401, wantErr: signin.ErrProviderError,
			alter: func(t *testing.T, b *browser, a *app, op *testOP, cb string) string {
				return setParam(setParam(cb, "code", ""), "error", "access_denied")
			}},
		{name: "code already used", status: 401, wantErr: signin.ErrExchange,
			alter: func(t *testing.T, b *browser, a *app, op *testOP, cb string) string {
				code := mustURL(cb).Query().Get("code")
				op.mu.Lock()
				delete(op.codes, code)
				op.mu.Unlock()
				return cb
			}},
		{name: "wrong nonce", status: 401, wantErr: signin.ErrNonce,
			hook: func(c map[string]any, _ string) { c["nonce"] = "attacker-nonce" }},
		{name: "no nonce", status: 401, wantErr: signin.ErrNonce,
			hook: func(c map[string]any, _ string) { delete(c, "nonce") }},
		{name: "ID token for another client", status: 401, wantErr: authgate.ErrInvalidAudience,
			hook: func(c map[string]any, _ string) { c["aud"] = "other-client" }},
		{name: "azp of another client", status: 401, wantErr: signin.ErrAuthorizedParty,
			hook: func(c map[string]any, _ string) { c["azp"] = "other-client" }},
		{name: "several audiences without azp", status: 401, wantErr: signin.ErrAuthorizedParty,
			hook: func(c map[string]any, _ string) { c["aud"] = []string{clientID, "other-client"} }},
		{name: "at_hash of another access token", status: 401, wantErr: signin.ErrAccessTokenHash,
			hook: func(c map[string]any, _ string) { c["at_hash"] = atHash("another-token") }},
		{name: "expired ID token", status: 401, wantErr: authgate.ErrTokenExpired,
			hook: func(c map[string]any, _ string) {
				c["iat"] = time.Now().Add(-time.Hour).Unix()
				c["exp"] = time.Now().Add(-30 * time.Minute).Unix()
			}},
		{name: "ID token of another issuer", status: 401, wantErr: authgate.ErrNoCredentials,
			hook: func(c map[string]any, _ string) { c["iss"] = "https://evil.example.test" }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := newClock()
			op := newOP(t, "", c.Now)
			op.setHook(tt.hook)
			var got error
			a := newApp(t, op, c, func(cfg *signin.Config) {
				cfg.OnError = func(w http.ResponseWriter, r *http.Request, err error) {
					got = err
					w.WriteHeader(authgate.StatusCode(err))
				}
			})
			b := newBrowser()
			cb := startLogin(t, b, a, "/me")
			if tt.alter != nil {
				cb = tt.alter(t, b, a, op, cb)
			}
			got = nil
			resp := b.get(t, cb)
			if !errors.Is(got, tt.wantErr) {
				t.Fatalf("callback error = %v, want %v", got, tt.wantErr)
			}
			var ae *authgate.Error
			if !errors.As(got, &ae) {
				t.Fatalf("callback error %v is not an *authgate.Error", got)
			}
			if resp.StatusCode != tt.status && !(tt.wantErr == authgate.ErrNoCredentials && resp.StatusCode == 401) {
				t.Fatalf("callback status = %d, want %d", resp.StatusCode, tt.status)
			}
			if v := b.cookie(a.srv.URL, "authgate"); v != "" && tt.name != "replayed state with the old login cookie" {
				t.Fatalf("a session cookie was set: %q", v)
			}
			if _, status := principalOf(t, b, a); status != 401 {
				t.Fatalf("after a refused callback /me = %d, want 401", status)
			}
		})
	}
}

func TestDefaultErrorPage(t *testing.T) {
	c := newClock()
	op := newOP(t, "", c.Now)
	op.setHook(func(c map[string]any, _ string) { c["nonce"] = "x" })
	a := newApp(t, op, c, nil)
	b := newBrowser()
	resp := b.get(t, startLogin(t, b, a, "/"))
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 401 || !strings.Contains(string(body), "Sign-in failed") || strings.Contains(string(body), "eyJ") {
		t.Fatalf("error page = %d %q", resp.StatusCode, body)
	}
}

func setParam(raw, name, value string) string {
	u := mustURL(raw)
	q := u.Query()
	if value == "" {
		q.Del(name)
	} else {
		q.Set(name, value)
	}
	u.RawQuery = q.Encode()
	return u.String()
}

func mustURL(raw string) *url.URL {
	u, err := url.Parse(raw)
	if err != nil {
		panic(err)
	}
	return u
}

func TestOpenRedirect(t *testing.T) {
	c := newClock()
	op := newOP(t, "", c.Now)
	a := newApp(t, op, c, nil)
	for _, next := range []string{
		"https://evil.example.test/", "//evil.example.test/", "/\\evil.example.test", "\\\\evil.example.test",
		"http:evil.example.test", "javascript:alert(1)", "/\r\nSet-Cookie:x=y", "evil", "/\t/evil.example.test",
	} {
		t.Run(next, func(t *testing.T) {
			b := newBrowser()
			cb := startLogin(t, b, a, next)
			resp, err := b.noFollow().Get(cb)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || loc != "/" {
				t.Fatalf("callback after next=%q redirects to %q (%d), want /", next, loc, resp.StatusCode)
			}
		})
	}
	b := newBrowser()
	if resp := signIn(t, b, a, "/reports?year=2026"); resp.Request.URL.RequestURI() != "/reports?year=2026" {
		t.Fatalf("a same-origin next landed on %s", resp.Request.URL)
	}
}

func TestSafeRedirect(t *testing.T) {
	for _, tt := range []struct {
		in string
		ok bool
	}{
		{"/", true}, {"/a/b?c=d#e", true}, {"", false}, {"//x", false}, {"/\\x", false}, {"https://x/", false},
		{"x", false}, {"/a\nb", false}, {"/" + strings.Repeat("a", 2048), false},
	} {
		if _, ok := signin.SafeRedirect(tt.in); ok != tt.ok {
			t.Errorf("SafeRedirect(%q) = %v, want %v", tt.in, ok, tt.ok)
		}
	}
}
