package sqlstore_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

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
