package providers_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"testing"
	"time"

	"github.com/authgate/authgate/internal/jwttest"
	"github.com/authgate/authgate/providers"
)

func certPEM(t *testing.T, priv crypto.Signer) string {
	t.Helper()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "securetoken"},
		NotBefore: time.Unix(1_700_000_000, 0), NotAfter: time.Unix(1_700_086_400, 0)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, priv.Public(), priv)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

func TestParseX509CertMap(t *testing.T) {
	rsaKey := jwttest.Key("RS256", "fb1").(*rsa.PrivateKey)
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	weak, _ := rsa.GenerateKey(rand.Reader, 1024)
	good := certPEM(t, rsaKey)
	doc := jwttest.JSON(map[string]any{
		"fb1":  good,
		"ec":   certPEM(t, ecKey),
		"weak": certPEM(t, weak),
		"junk": "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
		"two":  good + good,
		"num":  1,
	})
	keys, skipped, err := providers.ParseX509CertMap(doc)
	if err != nil {
		t.Fatalf("ParseX509CertMap = %v", err)
	}
	if len(keys) != 1 || skipped != 5 || keys[0].ID != "fb1" || keys[0].Algorithm != "RS256" {
		t.Fatalf("ParseX509CertMap = %d keys (%+v), %d skipped; want fb1/RS256 and 5 skipped", len(keys), keys, skipped)
	}
	for _, bad := range []string{`[]`, `{"a":"x"}{}`, `{"a":"x","a":"y"}`, `x`} {
		if _, _, err := providers.ParseX509CertMap([]byte(bad)); err == nil {
			t.Errorf("ParseX509CertMap(%s) = nil error", bad)
		}
	}

	// The map plugs into the remote key manager (Firebase's key URL).
	srv := newKeyServer(t, doc)
	srv.set(doc, "public, max-age=19845, must-revalidate, no-transform")
	clk := newClock()
	v, _ := newRemote(t, srv.URL, clk, func(c *providers.RemoteKeySetConfig) {
		c.Parse = providers.ParseX509CertMap
		c.Algorithms = []string{"RS256"}
	})
	if err := verify(v, token(clk, "RS256", "fb1", "fb1", nil)); err != nil {
		t.Fatalf("Verify through a certificate map = %v", err)
	}
}
