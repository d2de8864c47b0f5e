package providers

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/authgate/authgate/internal/jwttest"
)

func rsaJWK(pub *rsa.PublicKey, extra string) string {
	e := big.NewInt(int64(pub.E))
	return `{"kty":"RSA","n":"` + jwttest.BigB64(pub.N) + `","e":"` + jwttest.BigB64(e) + `"` + extra + `}`
}

func ecJWK(pub *ecdsa.PublicKey, crv string, extra string) string {
	point, err := pub.Bytes() // 0x04 ‖ X ‖ Y
	if err != nil {
		panic(err)
	}
	x, y := point[1:1+len(point)/2], point[1+len(point)/2:]
	return `{"kty":"EC","crv":"` + crv + `","x":"` + jwttest.B64(x) + `","y":"` + jwttest.B64(y) + `"` + extra + `}`
}

func TestParseKeysFormats(t *testing.T) {
	priv := jwttest.Key("RS256", "").(*rsa.PrivateKey)
	pub := &priv.PublicKey
	spki, _ := x509.MarshalPKIXPublicKey(pub)
	pkcs1 := x509.MarshalPKCS1PublicKey(pub)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "securetoken"}, NotBefore: time.Unix(0, 0), NotAfter: time.Unix(1, 0)}
	cert, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, pub, priv)
	if err != nil {
		t.Fatal(err)
	}
	ecPriv := jwttest.Key("ES256", "").(*ecdsa.PrivateKey)
	edPriv := jwttest.Key("EdDSA", "").(ed25519.PrivateKey)
	pkcs8, _ := x509.MarshalPKCS8PrivateKey(priv)
	pemOf := func(typ string, der []byte) string {
		return string(pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}))
	}

	tests := []struct {
		name     string
		data     string
		wantKeys int
		wantKind string
		wantID   string
		wantAlg  string
		wantErr  string
	}{
		{name: "spki pem", data: pemOf("PUBLIC KEY", spki), wantKeys: 1, wantKind: "RSA-2048"},
		{name: "spki pem crlf", data: strings.ReplaceAll(pemOf("PUBLIC KEY", spki), "\n", "\r\n"), wantKeys: 1, wantKind: "RSA-2048"},
		{name: "pkcs1 pem", data: pemOf("RSA PUBLIC KEY", pkcs1), wantKeys: 1, wantKind: "RSA-2048"},
		{name: "certificate", data: pemOf("CERTIFICATE", cert), wantKeys: 1, wantKind: "RSA-2048"},
		{name: "two blocks", data: pemOf("PUBLIC KEY", spki) + pemOf("CERTIFICATE", cert), wantKeys: 2, wantKind: "RSA-2048"},
		{name: "keycloak base64 der", data: base64.StdEncoding.EncodeToString(spki), wantKeys: 1, wantKind: "RSA-2048"},
		{name: "rsa jwk", data: rsaJWK(pub, `,"kid":"k1","alg":"PS256","use":"sig"`), wantKeys: 1, wantKind: "RSA-2048", wantID: "k1", wantAlg: "PS256"},
		{name: "ec jwk", data: ecJWK(&ecPriv.PublicKey, "P-256", `,"kid":"e"`), wantKeys: 1, wantKind: "EC P-256", wantID: "e"},
		{name: "okp jwk", data: `{"kty":"OKP","crv":"Ed25519","x":"` + jwttest.B64(edPriv.Public().(ed25519.PublicKey)) + `"}`, wantKeys: 1, wantKind: "Ed25519"},
		{name: "oct jwk", data: `{"kty":"oct","k":"` + jwttest.B64(make([]byte, 32)) + `","alg":"HS256"}`, wantKeys: 1, wantKind: "HMAC", wantAlg: "HS256"},
		{name: "jwks skips enc key", data: `{"keys":[` + rsaJWK(pub, `,"kid":"enc","use":"enc","alg":"RSA-OAEP"`) + `,` + rsaJWK(pub, `,"kid":"sig","key_ops":["verify"]`) + `]}`, wantKeys: 1, wantID: "sig", wantKind: "RSA-2048"},
		{name: "private pem", data: pemOf("PRIVATE KEY", pkcs8), wantErr: "private key"},
		{name: "garbage", data: "hello world", wantErr: "neither"},
		{name: "empty", data: "  ", wantErr: "no key data"},
		{name: "jwk private members", data: rsaJWK(pub, `,"d":"AQAB"`), wantErr: "private"},
		{name: "jwk use enc", data: rsaJWK(pub, `,"use":"enc"`), wantErr: "use"},
		{name: "jwk key_ops sign", data: rsaJWK(pub, `,"key_ops":["sign"]`), wantErr: "key_ops"},
		{name: "jwk use sig ops encrypt", data: rsaJWK(pub, `,"use":"sig","key_ops":["encrypt"]`), wantErr: "key_ops"},
		{name: "jwk alg mismatch", data: rsaJWK(pub, `,"alg":"ES256"`), wantErr: "does not fit"},
		{name: "jwk alg unknown", data: rsaJWK(pub, `,"alg":"ES521"`), wantErr: "unsupported key algorithm"},
		{name: "jwk e=1", data: `{"kty":"RSA","n":"` + jwttest.BigB64(pub.N) + `","e":"AQ"}`, wantErr: "exponent"},
		{name: "jwk e even", data: `{"kty":"RSA","n":"` + jwttest.BigB64(pub.N) + `","e":"AAI"}`, wantErr: "leading zero"},
		{name: "jwk e leading zero", data: `{"kty":"RSA","n":"` + jwttest.BigB64(pub.N) + `","e":"AAEAAQ"}`, wantErr: "leading zero"},
		{name: "jwk n 1024", data: `{"kty":"RSA","n":"` + jwttest.B64(append([]byte{0xc0}, make([]byte, 127)...)) + `","e":"AQAB"}`, wantErr: "2048"},
		{name: "ec short coordinate", data: `{"kty":"EC","crv":"P-256","x":"` + jwttest.B64(make([]byte, 31)) + `","y":"` + jwttest.B64(make([]byte, 32)) + `"}`, wantErr: "length"},
		{name: "ec off curve", data: `{"kty":"EC","crv":"P-256","x":"` + jwttest.B64(make([]byte, 32)) + `","y":"` + jwttest.B64(append(make([]byte, 31), 1)) + `"}`, wantErr: "curve"},
		{name: "ec unknown curve", data: ecJWK(&ecPriv.PublicKey, "secp256k1", ""), wantErr: "curve"},
		{name: "okp x25519", data: `{"kty":"OKP","crv":"X25519","x":"` + jwttest.B64(make([]byte, 32)) + `"}`, wantErr: "curve"},
		{name: "okp ed448", data: `{"kty":"OKP","crv":"Ed448","x":"` + jwttest.B64(make([]byte, 57)) + `"}`, wantErr: "curve"},
		{name: "unknown kty", data: `{"kty":"foo"}`, wantErr: "kty"},
		{name: "jwks all unusable", data: `{"keys":[{"kty":"foo"}]}`, wantErr: "no usable key"},
		{name: "jwks not array", data: `{"keys":"x"}`, wantErr: "not an array"},
		{name: "jwk duplicate member", data: `{"kty":"oct","kty":"RSA"}`, wantErr: "duplicate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			keys, err := ParseKeys([]byte(tt.data))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseKeys = %v, %v; want error containing %q", keys, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseKeys: %v", err)
			}
			if len(keys) != tt.wantKeys {
				t.Fatalf("ParseKeys returned %d keys, want %d", len(keys), tt.wantKeys)
			}
			k := keys[0]
			if k.Kind() != tt.wantKind || k.ID != tt.wantID || k.Algorithm != tt.wantAlg {
				t.Errorf("key = %s id %q alg %q, want %s id %q alg %q", k.Kind(), k.ID, k.Algorithm, tt.wantKind, tt.wantID, tt.wantAlg)
			}
		})
	}
}

// TestParseJWKS: a published set never yields secrets, private keys or
// encryption keys, and skips what it cannot use (SECURITY.md#attacks-keys).
func TestParseJWKS(t *testing.T) {
	pub := &jwttest.Key("RS256", "").(*rsa.PrivateKey).PublicKey
	ec := &jwttest.Key("ES256", "").(*ecdsa.PrivateKey).PublicKey
	doc := `{"keys":[` + strings.Join([]string{
		rsaJWK(pub, `,"kid":"good","alg":"RS256","x5c":["MIIB"],"x5t":"x"`),
		ecJWK(ec, "P-256", `,"kid":"ec"`),
		`{"kty":"oct","kid":"k1","k":"` + jwttest.B64(make([]byte, 32)) + `"}`,
		rsaJWK(pub, `,"kid":"priv","d":"AQAB"`),
		rsaJWK(pub, `,"kid":"enc","use":"enc","alg":"RSA-OAEP"`),
		`{"kty":"OKP","crv":"Ed448","x":"AA"}`,
		`{"kty":"EC","crv":"secp256k1","x":"AA","y":"AA"}`,
		`{"kty":"foo"}`,
		rsaJWK(pub, `,"alg":"ML-DSA-65"`),
	}, ",") + `]}`
	keys, skipped, err := ParseJWKS([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 2 || skipped != 7 || keys[0].ID != "good" || keys[1].ID != "ec" {
		t.Fatalf("ParseJWKS = %d keys (%v), %d skipped; want good and ec, 7 skipped", len(keys), keys, skipped)
	}
	for _, bad := range []string{`[]`, `null`, `{}`, `{"keys":"x"}`, `{"keys":[1]}`, `{"keys":[]}x`, `<html>`,
		`{"keys":[` + strings.Repeat(`{"kty":"foo"},`, 100) + `{"kty":"foo"}]}`} {
		if _, _, err := ParseJWKS([]byte(bad)); err == nil {
			t.Errorf("ParseJWKS(%.40q) accepted", bad)
		}
	}
}

func TestBindKeys(t *testing.T) {
	rsaKey := PublicKey(&jwttest.Key("RS256", "").(*rsa.PrivateKey).PublicKey)
	p521 := PublicKey(&jwttest.Key("ES512", "").(*ecdsa.PrivateKey).PublicKey)
	ed := PublicKey(jwttest.Key("EdDSA", "").(ed25519.PrivateKey).Public())
	edPtr := jwttest.Key("EdDSA", "").(ed25519.PrivateKey).Public().(ed25519.PublicKey)
	p224, _ := ecdsa.GenerateKey(elliptic.P224(), rand.Reader)
	tests := []struct {
		name    string
		key     Key
		allowed []string
		wantAlg string // "": error
	}{
		{"rsa one family member", rsaKey, []string{"RS256", "ES256"}, "RS256"},
		{"rsa ambiguous", rsaKey, []string{"RS256", "RS384"}, ""},
		{"p521 is ES512", p521, []string{"ES256", "ES512"}, "ES512"},
		{"p521 not ES256", p521, []string{"ES256"}, ""},
		{"ed25519", ed, []string{"EdDSA", "RS256"}, "EdDSA"},
		{"ed25519 pointer", PublicKey(&edPtr), []string{"EdDSA"}, "EdDSA"},
		{"p224 unsupported", PublicKey(&p224.PublicKey), []string{"ES256"}, ""},
		{"secret 64 HS512", SecretKey(make([]byte, 64)), []string{"HS512"}, "HS512"},
		{"secret 48 HS512", SecretKey(make([]byte, 48)), []string{"HS512"}, ""},
		{"secret ambiguous", SecretKey(make([]byte, 64)), []string{"HS256", "HS512"}, ""},
		{"zero key", Key{}, []string{"RS256"}, ""},
		{"string key", PublicKey("secret"), []string{"HS256"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := BindKeys([]Key{tt.key}, tt.allowed)
			if tt.wantAlg == "" {
				if err == nil {
					t.Fatalf("BindKeys = %v, want error", got[0].Algorithm)
				}
				return
			}
			if err != nil || got[0].Algorithm != tt.wantAlg {
				t.Fatalf("BindKeys = %v, %v; want %s", got, err, tt.wantAlg)
			}
		})
	}
}

// TestSecretKeyCopies: changing the caller's slice after SecretKey does not
// change the key.
func TestSecretKeyCopies(t *testing.T) {
	s := []byte(strings.Repeat("k", 32))
	k := SecretKey(s)
	s[0] = 'x'
	if k.secret.key[0] != 'k' {
		t.Fatal("SecretKey kept the caller's slice")
	}
}
