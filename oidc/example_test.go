package oidc_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/internal/jwttest"
	"github.com/authgate/authgate/oidc"
	"github.com/authgate/authgate/providers"
)

// An OpenID Connect issuer on loopback (a real one is https): discovery,
// then its JWKS, on first use.
func Example() {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	defer srv.Close()
	mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `{"issuer":%q,"jwks_uri":%q}`, srv.URL, srv.URL+"/jwks")
	})
	mux.HandleFunc("/jwks", func(w http.ResponseWriter, r *http.Request) {
		w.Write(jwttest.JWKS(jwttest.JWK(&key.PublicKey, "2026-05", "ES256")))
	})

	auth, err := oidc.New(oidc.Config{
		Issuer: srv.URL,
		TokenOptions: providers.TokenOptions{
			Audience:   []string{"orders-api"},
			Algorithms: []string{"ES256"},
			TokenTypes: []string{"at+jwt"},
			Now:        func() time.Time { return time.Unix(1_800_000_000, 0) },
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := auth.Prefetch(context.Background()); err != nil { // optional warm-up
		fmt.Println(err)
		return
	}

	token := jwttest.Sign("ES256", key, []byte(`{"alg":"ES256","typ":"at+jwt","kid":"2026-05"}`),
		[]byte(`{"iss":"`+srv.URL+`","aud":"orders-api","sub":"svc-7","exp":1800000300,"scope":"orders:read"}`))
	r := httptest.NewRequest("GET", "/orders", nil)
	r.Header.Set("Authorization", "Bearer "+token)
	p, err := auth.Authenticate(r)
	if err != nil {
		fmt.Println(authgate.StatusCode(err), err)
		return
	}
	fmt.Println(p.Provider, p.Subject, p.Scopes)

	// A token of an issuer this authenticator is not configured for is
	// "not mine", decided without any request to anybody.
	other := jwttest.Sign("ES256", key, []byte(`{"alg":"ES256","typ":"at+jwt"}`),
		[]byte(`{"iss":"https://elsewhere.example","aud":"orders-api","sub":"x","exp":1800000300}`))
	_, err = auth.Verify(context.Background(), other)
	fmt.Println(errors.Is(err, authgate.ErrUnrecognizedCredential))
	// Output:
	// oidc svc-7 [orders:read]
	// true
}
