package static_test

// Interop: tokens minted by JOSE libraries that nobody here wrote (npm jose
// and Debian's python3-jwt) must verify with the static provider, and must
// stop verifying when one byte of any segment changes.
//
// The tests need Node with interop/node_modules installed (npm ci) and
// /usr/bin/python3 with python3-jwt and python3-cryptography, so they run only
// when AUTHGATE_INTEROP=1 (.ci/run sets it, and AUTHGATE_INTEROP_DIR). Once
// switched on, a missing minter is a failure, never a skip.

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/providers"
	"github.com/authgate/authgate/static"
)

const (
	interopIssuer   = "https://issuer.interop.test"
	interopAudience = "https://api.interop.test"
	interopSubject  = "interop-user"
	interopName     = "interop"
	// interopMarker is a private header parameter. RFC 7515 §4 says a
	// verifier ignores it, so changing it can only be caught by the
	// signature.
	interopMarker = "authgate_interop"
	mintTimeout   = 30 * time.Second
)

var interopAlgorithms = []string{
	"RS256", "RS384", "RS512",
	"PS256", "PS384", "PS512",
	"ES256", "ES384", "ES512",
	"HS256", "HS384", "HS512",
	"EdDSA",
}

// minter runs one external token minter: a script that reads a mintRequest
// as JSON on stdin and prints a compact JWS.
type minter struct {
	name string
	argv []string
}

// mintRequest is what interop/mint-jose.mjs and interop/mint_pyjwt.py read.
type mintRequest struct {
	Alg    string         `json:"alg"`
	Key    string         `json:"key"` // PKCS#8 PEM, or base64url HMAC secret
	Kid    string         `json:"kid"`
	Header map[string]any `json:"header"`
	Claims map[string]any `json:"claims"`
}

func TestInteropJose(t *testing.T) {
	dir := interopDir(t)
	if _, err := exec.LookPath("node"); err != nil {
		t.Fatalf("AUTHGATE_INTEROP=1 but node is not on PATH: %v", err)
	}
	pkg, err := os.ReadFile(filepath.Join(dir, "node_modules", "jose", "package.json"))
	if err != nil {
		t.Fatalf("AUTHGATE_INTEROP=1 but npm jose is not installed (run npm ci in %s): %v", dir, err)
	}
	var v struct{ Version string }
	if err := json.Unmarshal(pkg, &v); err != nil {
		t.Fatalf("reading the jose version: %v", err)
	}
	t.Logf("minting with npm jose %s", v.Version)
	testInterop(t, minter{name: "jose", argv: []string{"node", filepath.Join(dir, "mint-jose.mjs")}})
}

func TestInteropPyJWT(t *testing.T) {
	dir := interopDir(t)
	const python = "/usr/bin/python3" // Debian's python3-jwt lives there, not in PATH's python3
	ctx, cancel := context.WithTimeout(t.Context(), mintTimeout)
	defer cancel()
	// -I: isolated mode, so no PYTHONPATH or user site-packages shadow Debian's modules.
	out, err := exec.CommandContext(ctx, python, "-I", "-c",
		"import jwt, cryptography; print(jwt.__version__, cryptography.__version__)").CombinedOutput()
	if err != nil {
		t.Fatalf("AUTHGATE_INTEROP=1 but %s cannot import jwt and cryptography (apt-get install python3-jwt python3-cryptography): %v\n%s",
			python, err, out)
	}
	t.Logf("minting with python3-jwt and cryptography %s", bytes.TrimSpace(out))
	testInterop(t, minter{name: "pyjwt", argv: []string{python, "-I", filepath.Join(dir, "mint_pyjwt.py")}})
}

// interopDir skips the test unless AUTHGATE_INTEROP=1 and returns the
// directory holding the minters.
func interopDir(t *testing.T) string {
	t.Helper()
	if os.Getenv("AUTHGATE_INTEROP") != "1" {
		t.Skip("AUTHGATE_INTEROP not set: interop with npm jose and python3-jwt skipped (.ci/run sets it)")
	}
	dir := os.Getenv("AUTHGATE_INTEROP_DIR")
	if dir == "" {
		dir = filepath.Join("..", "interop")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		t.Fatalf("interop directory %q: %v", dir, err)
	}
	return abs
}

func testInterop(t *testing.T, m minter) {
	for _, alg := range interopAlgorithms {
		t.Run(alg, func(t *testing.T) {
			t.Parallel()
			now := time.Now().Truncate(time.Second)
			kid := "interop-" + alg
			signing, key := newInteropKey(t, alg)
			key.ID = kid
			key.Algorithm = alg

			token := m.mint(t, mintRequest{
				Alg:    alg,
				Key:    signing,
				Kid:    kid,
				Header: map[string]any{"typ": "JWT", interopMarker: "pristine"},
				Claims: map[string]any{
					"iss":   interopIssuer,
					"aud":   []string{interopAudience, "https://other.interop.test"},
					"sub":   interopSubject,
					"iat":   now.Add(-time.Second).Unix(),
					"nbf":   now.Add(-time.Second).Unix(),
					"exp":   now.Add(5 * time.Minute).Unix(),
					"scope": "read:items write:items",
					"roles": []string{"admin", "auditor"},
				},
			})

			a, err := static.New(static.Config{
				Keys:   []providers.Key{key},
				Issuer: interopIssuer,
				TokenOptions: providers.TokenOptions{
					Name:       interopName,
					Algorithms: []string{alg},
					Audience:   []string{interopAudience},
					Now:        func() time.Time { return now },
				},
			})
			if err != nil {
				t.Fatalf("static.New: %v", err)
			}

			p, err := a.Verify(t.Context(), token)
			if err != nil {
				t.Fatalf("Verify(%s token) = %v, want a principal", m.name, err)
			}
			checkInteropPrincipal(t, p, alg, kid)

			tampers := []struct {
				name    string
				tamper  func(t *testing.T, token string) string
				wantErr error
				notErr  error // must not match, even through wrapping
			}{
				{
					// A parameter the verifier ignores: only the signature
					// can tell.
					name:    "header",
					tamper:  func(t *testing.T, tok string) string { return changeMember(t, tok, 0, interopMarker) },
					wantErr: authgate.ErrInvalidSignature,
				},
				{
					name:    "payload",
					tamper:  func(t *testing.T, tok string) string { return changeMember(t, tok, 1, "sub") },
					wantErr: authgate.ErrInvalidSignature,
				},
				{
					// The unverified iss routes the token: another issuer's
					// token is not ours to reject, so a chain can offer it to
					// the next provider.
					name:    "payload iss",
					tamper:  func(t *testing.T, tok string) string { return changeMember(t, tok, 1, "iss") },
					wantErr: authgate.ErrUnrecognizedCredential,
					notErr:  authgate.ErrInvalidCredentials,
				},
				{
					name:    "signature",
					tamper:  changeSignature,
					wantErr: authgate.ErrInvalidSignature,
				},
			}
			for _, tc := range tampers {
				t.Run(tc.name, func(t *testing.T) {
					bad := tc.tamper(t, token)
					if len(bad) != len(token) || bad == token {
						t.Fatalf("tampering changed the token length or nothing at all")
					}
					p, err := a.Verify(t.Context(), bad)
					if !errors.Is(err, tc.wantErr) {
						t.Fatalf("Verify(%s token, %s byte changed) = %v, want %v", m.name, tc.name, err, tc.wantErr)
					}
					if p != nil {
						t.Errorf("Verify(%s token, %s byte changed) returned a principal with the error", m.name, tc.name)
					}
					if tc.notErr != nil && errors.Is(err, tc.notErr) {
						t.Errorf("Verify(%s token, %s byte changed) = %v, want it not to match %v", m.name, tc.name, err, tc.notErr)
					}
				})
			}
		})
	}
}

func checkInteropPrincipal(t *testing.T, p *authgate.Principal, alg, kid string) {
	t.Helper()
	if p == nil {
		t.Fatal("Verify returned a nil principal and no error")
	}
	if p.Provider != interopName {
		t.Errorf("Principal.Provider = %q, want %q", p.Provider, interopName)
	}
	if p.Subject != interopSubject {
		t.Errorf("Principal.Subject = %q, want %q", p.Subject, interopSubject)
	}
	if p.Issuer != interopIssuer {
		t.Errorf("Principal.Issuer = %q, want %q", p.Issuer, interopIssuer)
	}
	if want := []string{interopAudience, "https://other.interop.test"}; !slices.Equal(p.Audience, want) {
		t.Errorf("Principal.Audience = %q, want %q", p.Audience, want)
	}
	if want := []string{"admin", "auditor"}; !slices.Equal(p.Roles, want) {
		t.Errorf("Principal.Roles = %q, want %q", p.Roles, want)
	}
	if want := []string{"read:items", "write:items"}; !slices.Equal(p.Scopes, want) {
		t.Errorf("Principal.Scopes = %q, want %q", p.Scopes, want)
	}
	if p.Header.Map()["alg"] != alg || p.Header.Map()["kid"] != kid {
		t.Errorf("Principal.Header alg, kid = %v, %v, want %s, %s", p.Header.Map()["alg"], p.Header.Map()["kid"], alg, kid)
	}
}

// newInteropKey generates a key for alg. It returns what the minter signs
// with (PKCS#8 PEM, or a base64url HMAC secret) and the verification key:
// the public key as SubjectPublicKeyInfo PEM through providers.ParseKeys, or
// the secret through providers.SecretKey.
func newInteropKey(t *testing.T, alg string) (string, providers.Key) {
	t.Helper()
	var (
		signer crypto.Signer
		err    error
	)
	switch alg {
	case "RS256", "RS384", "RS512", "PS256", "PS384", "PS512":
		signer, err = rsa.GenerateKey(rand.Reader, 2048)
	case "ES256":
		signer, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case "ES384":
		signer, err = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	case "ES512":
		signer, err = ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	case "EdDSA":
		_, signer, err = ed25519.GenerateKey(rand.Reader)
	case "HS256", "HS384", "HS512":
		secret := make([]byte, map[string]int{"HS256": 32, "HS384": 48, "HS512": 64}[alg])
		rand.Read(secret)
		return base64.RawURLEncoding.EncodeToString(secret), providers.SecretKey(secret)
	default:
		t.Fatalf("no key generator for %s", alg)
	}
	if err != nil {
		t.Fatalf("generating a %s key: %v", alg, err)
	}

	der, err := x509.MarshalPKCS8PrivateKey(signer)
	if err != nil {
		t.Fatalf("x509.MarshalPKCS8PrivateKey: %v", err)
	}
	private := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	spki, err := x509.MarshalPKIXPublicKey(signer.Public())
	if err != nil {
		t.Fatalf("x509.MarshalPKIXPublicKey: %v", err)
	}
	keys, err := providers.ParseKeys(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: spki}))
	if err != nil {
		t.Fatalf("providers.ParseKeys(%s public key PEM): %v", alg, err)
	}
	if len(keys) != 1 {
		t.Fatalf("providers.ParseKeys(%s public key PEM) returned %d keys, want 1", alg, len(keys))
	}
	return string(private), keys[0]
}

// mint runs the minter with a timeout and returns the compact JWS it printed.
func (m minter) mint(t *testing.T, req mintRequest) string {
	t.Helper()
	in, err := json.Marshal(req)
	if err != nil {
		t.Fatalf("encoding the mint request: %v", err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), mintTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, m.argv[0], m.argv[1:]...)
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s minting %s: %v\n%s", m.name, req.Alg, err, stderr.Bytes())
	}
	token := strings.TrimSpace(string(out))
	if strings.Count(token, ".") != 2 {
		t.Fatalf("%s minting %s printed %d bytes that are not a compact JWS", m.name, req.Alg, len(out))
	}
	return token
}

// changeMember changes one byte of segment seg (0 header, 1 payload): the
// first letter of the string value of the JSON member name. The JSON stays
// valid and the segment is re-encoded as canonical base64url, so the only
// thing wrong with the token is that it is not what was signed.
func changeMember(t *testing.T, token string, seg int, name string) string {
	t.Helper()
	parts := strings.Split(token, ".")
	raw, err := base64.RawURLEncoding.Strict().DecodeString(parts[seg])
	if err != nil {
		t.Fatalf("decoding segment %d: %v", seg, err)
	}
	needle := []byte(`"` + name + `":"`)
	i := bytes.Index(raw, needle)
	if i < 0 {
		t.Fatalf("segment %d has no string member %q: %s", seg, name, raw)
	}
	i += len(needle)
	switch c := raw[i]; {
	case c >= 'a' && c < 'z':
		raw[i]++
	case c == 'z':
		raw[i] = 'a'
	default:
		t.Fatalf("member %q of segment %d does not start with a lowercase letter: %s", name, seg, raw)
	}
	parts[seg] = base64.RawURLEncoding.EncodeToString(raw)
	return strings.Join(parts, ".")
}

// changeSignature flips the lowest bit of the middle byte of the signature.
func changeSignature(t *testing.T, token string) string {
	t.Helper()
	parts := strings.Split(token, ".")
	sig, err := base64.RawURLEncoding.Strict().DecodeString(parts[2])
	if err != nil || len(sig) == 0 {
		t.Fatalf("decoding the signature segment: %d bytes, %v", len(sig), err)
	}
	sig[len(sig)/2] ^= 0x01
	parts[2] = base64.RawURLEncoding.EncodeToString(sig)
	return strings.Join(parts, ".")
}
