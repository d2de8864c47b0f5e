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
	plaintext, key, err := auth.Issue(ctx, apikey.Key{Name: "deploy bot", Subject: "svc-deploy", Scopes: []string{"deploy"}})
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
	if err := auth.Revoke(ctx, key.ID); err != nil {
		panic(err)
	}
	_, err = auth.Authenticate(r)
	fmt.Println(authgate.StatusCode(err), authgate.ErrorCode(err), authgate.Detail(err), authgate.Reason(err))
	// Output:
	// apikey svc-deploy [deploy] true
	// 401 invalid_token Invalid API key revoked
}

func ExampleIssue() {
	store := apikey.NewMemoryStore()
	plaintext, key, err := apikey.Issue(context.Background(), store, "sk_test", apikey.Key{Subject: "alice"})
	if err != nil {
		panic(err)
	}
	fmt.Println(strings.HasPrefix(plaintext, "sk_test_"), len(plaintext), key.Subject)
	// Output: true 44 alice
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
