package static_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/internal/jwttest"
	"github.com/authgate/authgate/providers"
	"github.com/authgate/authgate/static"
)

const (
	issuer = "https://issuer.test/"
	api    = "orders-api"
)

// now is the frozen clock of every test here (SECURITY.md#time-claims).
var now = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

func clock() time.Time { return now }

func claims(extra map[string]any) map[string]any {
	c := map[string]any{
		"iss": issuer, "aud": api, "sub": "user-1",
		"exp": now.Unix() + 300, "iat": now.Unix() - 1,
	}
	for k, v := range extra {
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
	}
	return c
}

func newRS256(t testing.TB, mod func(*static.Config)) (*static.Authenticator, *rsa.PrivateKey) {
	t.Helper()
	priv := jwttest.Key("RS256", "").(*rsa.PrivateKey)
	k := providers.PublicKey(&priv.PublicKey)
	k.ID = "k1"
	cfg := static.Config{
		Keys:   []providers.Key{k},
		Issuer: issuer,
		TokenOptions: providers.TokenOptions{
			Algorithms: []string{"RS256"},
			Audience:   []string{api},
			Now:        clock,
		},
	}
	if mod != nil {
		mod(&cfg)
	}
	a, err := static.New(cfg)
	if err != nil {
		t.Fatalf("static.New: %v", err)
	}
	return a, priv
}

func request(auth ...string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "/api/me", nil)
	for _, v := range auth {
		r.Header.Add("Authorization", v)
	}
	return r
}

func TestAuthenticateValid(t *testing.T) {
	a, priv := newRS256(t, nil)
	tok := jwttest.Token("RS256", "k1", priv, claims(map[string]any{
		"roles": []string{"admin", "editor"}, "scope": "read write", "email": "a@example.com",
		"name": "Ada", "tenant": "t1", "permissions": []string{"articles:delete"}, "jti": "tok-7",
	}))
	p, err := a.Authenticate(request("Bearer " + tok))
	if err != nil {
		t.Fatalf("Authenticate = %v, want nil", err)
	}
	if p.Subject != "user-1" || p.Issuer != issuer || p.Provider != "static" || p.Method != "jwt" ||
		p.Email != "a@example.com" || p.Name != "Ada" || p.Tenant != "t1" || p.TokenID != "tok-7" {
		t.Errorf("principal = %+v", p)
	}
	if !p.HasRole("admin") || !p.HasScope("write") || !p.HasPermission("articles:delete") || p.HasRole("root") {
		t.Errorf("roles %v scopes %v permissions %v", p.Roles, p.Scopes, p.Permissions)
	}
	if len(p.Audience) != 1 || p.Audience[0] != api {
		t.Errorf("Audience = %v", p.Audience)
	}
	if !p.ExpiresAt.Equal(time.Unix(now.Unix()+300, 0)) || !p.IssuedAt.Equal(time.Unix(now.Unix()-1, 0)) {
		t.Errorf("ExpiresAt %v IssuedAt %v", p.ExpiresAt, p.IssuedAt)
	}
	if p.Header.Map()["kid"] != "k1" || p.Header.Map()["alg"] != "RS256" {
		t.Errorf("Header = %v", p.Header)
	}
}

// TestExtraction covers SECURITY.md#attacks-http at the authenticator.
func TestExtraction(t *testing.T) {
	a, priv := newRS256(t, nil)
	tok := jwttest.Token("RS256", "k1", priv, claims(nil))
	tests := []struct {
		name    string
		auth    []string
		url     string
		wantErr error // nil: accepted
	}{
		{"no header", nil, "", authgate.ErrNoCredentials},
		{"basic", []string{"Basic dXNlcjpwYXNz"}, "", authgate.ErrNoCredentials},
		{"digest", []string{"Digest username=x"}, "", authgate.ErrNoCredentials},
		{"token scheme", []string{"Token abc"}, "", authgate.ErrNoCredentials},
		{"bearer alone", []string{"Bearer"}, "", authgate.ErrMalformedRequest},
		{"bearer space", []string{"Bearer "}, "", authgate.ErrMalformedRequest},
		{"lower case", []string{"bearer " + tok}, "", nil},
		{"upper case", []string{"BEARER " + tok}, "", nil},
		{"mixed case", []string{"bEaReR " + tok}, "", nil},
		{"several spaces", []string{"Bearer   " + tok}, "", nil},
		{"tab", []string{"Bearer\t" + tok}, "", authgate.ErrMalformedRequest},
		{"nbsp", []string{"Bearer\u00a0" + tok}, "", authgate.ErrMalformedRequest},
		{"em space", []string{"Bearer\u2003" + tok}, "", authgate.ErrMalformedRequest},
		{"space inside", []string{"Bearer a b"}, "", authgate.ErrMalformedRequest},
		{"trailing word", []string{"Bearer " + tok + " x"}, "", authgate.ErrMalformedRequest},
		{"brace", []string{`Bearer {"payload":"x"}`}, "", authgate.ErrMalformedRequest},
		{"non-ascii", []string{"Bearer tök"}, "", authgate.ErrMalformedRequest},
		{"newline", []string{"Bearer " + tok[:20] + "\n" + tok[20:]}, "", authgate.ErrMalformedRequest},
		{"two headers", []string{"Bearer " + tok, "Bearer " + tok}, "", authgate.ErrMalformedRequest},
		{"bearer and basic", []string{"Bearer " + tok, "Basic dXNlcjpwYXNz"}, "", authgate.ErrMalformedRequest},
		{"comma joined", []string{"Bearer " + tok + ", Bearer " + tok}, "", authgate.ErrMalformedRequest},
		{"header and query", []string{"Bearer " + tok}, "/x?access_token=" + tok, authgate.ErrMalformedRequest},
		{"query only", nil, "/x?access_token=" + tok, authgate.ErrNoCredentials},
		{"not a jwt", []string{"Bearer ag_abcdef"}, "", authgate.ErrUnrecognizedCredential},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := request(tt.auth...)
			if tt.url != "" {
				r = httptest.NewRequest(http.MethodGet, tt.url, nil)
				for _, v := range tt.auth {
					r.Header.Add("Authorization", v)
				}
			}
			p, err := a.Authenticate(r)
			if tt.wantErr == nil {
				if err != nil || p == nil {
					t.Fatalf("Authenticate = %v, %v; want a principal", p, err)
				}
				return
			}
			if !errors.Is(err, tt.wantErr) || p != nil {
				t.Fatalf("Authenticate = %v, %v; want %v", p, err, tt.wantErr)
			}
			if errors.Is(tt.wantErr, authgate.ErrNoCredentials) && !authgate.IsNotMine(err) {
				t.Errorf("IsNotMine(%v) = false", err)
			}
		})
	}
}

// hdr signs claims under a hand-written header.
func hdr(priv any, alg, header string, c map[string]any) string {
	return jwttest.Sign(alg, priv, []byte(header), jwttest.JSON(c))
}

// TestRejections covers SECURITY.md#attacks-framing, #attacks-header and #attacks-claims as table tests; each case
// names the sentinel the rejection must carry.
func TestRejections(t *testing.T) {
	a, priv := newRS256(t, nil)
	valid := jwttest.Token("RS256", "k1", priv, claims(nil))
	parts := strings.Split(valid, ".")
	other := jwttest.Key("RS256", "other").(*rsa.PrivateKey)
	ec := jwttest.Key("ES256", "")
	pubDER, _ := x509.MarshalPKIXPublicKey(&priv.PublicKey)
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})
	raw := func(h, c string) string { return jwttest.Sign("RS256", priv, []byte(h), []byte(c)) }
	rsHdr := `{"alg":"RS256","kid":"k1"}`
	future := now.Unix() + 300
	tests := []struct {
		name    string
		token   string
		wantErr error
	}{
		// B. framing
		{"one segment", "abc", authgate.ErrUnrecognizedCredential},
		{"two segments", parts[0] + "." + parts[1], authgate.ErrUnrecognizedCredential},
		{"four segments", valid + ".x", authgate.ErrUnrecognizedCredential},
		{"jwe shape", "a.b.c.d.e", authgate.ErrUnrecognizedCredential},
		{"dots", "....", authgate.ErrUnrecognizedCredential},
		{"many dots", valid + strings.Repeat(".", 100000), authgate.ErrUnrecognizedCredential},
		{"empty signature", parts[0] + "." + parts[1] + ".", authgate.ErrUnrecognizedCredential},
		{"empty header", "." + parts[1] + "." + parts[2], authgate.ErrUnrecognizedCredential},
		{"padding", valid + "=", authgate.ErrUnrecognizedCredential},
		{"standard alphabet", strings.Replace(valid, "-", "+", 1) + "+", authgate.ErrUnrecognizedCredential},
		{"trailing newline", valid + "\n", authgate.ErrUnrecognizedCredential},
		{"newline in signature", parts[0] + "." + parts[1] + "." + parts[2][:10] + "\n" + parts[2][10:], authgate.ErrUnrecognizedCredential},
		{"non-canonical signature", parts[0] + "." + parts[1] + "." + flipLastBits(parts[2]), authgate.ErrMalformedToken},
		{"too large", valid[:len(valid)-1] + strings.Repeat("A", 17<<10), authgate.ErrUnrecognizedCredential},
		{"header not object", raw(`[]`, string(jwttest.JSON(claims(nil)))), authgate.ErrMalformedToken},
		{"header bom", raw("\ufeff"+rsHdr, string(jwttest.JSON(claims(nil)))), authgate.ErrMalformedToken},
		{"header trailing data", raw(rsHdr+"xyz", string(jwttest.JSON(claims(nil)))), authgate.ErrMalformedToken},
		{"header whitespace ok", raw(`{ "kid" : "k1",`+"\n\t"+`"alg" : "RS256" }`, string(jwttest.JSON(claims(nil)))), nil},
		{"claims not object", raw(rsHdr, `[]`), authgate.ErrUnrecognizedCredential},
		{"claims trailing object", raw(rsHdr, string(jwttest.JSON(claims(nil)))+"{}"), authgate.ErrUnrecognizedCredential},
		{"claims invalid utf8", raw(rsHdr, `{"iss":"`+issuer+`","aud":"`+api+`","sub":"ab`+"\xff\xfe"+`cd","exp":`+itoa(future)+`}`), authgate.ErrUnrecognizedCredential},
		{"claims lone surrogate", raw(rsHdr, `{"iss":"`+issuer+`","aud":"`+api+`","sub":"\ud800","exp":`+itoa(future)+`}`), authgate.ErrUnrecognizedCredential},
		{"claims deep", raw(rsHdr, `{"iss":"`+issuer+`","a":`+strings.Repeat("[", 5000)+strings.Repeat("]", 5000)+`}`), authgate.ErrUnrecognizedCredential},
		{"exp 1e999", raw(rsHdr, `{"iss":"`+issuer+`","aud":"`+api+`","sub":"u","exp":1e999}`), authgate.ErrUnrecognizedCredential},
		{"exp 400 digits", raw(rsHdr, `{"iss":"`+issuer+`","aud":"`+api+`","sub":"u","exp":`+strings.Repeat("9", 400)+`}`), authgate.ErrUnrecognizedCredential},
		{"iat -1e308", raw(rsHdr, `{"iss":"`+issuer+`","aud":"`+api+`","sub":"u","exp":`+itoa(future)+`,"iat":-1e308}`), authgate.ErrInvalidClaim},

		// C. header
		{"alg none", hdr(priv, "RS256", `{"alg":"none"}`, claims(nil))[:len(parts[0])] + "x", authgate.ErrUnrecognizedCredential},
		{"alg none unsigned", jwttest.B64([]byte(`{"alg":"none"}`)) + "." + parts[1] + ".", authgate.ErrUnrecognizedCredential},
		{"alg none signed", jwttest.B64([]byte(`{"alg":"none"}`)) + "." + parts[1] + "." + parts[2], authgate.ErrUnsupportedAlgorithm},
		{"alg None kid", jwttest.B64([]byte(`{"alg":"None","kid":"k1"}`)) + "." + parts[1] + "." + parts[2], authgate.ErrUnsupportedAlgorithm},
		{"alg missing", hdr(priv, "RS256", `{"kid":"k1"}`, claims(nil)), authgate.ErrMalformedToken},
		{"alg null", hdr(priv, "RS256", `{"alg":null}`, claims(nil)), authgate.ErrMalformedToken},
		{"alg number", hdr(priv, "RS256", `{"alg":123}`, claims(nil)), authgate.ErrMalformedToken},
		{"alg array", hdr(priv, "RS256", `{"alg":["RS256"]}`, claims(nil)), authgate.ErrMalformedToken},
		{"alg lower", hdr(priv, "RS256", `{"alg":"rs256","kid":"k1"}`, claims(nil)), authgate.ErrUnsupportedAlgorithm},
		{"alg trailing space", hdr(priv, "RS256", `{"alg":"RS256 ","kid":"k1"}`, claims(nil)), authgate.ErrUnsupportedAlgorithm},
		{"alg NUL", hdr(priv, "RS256", `{"alg":"RS256\u0000","kid":"k1"}`, claims(nil)), authgate.ErrUnsupportedAlgorithm},
		{"RS384 same key", jwttest.Token("RS384", "k1", priv, claims(nil)), authgate.ErrUnsupportedAlgorithm},
		{"PS256 same key", jwttest.Token("PS256", "k1", priv, claims(nil)), authgate.ErrUnsupportedAlgorithm},
		{"ES256", jwttest.Token("ES256", "k1", ec, claims(nil)), authgate.ErrUnsupportedAlgorithm},
		{"HS256 with public PEM", jwttest.Token("HS256", "k1", pubPEM, claims(nil)), authgate.ErrUnsupportedAlgorithm},
		{"HS256 with DER", jwttest.Token("HS256", "k1", pubDER, claims(nil)), authgate.ErrUnsupportedAlgorithm},
		{"unknown kid", jwttest.Token("RS256", "k2", priv, claims(nil)), authgate.ErrInvalidSignature},
		{"kid matches other signer", jwttest.Token("RS256", "k1", other, claims(nil)), authgate.ErrInvalidSignature},
		{"kid number", hdr(priv, "RS256", `{"alg":"RS256","kid":1}`, claims(nil)), authgate.ErrMalformedToken},
		{"kid null", hdr(priv, "RS256", `{"alg":"RS256","kid":null}`, claims(nil)), authgate.ErrMalformedToken},
		{"kid traversal", hdr(priv, "RS256", `{"alg":"RS256","kid":"../../../../../../dev/null"}`, claims(nil)), authgate.ErrInvalidSignature},
		{"kid sql", hdr(priv, "RS256", `{"alg":"RS256","kid":"x' UNION SELECT '1';--"}`, claims(nil)), authgate.ErrInvalidSignature},
		{"embedded jwk", hdr(priv, "RS256", `{"alg":"RS256","kid":"k1","jwk":{"kty":"oct","k":"AAAA"}}`, claims(nil)), authgate.ErrUnsupportedAlgorithm},
		{"jku", hdr(priv, "RS256", `{"alg":"RS256","kid":"k1","jku":"http://127.0.0.1:1/jwks"}`, claims(nil)), authgate.ErrUnsupportedAlgorithm},
		{"x5u", hdr(priv, "RS256", `{"alg":"RS256","kid":"k1","x5u":"http://169.254.169.254/"}`, claims(nil)), authgate.ErrUnsupportedAlgorithm},
		{"x5c", hdr(priv, "RS256", `{"alg":"RS256","kid":"k1","x5c":["MIIB"]}`, claims(nil)), authgate.ErrUnsupportedAlgorithm},
		{"x5t ignored", hdr(priv, "RS256", `{"alg":"RS256","kid":"k1","x5t":"abc","foo":1,"jwt_tool":true}`, claims(nil)), nil},
		{"crit foo", hdr(priv, "RS256", `{"alg":"RS256","kid":"k1","crit":["foo"],"foo":1}`, claims(nil)), authgate.ErrUnsupportedAlgorithm},
		{"crit b64", hdr(priv, "RS256", `{"alg":"RS256","kid":"k1","crit":["b64"],"b64":false}`, claims(nil)), authgate.ErrUnsupportedAlgorithm},
		{"crit empty", hdr(priv, "RS256", `{"alg":"RS256","kid":"k1","crit":[]}`, claims(nil)), authgate.ErrUnsupportedAlgorithm},
		{"crit alg", hdr(priv, "RS256", `{"alg":"RS256","kid":"k1","crit":["alg"]}`, claims(nil)), authgate.ErrUnsupportedAlgorithm},
		{"crit string", hdr(priv, "RS256", `{"alg":"RS256","kid":"k1","crit":"foo","foo":1}`, claims(nil)), authgate.ErrUnsupportedAlgorithm},
		{"b64 without crit", hdr(priv, "RS256", `{"alg":"RS256","kid":"k1","b64":false}`, claims(nil)), authgate.ErrUnsupportedAlgorithm},
		{"zip", hdr(priv, "RS256", `{"alg":"RS256","kid":"k1","zip":"DEF"}`, claims(nil)), authgate.ErrUnsupportedAlgorithm},
		{"enc", hdr(priv, "RS256", `{"alg":"RS256","kid":"k1","enc":"A256GCM"}`, claims(nil)), authgate.ErrUnsupportedAlgorithm},
		{"cty JWT", hdr(priv, "RS256", `{"alg":"RS256","kid":"k1","cty":"JWT"}`, claims(nil)), authgate.ErrUnsupportedAlgorithm},
		{"cty application/jwt", hdr(priv, "RS256", `{"alg":"RS256","kid":"k1","cty":"application/jwt"}`, claims(nil)), authgate.ErrUnsupportedAlgorithm},
		{"duplicate alg", hdr(priv, "RS256", `{"alg":"none","alg":"RS256","kid":"k1"}`, claims(nil)), authgate.ErrMalformedToken},
		{"duplicate kid", hdr(priv, "RS256", `{"alg":"RS256","kid":"a","kid":"k1"}`, claims(nil)), authgate.ErrMalformedToken},
		{"ALG only", hdr(priv, "RS256", `{"ALG":"RS256","kid":"k1"}`, claims(nil)), authgate.ErrMalformedToken},
		{"KID unknown member ok", hdr(priv, "RS256", `{"alg":"RS256","kid":"k1","KID":"x"}`, claims(nil)), authgate.ErrMalformedToken},
		{"typ JWT ok", hdr(priv, "RS256", `{"alg":"RS256","kid":"k1","typ":"jwt"}`, claims(nil)), nil},
		{"typ dpop", hdr(priv, "RS256", `{"alg":"RS256","kid":"k1","typ":"dpop+jwt"}`, claims(nil)), authgate.ErrInvalidCredentials},
		{"typ logout", hdr(priv, "RS256", `{"alg":"RS256","kid":"k1","typ":"logout+jwt"}`, claims(nil)), authgate.ErrInvalidCredentials},
		{"typ at+jwt by default", hdr(priv, "RS256", `{"alg":"RS256","kid":"k1","typ":"at+jwt"}`, claims(nil)), authgate.ErrInvalidCredentials},

		// D. signature
		{"tampered payload", parts[0] + "." + jwttest.B64(jwttest.JSON(claims(map[string]any{"sub": "admin"}))) + "." + parts[2], authgate.ErrInvalidSignature},
		{"signature of other token", parts[0] + "." + parts[1] + "." + strings.Split(jwttest.Token("RS256", "k1", priv, claims(map[string]any{"x": 1})), ".")[2], authgate.ErrInvalidSignature},
		{"truncated signature", parts[0] + "." + parts[1] + "." + jwttest.B64(mustDecode(parts[2])[:250]), authgate.ErrInvalidSignature},
		{"signature with extra byte", parts[0] + "." + parts[1] + "." + jwttest.B64(append(mustDecode(parts[2]), 0)), authgate.ErrInvalidSignature},

		// F. claims
		{"expired and forged", parts[0] + "." + jwttest.B64(jwttest.JSON(claims(map[string]any{"exp": now.Unix() - 10}))) + "." + parts[2], authgate.ErrInvalidSignature},
		{"no exp", jwttest.Token("RS256", "k1", priv, claims(map[string]any{"exp": nil})), authgate.ErrMissingClaim},
		{"exp 0", jwttest.Token("RS256", "k1", priv, claims(map[string]any{"exp": 0, "iat": nil})), authgate.ErrTokenExpired},
		{"exp string", jwttest.Token("RS256", "k1", priv, claims(map[string]any{"exp": "4102444800"})), authgate.ErrInvalidClaim},
		{"exp true", jwttest.Token("RS256", "k1", priv, claims(map[string]any{"exp": true})), authgate.ErrInvalidClaim},
		{"exp object", jwttest.Token("RS256", "k1", priv, claims(map[string]any{"exp": map[string]any{}})), authgate.ErrInvalidClaim},
		{"exp array", jwttest.Token("RS256", "k1", priv, claims(map[string]any{"exp": []int{1}})), authgate.ErrInvalidClaim},
		{"exp null", raw(rsHdr, `{"iss":"`+issuer+`","aud":"`+api+`","sub":"u","exp":null}`), authgate.ErrInvalidClaim},
		{"exp -1", jwttest.Token("RS256", "k1", priv, claims(map[string]any{"exp": -1, "iat": nil})), authgate.ErrInvalidClaim},
		{"exp 1e300", jwttest.Token("RS256", "k1", priv, claims(map[string]any{"exp": 1e300})), authgate.ErrInvalidClaim},
		{"nbf 1e300", jwttest.Token("RS256", "k1", priv, claims(map[string]any{"nbf": 1e300})), authgate.ErrInvalidClaim},
		{"nbf 9.3e18", jwttest.Token("RS256", "k1", priv, claims(map[string]any{"nbf": 9.3e18})), authgate.ErrInvalidClaim},
		{"iat 1e300", jwttest.Token("RS256", "k1", priv, claims(map[string]any{"iat": 1e300})), authgate.ErrInvalidClaim},
		{"fractional exp", jwttest.Token("RS256", "k1", priv, claims(map[string]any{"exp": float64(now.Unix()) + 3600.5})), nil},
		{"iat after exp", jwttest.Token("RS256", "k1", priv, claims(map[string]any{"iat": future + 10})), authgate.ErrInvalidClaim},
		{"nbf after exp", jwttest.Token("RS256", "k1", priv, claims(map[string]any{"nbf": future + 10})), authgate.ErrInvalidClaim},
		{"iat future", jwttest.Token("RS256", "k1", priv, claims(map[string]any{"iat": now.Unix() + 61, "exp": now.Unix() + 600})), authgate.ErrTokenNotYetValid},
		{"nbf future", jwttest.Token("RS256", "k1", priv, claims(map[string]any{"nbf": now.Unix() + 61})), authgate.ErrTokenNotYetValid},
		{"iss no slash", jwttest.Token("RS256", "k1", priv, claims(map[string]any{"iss": strings.TrimSuffix(issuer, "/")})), authgate.ErrUnrecognizedCredential},
		{"iss upper", jwttest.Token("RS256", "k1", priv, claims(map[string]any{"iss": strings.ToUpper(issuer)})), authgate.ErrUnrecognizedCredential},
		{"iss suffix", jwttest.Token("RS256", "k1", priv, claims(map[string]any{"iss": issuer + ".evil.com"})), authgate.ErrUnrecognizedCredential},
		{"iss array", jwttest.Token("RS256", "k1", priv, claims(map[string]any{"iss": []string{issuer}})), authgate.ErrUnrecognizedCredential},
		{"iss missing", jwttest.Token("RS256", "k1", priv, claims(map[string]any{"iss": nil})), authgate.ErrUnrecognizedCredential},
		{"ISS only", raw(rsHdr, `{"ISS":"`+issuer+`","aud":"`+api+`","sub":"u","exp":`+itoa(future)+`}`), authgate.ErrUnrecognizedCredential},
		{"aud case", jwttest.Token("RS256", "k1", priv, claims(map[string]any{"aud": "ORDERS-API"})), authgate.ErrInvalidAudience},
		{"aud space", jwttest.Token("RS256", "k1", priv, claims(map[string]any{"aud": api + " "})), authgate.ErrInvalidAudience},
		{"aud other", jwttest.Token("RS256", "k1", priv, claims(map[string]any{"aud": []string{"x"}})), authgate.ErrInvalidAudience},
		{"aud empty array", jwttest.Token("RS256", "k1", priv, claims(map[string]any{"aud": []string{}})), authgate.ErrInvalidAudience},
		{"aud empty", jwttest.Token("RS256", "k1", priv, claims(map[string]any{"aud": ""})), authgate.ErrInvalidAudience},
		{"aud missing", jwttest.Token("RS256", "k1", priv, claims(map[string]any{"aud": nil})), authgate.ErrInvalidAudience},
		{"aud number", jwttest.Token("RS256", "k1", priv, claims(map[string]any{"aud": 123})), authgate.ErrInvalidAudience},
		{"aud mixed", jwttest.Token("RS256", "k1", priv, claims(map[string]any{"aud": []any{1, api}})), authgate.ErrInvalidAudience},
		{"aud object", jwttest.Token("RS256", "k1", priv, claims(map[string]any{"aud": map[string]any{api: true}})), authgate.ErrInvalidAudience},
		{"aud in array", jwttest.Token("RS256", "k1", priv, claims(map[string]any{"aud": []string{"x", api}})), nil},
		{"aud case-variant", raw(rsHdr, `{"iss":"`+issuer+`","aud":"evil","AUD":"`+api+`","sub":"u","exp":`+itoa(future)+`}`), authgate.ErrUnrecognizedCredential},
		{"sub case-variant", raw(rsHdr, `{"iss":"`+issuer+`","aud":"`+api+`","sub":"alice","SUB":"admin","exp":`+itoa(future)+`}`), authgate.ErrUnrecognizedCredential},
		{"exp case-variant", raw(rsHdr, `{"iss":"`+issuer+`","aud":"`+api+`","sub":"u","exp":1000,"EXP":`+itoa(future)+`}`), authgate.ErrUnrecognizedCredential},
		{"duplicate exp", raw(rsHdr, `{"iss":"`+issuer+`","aud":"`+api+`","sub":"u","exp":1000,"exp":`+itoa(future)+`}`), authgate.ErrUnrecognizedCredential},
		{"duplicate sub", raw(rsHdr, `{"iss":"`+issuer+`","aud":"`+api+`","sub":"a","sub":"b","exp":`+itoa(future)+`}`), authgate.ErrUnrecognizedCredential},
		{"sub missing", jwttest.Token("RS256", "k1", priv, claims(map[string]any{"sub": nil})), authgate.ErrInvalidClaim},
		{"sub empty", jwttest.Token("RS256", "k1", priv, claims(map[string]any{"sub": ""})), authgate.ErrInvalidClaim},
		{"sub number", jwttest.Token("RS256", "k1", priv, claims(map[string]any{"sub": 42})), authgate.ErrInvalidClaim},
		{"sub NUL", jwttest.Token("RS256", "k1", priv, claims(map[string]any{"sub": "admin\u0000x"})), authgate.ErrInvalidClaim},
		{"sub long", jwttest.Token("RS256", "k1", priv, claims(map[string]any{"sub": strings.Repeat("a", 256)})), authgate.ErrInvalidClaim},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := a.Verify(context.Background(), tt.token)
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("Verify = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, tt.wantErr) || p != nil {
				t.Fatalf("Verify = %v, %v; want %v", p, err, tt.wantErr)
			}
			// "Not mine" and "mine, and wrong" never overlap.
			if errors.Is(err, authgate.ErrInvalidCredentials) == authgate.IsNotMine(err) {
				t.Errorf("error %v is both or neither of rejected and not-mine", err)
			}
			if s := authgate.StatusCode(err); s != http.StatusUnauthorized {
				t.Errorf("StatusCode = %d, want 401", s)
			}
			assertNoTokenMaterial(t, err.Error(), tt.token)
		})
	}
}

func itoa(i int64) string { return strings.TrimSpace(string(jwttest.JSON(i))) }

// flipLastBits changes the unused low bits of the last base64 character, a
// non-canonical encoding of the same bytes.
func flipLastBits(seg string) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	last := strings.IndexByte(alphabet, seg[len(seg)-1])
	return seg[:len(seg)-1] + string(alphabet[last^1])
}

func assertNoTokenMaterial(t *testing.T, s, token string) {
	t.Helper()
	for _, seg := range strings.Split(token, ".") {
		if len(seg) >= 16 && strings.Contains(s, seg[:16]) {
			t.Errorf("error text %q contains token material", s)
		}
	}
}

// TestTimeBoundaries pins exp, nbf and iat at their leeway edges
// (SECURITY.md#time-claims).
func TestTimeBoundaries(t *testing.T) {
	priv := jwttest.Key("RS256", "").(*rsa.PrivateKey)
	exp := now.Unix() + 100
	tests := []struct {
		name    string
		leeway  time.Duration
		at      time.Time
		extra   map[string]any
		wantErr error
	}{
		{"exp-1s", providers.NoLeeway, time.Unix(exp-1, 0), nil, nil},
		{"at exp no leeway", providers.NoLeeway, time.Unix(exp, 0), nil, authgate.ErrTokenExpired},
		{"exp+L-1s", 30 * time.Second, time.Unix(exp+29, 0), nil, nil},
		{"exp+L", 30 * time.Second, time.Unix(exp+30, 0), nil, authgate.ErrTokenExpired},
		{"default leeway 60s", 0, time.Unix(exp+59, 0), nil, nil},
		{"default leeway edge", 0, time.Unix(exp+60, 0), nil, authgate.ErrTokenExpired},
		{"nbf now", 30 * time.Second, time.Unix(exp-50, 0), map[string]any{"nbf": exp - 50}, nil},
		{"nbf-L-1s", 30 * time.Second, time.Unix(exp-81, 0), map[string]any{"nbf": exp - 50, "iat": nil}, authgate.ErrTokenNotYetValid},
		{"nbf-L+1s", 30 * time.Second, time.Unix(exp-79, 0), map[string]any{"nbf": exp - 50, "iat": nil}, nil},
		{"iat now+L+1", 30 * time.Second, time.Unix(exp-90, 0), map[string]any{"iat": exp - 59}, authgate.ErrTokenNotYetValid},
		{"iat now+L", 30 * time.Second, time.Unix(exp-90, 0), map[string]any{"iat": exp - 60}, nil},
		{"sub-second exp", providers.NoLeeway, time.Unix(exp, 400e6), map[string]any{"exp": float64(exp) + 0.5}, nil},
		{"sub-second exp passed", providers.NoLeeway, time.Unix(exp, 500e6), map[string]any{"exp": float64(exp) + 0.5}, authgate.ErrTokenExpired},
		{"exp 0 with leeway", 5 * time.Minute, now, map[string]any{"exp": 0, "iat": nil}, authgate.ErrTokenExpired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			at := tt.at
			a, _ := newRS256(t, func(c *static.Config) { c.Leeway = tt.leeway; c.Now = func() time.Time { return at } })
			c := claims(map[string]any{"exp": exp, "iat": exp - 200})
			for k, v := range tt.extra {
				if v == nil {
					delete(c, k)
				} else {
					c[k] = v
				}
			}
			_, err := a.Verify(context.Background(), jwttest.Token("RS256", "k1", priv, c))
			if tt.wantErr == nil && err != nil || tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Fatalf("Verify at %v = %v, want %v", at, err, tt.wantErr)
			}
		})
	}
}

func TestAlgorithms(t *testing.T) {
	for _, alg := range providers.Algorithms() {
		t.Run(alg, func(t *testing.T) {
			priv := jwttest.Key(alg, "")
			var k providers.Key
			if b, ok := priv.([]byte); ok {
				k = providers.SecretKey(b)
			} else {
				k = providers.PublicKey(jwttest.Public(priv))
			}
			k.ID = "k"
			a, err := static.New(static.Config{Keys: []providers.Key{k}, Issuer: issuer, TokenOptions: providers.TokenOptions{Algorithms: []string{alg}, Audience: []string{api}, Now: clock}})
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			tok := jwttest.Token(alg, "k", priv, claims(nil))
			if _, err := a.Verify(context.Background(), tok); err != nil {
				t.Fatalf("Verify(valid %s) = %v", alg, err)
			}
			// Kid-less tokens select by bound algorithm.
			if _, err := a.Verify(context.Background(), jwttest.Token(alg, "", priv, claims(nil))); err != nil {
				t.Fatalf("Verify(kid-less %s) = %v", alg, err)
			}
			parts := strings.Split(tok, ".")
			sig := mustDecode(parts[2])
			sig[len(sig)/2] ^= 0x01
			if _, err := a.Verify(context.Background(), parts[0]+"."+parts[1]+"."+jwttest.B64(sig)); !errors.Is(err, authgate.ErrInvalidSignature) {
				t.Fatalf("Verify(tampered %s) = %v, want ErrInvalidSignature", alg, err)
			}
		})
	}
}

func TestESSignatureLength(t *testing.T) {
	for _, alg := range []string{"ES256", "ES384", "ES512"} {
		priv := jwttest.Key(alg, "").(*ecdsa.PrivateKey)
		k := providers.PublicKey(&priv.PublicKey)
		a, err := static.New(static.Config{Keys: []providers.Key{k}, Issuer: issuer, TokenOptions: providers.TokenOptions{Algorithms: []string{alg}, Audience: []string{api}, Now: clock}})
		if err != nil {
			t.Fatal(err)
		}
		tok := jwttest.Token(alg, "", priv, claims(nil))
		parts := strings.Split(tok, ".")
		sig, _ := decodeB64(parts[2])
		size := len(sig) / 2
		r, s := sig[:size], sig[size:]
		// Leading-zero-stripped, padded, DER-encoded: all refused.
		variants := map[string][]byte{
			"short":    sig[:len(sig)-1],
			"long":     append(append([]byte{}, sig...), 0),
			"trailing": append(append([]byte{}, r...), append(append([]byte{}, s...), 0, 0)...),
			"der":      derSig(r, s),
		}
		for name, v := range variants {
			_, err := a.Verify(context.Background(), parts[0]+"."+parts[1]+"."+jwttest.B64(v))
			if !errors.Is(err, authgate.ErrInvalidSignature) {
				t.Errorf("%s %s signature: Verify = %v, want ErrInvalidSignature", alg, name, err)
			}
		}
	}
}

func decodeB64(s string) ([]byte, error) { return base64.RawURLEncoding.DecodeString(s) }

func mustDecode(s string) []byte {
	b, err := decodeB64(s)
	if err != nil {
		panic(err)
	}
	return b
}

func derSig(r, s []byte) []byte {
	enc := func(b []byte) []byte {
		for len(b) > 1 && b[0] == 0 {
			b = b[1:]
		}
		if b[0]&0x80 != 0 {
			b = append([]byte{0}, b...)
		}
		return append([]byte{2, byte(len(b))}, b...)
	}
	body := append(enc(r), enc(s)...)
	if len(body) >= 128 {
		return append([]byte{0x30, 0x81, byte(len(body))}, body...)
	}
	return append([]byte{0x30, byte(len(body))}, body...)
}

// TestConfiguration: everything that cannot work is refused by New
// (SECURITY.md#attacks-keys).
func TestConfiguration(t *testing.T) {
	rsaPub := providers.PublicKey(jwttest.Public(jwttest.Key("RS256", "")))
	small, _ := rsa.GenerateKey(rand.Reader, 1024)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	_, edPub := mustEd()
	secret31 := providers.SecretKey(make([]byte, 31))
	secret32 := providers.SecretKey(make([]byte, 32))
	bound := func(k providers.Key, alg string) providers.Key { k.Algorithm = alg; return k }
	ok := static.Config{Keys: []providers.Key{rsaPub}, Issuer: issuer, TokenOptions: providers.TokenOptions{Algorithms: []string{"RS256"}, Audience: []string{api}}}
	tests := []struct {
		name string
		mod  func(*static.Config)
		ok   bool
	}{
		{"valid", func(*static.Config) {}, true},
		{"no keys", func(c *static.Config) { c.Keys = nil }, false},
		{"no algorithms", func(c *static.Config) { c.Algorithms = nil }, false},
		{"unknown algorithm", func(c *static.Config) { c.Algorithms = []string{"RS1"} }, false},
		{"none", func(c *static.Config) { c.Algorithms = []string{"none"} }, false},
		{"no issuer", func(c *static.Config) { c.Issuer = "" }, false},
		{"no audience", func(c *static.Config) { c.Audience = nil }, false},
		{"rsa with ES256", func(c *static.Config) { c.Algorithms = []string{"ES256"} }, false},
		{"rsa ambiguous", func(c *static.Config) { c.Algorithms = []string{"RS256", "PS256"} }, false},
		{"rsa bound among two", func(c *static.Config) {
			c.Algorithms = []string{"RS256", "PS256"}
			c.Keys = []providers.Key{bound(rsaPub, "PS256")}
		}, true},
		{"bound to disallowed", func(c *static.Config) { c.Keys = []providers.Key{bound(rsaPub, "PS512")} }, false},
		{"rsa 1024", func(c *static.Config) { c.Keys = []providers.Key{providers.PublicKey(&small.PublicKey)} }, false},
		{"P-384 as ES256", func(c *static.Config) {
			c.Algorithms = []string{"ES256"}
			c.Keys = []providers.Key{providers.PublicKey(&p384.PublicKey)}
		}, false},
		{"ed25519", func(c *static.Config) {
			c.Algorithms = []string{"EdDSA"}
			c.Keys = []providers.Key{providers.PublicKey(edPub)}
		}, true},
		{"hs256 31 bytes", func(c *static.Config) { c.Algorithms = []string{"HS256"}; c.Keys = []providers.Key{secret31} }, false},
		{"hs256 empty", func(c *static.Config) {
			c.Algorithms = []string{"HS256"}
			c.Keys = []providers.Key{providers.SecretKey(nil)}
		}, false},
		{"hs256 32 bytes", func(c *static.Config) { c.Algorithms = []string{"HS256"}; c.Keys = []providers.Key{secret32} }, true},
		{"hs512 32 bytes", func(c *static.Config) { c.Algorithms = []string{"HS512"}; c.Keys = []providers.Key{secret32} }, false},
		{"secret with RS256", func(c *static.Config) { c.Keys = []providers.Key{secret32} }, false},
		{"leeway 6m", func(c *static.Config) { c.Leeway = 6 * time.Minute }, false},
		{"leeway negative", func(c *static.Config) { c.Leeway = -time.Second }, false},
		{"claim rule empty", func(c *static.Config) { c.Claims = providers.Claims{"tenant": {}} }, false},
		{"claim rule bad value", func(c *static.Config) { c.Claims = providers.Claims{"tenant": {Value: []string{"a"}}} }, false},
		{"claim rule ok", func(c *static.Config) { c.Claims = providers.Claims{"tenant": {Essential: true}} }, true},
		{"cache", func(c *static.Config) { c.CacheSize = 100; c.CacheTTL = time.Minute }, true},
		{"cache ttl too long", func(c *static.Config) { c.CacheSize = 100; c.CacheTTL = time.Hour }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := ok
			tt.mod(&cfg)
			_, err := static.New(cfg)
			if (err == nil) != tt.ok {
				t.Fatalf("New = %v, want ok=%v", err, tt.ok)
			}
		})
	}
}

func mustEd() (ed25519.PrivateKey, ed25519.PublicKey) {
	priv := jwttest.Key("EdDSA", "").(ed25519.PrivateKey)
	return priv, priv.Public().(ed25519.PublicKey)
}

// TestClaimRules covers the seed's claims vocabulary.
func TestClaimRules(t *testing.T) {
	rules := providers.Claims{
		"tenant":             {Essential: true},
		"realm_access.roles": {Value: "user"},
		"scope":              {Value: "write"},
		"level":              {Values: []any{1, 2}},
		"plan":               {Values: []any{"pro", "team"}},
	}
	a, priv := newRS256(t, func(c *static.Config) { c.Claims = rules; c.RolesClaim = "realm_access.roles" })
	base := map[string]any{"tenant": "t1", "realm_access": map[string]any{"roles": []string{"admin", "user"}}, "scope": "read write", "level": 2, "plan": "pro"}
	with := func(k string, v any) map[string]any {
		c := map[string]any{}
		for k2, v2 := range base {
			c[k2] = v2
		}
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
		return claims(c)
	}
	tests := []struct {
		name    string
		claims  map[string]any
		wantErr error
	}{
		{"all good", claims(base), nil},
		{"tenant missing", with("tenant", nil), authgate.ErrMissingClaim},
		{"nested role missing", with("realm_access", map[string]any{"roles": []string{"admin"}}), authgate.ErrInvalidClaim},
		{"nested absent ok", with("realm_access", nil), nil},
		{"scope lacks write", with("scope", "read"), authgate.ErrInvalidClaim},
		{"scope exact", with("scope", "write"), nil},
		{"level 3", with("level", 3), authgate.ErrInvalidClaim},
		{"level string", with("level", "2"), authgate.ErrInvalidClaim},
		{"plan list any-of", with("plan", []string{"free", "team"}), nil},
		{"plan object", with("plan", map[string]any{"pro": true}), authgate.ErrInvalidClaim},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := a.Verify(context.Background(), jwttest.Token("RS256", "k1", priv, tt.claims))
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("Verify = %v", err)
				}
				if tt.name == "all good" && !p.HasRole("admin") {
					t.Errorf("roles from realm_access.roles = %v", p.Roles)
				}
				return
			}
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Verify = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

// TestRotation: several keys with kids verify their own tokens only
// (SECURITY.md#kid).
func TestRotation(t *testing.T) {
	k1 := jwttest.Key("RS256", "").(*rsa.PrivateKey)
	k2 := jwttest.Key("RS256", "second").(*rsa.PrivateKey)
	pk1, pk2 := providers.PublicKey(&k1.PublicKey), providers.PublicKey(&k2.PublicKey)
	pk1.ID, pk2.ID = "k1", "k2"
	a, err := static.New(static.Config{Keys: []providers.Key{pk1, pk2}, Issuer: issuer, TokenOptions: providers.TokenOptions{Algorithms: []string{"RS256"}, Audience: []string{api}, Now: clock}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, c := range []struct {
		kid     string
		key     any
		wantErr error
	}{{"k1", k1, nil}, {"k2", k2, nil}, {"k1", k2, authgate.ErrInvalidSignature}, {"", k2, nil}} {
		_, err := a.Verify(ctx, jwttest.Token("RS256", c.kid, c.key, claims(nil)))
		if c.wantErr == nil && err != nil || c.wantErr != nil && !errors.Is(err, c.wantErr) {
			t.Errorf("kid %q: Verify = %v, want %v", c.kid, err, c.wantErr)
		}
	}
}

// TestConcurrent verifies from many goroutines under -race; each sees its
// own principal.
func TestConcurrent(t *testing.T) {
	a, priv := newRS256(t, nil)
	tokens := make([]string, 8)
	for i := range tokens {
		tokens[i] = jwttest.Token("RS256", "k1", priv, claims(map[string]any{"sub": "user-" + string(rune('a'+i))}))
	}
	var wg sync.WaitGroup
	for g := 0; g < 16; g++ {
		wg.Go(func() {
			for i := 0; i < 20; i++ {
				n := (g + i) % len(tokens)
				p, err := a.Authenticate(request("Bearer " + tokens[n]))
				if err != nil || p.Subject != "user-"+string(rune('a'+n)) {
					t.Errorf("goroutine %d: %v %v", g, p, err)
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestDescribe(t *testing.T) {
	a, _ := newRS256(t, nil)
	d := a.Describe()
	if d.Name != "static" || d.Scheme != "Bearer" || len(d.Issuers) != 1 || d.Issuers[0] != issuer {
		t.Errorf("Describe = %+v", d)
	}
}

// TestOversizedCredentials: megabyte-sized Authorization headers are
// refused before any split or decode, with a constant, small number of
// allocations (SECURITY.md#attacks-http; CVE-2025-30204).
func TestOversizedCredentials(t *testing.T) {
	a, _ := newRS256(t, nil)
	for _, n := range []int{64 << 10, 512 << 10, 1 << 20} {
		for name, body := range map[string]string{
			"dots":  strings.Repeat(".", n),
			"As":    strings.Repeat("A", n),
			"token": strings.Repeat("A", n/2) + "." + strings.Repeat("B", n/2-2) + ".C",
		} {
			r := request("Bearer " + body)
			var err error
			allocs := testing.AllocsPerRun(20, func() { _, err = a.Authenticate(r) })
			if err == nil || authgate.StatusCode(err) >= 500 {
				t.Errorf("%s of %d bytes: Authenticate = %v", name, n, err)
			}
			if allocs > 4 {
				t.Errorf("%s of %d bytes: %.0f allocations, want a small constant", name, n, allocs)
			}
			if _, err := a.Verify(context.Background(), body); !errors.Is(err, authgate.ErrUnrecognizedCredential) {
				t.Errorf("%s of %d bytes: Verify = %v", name, n, err)
			}
		}
	}
}
