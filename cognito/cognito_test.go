package cognito_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/authtest"
	"github.com/authgate/authgate/cognito"
	"github.com/authgate/authgate/providers"
)

const pool = "eu-west-1_AbCdEfGhI"

var now = time.Unix(1_800_000_000, 0)

func clock() time.Time { return now }

func newPool(t *testing.T, opts ...authtest.Option) *authtest.CognitoUserPool {
	t.Helper()
	return authtest.Cognito(t, pool, append([]authtest.Option{authtest.WithNow(clock), authtest.WithClientID("57cbishk4j24pabc1234567890")}, opts...)...)
}

func newAuth(t *testing.T, p *authtest.CognitoUserPool, use string, edit func(*cognito.Config)) *cognito.Authenticator {
	t.Helper()
	cfg := cognito.Config{
		UserPoolID:   p.UserPoolID(),
		TokenUse:     use,
		ClientIDs:    []string{p.ClientID()},
		BaseURL:      p.BaseURL(),
		TokenOptions: providers.TokenOptions{Now: clock},
		FetchOptions: providers.FetchOptions{HTTPClient: p.Client()},
	}
	if edit != nil {
		edit(&cfg)
	}
	a, err := cognito.New(cfg)
	if err != nil {
		t.Fatalf("cognito.New: %v", err)
	}
	return a
}

func TestNew(t *testing.T) {
	valid := func(edit func(*cognito.Config)) cognito.Config {
		c := cognito.Config{UserPoolID: pool, TokenUse: cognito.AccessTokens, ClientIDs: []string{"client"}}
		edit(&c)
		return c
	}
	tests := []struct {
		name string
		cfg  cognito.Config
		want string
	}{
		{"no pool", valid(func(c *cognito.Config) { c.UserPoolID = "" }), "a user pool ID is required"},
		{"malformed pool", valid(func(c *cognito.Config) { c.UserPoolID = "AbCdEfGhI" }), "is not REGION_ID"},
		{"pool with a path", valid(func(c *cognito.Config) { c.UserPoolID = "eu-west-1_Ab/../x" }), "is not REGION_ID"},
		{"other region", valid(func(c *cognito.Config) { c.Region = "us-east-1" }), "is not the user pool's"},
		{"no token use", valid(func(c *cognito.Config) { c.TokenUse = "" }), "TokenUse must be"},
		{"unknown token use", valid(func(c *cognito.Config) { c.TokenUse = "refresh" }), "TokenUse must be"},
		{"no client", valid(func(c *cognito.Config) { c.ClientIDs = nil }), "app client IDs are required"},
		{"empty client", valid(func(c *cognito.Config) { c.ClientIDs = []string{""} }), "app client IDs are required"},
		{"audience for ID tokens", valid(func(c *cognito.Config) { c.TokenUse = cognito.IDTokens; c.Audience = []string{"x"} }), "use ClientIDs, not Audience"},
		{"authorized parties", valid(func(c *cognito.Config) { c.AuthorizedParties = []string{"x"} }), "not AuthorizedParties"},
		{"plain http base", valid(func(c *cognito.Config) { c.BaseURL = "http://cognito.example.com" }), "base URL"},
		{"base with query", valid(func(c *cognito.Config) { c.BaseURL = "https://cognito.example.com/?x" }), "has a query"},
		{"HMAC", valid(func(c *cognito.Config) { c.Algorithms = []string{"HS256"} }), "HS256"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := cognito.New(tt.cfg)
			if err == nil || !strings.HasPrefix(err.Error(), "cognito: ") || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("cognito.New() = %v, want an error with %q", err, tt.want)
			}
		})
	}
	if _, err := cognito.New(valid(func(c *cognito.Config) { c.Region = "eu-west-1" })); err != nil {
		t.Errorf("cognito.New(the pool's region) = %v", err)
	}
	if got, want := cognito.Issuer("us-gov-west-1_AbC123"), "https://cognito-idp.us-gov-west-1.amazonaws.com/us-gov-west-1_AbC123"; got != want {
		t.Errorf("Issuer() = %q, want %q", got, want)
	}
	a, err := cognito.New(valid(func(*cognito.Config) {}))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := a.Describe().Issuers, []string{"https://cognito-idp.eu-west-1.amazonaws.com/" + pool}; !slices.Equal(got, want) {
		t.Errorf("Describe().Issuers = %q, want %q", got, want)
	}
}

func TestAccessTokens(t *testing.T) {
	p := newPool(t)
	a := newAuth(t, p, cognito.AccessTokens, nil)
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Authorization", "Bearer "+p.AccessToken(map[string]any{"cognito:groups": []string{"admin", "editors"}}))
	pr, err := a.Authenticate(r)
	if err != nil {
		t.Fatalf("Authenticate() = %v", err)
	}
	if pr.Subject != p.Subject() || pr.Issuer != p.Issuer() || pr.Provider != "cognito" {
		t.Errorf("principal = %q %q %q", pr.Provider, pr.Issuer, pr.Subject)
	}
	if !slices.Equal(pr.Roles, []string{"admin", "editors"}) {
		t.Errorf("Roles = %q, want cognito:groups", pr.Roles)
	}
	if !slices.Equal(pr.Scopes, []string{"openid", "profile", "email"}) {
		t.Errorf("Scopes = %q", pr.Scopes)
	}
	if pr.Name != "alice" || cognito.Username(pr) != "alice" {
		t.Errorf("Name = %q, Username = %q, want alice", pr.Name, cognito.Username(pr))
	}
	if len(pr.Audience) != 0 {
		t.Errorf("Audience = %q, want none (access tokens carry no aud)", pr.Audience)
	}

	m2m, err := a.Verify(context.Background(), p.ClientCredentialsToken(nil))
	if err != nil {
		t.Fatalf("Verify(client credentials) = %v", err)
	}
	if m2m.Subject != p.ClientID() || cognito.Username(m2m) != "" || !m2m.HasScope("api.example.test/read") {
		t.Errorf("client credentials principal = %q %q %q", m2m.Subject, cognito.Username(m2m), m2m.Scopes)
	}
}

func TestIDTokens(t *testing.T) {
	p := newPool(t)
	a := newAuth(t, p, cognito.IDTokens, nil)
	pr, err := a.Verify(context.Background(), p.IDToken(map[string]any{"cognito:groups": []string{"admin"}}))
	if err != nil {
		t.Fatalf("Verify() = %v", err)
	}
	if pr.Email != "alice@example.test" || pr.Name != "alice" || !slices.Equal(pr.Roles, []string{"admin"}) {
		t.Errorf("principal = %q %q %q", pr.Email, pr.Name, pr.Roles)
	}
	named, err := a.Verify(context.Background(), p.IDToken(map[string]any{"name": "Alice Example"}))
	if err != nil {
		t.Fatal(err)
	}
	if named.Name != "Alice Example" || cognito.Username(named) != "alice" {
		t.Errorf("Name = %q, Username = %q; want the name claim first", named.Name, cognito.Username(named))
	}
}

func TestRejections(t *testing.T) {
	p := newPool(t)
	other := authtest.Cognito(t, "eu-west-1_ZyXwVuTsR", authtest.WithNow(clock), authtest.WithClientID(p.ClientID()))
	access := newAuth(t, p, cognito.AccessTokens, nil)
	id := newAuth(t, p, cognito.IDTokens, nil)
	bound := newAuth(t, p, cognito.AccessTokens, func(c *cognito.Config) { c.Audience = []string{"https://api.example.test"} })
	tests := []struct {
		name    string
		auth    *cognito.Authenticator
		token   string
		wantErr error
		reason  error // a cause the error must carry too
	}{
		{"ID token on an access route", access, p.IDToken(nil), authgate.ErrInvalidClaim, nil},
		{"access token on an ID route", id, p.AccessToken(nil), authgate.ErrInvalidClaim, nil},
		{"no token_use", access, p.AccessToken(map[string]any{"token_use": nil}), authgate.ErrMissingClaim, nil},
		{"other token_use", access, p.AccessToken(map[string]any{"token_use": "refresh"}), authgate.ErrInvalidClaim, nil},
		{"access token of another client", access, p.AccessToken(map[string]any{"client_id": "another"}), authgate.ErrInvalidAudience, nil},
		{"access token without client_id", access, p.AccessToken(map[string]any{"client_id": nil}), authgate.ErrInvalidAudience, nil},
		{"aud is not client_id", access, p.AccessToken(map[string]any{"client_id": "another", "aud": p.ClientID()}), authgate.ErrInvalidAudience, nil},
		{"ID token of another client", id, p.IDToken(map[string]any{"aud": "another"}), authgate.ErrInvalidAudience, nil},
		{"client_id is not aud", id, p.IDToken(map[string]any{"aud": "another", "client_id": p.ClientID()}), authgate.ErrInvalidAudience, nil},
		{"no resource binding", bound, p.AccessToken(nil), authgate.ErrInvalidAudience, nil},
		{"expired", access, p.AccessToken(map[string]any{"iat": now.Add(-2 * time.Hour)}), authgate.ErrTokenExpired, nil},
		{"another pool's key", access, other.AccessToken(map[string]any{"iss": p.Issuer()}), authgate.ErrInvalidSignature, nil},
		{"another pool", access, other.AccessToken(nil), authgate.ErrUnrecognizedCredential, nil},
		{"scheme-less issuer", access, p.AccessToken(map[string]any{"iss": strings.TrimPrefix(p.Issuer(), "http://")}), authgate.ErrUnrecognizedCredential, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.auth.Verify(context.Background(), tt.token)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Verify() = %v, want %v", err, tt.wantErr)
			}
		})
	}
	if _, err := bound.Verify(context.Background(), p.AccessToken(map[string]any{"aud": "https://api.example.test"})); err != nil {
		t.Errorf("Verify(resource-bound token) = %v", err)
	}
}

// TestKindReasons pins that the refusal of the other kind of token says
// which kind it was.
func TestKindReasons(t *testing.T) {
	p := newPool(t)
	_, err := newAuth(t, p, cognito.AccessTokens, nil).Verify(context.Background(), p.IDToken(nil))
	if err == nil || !strings.Contains(err.Error(), "an ID token") || !strings.Contains(err.Error(), "access tokens are accepted") {
		t.Errorf("ID token on an access route: %v, want a reason naming both kinds", err)
	}
	_, err = newAuth(t, p, cognito.IDTokens, nil).Verify(context.Background(), p.AccessToken(nil))
	if err == nil || !strings.Contains(err.Error(), "an access token") || !strings.Contains(err.Error(), "ID tokens are accepted") {
		t.Errorf("access token on an ID route: %v, want a reason naming both kinds", err)
	}
}

// TestNoNetworkForOthers: a token of another pool, or of another provider,
// costs no key fetch.
func TestNoNetworkForOthers(t *testing.T) {
	p := newPool(t)
	a := newAuth(t, p, cognito.AccessTokens, nil)
	other := authtest.Cognito(t, "us-east-1_Other1234", authtest.WithNow(clock))
	auth0 := authtest.Auth0(t, authtest.WithNow(clock))
	for _, token := range []string{other.AccessToken(nil), auth0.Token(nil), "opaque-token"} {
		if _, err := a.Verify(context.Background(), token); !authgate.IsNotMine(err) {
			t.Errorf("Verify(foreign token) = %v, want not mine", err)
		}
	}
	if n := p.JWKSRequests(); n != 0 {
		t.Errorf("JWKSRequests() = %d after foreign tokens, want 0", n)
	}
	if _, err := a.Verify(context.Background(), p.AccessToken(nil)); err != nil {
		t.Fatal(err)
	}
	if n := p.JWKSRequests(); n != 1 {
		t.Errorf("JWKSRequests() = %d, want 1", n)
	}
}

// TestShape pins the quirks of the authtest shape that the provider has to
// live with: no typ header, standard-base64 kids, two signing keys, no aud
// in access tokens.
func TestShape(t *testing.T) {
	p := newPool(t)
	ks, err := providers.NewRemoteKeySet(providers.RemoteKeySetConfig{URL: p.JWKSURL(), Algorithms: []string{providers.RS256}})
	if err != nil {
		t.Fatal(err)
	}
	v, err := providers.NewVerifier(providers.VerifierConfig{Issuer: p.Issuer(), InsecureSkipAudienceCheck: true, Algorithms: []string{providers.RS256}, Keys: ks, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	at, err := v.Verify(context.Background(), p.AccessToken(nil))
	if err != nil {
		t.Fatal(err)
	}
	it, err := v.Verify(context.Background(), p.IDToken(nil))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := at.Header["typ"]; ok || len(at.Header) != 2 {
		t.Errorf("header = %v, want kid and alg only", at.Header)
	}
	if at.KeyID == it.KeyID || !strings.HasSuffix(at.KeyID, "=") {
		t.Errorf("kids %q and %q: want two keys, in standard base64", at.KeyID, it.KeyID)
	}
	if _, ok := at.Claims["aud"]; ok || at.Claims["token_use"] != "access" || it.Claims["token_use"] != "id" {
		t.Errorf("claims: access %v, id %v", at.Claims, it.Claims)
	}
}
