package providers_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"time"

	"github.com/authgate/authgate/providers"
)

// A provider of your own (Okta, Entra ID, Cognito…) is a Verifier over a
// KeySet plus a Mapping.
func ExampleNewVerifier() {
	priv, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, _ := x509.MarshalPKIXPublicKey(&priv.PublicKey)
	keys, err := providers.ParseKeys(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
	if err != nil {
		fmt.Println(err)
		return
	}
	keys[0].ID = "2026-11"
	set, err := providers.NewStaticKeySet(keys, []string{providers.ES256})
	if err != nil {
		fmt.Println(err)
		return
	}
	v, err := providers.NewVerifier(providers.VerifierConfig{
		Name:       "corp",
		Issuer:     "https://login.corp.example/",
		Audience:   []string{"orders-api"},
		Algorithms: []string{providers.ES256},
		Keys:       set,
		TokenTypes: []string{"at+jwt"}, // RFC 9068 access tokens only
		Now:        func() time.Time { return time.Unix(1_800_000_000, 0) },
	})
	if err != nil {
		fmt.Println(err)
		return
	}

	token := signES256(priv, `{"alg":"ES256","kid":"2026-11","typ":"at+jwt"}`,
		`{"iss":"https://login.corp.example/","aud":"orders-api","sub":"svc-7","exp":1800000060,"scope":"orders:read","groups":["ops"]}`)
	t, err := v.Verify(context.Background(), token)
	if err != nil {
		fmt.Println(err)
		return
	}
	p := providers.Mapping{Provider: "corp", RolesClaim: "groups"}.Principal(t)
	fmt.Println(p.Provider, p.Subject, p.Roles, p.Scopes)
	// Output: corp svc-7 [ops] [orders:read]
}

func signES256(priv *ecdsa.PrivateKey, header, claims string) string {
	enc := base64.RawURLEncoding
	input := enc.EncodeToString([]byte(header)) + "." + enc.EncodeToString([]byte(claims))
	d := sha256.Sum256([]byte(input))
	r, s, _ := ecdsa.Sign(rand.Reader, priv, d[:])
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	return input + "." + enc.EncodeToString(sig)
}
