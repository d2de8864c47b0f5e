package keyfuncset_test

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/MicahParks/keyfunc/v3"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/compat/keyfuncset"
	"github.com/authgate/authgate/providers"
)

// An application that caches its issuer's JWKS with keyfunc/v3 lets
// authgate verify tokens from the same cache.
func Example() {
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	jwks := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `{"keys":[{"kty":"RSA","kid":"2026-05","alg":"RS256","use":"sig","n":%q,"e":%q}]}`,
			base64.RawURLEncoding.EncodeToString(key.N.Bytes()),
			base64.RawURLEncoding.EncodeToString(big.NewInt(int64(key.E)).Bytes()))
	}))
	defer jwks.Close()

	// What the application already has.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	kf, err := keyfunc.NewDefaultCtx(ctx, []string{jwks.URL})
	if err != nil {
		fmt.Println(err)
		return
	}

	// authgate reads keyfunc's storage, binds every key to one of its own
	// algorithms and verifies with its own verifier.
	keys, err := keyfuncset.New(keyfuncset.Config{
		Name:       "corp",
		Storage:    kf.Storage(),
		Algorithms: []string{providers.RS256},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	auth, err := providers.Preset{
		Package:    "corp",
		Issuer:     "https://login.example.com",
		Keys:       keys,
		Algorithms: []string{providers.RS256},
	}.New(providers.TokenOptions{Audience: []string{"orders-api"}}, providers.FetchOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}

	exp := time.Now().Add(5 * time.Minute).Unix()
	token := mint(key, `{"alg":"RS256","typ":"JWT","kid":"2026-05"}`,
		fmt.Sprintf(`{"iss":"https://login.example.com","aud":"orders-api","sub":"svc-7","exp":%d}`, exp))
	r := httptest.NewRequest("GET", "/orders", nil)
	r.Header.Set("Authorization", "Bearer "+token)
	p, err := auth.Authenticate(r)
	if err != nil {
		fmt.Println(authgate.StatusCode(err), err)
		return
	}
	fmt.Println(p.Provider, p.Subject)
	// Output: corp svc-7
}

// mint signs an RS256 token; an identity provider does this.
func mint(key *rsa.PrivateKey, header, claims string) string {
	enc := base64.RawURLEncoding
	input := enc.EncodeToString([]byte(header)) + "." + enc.EncodeToString([]byte(claims))
	sum := sha256.Sum256([]byte(input))
	sig, _ := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	return input + "." + enc.EncodeToString(sig)
}
