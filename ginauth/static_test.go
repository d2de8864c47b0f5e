package ginauth_test

import (
	"crypto"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/apikey"
	"github.com/authgate/authgate/chain"
	"github.com/authgate/authgate/ginauth"
	"github.com/authgate/authgate/internal/authfake"
	"github.com/authgate/authgate/providers"
	"github.com/authgate/authgate/static"
)

const (
	staticIssuer   = "https://static.example/"
	staticAudience = "https://api.example/"
)

var epoch = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func clock() time.Time { return epoch }

// signer mints compact JWS tokens with crypto/rsa or crypto/hmac.
type signer struct {
	alg    string
	kid    string
	rsa    *rsa.PrivateKey
	secret []byte
}

func (s signer) token(tb testing.TB, claims map[string]any) string {
	tb.Helper()
	enc := base64.RawURLEncoding
	header, _ := json.Marshal(map[string]string{"alg": s.alg, "typ": "JWT", "kid": s.kid})
	payload, err := json.Marshal(claims)
	if err != nil {
		tb.Fatal(err)
	}
	input := enc.EncodeToString(header) + "." + enc.EncodeToString(payload)
	var sig []byte
	switch s.alg {
	case "RS256":
		sum := sha256.Sum256([]byte(input))
		if sig, err = rsa.SignPKCS1v15(rand.Reader, s.rsa, crypto.SHA256, sum[:]); err != nil {
			tb.Fatal(err)
		}
	case "HS256":
		m := hmac.New(sha256.New, s.secret)
		m.Write([]byte(input))
		sig = m.Sum(nil)
	default:
		tb.Fatalf("signer: unsupported alg %s", s.alg)
	}
	return input + "." + enc.EncodeToString(sig)
}

func claimsFor(sub string, extra map[string]any) map[string]any {
	c := map[string]any{
		"iss": staticIssuer, "aud": staticAudience, "sub": sub,
		"iat": epoch.Add(-time.Minute).Unix(), "exp": epoch.Add(5 * time.Minute).Unix(),
		"roles": []string{"editor"},
	}
	for k, v := range extra {
		c[k] = v
	}
	return c
}

// newStatic returns a static authenticator for alg and the signer of its
// tokens.
func newStatic(tb testing.TB, alg string) (*static.Authenticator, signer) {
	tb.Helper()
	s := signer{alg: alg, kid: "k1"}
	var key providers.Key
	switch alg {
	case "RS256":
		priv, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			tb.Fatal(err)
		}
		s.rsa, key = priv, providers.PublicKey(&priv.PublicKey)
	case "HS256":
		s.secret = make([]byte, 32)
		_, _ = rand.Read(s.secret)
		key = providers.SecretKey(s.secret)
	}
	key.ID = "k1"
	a, err := static.New(static.Config{
		Keys: []providers.Key{key}, Algorithms: []string{alg},
		Issuer: staticIssuer, Audience: []string{staticAudience}, Now: clock,
	})
	if err != nil {
		tb.Fatal(err)
	}
	return a, s
}

// TestStaticEndToEnd runs real RS256 tokens through chain.Any(static,
// API keys) and ginauth: the adapters and the chain must keep the
// provider's outcomes intact.
func TestStaticEndToEnd(t *testing.T) {
	st, sign := newStatic(t, "RS256")
	_, other := newStatic(t, "HS256")
	e := gin.New()
	e.GET("/articles/:id", ginauth.Require(chain.Any(st, &authfake.APIKey{Name: "apikey"}), ginauth.WithLogger(nil)), ginauth.RequireRoles("editor"), (&handler{}).serve)

	valid := sign.token(t, claimsFor("alice", nil))
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
		{name: "expired", header: []string{"Authorization", "Bearer " + sign.token(t, claimsFor("alice", map[string]any{"iat": epoch.Add(-10 * time.Minute).Unix(), "exp": epoch.Add(-2 * time.Minute).Unix()}))},
			wantStatus: 401, wantChall: `Bearer realm="api", error="invalid_token", error_description="Token has expired"`},
		{name: "tampered signature", header: []string{"Authorization", "Bearer " + tampered},
			wantStatus: 401, wantChall: `Bearer realm="api", error="invalid_token", error_description="Invalid token"`},
		{name: "wrong audience", header: []string{"Authorization", "Bearer " + sign.token(t, claimsFor("alice", map[string]any{"aud": "https://other.example/"}))},
			wantStatus: 401, wantChall: `Bearer realm="api", error="invalid_token", error_description="Invalid token"`},
		{name: "issuer nobody claims", header: []string{"Authorization", "Bearer " + other.token(t, claimsFor("alice", map[string]any{"iss": "https://evil.example/"}))},
			wantStatus: 401, wantChall: `Bearer realm="api", error="invalid_token", error_description="Invalid token"`},
		{name: "missing role", header: []string{"Authorization", "Bearer " + sign.token(t, claimsFor("bob", map[string]any{"roles": []string{"reader"}}))},
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
// invalid_token (SECURITY.md §4 A 1–2, J 186).
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
