package firebase_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/firebase"
	"github.com/authgate/authgate/internal/jwttest"
	"github.com/authgate/authgate/providers"
)

// The seed's FirebaseAuth in Go. A local TLS server stands in for Google's
// certificate endpoint; in production leave CertsURL and HTTPClient unset.
func Example() {
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), NotAfter: time.Now().Add(time.Hour)}
	der, _ := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	certs := map[string]string{"key-1": string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))}
	google := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=21600")
		_ = json.NewEncoder(w).Encode(certs)
	}))
	defer google.Close()

	now := time.Unix(1_800_000_000, 0)
	auth, err := firebase.New(firebase.Config{
		ProjectID: "my-project",
		CertsURL:  google.URL,
		TokenOptions: providers.TokenOptions{
			RolesClaim: "roles",
			Logger:     slog.New(slog.DiscardHandler),
			Now:        func() time.Time { return now },
		},
		FetchOptions: providers.FetchOptions{
			HTTPClient: google.Client(),
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}

	idToken := func(project string) string {
		return jwttest.Token("RS256", "key-1", key, map[string]any{
			"iss": "https://securetoken.google.com/" + project, "aud": project,
			"sub": "uid-ada", "user_id": "uid-ada", "email": "ada@example.com",
			"iat": now.Unix() - 60, "auth_time": now.Unix() - 60, "exp": now.Unix() + 3540,
			"firebase": map[string]any{"sign_in_provider": "google.com"},
			"roles":    []string{"editor"},
		})
	}

	r := httptest.NewRequest("GET", "/api/articles/", nil)
	r.Header.Set("Authorization", "Bearer "+idToken("my-project"))
	p, err := auth.Authenticate(r)
	if err != nil {
		fmt.Println(authgate.StatusCode(err), authgate.Detail(err))
		return
	}
	fmt.Println(p.Subject, p.Email, p.Roles, firebase.SignInProvider(p))

	// Every Firebase project shares Google's keys: a token of another
	// project verifies cryptographically, and is still not ours.
	_, err = auth.Verify(context.Background(), idToken("other-project"))
	fmt.Println(errors.Is(err, authgate.ErrUnrecognizedCredential), authgate.StatusCode(err))
	// Output:
	// uid-ada ada@example.com [editor] google.com
	// true 401
}
