package main

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

const tokenUsage = `usage: authgate token --key FILE | --secret-env NAME  --iss ISS --aud AUD --sub SUB [flags]

Mint a development token and print it. The header is {"alg", "typ":"JWT"}
plus "kid" when --kid is given. A token without kid verifies against both
public.pem and jwks.json from keygen; one with a kid against jwks.json only
when its key has that kid, and against a key file whose keys have no kid
(public.pem) whatever the kid, as long as the file holds one key of the
algorithm. The claims are iss, sub, aud, iat, exp = iat + --ttl, and every
--claim name=value: value is taken as JSON when it parses (42, true,
["a","b"], {"k":"v"}, "quoted"), as a string otherwise.

Flags:
`

// registered claims set by their own flags.
var tokenFlagClaims = map[string]string{"iss": "--iss", "sub": "--sub", "aud": "--aud", "exp": "--ttl", "iat": "--ttl"}

func cmdToken(e *env, args []string) int {
	fs := newFlagSet("token", tokenUsage)
	keyPath := fs.String("key", "", "private key `file` (PEM: PKCS#8, PKCS#1 or SEC 1)")
	secretEnv := fs.String("secret-env", "", "environment `variable` holding an HMAC secret (HS256/384/512)")
	alg := fs.String("alg", "", "JWS `algorithm` (default: from the key, HS256 for a secret)")
	kid := fs.String("kid", "", "key ID for the header")
	iss := fs.String("iss", "", "issuer (required)")
	sub := fs.String("sub", "", "subject (required)")
	var aud, claimArgs stringsFlag
	fs.Var(&aud, "aud", "audience (repeatable; required)")
	fs.Var(&claimArgs, "claim", "extra claim `name=value` (repeatable)")
	ttl := fs.Duration("ttl", time.Hour, "lifetime")
	if _, code, ok := parseFlags(e, fs, args, 0, 0); !ok {
		return code
	}
	switch {
	case (*keyPath == "") == (*secretEnv == ""):
		return usagef(e, fs, "give exactly one of --key and --secret-env")
	case *iss == "":
		return usagef(e, fs, "--iss is required")
	case *sub == "":
		return usagef(e, fs, "--sub is required")
	case len(aud) == 0:
		return usagef(e, fs, "--aud is required")
	case *ttl <= 0:
		return usagef(e, fs, "--ttl must be positive")
	}
	now := time.Now()
	claims := map[string]any{"iss": *iss, "sub": *sub, "iat": now.Unix(), "exp": now.Add(*ttl).Unix()}
	if len(aud) == 1 {
		claims["aud"] = aud[0]
	} else {
		claims["aud"] = []string(aud)
	}
	for _, c := range claimArgs {
		name, value, ok := strings.Cut(c, "=")
		if !ok || name == "" {
			return usagef(e, fs, "--claim wants name=value")
		}
		if f, reserved := tokenFlagClaims[name]; reserved {
			return usagef(e, fs, "claim %q is set with %s", name, f)
		}
		var v any = value
		if json.Valid([]byte(value)) {
			d := json.NewDecoder(strings.NewReader(value))
			d.UseNumber() // 64-bit integers stay exact
			_ = d.Decode(&v)
		}
		claims[name] = v
	}

	var s signer
	if *keyPath != "" {
		data, err := readLimited(*keyPath, maxKeyFile)
		if err != nil {
			return e.fail("token", err)
		}
		key, err := parsePrivateKey(data)
		if err != nil {
			return e.fail("token", fmt.Errorf("%s: %w", baseName(*keyPath), err))
		}
		if *alg == "" {
			*alg, _ = defaultAlg(key)
		}
		if err := checkKeyAlg(key, *alg); err != nil {
			return usagef(e, fs, "%v", err)
		}
		s = signer{alg: *alg, key: key}
	} else {
		secret := e.getenv(*secretEnv)
		if secret == "" {
			return e.fail("token", &usageErr{fmt.Errorf("environment variable %s is not set", *secretEnv)})
		}
		if *alg == "" {
			*alg = "HS256"
		}
		if kty, _, err := algFamily(*alg); err != nil || kty != "oct" {
			return usagef(e, fs, "a secret signs HS256, HS384 or HS512, not %s", *alg)
		}
		s = signer{alg: *alg, secret: []byte(secret)}
		if len(s.secret) < hashOf(*alg).Size() {
			return e.fail("token", &usageErr{fmt.Errorf("%s needs a secret of at least %d bytes", *alg, hashOf(*alg).Size())})
		}
	}
	header := map[string]any{"alg": *alg, "typ": "JWT"}
	if *kid != "" {
		header["kid"] = *kid
	}
	tok, err := s.sign(header, claims)
	if err != nil {
		return e.fail("token", err)
	}
	fmt.Fprintln(e.stdout, tok)
	return exitOK
}

// signer signs compact JWS tokens with a private key or an HMAC secret.
type signer struct {
	alg    string
	key    crypto.Signer
	secret []byte
}

func hashOf(alg string) crypto.Hash {
	switch alg[len(alg)-3:] {
	case "384":
		return crypto.SHA384
	case "512":
		return crypto.SHA512
	}
	return crypto.SHA256
}

// sign returns header.claims.signature.
func (s signer) sign(header, claims map[string]any) (string, error) {
	h, err := json.Marshal(header)
	if err != nil {
		return "", err
	}
	c, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	input := b64.EncodeToString(h) + "." + b64.EncodeToString(c)
	sig, err := s.signInput([]byte(input))
	if err != nil {
		return "", err
	}
	return input + "." + b64.EncodeToString(sig), nil
}

func (s signer) signInput(input []byte) ([]byte, error) {
	if s.alg == "EdDSA" {
		k, ok := s.key.(ed25519.PrivateKey)
		if !ok {
			return nil, errors.New("EdDSA needs an Ed25519 key")
		}
		return ed25519.Sign(k, input), nil
	}
	hash := hashOf(s.alg)
	if strings.HasPrefix(s.alg, "HS") {
		m := hmac.New(hash.New, s.secret)
		m.Write(input)
		return m.Sum(nil), nil
	}
	hh := hash.New()
	hh.Write(input)
	digest := hh.Sum(nil)
	switch k := s.key.(type) {
	case *rsa.PrivateKey:
		if strings.HasPrefix(s.alg, "PS") {
			return rsa.SignPSS(rand.Reader, k, hash, digest, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
		}
		return rsa.SignPKCS1v15(nil, k, hash, digest)
	case *ecdsa.PrivateKey:
		r, sv, err := ecdsa.Sign(rand.Reader, k, digest)
		if err != nil {
			return nil, err
		}
		size := (k.Curve.Params().BitSize + 7) / 8
		sig := make([]byte, 2*size)
		r.FillBytes(sig[:size])
		sv.FillBytes(sig[size:])
		return sig, nil
	}
	return nil, errors.New("unsupported key")
}
