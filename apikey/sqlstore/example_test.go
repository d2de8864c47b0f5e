package sqlstore_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/authgate/authgate/apikey"
	"github.com/authgate/authgate/apikey/sqlstore"
)

// A SQLite file of API keys: open (creating the schema), issue a key, and
// authenticate with it.
func ExampleOpen() {
	dir, _ := os.MkdirTemp("", "authgate")
	defer os.RemoveAll(dir)
	ctx := context.Background()

	store, err := sqlstore.Open(ctx, "sqlite:"+filepath.Join(dir, "keys.db"))
	if err != nil {
		panic(err)
	}
	defer store.Close()
	auth, err := apikey.New(store, apikey.Config{Prefix: "sk_live"})
	if err != nil {
		panic(err)
	}
	defer auth.Close()

	plaintext, key, err := auth.Manager().Issue(ctx, apikey.Key{Name: "quickstart", Subject: "alice", Roles: []string{"admin"}})
	if err != nil {
		panic(err)
	}
	_ = plaintext // fmt.Printf("export API_KEY=%s\n", plaintext)
	keys, _ := store.List(ctx)
	fmt.Println(store.Dialect(), len(keys), keys[0].ID == key.ID, keys[0].Roles)
	// Output: sqlite 1 true [admin]
}

// A server that must start while its database is down: a Lazy store opens
// anyway, answers ErrNotReady (a 503 for its authenticator) and connects
// in the background, here once the database's directory exists.
func ExampleOpenConfig() {
	dir, _ := os.MkdirTemp("", "authgate")
	defer os.RemoveAll(dir)
	later := filepath.Join(dir, "later")
	ctx := context.Background()

	store, err := sqlstore.OpenConfig(ctx, sqlstore.Config{
		DSN:          "sqlite:" + filepath.Join(later, "keys.db"),
		MaxOpenConns: 4,
		Lazy:         true,
	})
	if err != nil {
		panic(err)
	}
	defer store.Close()
	fmt.Println(errors.Is(store.Ping(ctx), sqlstore.ErrNotReady))

	os.Mkdir(later, 0o700) // the database becomes reachable
	for store.Ping(ctx) != nil {
		time.Sleep(50 * time.Millisecond)
	}
	keys, err := store.List(ctx)
	fmt.Println(len(keys), err)
	// Output:
	// true
	// 0 <nil>
}
