package providers_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/authgate/authgate/internal/jwttest"
	"github.com/authgate/authgate/providers"
)

// A provider of your own over a published key set: a RemoteKeySet under
// the Verifier. Real key sets are https; loopback http serves tests.
func ExampleNewRemoteKeySet() {
	key := jwttest.Key("RS256", "example")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		w.Write(jwttest.JWKS(jwttest.JWK(key, "k1", "RS256")))
	}))
	defer srv.Close()

	now := func() time.Time { return time.Unix(1_800_000_000, 0) }
	keys, err := providers.NewRemoteKeySet(providers.RemoteKeySetConfig{
		Name:       "corp",
		URL:        srv.URL, // or Issuer: "https://login.corp.example/" to discover it
		Algorithms: []string{providers.RS256},
		Now:        now,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	v, err := providers.NewVerifier(providers.VerifierConfig{
		Name: "corp", Issuer: "https://login.corp.example/", Audience: []string{"orders-api"},
		Algorithms: []string{providers.RS256}, Keys: keys, Now: now,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	token := jwttest.Token("RS256", "k1", key, map[string]any{
		"iss": "https://login.corp.example/", "aud": "orders-api", "sub": "svc-7", "exp": 1_800_000_060,
	})
	t, err := v.Verify(context.Background(), token)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(t.Subject, t.KeyID)
	// Output: svc-7 k1
}
