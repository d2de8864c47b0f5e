package grpcauth

import (
	"context"
	"errors"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/status"
)

// Credentials are per-RPC credentials for a gRPC client
// (credentials.PerRPCCredentials): a bearer token or an API key attached to
// every call, made with [Bearer] or [APIKey]:
//
//	creds, err := grpcauth.Bearer(token)
//	conn, err := grpc.NewClient(addr,
//		grpc.WithTransportCredentials(credentials.NewTLS(nil)),
//		grpc.WithPerRPCCredentials(creds))
//
// They are sent only over a connection with privacy and integrity (TLS, or
// ALTS): gRPC refuses a connection without transport security that would
// carry them, and a call whose connection is not secure fails with
// Unauthenticated before anything is sent. [InsecureTransport] lifts that
// for tests and loopback. Credentials are immutable and safe for
// concurrent use.
type Credentials struct {
	key      string // metadata key
	value    string
	insecure bool
}

// CredentialOption configures [Credentials].
type CredentialOption func(*Credentials)

// InsecureTransport lets the credentials travel over a connection without
// transport security, where anyone on the path can read and replay them.
// It MUST only be used for tests and for a loopback or otherwise protected
// link (a Unix socket, a sidecar on localhost).
func InsecureTransport() CredentialOption {
	return func(c *Credentials) { c.insecure = true }
}

// Errors of Bearer and APIKey. They never hold the credential.
var (
	errEmptyToken  = errors.New("grpcauth: empty bearer token")
	errTokenChars  = errors.New("grpcauth: bearer token has characters outside b64token")
	errEmptyKey    = errors.New("grpcauth: empty API key")
	errKeyChars    = errors.New("grpcauth: API key has characters outside visible ASCII")
	errHeaderName  = errors.New("grpcauth: API key header is not a valid metadata key")
	errHeaderAuthz = errors.New(`grpcauth: API key header cannot be "authorization"; use Bearer for keys sent as bearer tokens`)
	errInsecure    = status.Error(codes.Unauthenticated, "grpcauth: refusing to send credentials over a connection without transport security")
)

// Bearer returns credentials that send "authorization: Bearer <token>" with
// every call. It returns an error for an empty token or one with characters
// outside RFC 6750's b64token (which no server would accept).
func Bearer(token string, opts ...CredentialOption) (*Credentials, error) {
	switch {
	case token == "":
		return nil, errEmptyToken
	case !b64token(token):
		return nil, errTokenChars
	}
	return newCredentials("authorization", "Bearer "+token, opts), nil
}

// APIKey returns credentials that send key in the metadata key header
// (case-insensitive, sent in lower case: "X-API-Key" is "x-api-key"), the
// header apikey.Config.Header names on the server. It returns an error for
// an empty key or one with bytes outside visible ASCII, and for a header
// that is not a valid metadata key, is binary ("-bin"), reserved ("grpc-")
// or "authorization".
func APIKey(header, key string, opts ...CredentialOption) (*Credentials, error) {
	header = strings.ToLower(header)
	switch {
	case !metadataKey(header):
		return nil, errHeaderName
	case header == "authorization":
		return nil, errHeaderAuthz
	case key == "":
		return nil, errEmptyKey
	case !visible(key):
		return nil, errKeyChars
	}
	return newCredentials(header, key, opts), nil
}

func newCredentials(key, value string, opts []CredentialOption) *Credentials {
	c := &Credentials{key: key, value: value}
	for _, opt := range opts {
		if opt != nil {
			opt(c)
		}
	}
	return c
}

// GetRequestMetadata returns the metadata to send with a call. Unless
// [InsecureTransport] was given, it returns an Unauthenticated status
// error, and nothing to send, when the call's connection does not have
// privacy and integrity or ctx does not say what the connection is.
func (c *Credentials) GetRequestMetadata(ctx context.Context, _ ...string) (map[string]string, error) {
	if !c.insecure {
		ri, ok := credentials.RequestInfoFromContext(ctx)
		if !ok || credentials.CheckSecurityLevel(ri.AuthInfo, credentials.PrivacyAndIntegrity) != nil {
			return nil, errInsecure
		}
	}
	return map[string]string{c.key: c.value}, nil
}

// RequireTransportSecurity reports whether the credentials need a secure
// connection: true unless [InsecureTransport] was given.
func (c *Credentials) RequireTransportSecurity() bool { return !c.insecure }

// b64token checks RFC 6750's b64token: 1*( ALPHA / DIGIT / "-" / "." /
// "_" / "~" / "+" / "/" ) *"=".
func b64token(s string) bool {
	i := 0
	for i < len(s) && tokenByte(s[i]) {
		i++
	}
	if i == 0 {
		return false
	}
	for i < len(s) && s[i] == '=' {
		i++
	}
	return i == len(s)
}

func tokenByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/'
}

// visible reports whether s holds only '!'..'~'.
func visible(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '!' || s[i] > '~' {
			return false
		}
	}
	return true
}

// metadataKey reports whether k is a lower-case metadata key an
// application may send as text: [0-9a-z-_.], not binary, not reserved.
func metadataKey(k string) bool {
	if k == "" || strings.HasSuffix(k, "-bin") || strings.HasPrefix(k, "grpc-") {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

var _ credentials.PerRPCCredentials = (*Credentials)(nil)
