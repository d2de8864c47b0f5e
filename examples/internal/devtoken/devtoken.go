// Package devtoken is the examples' development issuer: it generates an RSA
// key pair at start and mints RS256 tokens with it, so the examples run
// without an identity provider. Never use it in production: the key lives
// only in memory and anyone with the process's output holds valid tokens.
package devtoken

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"time"

	"github.com/authgate/authgate/providers"
)

// Issuer mints development tokens.
type Issuer struct {
	// URL is the issuer ("iss") of the tokens.
	URL string
	// Audience is their audience ("aud").
	Audience string
	key      *rsa.PrivateKey
	kid      string
}

// New generates a 2048-bit RSA key pair.
func New(issuer, audience string) (*Issuer, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("devtoken: %w", err)
	}
	return &Issuer{URL: issuer, Audience: audience, key: key, kid: "dev-" + time.Now().UTC().Format("20060102")}, nil
}

// Key returns the public verification key, bound to RS256 with its kid.
func (i *Issuer) Key() providers.Key {
	k := providers.PublicKey(&i.key.PublicKey)
	k.ID, k.Algorithm = i.kid, providers.RS256
	return k
}

// Mint returns an RS256 token for subject valid for ttl, with iss, aud, sub,
// iat and exp set and the extra claims added.
func (i *Issuer) Mint(subject string, ttl time.Duration, extra map[string]any) (string, error) {
	now := time.Now()
	claims := map[string]any{"iss": i.URL, "aud": i.Audience, "sub": subject, "iat": now.Unix(), "exp": now.Add(ttl).Unix()}
	for k, v := range extra {
		claims[k] = v
	}
	header, err := json.Marshal(map[string]string{"alg": "RS256", "typ": "JWT", "kid": i.kid})
	if err != nil {
		return "", err
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("devtoken: claims: %w", err)
	}
	enc := base64.RawURLEncoding
	input := enc.EncodeToString(header) + "." + enc.EncodeToString(payload)
	digest := sha256.Sum256([]byte(input))
	sig, err := rsa.SignPKCS1v15(nil, i.key, crypto.SHA256, digest[:])
	if err != nil {
		return "", fmt.Errorf("devtoken: %w", err)
	}
	return input + "." + enc.EncodeToString(sig), nil
}
