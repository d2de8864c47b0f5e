package ginauth_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/apikey"
	"github.com/authgate/authgate/authtest"
	"github.com/authgate/authgate/chain"
	"github.com/authgate/authgate/ginauth"
	"github.com/authgate/authgate/internal/authfake"
	"github.com/authgate/authgate/providers"
	"github.com/authgate/authgate/static"
)

const staticAudience = "https://api.example/"

var epoch = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func clock() time.Time { return epoch }

// claimsFor returns the claims of an editor's token; the issuer adds iss,
// aud, iat (epoch) and exp (epoch + 5 min).
func claimsFor(sub string, extra map[string]any) map[string]any {
	c := map[string]any{"sub": sub, "roles": []string{"editor"}}
	for k, v := range extra {
		c[k] = v
	}
	return c
}

// newStatic returns a static authenticator for alg (RS256, HS256, …) and
// the issuer whose keys it holds.
func newStatic(tb testing.TB, alg string) (*static.Authenticator, *authtest.Issuer) {
	tb.Helper()
	iss := authtest.NewIssuer(tb, authtest.WithAlgorithms(alg), authtest.WithAudience(staticAudience), authtest.WithNow(clock))
	a, err := static.New(static.Config{
		Keys:   iss.Keys(),
		Issuer: iss.Issuer(),
		TokenOptions: providers.TokenOptions{
			Algorithms: []string{alg},
			Audience:   []string{staticAudience},
			Now:        clock,
		},
	})
	if err != nil {
		tb.Fatal(err)
	}
	return a, iss
}

// TestStaticEndToEnd runs real RS256 tokens through chain.Any(static,
// API keys) and ginauth: the adapters and the chain must keep the
// provider's outcomes intact.
func TestStaticEndToEnd(t *testing.T) {
	st, sign := newStatic(t, "RS256")
	_, other := newStatic(t, "HS256")
	e := gin.New()
	e.GET("/articles/:id", ginauth.Require(chain.Any(st, &authfake.APIKey{Name: "apikey"}), ginauth.WithLogger(nil)), ginauth.RequireRoles("editor"), (&handler{}).serve)

	valid := sign.Token(claimsFor("alice", nil))
	tampered := valid[:len(valid)-4] + "AAAA"
	tests := []struct {
		name       string
		header     []string
		wantStatus int
		wantChall  string
		wantBody   string
	}{
		{name: "valid", header: []string{"Authorization", "Bearer " + valid}, wantStatus: 200, wantBody: "sub=alice ctx=alice"},
		{name: "no credentials", wantStatus: 401, wantChall: `Bearer realm="api", ApiKey realm="api", header="X-API-Key"`},
		{name: "expired", header: []string{"Authorization", "Bearer " + sign.Token(claimsFor("alice", map[string]any{"iat": epoch.Add(-10 * time.Minute).Unix(), "exp": epoch.Add(-2 * time.Minute).Unix()}))},
			wantStatus: 401, wantChall: `Bearer realm="api", error="invalid_token", error_description="Token has expired"`},
		{name: "tampered signature", header: []string{"Authorization", "Bearer " + tampered},
			wantStatus: 401, wantChall: `Bearer realm="api", error="invalid_token", error_description="Invalid token"`},
		{name: "wrong audience", header: []string{"Authorization", "Bearer " + sign.Token(claimsFor("alice", map[string]any{"aud": "https://other.example/"}))},
			wantStatus: 401, wantChall: `Bearer realm="api", error="invalid_token", error_description="Invalid token"`},
		{name: "issuer nobody claims", header: []string{"Authorization", "Bearer " + other.Token(claimsFor("alice", map[string]any{"iss": "https://evil.example/"}))},
			wantStatus: 401, wantChall: `Bearer realm="api", error="invalid_token", error_description="Invalid token"`},
		{name: "missing role", header: []string{"Authorization", "Bearer " + sign.Token(claimsFor("bob", map[string]any{"roles": []string{"reader"}}))},
			wantStatus: 403, wantChall: `Bearer realm="api", error="insufficient_scope", error_description="Insufficient permissions", scope="editor"`},
		{name: "token beside an api key", header: []string{"Authorization", "Bearer " + valid, "X-API-Key", "ak_svc"},
			wantStatus: 400, wantChall: `Bearer realm="api", error="invalid_request", error_description="More than one credential was sent"`},
		{name: "api key", header: []string{"X-API-Key", "ak_svc"}, wantStatus: 403,
			wantChall: `Bearer realm="api", error="insufficient_scope", error_description="Insufficient permissions", scope="editor"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := do(e, http.MethodGet, "/articles/1", tt.header...)
			if w.Code != tt.wantStatus {
				t.Fatalf("status = %d, want %d (%s)", w.Code, tt.wantStatus, w.Body)
			}
			if got := w.Header().Get("WWW-Authenticate"); got != tt.wantChall {
				t.Errorf("WWW-Authenticate = %s, want %s", got, tt.wantChall)
			}
			if tt.wantBody != "" && w.Body.String() != tt.wantBody {
				t.Errorf("body = %q, want %q", w.Body, tt.wantBody)
			}
		})
	}
	// The provider's sentinel survives chain and adapter.
	var seen error
	e2 := gin.New()
	e2.GET("/x", ginauth.Require(chain.Any(st), ginauth.WithLogger(nil), ginauth.WithErrorHandler(func(c *gin.Context, err error) {
		seen = err
		c.Status(http.StatusUnauthorized)
	})))
	do(e2, http.MethodGet, "/x", "Authorization", "Bearer "+tampered)
	if !errors.Is(seen, authgate.ErrInvalidSignature) {
		t.Errorf("error handler got %v, want ErrInvalidSignature", seen)
	}
}

// TestRealChainChallenges: chain.Any of the real static and apikey
// authenticators answers an unsupported scheme and a missing credential with
// bare challenges for both schemes, and a bearer nobody claims with
// invalid_token (SECURITY.md#attacks-http, #chains).
func TestRealChainChallenges(t *testing.T) {
	gin.SetMode(gin.TestMode)
	st, _ := newStatic(t, "RS256")
	keys, err := apikey.New(apikey.NewMemoryStore(), apikey.Config{Prefix: "sk_live"})
	if err != nil {
		t.Fatal(err)
	}
	defer keys.Close()
	e := gin.New()
	e.GET("/x", ginauth.Require(chain.Any(st, keys), ginauth.WithLogger(nil)), func(c *gin.Context) { c.Status(200) })
	bare := `Bearer realm="api", ApiKey realm="api", header="X-API-Key"`
	for _, tt := range []struct {
		auth, want string
	}{
		{"", bare},
		{"Basic YWxhZGRpbjpvcGVuc2VzYW1l", bare},
		{"Digest username=x", bare},
		{"Bearer not-a-jwt", `Bearer realm="api", error="invalid_token", error_description="Invalid token"`},
	} {
		r := httptest.NewRequest("GET", "/x", nil)
		if tt.auth != "" {
			r.Header.Set("Authorization", tt.auth)
		}
		w := httptest.NewRecorder()
		e.ServeHTTP(w, r)
		if w.Code != 401 || w.Header().Get("WWW-Authenticate") != tt.want {
			t.Errorf("Authorization %q: %d %q, want 401 %q", tt.auth, w.Code, w.Header().Get("WWW-Authenticate"), tt.want)
		}
	}
}
