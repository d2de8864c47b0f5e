package providers

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// ParseX509CertMap parses a certificate map as Google publishes for
// Firebase ID tokens and session cookies: a JSON object from key ID to a
// PEM "CERTIFICATE" holding an RSA public key. Each key gets the map key as
// its ID and is bound to RS256. Entries that are not a single PEM
// certificate, hold another key type or a weak RSA key are skipped and
// counted; the document must be a strict JSON object of at most 100
// entries. Certificate validity periods are not checked (the map, fetched
// over TLS, is the trust anchor, as in Google's own libraries).
//
// It has the signature of RemoteKeySetConfig.Parse.
func ParseX509CertMap(data []byte) (keys []Key, skipped int, err error) {
	if len(data) > maxKeyDocument {
		return nil, 0, errors.New("providers: certificate map too large")
	}
	doc, err := parseObject(data)
	if err != nil {
		return nil, 0, fmt.Errorf("providers: certificate map: %w", err)
	}
	if len(doc) > maxJWKSKeys {
		return nil, 0, fmt.Errorf("providers: certificate map has more than %d entries", maxJWKSKeys)
	}
	ids := make([]string, 0, len(doc))
	for id := range doc {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		pub, ok := certificateRSAKey(doc[id])
		if !ok || id == "" {
			skipped++
			continue
		}
		keys = append(keys, Key{ID: id, Algorithm: RS256, public: pub})
	}
	return keys, skipped, nil
}

func certificateRSAKey(v any) (*rsa.PublicKey, bool) {
	s, ok := v.(string)
	if !ok {
		return nil, false
	}
	block, rest := pem.Decode([]byte(s))
	if block == nil || block.Type != "CERTIFICATE" || strings.TrimSpace(string(rest)) != "" {
		return nil, false
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, false
	}
	pub, ok := cert.PublicKey.(*rsa.PublicKey)
	if !ok || checkRSA(pub) != nil {
		return nil, false
	}
	return pub, true
}
