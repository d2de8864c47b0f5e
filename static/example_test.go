package static_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http/httptest"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/providers"
	"github.com/authgate/authgate/static"
)

// hs256 mints a token the way an issuer holding the secret would.
func hs256(secret []byte, claims string) string {
	enc := base64.RawURLEncoding
	input := enc.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`)) + "." + enc.EncodeToString([]byte(claims))
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(input))
	return input + "." + enc.EncodeToString(m.Sum(nil))
}

// The seed's AsyncJwtBearer with jwt_public, jwt_alg and claims, in Go.
func Example() {
	secret := []byte("an example secret of at least 32 bytes!!")
	auth, err := static.New(static.Config{
		Keys:   []providers.Key{providers.SecretKey(secret)},
		Issuer: "https://your-issuer.com",
		TokenOptions: providers.TokenOptions{
			Algorithms: []string{"HS256"},
			Audience:   []string{"your-api"},
			Claims: providers.Claims{
				"tenant": {Essential: true},
				"scope":  {Value: "articles:write"},
			},
			Now: func() time.Time { return time.Unix(1_800_000_000, 0) },
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}

	token := hs256(secret, `{"iss":"https://your-issuer.com","aud":"your-api","sub":"ada","exp":1800000300,`+
		`"tenant":"acme","roles":["editor"],"scope":"articles:read articles:write"}`)
	r := httptest.NewRequest("POST", "/api/articles/", nil)
	r.Header.Set("Authorization", "Bearer "+token)

	p, err := auth.Authenticate(r)
	if err != nil {
		fmt.Println(authgate.StatusCode(err), authgate.Detail(err))
		return
	}
	fmt.Println(p.Subject, p.Tenant, p.Roles, p.HasScope("articles:write"))

	expired := hs256(secret, `{"iss":"https://your-issuer.com","aud":"your-api","sub":"ada","exp":1700000000,"tenant":"acme","scope":"articles:write"}`)
	_, err = auth.Verify(context.Background(), expired)
	fmt.Println(errors.Is(err, authgate.ErrTokenExpired), authgate.StatusCode(err), authgate.Detail(err))
	// Output:
	// ada acme [editor] true
	// true 401 Token has expired
}
