// Command loadfix provides what bench/serve.sh measures `authgate serve`
// with: an RS256 key and tokens, the issuer's discovery document and JWKS
// for oauth2-proxy, and a server that does nothing but the raw signature
// check, the floor of a forward-auth answer. Every server listens on
// loopback only.
//
//	loadfix mint   -dir D -issuer URL -audience AUD [-n 10000]
//	loadfix issuer -dir D -issuer URL -listen 127.0.0.1:P
//	loadfix floor  -dir D -listen 127.0.0.1:P
//
// mint writes D/public.pem, D/jwks.json, D/tokens.txt (n tokens, distinct by
// jti, one per line) and D/token.txt (the first). The private key never
// leaves the process.
package main

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/authgate/authgate/internal/gcpace"
)

const keyID = "bench-rs256"

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: loadfix mint|issuer|floor [flags]")
		os.Exit(2)
	}
	var err error
	switch cmd, args := os.Args[1], os.Args[2:]; cmd {
	case "mint":
		err = mint(args)
	case "issuer":
		err = issuer(args)
	case "floor":
		err = floor(args)
	default:
		err = fmt.Errorf("unknown command %q", cmd)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadfix:", err)
		os.Exit(1)
	}
}

func mint(args []string) error {
	fs := flag.NewFlagSet("mint", flag.ExitOnError)
	dir := fs.String("dir", ".", "output `directory`")
	iss := fs.String("issuer", "", "the tokens' iss")
	aud := fs.String("audience", "", "the tokens' first aud")
	n := fs.Int("n", 10000, "how many distinct tokens")
	ttl := fs.Duration("ttl", 2*time.Hour, "token lifetime")
	fs.Parse(args)
	if *iss == "" || *aud == "" || *n < 1 {
		return errors.New("mint: -issuer, -audience and a positive -n are required")
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return err
	}
	der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(*dir, "public.pem"), pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), 0o644); err != nil {
		return err
	}
	enc := base64.RawURLEncoding
	jwks, err := json.Marshal(map[string]any{"keys": []map[string]string{{
		"kty": "RSA", "use": "sig", "alg": "RS256", "kid": keyID,
		"n": enc.EncodeToString(key.N.Bytes()),
		"e": enc.EncodeToString(big.NewInt(int64(key.E)).Bytes()),
	}}})
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(*dir, "jwks.json"), jwks, 0o644); err != nil {
		return err
	}
	header, err := json.Marshal(map[string]string{"alg": "RS256", "kid": keyID, "typ": "JWT"})
	if err != nil {
		return err
	}
	now := time.Now()
	var b strings.Builder
	for i := range *n {
		// The shape of the verification benchmarks' token, with the email
		// oauth2-proxy makes its session from.
		payload, err := json.Marshal(map[string]any{
			"iss": *iss, "sub": "auth0|5f7c8ec7c33c6c004bbafe82",
			"aud": []string{*aud, strings.TrimSuffix(*iss, "/") + "/userinfo"},
			"exp": now.Add(*ttl).Unix(), "iat": now.Unix(),
			"jti":   fmt.Sprintf("6c0e7a1d-6a5f-4a0b-9a41-%012d", i),
			"azp":   "VvQ8kZ3m1y2xJ4pL",
			"scope": "openid profile email read:articles write:articles",
			"email": "user@bench.test", "email_verified": true,
		})
		if err != nil {
			return err
		}
		input := enc.EncodeToString(header) + "." + enc.EncodeToString(payload)
		d := sha256.Sum256([]byte(input))
		sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, d[:])
		if err != nil {
			return err
		}
		token := input + "." + enc.EncodeToString(sig)
		if i == 0 {
			if err := os.WriteFile(filepath.Join(*dir, "token.txt"), []byte(token), 0o644); err != nil {
				return err
			}
		}
		b.WriteString(token)
		b.WriteByte('\n')
	}
	return os.WriteFile(filepath.Join(*dir, "tokens.txt"), []byte(b.String()), 0o644)
}

// listenLoopback listens on addr, which must be a loopback address.
func listenLoopback(addr string) (net.Listener, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return nil, fmt.Errorf("%s is not a loopback address", addr)
	}
	return net.Listen("tcp", addr)
}

// serve serves h on addr with the limits `authgate serve` sets (its
// cmd/authgate/serve.go) and its garbage-collector pacing (unless GOGC is
// set, as there), so that a comparison with it measures what each does per
// request, not what its server's read and write deadlines or its pacing
// cost.
func serve(addr string, h http.Handler) error {
	ln, err := listenLoopback(addr)
	if err != nil {
		return err
	}
	defer gcpace.ForServer()()
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
	}
	return srv.Serve(ln)
}

func issuer(args []string) error {
	fs := flag.NewFlagSet("issuer", flag.ExitOnError)
	dir := fs.String("dir", ".", "the `directory` mint wrote")
	iss := fs.String("issuer", "", "the issuer URL (this server's base URL)")
	listen := fs.String("listen", "127.0.0.1:0", "loopback `addr`")
	fs.Parse(args)
	if *iss == "" {
		return errors.New("issuer: -issuer is required")
	}
	jwks, err := os.ReadFile(filepath.Join(*dir, "jwks.json"))
	if err != nil {
		return err
	}
	base := strings.TrimSuffix(*iss, "/")
	doc, err := json.Marshal(map[string]any{
		"issuer":                                *iss,
		"authorization_endpoint":                base + "/authorize",
		"token_endpoint":                        base + "/token",
		"userinfo_endpoint":                     base + "/userinfo",
		"jwks_uri":                              base + "/jwks",
		"response_types_supported":              []string{"code"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
	})
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(doc)
	})
	mux.HandleFunc("GET /jwks", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "max-age=3600")
		w.Write(jwks)
	})
	return serve(*listen, mux)
}

// floor answers 200 to a request whose bearer token's RS256 signature
// verifies under the minted key, else 401: the SHA-256 of the signing input
// and rsa.VerifyPKCS1v15, nothing else (no header, claim or expiry check).
func floor(args []string) error {
	fs := flag.NewFlagSet("floor", flag.ExitOnError)
	dir := fs.String("dir", ".", "the `directory` mint wrote")
	listen := fs.String("listen", "127.0.0.1:0", "loopback `addr`")
	fs.Parse(args)
	b, err := os.ReadFile(filepath.Join(*dir, "public.pem"))
	if err != nil {
		return err
	}
	block, _ := pem.Decode(b)
	if block == nil {
		return errors.New("floor: public.pem holds no PEM block")
	}
	k, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return err
	}
	pub, ok := k.(*rsa.PublicKey)
	if !ok {
		return errors.New("floor: public.pem is not an RSA key")
	}
	return serve(*listen, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		i := strings.LastIndexByte(token, '.')
		if !ok || i < 0 {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		sig, err := base64.RawURLEncoding.DecodeString(token[i+1:])
		d := sha256.Sum256([]byte(token[:i]))
		if err != nil || rsa.VerifyPKCS1v15(pub, crypto.SHA256, d[:], sig) != nil {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
}
