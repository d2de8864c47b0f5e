package main

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
)

var b64 = base64.RawURLEncoding

// algFamily returns "RSA", "EC", "OKP" or "oct" for a JWS algorithm, and
// for EC the curve.
func algFamily(alg string) (kty string, curve elliptic.Curve, err error) {
	switch alg {
	case "RS256", "RS384", "RS512", "PS256", "PS384", "PS512":
		return "RSA", nil, nil
	case "ES256":
		return "EC", elliptic.P256(), nil
	case "ES384":
		return "EC", elliptic.P384(), nil
	case "ES512":
		return "EC", elliptic.P521(), nil
	case "EdDSA":
		return "OKP", nil, nil
	case "HS256", "HS384", "HS512":
		return "oct", nil, nil
	}
	return "", nil, fmt.Errorf("unsupported algorithm %q", alg)
}

// defaultAlg returns the usual algorithm for a private key.
func defaultAlg(key crypto.Signer) (string, error) {
	switch k := key.(type) {
	case *rsa.PrivateKey:
		return "RS256", nil
	case *ecdsa.PrivateKey:
		switch k.Curve {
		case elliptic.P256():
			return "ES256", nil
		case elliptic.P384():
			return "ES384", nil
		case elliptic.P521():
			return "ES512", nil
		}
	case ed25519.PrivateKey:
		return "EdDSA", nil
	}
	return "", errors.New("unsupported private key type")
}

// checkKeyAlg checks that key can sign alg.
func checkKeyAlg(key crypto.Signer, alg string) error {
	kty, curve, err := algFamily(alg)
	if err != nil {
		return err
	}
	switch k := key.(type) {
	case *rsa.PrivateKey:
		if kty != "RSA" {
			return fmt.Errorf("an RSA key cannot sign %s", alg)
		}
		if k.N.BitLen() < 2048 {
			return errors.New("RSA keys must have at least 2048 bits")
		}
		return nil
	case *ecdsa.PrivateKey:
		if kty != "EC" || k.Curve != curve {
			return fmt.Errorf("an EC %s key cannot sign %s", k.Curve.Params().Name, alg)
		}
		return nil
	case ed25519.PrivateKey:
		if kty != "OKP" {
			return fmt.Errorf("an Ed25519 key cannot sign %s", alg)
		}
		return nil
	}
	return errors.New("unsupported private key type")
}

// parsePrivateKey reads a PEM private key: PKCS#8 "PRIVATE KEY", PKCS#1
// "RSA PRIVATE KEY" or SEC 1 "EC PRIVATE KEY". Errors never quote the
// file's content.
func parsePrivateKey(data []byte) (crypto.Signer, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, errors.New("no PEM block found (want a PEM private key)")
	}
	var (
		key any
		err error
	)
	switch block.Type {
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(block.Bytes)
	default:
		return nil, fmt.Errorf("PEM block %q is not a private key", block.Type)
	}
	if err != nil {
		return nil, errors.New("cannot parse the private key")
	}
	s, ok := key.(crypto.Signer)
	if !ok {
		return nil, errors.New("unsupported private key type")
	}
	if _, err := defaultAlg(s); err != nil {
		return nil, err
	}
	return s, nil
}

// publicJWK returns the public JWK members of pub (no kid, alg or use).
func publicJWK(pub crypto.PublicKey) (map[string]string, error) {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		return map[string]string{
			"kty": "RSA",
			"n":   b64.EncodeToString(k.N.Bytes()),
			"e":   b64.EncodeToString(big.NewInt(int64(k.E)).Bytes()),
		}, nil
	case *ecdsa.PublicKey:
		point, err := k.Bytes()
		if err != nil {
			return nil, err
		}
		size := (len(point) - 1) / 2
		return map[string]string{
			"kty": "EC",
			"crv": k.Curve.Params().Name,
			"x":   b64.EncodeToString(point[1 : 1+size]),
			"y":   b64.EncodeToString(point[1+size:]),
		}, nil
	case ed25519.PublicKey:
		return map[string]string{"kty": "OKP", "crv": "Ed25519", "x": b64.EncodeToString(k)}, nil
	}
	return nil, errors.New("unsupported public key type")
}

// thumbprint returns the RFC 7638 JWK thumbprint (SHA-256, base64url) of a
// public JWK: the required members in lexicographic order.
func thumbprint(jwk map[string]string) string {
	var required []string
	switch jwk["kty"] {
	case "RSA":
		required = []string{"e", "kty", "n"}
	case "EC":
		required = []string{"crv", "kty", "x", "y"}
	case "OKP":
		required = []string{"crv", "kty", "x"}
	}
	buf := []byte{'{'}
	for i, m := range required {
		if i > 0 {
			buf = append(buf, ',')
		}
		name, _ := json.Marshal(m)
		val, _ := json.Marshal(jwk[m])
		buf = append(append(append(buf, name...), ':'), val...)
	}
	buf = append(buf, '}')
	sum := sha256.Sum256(buf)
	return b64.EncodeToString(sum[:])
}
