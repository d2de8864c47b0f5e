package authtest

import (
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// Default credentials of the resource server an IntrospectionServer
// accepts, until SetClient changes them.
const (
	DefaultIntrospectionClientID     = "authtest-api"
	DefaultIntrospectionClientSecret = "authtest-secret"
)

// IntrospectionServer is a stand-in OAuth 2.0 token introspection endpoint
// (RFC 7662, https://www.rfc-editor.org/rfc/rfc7662 — "OAuth 2.0 Token
// Introspection", §2.1 request, §2.2 response, §2.3 errors) on 127.0.0.1,
// answering the way npm oidc-provider (the certified server in interop/)
// does at its "/token/introspection":
//
//   - POST, form-encoded "token" and optional "token_type_hint"; the
//     caller authenticates with client_secret_basic (ID and secret each
//     form-urlencoded before Basic encoding, RFC 6749 §2.3.1) or
//     client_secret_post, else 401 {"error":"invalid_client"};
//   - an unknown, revoked or expired token: 200 {"active":false} and
//     nothing else;
//   - an active token: 200 {"active":true, "iss", "client_id", "sub" (absent
//     for a client-credentials token), "aud", "scope" (space-separated),
//     "token_type":"Bearer", "iat", "exp", "jti"} plus any extra members.
//
// Its issuer is its base URL. Make one with NewIntrospectionServer; it is
// safe for concurrent use.
type IntrospectionServer struct {
	server
	issuer   string
	clientID string
	secret   string
	cfg      config

	mu     sync.Mutex
	tokens map[string]map[string]any
	raw    *rawAnswer
	delay  time.Duration
	last   IntrospectionRequest
}

type rawAnswer struct {
	status int
	body   string
}

// IntrospectionRequest is what the last introspection call carried (never
// the token or the secret).
type IntrospectionRequest struct {
	// AuthMethod is "client_secret_basic", "client_secret_post" or "" when
	// the caller did not authenticate.
	AuthMethod string
	// TokenTypeHint is the token_type_hint sent, if any.
	TokenTypeHint string
}

// NewIntrospectionServer starts an introspection endpoint on 127.0.0.1
// (plain http; WithTLS for https) and closes it with t.Cleanup (t may be
// nil as for NewIssuer). Tokens it issues live WithLifetime (default one
// hour), are minted by the WithNow clock, carry WithAudience (default
// DefaultAudience) and WithClientID (default DefaultClientID).
func NewIntrospectionServer(t testing.TB, opts ...Option) *IntrospectionServer {
	if t != nil {
		t.Helper()
	}
	cfg := newConfig(opts)
	s := &IntrospectionServer{
		cfg:      cfg,
		clientID: DefaultIntrospectionClientID,
		secret:   DefaultIntrospectionClientSecret,
		tokens:   map[string]map[string]any{},
	}
	mux := http.NewServeMux()
	s.issuer = s.init(mux, cfg.tls)
	s.handle(mux, "POST /token/introspection", s.introspect)
	s.begin(t)
	return s
}

// Issuer returns the issuer the answers name in "iss" (the base URL).
func (s *IntrospectionServer) Issuer() string { return s.issuer }

// Endpoint returns the introspection endpoint's URL.
func (s *IntrospectionServer) Endpoint() string { return s.issuer + "/token/introspection" }

// ClientID returns the client ID callers must authenticate with.
func (s *IntrospectionServer) ClientID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.clientID
}

// ClientSecret returns the client secret callers must authenticate with.
func (s *IntrospectionServer) ClientSecret() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.secret
}

// SetClient changes the client ID and secret callers must authenticate
// with (default DefaultIntrospectionClientID and
// DefaultIntrospectionClientSecret).
func (s *IntrospectionServer) SetClient(id, secret string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.clientID, s.secret = id, secret
}

// Token issues a new opaque access token (43 base64url characters, like
// oidc-provider's) and returns it. Its answer has the defaults above,
// overridden by members (a nil value removes one: "sub": nil for a
// client-credentials token).
func (s *IntrospectionServer) Token(members map[string]any) string {
	token := randomID(32)
	s.Activate(token, members)
	return token
}

// Activate makes token active with the default answer overridden by
// members, as Token does for a token of the caller's choosing (a JWT of
// this issuer, say).
func (s *IntrospectionServer) Activate(token string, members map[string]any) {
	now := s.cfg.now()
	lifetime := s.cfg.lifetime
	if lifetime == 0 {
		lifetime = time.Hour
	}
	aud := any(DefaultAudience)
	if len(s.cfg.audience) == 1 {
		aud = s.cfg.audience[0]
	} else if len(s.cfg.audience) > 1 {
		list := make([]any, len(s.cfg.audience))
		for i, a := range s.cfg.audience {
			list[i] = a
		}
		aud = list
	}
	answer := map[string]any{
		"active":     true,
		"iss":        s.issuer,
		"client_id":  s.cfg.clientID,
		"sub":        "authtest-user",
		"aud":        aud,
		"scope":      "read",
		"token_type": "Bearer",
		"iat":        now.Unix(),
		"exp":        now.Add(lifetime).Unix(),
		"jti":        randomID(16),
	}
	for k, v := range members {
		if v == nil {
			delete(answer, k)
		} else {
			answer[k] = v
		}
	}
	s.mu.Lock()
	s.tokens[token] = answer
	s.mu.Unlock()
}

// Revoke makes token inactive: from now on its answer is {"active":false}.
func (s *IntrospectionServer) Revoke(token string) {
	s.mu.Lock()
	delete(s.tokens, token)
	s.mu.Unlock()
}

// Respond makes every introspection call of an authenticated caller
// answer status and body as they are (garbage, an error, a redirect…)
// until Respond(0, ""), which restores the normal answers.
func (s *IntrospectionServer) Respond(status int, body string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if status == 0 {
		s.raw = nil
		return
	}
	s.raw = &rawAnswer{status, body}
}

// Delay makes every call wait d (or until the caller gives up) before it
// answers, to test timeouts. Delay(0) ends it.
func (s *IntrospectionServer) Delay(d time.Duration) {
	s.mu.Lock()
	s.delay = d
	s.mu.Unlock()
}

// Requests returns how many introspection calls the server received,
// failed ones included.
func (s *IntrospectionServer) Requests() int { return s.requests("POST /token/introspection") }

// LastRequest returns what the last introspection call carried.
func (s *IntrospectionServer) LastRequest() IntrospectionRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last
}

func (s *IntrospectionServer) introspect(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	delay := s.delay
	s.mu.Unlock()
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
	}
	if err := r.ParseForm(); err != nil {
		w.WriteHeader(http.StatusBadRequest)
		writeJSON(w, map[string]any{"error": "invalid_request"}, "")
		return
	}
	s.mu.Lock()
	method := s.authenticate(r)
	s.last = IntrospectionRequest{AuthMethod: method, TokenTypeHint: r.PostForm.Get("token_type_hint")}
	raw := s.raw
	answer, ok := s.tokens[r.PostForm.Get("token")]
	s.mu.Unlock()
	w.Header().Set("Cache-Control", "no-store")
	switch {
	case method == "":
		w.Header().Set("WWW-Authenticate", `Basic realm="authtest"`)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		w.Write([]byte(`{"error":"invalid_client","error_description":"client authentication failed"}`))
		return
	case raw != nil:
		w.WriteHeader(raw.status)
		w.Write([]byte(raw.body))
		return
	case r.PostForm.Get("token") == "":
		w.WriteHeader(http.StatusBadRequest)
		writeJSON(w, map[string]any{"error": "invalid_request"}, "")
		return
	}
	if exp, isNumber := numericUnix(answer["exp"]); ok && isNumber && !s.cfg.now().Before(time.Unix(exp, 0)) {
		ok = false // expired: inactive, as RFC 7662 §2.2 says
	}
	if !ok {
		writeJSON(w, map[string]any{"active": false}, "no-store")
		return
	}
	writeJSON(w, answer, "no-store")
}

// numericUnix returns a NumericDate member given as any Go number.
func numericUnix(v any) (int64, bool) {
	switch x := v.(type) {
	case int64:
		return x, true
	case int:
		return int64(x), true
	case float64:
		return int64(x), true
	}
	return 0, false
}

// authenticate returns the client authentication method the caller used
// successfully, or ""; s.mu is held.
func (s *IntrospectionServer) authenticate(r *http.Request) string {
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, cred, _ := strings.Cut(h, " ")
		raw, err := base64.StdEncoding.DecodeString(cred)
		if !strings.EqualFold(scheme, "Basic") || err != nil {
			return ""
		}
		id, secret, _ := strings.Cut(string(raw), ":")
		id, err1 := url.QueryUnescape(id)
		secret, err2 := url.QueryUnescape(secret)
		if err1 != nil || err2 != nil || r.PostForm.Has("client_secret") || !s.valid(id, secret) {
			return ""
		}
		return "client_secret_basic"
	}
	if s.valid(r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")) {
		return "client_secret_post"
	}
	return ""
}

func (s *IntrospectionServer) valid(id, secret string) bool {
	return id == s.clientID && subtle.ConstantTimeCompare([]byte(secret), []byte(s.secret)) == 1
}
