package auth0_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/authgate/authgate/auth0"
	"github.com/authgate/authgate/internal/jwttest"
	"github.com/authgate/authgate/providers"
)

// The tenant here is a local https server standing in for
// example.eu.auth0.com; in production Domain is all it takes.
func Example() {
	key := jwttest.Key("RS256", "tenant")
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write(jwttest.JWKS(jwttest.JWK(key, "k1", "RS256"))) // /.well-known/jwks.json
	}))
	defer srv.Close()
	domain := strings.TrimPrefix(srv.URL, "https://")

	auth, err := auth0.New(auth0.Config{
		Domain: domain,
		TokenOptions: providers.TokenOptions{
			Audience:   []string{"https://api.example.com"},
			RolesClaim: "https://example.com/roles",
			Now:        func() time.Time { return time.Unix(1_800_000_000, 0) },
		},
		FetchOptions: providers.FetchOptions{
			HTTPClient: srv.Client(),
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	token := jwttest.Token("RS256", "k1", key, map[string]any{
		"iss": "https://" + domain + "/", "sub": "auth0|42", "exp": 1_800_000_300,
		"aud":   []string{"https://api.example.com", "https://" + domain + "/userinfo"},
		"scope": "openid read:articles", "permissions": []string{"read:articles"},
		"https://example.com/roles": []string{"editor"},
	})
	r := httptest.NewRequest("GET", "/articles", nil)
	r.Header.Set("Authorization", "Bearer "+token)
	p, err := auth.Authenticate(r)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(p.Subject, p.Roles, p.Permissions, p.HasScope("read:articles"))
	// Output: auth0|42 [editor] [read:articles] true
}
