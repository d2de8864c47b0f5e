package grpcauth_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"math/big"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	testgrpc "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/status"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/apikey"
	"github.com/authgate/authgate/chain"
	"github.com/authgate/authgate/grpcauth"
)

func TestCredentialsValidation(t *testing.T) {
	const secret = "sk_test_s3cr3t value"
	tests := []struct {
		name    string
		make    func() (*grpcauth.Credentials, error)
		wantErr bool
	}{
		{"bearer", func() (*grpcauth.Credentials, error) { return grpcauth.Bearer("eyJ.a-b_c.d~+/==") }, false},
		{"empty bearer", func() (*grpcauth.Credentials, error) { return grpcauth.Bearer("") }, true},
		{"bearer with a space", func() (*grpcauth.Credentials, error) { return grpcauth.Bearer(secret) }, true},
		{"bearer with a newline", func() (*grpcauth.Credentials, error) { return grpcauth.Bearer("abc\r\nx-evil: 1") }, true},
		{"api key", func() (*grpcauth.Credentials, error) { return grpcauth.APIKey("X-API-Key", "sk_test_abc") }, false},
		{"api key with a space", func() (*grpcauth.Credentials, error) { return grpcauth.APIKey("x-api-key", secret) }, true},
		{"empty api key", func() (*grpcauth.Credentials, error) { return grpcauth.APIKey("x-api-key", "") }, true},
		{"empty header", func() (*grpcauth.Credentials, error) { return grpcauth.APIKey("", "sk_test_abc") }, true},
		{"authorization header", func() (*grpcauth.Credentials, error) { return grpcauth.APIKey("Authorization", "sk_test_abc") }, true},
		{"binary header", func() (*grpcauth.Credentials, error) { return grpcauth.APIKey("x-key-bin", "sk_test_abc") }, true},
		{"reserved header", func() (*grpcauth.Credentials, error) { return grpcauth.APIKey("grpc-key", "sk_test_abc") }, true},
		{"header with a colon", func() (*grpcauth.Credentials, error) { return grpcauth.APIKey(":authority", "sk_test_abc") }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := tt.make()
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if err != nil && (strings.Contains(err.Error(), "s3cr3t") || strings.Contains(err.Error(), "evil")) {
				t.Errorf("error %q holds the credential", err)
			}
			if err == nil && !c.RequireTransportSecurity() {
				t.Error("RequireTransportSecurity() = false without InsecureTransport")
			}
		})
	}
}

// TestCredentialsRefuseInsecureTransport checks that the credentials are
// never sent over a plaintext connection: gRPC refuses the connection for
// dial-level credentials, and a call with call-level credentials fails
// before the server sees any credential.
func TestCredentialsRefuseInsecureTransport(t *testing.T) {
	var sawCredential atomic.Bool
	spy := authgate.AuthenticatorFunc(func(r *http.Request) (*authgate.Principal, error) {
		if r.Header.Get("Authorization") != "" || r.Header.Get("X-API-Key") != "" {
			sawCredential.Store(true)
		}
		return nil, authgate.ErrNoCredentials
	})
	conn := serveWith(t, grpcauth.Require(spy, quiet))
	bearer, err := grpcauth.Bearer("tok")
	if err != nil {
		t.Fatal(err)
	}
	key, err := grpcauth.APIKey("x-api-key", "sk_test_abc")
	if err != nil {
		t.Fatal(err)
	}
	for name, creds := range map[string]*grpcauth.Credentials{"bearer": bearer, "api key": key} {
		t.Run(name+" as dial option", func(t *testing.T) {
			c, err := grpc.NewClient(conn.Target(), grpc.WithTransportCredentials(insecure.NewCredentials()), grpc.WithPerRPCCredentials(creds))
			if err == nil {
				_ = c.Close()
				t.Fatal("grpc.NewClient over plaintext with the credentials succeeded")
			}
		})
		t.Run(name+" as call option", func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_, err := testgrpc.NewTestServiceClient(conn).UnaryCall(ctx, &testgrpc.SimpleRequest{}, grpc.PerRPCCredentials(creds))
			if status.Code(err) != codes.Unauthenticated {
				t.Errorf("UnaryCall over plaintext = %v, want Unauthenticated", err)
			}
		})
	}
	if sawCredential.Load() {
		t.Error("the server received a credential over plaintext")
	}

	t.Run("GetRequestMetadata outside a call", func(t *testing.T) {
		md, err := bearer.GetRequestMetadata(context.Background())
		if status.Code(err) != codes.Unauthenticated || md != nil {
			t.Errorf("GetRequestMetadata(no connection info) = %v, %v; want nothing and Unauthenticated", md, err)
		}
	})
}

// TestCredentialsOverTLS sends a real token and a real key over TLS, and
// over plaintext with InsecureTransport.
func TestCredentialsOverTLS(t *testing.T) {
	st, iss := newStatic(t)
	keys, key := newAPIKey(t, apikey.Config{})
	// The Check also proves that the request carries the TLS state.
	overTLS := authgate.Check(chain.Any(st, keys), func(r *http.Request, _ *authgate.Principal) error {
		if r.TLS == nil || r.TLS.Version < tls.VersionTLS12 {
			return errors.New("not over TLS")
		}
		return nil
	})
	ic := grpcauth.Require(overTLS, quiet)
	serverTLS, pool := selfSigned(t)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer(grpc.Creds(credentials.NewTLS(serverTLS)), grpc.UnaryInterceptor(ic.UnaryServerInterceptor()))
	testgrpc.RegisterTestServiceServer(srv, service{})
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)

	bearer, err := grpcauth.Bearer(token(iss, "alice", nil))
	if err != nil {
		t.Fatal(err)
	}
	apiKey, err := grpcauth.APIKey("X-API-Key", key)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name  string
		creds *grpcauth.Credentials
		want  string
	}{{"bearer", bearer, "alice"}, {"api key", apiKey, "svc-ci"}} {
		t.Run(tt.name, func(t *testing.T) {
			conn, err := grpc.NewClient(lis.Addr().String(),
				grpc.WithTransportCredentials(credentials.NewTLS(&tls.Config{RootCAs: pool, ServerName: "127.0.0.1"})),
				grpc.WithPerRPCCredentials(tt.creds))
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			if got := unary(t, conn); got.err != nil || got.subject != tt.want {
				t.Errorf("UnaryCall over TLS = %q, %v; want %q", got.subject, got.err, tt.want)
			}
		})
	}

	t.Run("InsecureTransport", func(t *testing.T) {
		plain := serveWith(t, grpcauth.Require(st, quiet))
		creds, err := grpcauth.Bearer(token(iss, "bob", nil), grpcauth.InsecureTransport())
		if err != nil {
			t.Fatal(err)
		}
		if creds.RequireTransportSecurity() {
			t.Error("RequireTransportSecurity() = true with InsecureTransport")
		}
		conn, err := grpc.NewClient(plain.Target(), grpc.WithTransportCredentials(insecure.NewCredentials()), grpc.WithPerRPCCredentials(creds))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		if got := unary(t, conn); got.err != nil || got.subject != "bob" {
			t.Errorf("UnaryCall over plaintext with InsecureTransport = %q, %v; want bob", got.subject, got.err)
		}
	})
}

// selfSigned returns a server TLS config for 127.0.0.1 with a key made
// here, and the pool that trusts it.
func selfSigned(t *testing.T) (*tls.Config, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}, pool
}
