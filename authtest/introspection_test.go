package authtest_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/authgate/authgate/authtest"
)

// introspect posts token to s as a resource server would; auth is called
// first with the form (to add client_secret_post parameters), then with
// the request and a nil form (to add a header).
func introspect(t *testing.T, s *authtest.IntrospectionServer, token string, auth func(*http.Request, url.Values)) (int, map[string]any) {
	t.Helper()
	form := url.Values{"token": {token}, "token_type_hint": {"access_token"}}
	auth(nil, form)
	req, _ := http.NewRequest(http.MethodPost, s.Endpoint(), strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	auth(req, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func TestIntrospectionServer(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	s := authtest.NewIntrospectionServer(t, authtest.WithNow(func() time.Time { return now }))
	basic := func(r *http.Request, form url.Values) {
		if form == nil {
			r.SetBasicAuth(url.QueryEscape(s.ClientID()), url.QueryEscape(s.ClientSecret()))
		}
	}
	postAuth := func(r *http.Request, form url.Values) {
		if form != nil {
			form.Set("client_id", s.ClientID())
			form.Set("client_secret", s.ClientSecret())
		}
	}
	wrong := func(r *http.Request, form url.Values) {
		if form == nil {
			r.SetBasicAuth(s.ClientID(), "wrong")
		}
	}
	tok := s.Token(map[string]any{"sub": nil, "roles": []string{"a"}})

	tests := []struct {
		name       string
		token      string
		auth       func(*http.Request, url.Values)
		wantStatus int
		wantActive bool
		wantMethod string
	}{
		{"basic", tok, basic, 200, true, "client_secret_basic"},
		{"post", tok, postAuth, 200, true, "client_secret_post"},
		{"wrong secret", tok, wrong, 401, false, ""},
		{"unknown token", "nope", basic, 200, false, "client_secret_basic"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := introspect(t, s, tt.token, tt.auth)
			if status != tt.wantStatus || (body["active"] == true) != tt.wantActive {
				t.Fatalf("introspect = %d %v, want %d active %v", status, body, tt.wantStatus, tt.wantActive)
			}
			if got := s.LastRequest(); got.AuthMethod != tt.wantMethod || got.TokenTypeHint != "access_token" {
				t.Errorf("LastRequest() = %+v, want method %q", got, tt.wantMethod)
			}
			if tt.wantActive {
				if _, hasSub := body["sub"]; hasSub || body["iss"] != s.Issuer() || body["client_id"] != authtest.DefaultClientID ||
					body["token_type"] != "Bearer" || body["exp"] != float64(now.Add(time.Hour).Unix()) || body["aud"] != authtest.DefaultAudience {
					t.Errorf("active answer = %v", body)
				}
			} else if status == 200 && len(body) != 1 {
				t.Errorf("inactive answer = %v, want {\"active\":false} alone", body)
			}
		})
	}
	if n := s.Requests(); n != len(tests) {
		t.Errorf("Requests() = %d, want %d", n, len(tests))
	}

	s.Revoke(tok)
	if _, body := introspect(t, s, tok, basic); body["active"] != false {
		t.Errorf("revoked token answer = %v, want inactive", body)
	}
	expired := s.Token(map[string]any{"exp": now.Unix()})
	if _, body := introspect(t, s, expired, basic); body["active"] != false {
		t.Errorf("expired token answer = %v, want inactive", body)
	}
	s.Respond(200, "garbage")
	if status, _ := introspect(t, s, expired, basic); status != 200 {
		t.Errorf("Respond(200, garbage): status %d", status)
	}
}
