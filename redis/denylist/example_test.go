package denylist_test

import (
	"fmt"
	"net/http"

	"github.com/redis/go-redis/v9"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/redis/denylist"
)

// Guard puts the deny-list behind any authenticator. Until the list is
// loaded from Redis (here it never is: nothing listens on the address),
// every request fails closed with 503.
func Example() {
	client := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	defer client.Close()
	list, err := denylist.New(denylist.Config{Client: client})
	if err != nil {
		panic(err)
	}
	defer list.Close()

	// Any authenticator: a provider, a chain, an apikey.Authenticator.
	provider := authgate.AuthenticatorFunc(func(*http.Request) (*authgate.Principal, error) {
		return &authgate.Principal{Provider: "auth0", Subject: "alice", TokenID: "j-1"}, nil
	})
	guarded := list.Guard(provider)

	r, _ := http.NewRequest(http.MethodGet, "/", nil)
	_, err = guarded.Authenticate(r)
	fmt.Println(authgate.Reason(err))
	// Output: unavailable
}
