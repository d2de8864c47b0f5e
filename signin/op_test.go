package signin_test

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authgate/authgate/authtest"
	"github.com/authgate/authgate/providers"
	"github.com/authgate/authgate/signin"
)

// testOP is an OpenID provider in the test's process: discovery,
// authorization (which signs in its configured user at once), the token
// endpoint (authorization_code with PKCE S256 and client_secret_basic;
// refresh_token) and an end-session endpoint. Its keys and token minting
// are authtest's: jwks_uri is an authtest.Issuer's key set, and ID tokens
// are that issuer's tokens with this OP's "iss".
type testOP struct {
	t      *testing.T
	srv    *httptest.Server
	keys   *authtest.Issuer
	issuer string
	now    func() time.Time

	mu     sync.Mutex
	codes  map[string]grant
	user   map[string]any                                  // claims of the next sign-in
	idHook func(claims map[string]any, accessToken string) // alters the next ID tokens
	// exchanges counts token endpoint calls.
	exchanges atomic.Int64
	// lastAuth holds the query of the last authorization request.
	lastAuth  url.Values
	expiresIn int
}

type grant struct {
	clientID, redirect, challenge, nonce string
	claims                               map[string]any
}

const (
	clientID     = "webapp"
	clientSecret = "webapp-secret"
)

// newOP starts a test OP whose issuer is its URL plus path ("" or a path
// such as "/realms/demo"; a trailing "/" gives Auth0's shape).
func newOP(t *testing.T, path string, now func() time.Time, opts ...authtest.Option) *testOP {
	op := &testOP{t: t, now: now, codes: map[string]grant{}, expiresIn: 300,
		user: map[string]any{"sub": "alice", "email": "alice@example.test", "name": "Alice", "roles": []string{"admin"}}}
	op.keys = authtest.NewIssuer(t, append([]authtest.Option{authtest.WithNow(now)}, opts...)...)
	mux := http.NewServeMux()
	op.srv = httptest.NewServer(mux)
	t.Cleanup(op.srv.Close)
	op.issuer = op.srv.URL + path
	base := strings.TrimSuffix(op.issuer, "/")
	mux.HandleFunc("GET "+strings.TrimSuffix(path, "/")+"/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]any{
			"issuer":                                op.issuer,
			"authorization_endpoint":                base + "/authorize",
			"token_endpoint":                        base + "/token",
			"jwks_uri":                              op.keys.JWKSURL(),
			"end_session_endpoint":                  base + "/logout",
			"response_types_supported":              []string{"code"},
			"code_challenge_methods_supported":      []string{"S256"},
			"token_endpoint_auth_methods_supported": []string{"client_secret_basic"},
			"id_token_signing_alg_values_supported": []string{"RS256"},
		})
	})
	mux.HandleFunc("GET "+strings.TrimSuffix(path, "/")+"/authorize", op.authorize)
	mux.HandleFunc("POST "+strings.TrimSuffix(path, "/")+"/token", op.token)
	mux.HandleFunc("GET "+strings.TrimSuffix(path, "/")+"/logout", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("signed out at the provider"))
	})
	return op
}

func (op *testOP) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	op.mu.Lock()
	op.lastAuth = q
	claims := map[string]any{}
	for k, v := range op.user {
		claims[k] = v
	}
	op.mu.Unlock()
	if q.Get("response_type") != "code" || q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" ||
		q.Get("client_id") != clientID || !strings.Contains(q.Get("scope"), "openid") {
		http.Error(w, "bad authorization request", http.StatusBadRequest)
		return
	}
	code := randomID()
	op.mu.Lock()
	op.codes[code] = grant{clientID: q.Get("client_id"), redirect: q.Get("redirect_uri"), challenge: q.Get("code_challenge"), nonce: q.Get("nonce"), claims: claims}
	op.mu.Unlock()
	u, _ := url.Parse(q.Get("redirect_uri"))
	v := url.Values{"code": {code}, "state": {q.Get("state")}}
	u.RawQuery = v.Encode()
	http.Redirect(w, r, u.String(), http.StatusFound)
}

func (op *testOP) token(w http.ResponseWriter, r *http.Request) {
	op.exchanges.Add(1)
	id, secret, ok := r.BasicAuth()
	if !ok || id != clientID || secret != clientSecret {
		tokenError(w, http.StatusUnauthorized, "invalid_client")
		return
	}
	r.ParseForm()
	var g grant
	switch r.PostForm.Get("grant_type") {
	case "authorization_code":
		op.mu.Lock()
		var found bool
		g, found = op.codes[r.PostForm.Get("code")]
		delete(op.codes, r.PostForm.Get("code")) // one use
		op.mu.Unlock()
		sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
		if !found || g.redirect != r.PostForm.Get("redirect_uri") || base64.RawURLEncoding.EncodeToString(sum[:]) != g.challenge {
			tokenError(w, http.StatusBadRequest, "invalid_grant")
			return
		}
	case "refresh_token":
		if !strings.HasPrefix(r.PostForm.Get("refresh_token"), "rt-") {
			tokenError(w, http.StatusBadRequest, "invalid_grant")
			return
		}
		op.mu.Lock()
		g.claims = map[string]any{}
		for k, v := range op.user {
			g.claims[k] = v
		}
		op.mu.Unlock()
	default:
		tokenError(w, http.StatusBadRequest, "unsupported_grant_type")
		return
	}
	access := "at-" + randomID()
	claims := map[string]any{"iss": op.issuer, "aud": clientID, "at_hash": atHash(access)}
	if g.nonce != "" {
		claims["nonce"] = g.nonce
	}
	for k, v := range g.claims {
		claims[k] = v
	}
	op.mu.Lock()
	hook := op.idHook
	expiresIn := op.expiresIn
	op.mu.Unlock()
	if hook != nil {
		hook(claims, access)
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{
		"access_token":  access,
		"token_type":    "Bearer",
		"expires_in":    expiresIn,
		"refresh_token": "rt-" + randomID(),
		"id_token":      op.keys.Token(claims),
	})
}

func tokenError(w http.ResponseWriter, status int, code string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"error": code})
}

func atHash(access string) string {
	sum := sha256.Sum256([]byte(access))
	return base64.RawURLEncoding.EncodeToString(sum[:16])
}

func randomID() string { return rand.Text() }

// setHook sets the ID token hook of the next token responses.
func (op *testOP) setHook(f func(claims map[string]any, accessToken string)) {
	op.mu.Lock()
	op.idHook = f
	op.mu.Unlock()
}

// setUser sets the claims of the next sign-ins.
func (op *testOP) setUser(claims map[string]any) {
	op.mu.Lock()
	op.user = claims
	op.mu.Unlock()
}

// clock is a test clock that moves only when told.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Now().Truncate(time.Second)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// app is a web application on an httptest server with the sign-in
// handlers mounted and a page that shows the principal.
type app struct {
	srv *httptest.Server
	h   *signin.Handler
}

func newApp(t *testing.T, op *testOP, c *clock, tweak func(*signin.Config)) *app {
	t.Helper()
	a := &app{}
	mux := http.NewServeMux()
	a.srv = httptest.NewServer(mux)
	t.Cleanup(a.srv.Close)
	cfg := signin.Config{
		Issuer:       op.issuer,
		ClientID:     clientID,
		ClientSecret: clientSecret,
		RedirectURL:  a.srv.URL + "/callback",
		Keys:         []signin.Key{signin.NewKey("k1")},
		TokenOptions: providers.TokenOptions{Now: c.Now, Logger: slog.New(slog.DiscardHandler)},
	}
	if tweak != nil {
		tweak(&cfg)
	}
	h, err := signin.New(cfg)
	if err != nil {
		t.Fatalf("signin.New: %v", err)
	}
	a.h = h
	mux.HandleFunc("/login", h.Login)
	mux.HandleFunc("/callback", h.Callback)
	mux.HandleFunc("/logout", h.Logout)
	mux.HandleFunc("/me", func(w http.ResponseWriter, r *http.Request) {
		p, err := h.Authenticator().Authenticate(r)
		if err != nil {
			h.WriteError(w, r, err)
			return
		}
		json.NewEncoder(w).Encode(p)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("home " + r.URL.Path)) })
	return a
}

// browser is an HTTP client with a cookie jar that follows redirects
// unless told not to.
type browser struct {
	*http.Client
	jar *cookiejar.Jar
}

func newBrowser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{Client: &http.Client{Jar: jar, Timeout: 10 * time.Second}, jar: jar}
}

// noFollow returns a copy of the browser that stops at redirects.
func (b *browser) noFollow() *http.Client {
	c := *b.Client
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &c
}

func (b *browser) get(t *testing.T, u string, header ...string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest("GET", u, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := b.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// cookie returns the value of the cookie name the browser holds for u.
func (b *browser) cookie(u, name string) string {
	pu, _ := url.Parse(u)
	for _, c := range b.jar.Cookies(pu) {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

func (b *browser) setCookie(u, name, value string) {
	pu, _ := url.Parse(u)
	b.jar.SetCookies(pu, []*http.Cookie{{Name: name, Value: value, Path: "/"}})
}
