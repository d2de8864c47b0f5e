package main

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

const keygenUsage = `usage: authgate keygen --alg ALG --out DIR [--kid KID] [--bits N] [--force]

Generate a signing key pair and write, in DIR (created 0700 if missing):

  private.pem   the private key, PKCS#8 PEM, mode 0600
  public.pem    the public key, SubjectPublicKeyInfo PEM ("keys:" of a static provider)
  jwks.json     the public key as a JWK Set with kid, alg and use

ALG is one of RS256 RS384 RS512 PS256 PS384 PS512 ES256 ES384 ES512 EdDSA.
HMAC secrets are not key files: generate one (openssl rand -base64 48) and
hand it to a static provider through secret_env. Existing files are not
overwritten without --force.

Flags:
`

// Names of the files keygen writes.
const (
	privateFile = "private.pem"
	publicFile  = "public.pem"
	jwksFile    = "jwks.json"
)

func cmdKeygen(e *env, args []string) int {
	fs := newFlagSet("keygen", keygenUsage)
	alg := fs.String("alg", "RS256", "JWS `algorithm` the key signs")
	out := fs.String("out", "", "output `directory` (required)")
	kid := fs.String("kid", "", "key ID in the JWKS (default: the RFC 7638 thumbprint)")
	bits := fs.Int("bits", 2048, "RSA modulus `size` (at least 2048)")
	force := fs.Bool("force", false, "overwrite existing files")
	if _, code, ok := parseFlags(e, fs, args, 0, 0); !ok {
		return code
	}
	if *out == "" {
		return usagef(e, fs, "--out is required")
	}
	kty, curve, err := algFamily(*alg)
	switch {
	case err != nil:
		return usagef(e, fs, "%v", err)
	case kty == "oct":
		return usagef(e, fs, "%s uses a shared secret, not a key pair: generate one (openssl rand -base64 48) and pass it through secret_env", *alg)
	case kty == "RSA" && *bits < 2048:
		return usagef(e, fs, "--bits must be at least 2048")
	case kty == "RSA" && *bits > 8192:
		return usagef(e, fs, "--bits must be at most 8192")
	}
	var key crypto.Signer
	switch kty {
	case "RSA":
		key, err = rsa.GenerateKey(rand.Reader, *bits)
	case "EC":
		key, err = ecdsa.GenerateKey(curve, rand.Reader)
	case "OKP":
		_, key, err = ed25519.GenerateKey(rand.Reader)
	}
	if err != nil {
		return e.fail("keygen", err)
	}
	files, id, err := keyFiles(key, *alg, *kid)
	if err != nil {
		return e.fail("keygen", err)
	}
	if err := writeKeyFiles(*out, files, *force); err != nil {
		return e.fail("keygen", err)
	}
	for _, f := range files {
		fmt.Fprintf(e.stdout, "wrote %s\n", filepath.Join(*out, f.name))
	}
	fmt.Fprintf(e.stdout, "alg %s, kid %s\n", *alg, id)
	return exitOK
}

type keyFile struct {
	name string
	data []byte
	mode os.FileMode
}

// keyFiles encodes key as the three files keygen writes and returns its kid.
func keyFiles(key crypto.Signer, alg, kid string) ([]keyFile, string, error) {
	priv, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, "", err
	}
	pub, err := x509.MarshalPKIXPublicKey(key.Public())
	if err != nil {
		return nil, "", err
	}
	jwk, err := publicJWK(key.Public())
	if err != nil {
		return nil, "", err
	}
	if kid == "" {
		kid = thumbprint(jwk)
	}
	jwk["kid"], jwk["alg"], jwk["use"] = kid, alg, "sig"
	set, err := json.MarshalIndent(map[string]any{"keys": []any{jwk}}, "", "  ")
	if err != nil {
		return nil, "", err
	}
	return []keyFile{
		{privateFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: priv}), 0o600},
		{publicFile, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}), 0o644},
		{jwksFile, append(set, '\n'), 0o644},
	}, kid, nil
}

// writeKeyFiles writes files into dir. Without force it refuses to touch
// anything when one of them exists. The private key is created 0600 from
// the start, never widened and narrowed afterwards.
func writeKeyFiles(dir string, files []keyFile, force bool) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	if !force {
		for _, f := range files {
			if _, err := os.Lstat(filepath.Join(dir, f.name)); err == nil {
				return &usageErr{fmt.Errorf("%s exists (use --force to overwrite)", filepath.Join(dir, f.name))}
			} else if !errors.Is(err, fs.ErrNotExist) {
				return err
			}
		}
	}
	for _, f := range files {
		path := filepath.Join(dir, f.name)
		if force {
			if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return err
			}
		}
		fh, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, f.mode)
		if err != nil {
			return err
		}
		if err := fh.Chmod(f.mode); err != nil { // the umask may have narrowed it
			fh.Close()
			return err
		}
		if _, err := fh.Write(f.data); err != nil {
			fh.Close()
			return err
		}
		if err := fh.Close(); err != nil {
			return err
		}
	}
	return nil
}
