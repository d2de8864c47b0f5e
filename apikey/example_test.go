package apikey_test

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"strings"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/apikey"
)

func Example() {
	ctx := context.Background()
	store := apikey.NewMemoryStore()
	auth, err := apikey.New(store, apikey.Config{Prefix: "sk_live"})
	if err != nil {
		panic(err)
	}
	defer auth.Close()

	// Issue a key: show the plaintext once, keep only the Key.
	plaintext, key, err := auth.Manager().Issue(ctx, apikey.Key{Name: "deploy bot", Subject: "svc-deploy", Scopes: []string{"deploy"}})
	if err != nil {
		panic(err)
	}

	r := httptest.NewRequest("POST", "/deploy", nil)
	r.Header.Set("X-API-Key", plaintext)
	p, err := auth.Authenticate(r)
	if err != nil {
		panic(err)
	}
	fmt.Println(p.Method, p.Subject, p.Scopes, p.CredentialID == key.ID)

	// Revoked: the same 401 as an unknown key.
	if err := auth.Manager().Revoke(ctx, key.ID); err != nil {
		panic(err)
	}
	_, err = auth.Authenticate(r)
	fmt.Println(authgate.StatusCode(err), authgate.ErrorCode(err), authgate.Detail(err), authgate.Reason(err))
	// Output:
	// apikey svc-deploy [deploy] true
	// 401 invalid_token Invalid API key revoked
}

// An administration tool and the server share one Config: the keys the
// tool's Manager issues are hashed with the same pepper the server's
// Authenticator looks them up with.
func ExampleManager() {
	ctx := context.Background()
	store := apikey.NewMemoryStore() // in production, a shared database
	cfg := apikey.Config{Prefix: "sk_test", Pepper: []byte("a server-side secret of 32+ bytes")}

	admin, err := apikey.NewManager(store, cfg)
	if err != nil {
		panic(err)
	}
	plaintext, key, err := admin.Issue(ctx, apikey.Key{Name: "ci", Subject: "svc-ci"})
	if err != nil {
		panic(err)
	}
	fmt.Println(strings.HasPrefix(plaintext, "sk_test_"), len(plaintext))

	auth, err := apikey.New(store, cfg)
	if err != nil {
		panic(err)
	}
	defer auth.Close()
	r := httptest.NewRequest("GET", "/builds", nil)
	r.Header.Set("X-API-Key", plaintext)
	p, err := auth.Authenticate(r)
	fmt.Println(p.Subject, p.CredentialID == key.ID, err)

	keys, err := admin.List(ctx)
	if err != nil {
		panic(err)
	}
	for _, k := range keys {
		fmt.Println(k.Name, k.Subject, k.RevokedAt.IsZero())
	}
	// Output:
	// true 44
	// svc-ci true <nil>
	// ci svc-ci true
}

func ExampleCheckFormat() {
	key, _ := apikey.GenerateKey("sk_live")
	prefix, err := apikey.CheckFormat(key)
	fmt.Println(prefix, err)
	_, err = apikey.CheckFormat(key[:len(key)-1] + "!")
	fmt.Println(errors.Is(err, apikey.ErrMalformedKey))
	// Output:
	// sk_live <nil>
	// true
}
