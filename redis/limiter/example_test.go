package limiter_test

import (
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/authgate/authgate/apikey"
	"github.com/authgate/authgate/redis/limiter"
)

// An API-key authenticator whose failed-attempt budget (10 weighted
// failures per client and minute) is shared by every replica using the
// same Redis.
func Example() {
	client := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
	defer client.Close()
	l, err := limiter.New(limiter.Config{Client: client, Limit: 10, Window: time.Minute})
	if err != nil {
		panic(err)
	}
	a, err := apikey.New(apikey.NewMemoryStore(), apikey.Config{Prefix: "sk_live", Limiter: l})
	if err != nil {
		panic(err)
	}
	defer a.Close()
	fmt.Println(a.Describe().Scheme)
	// Output: ApiKey header="X-API-Key"
}
