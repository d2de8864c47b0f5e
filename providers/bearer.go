package providers

import (
	"errors"
	"net/http"
	"strings"

	"github.com/authgate/authgate"
)

// MaxBearerLength caps the bearer token BearerToken accepts; longer values
// are rejected before any further work.
const MaxBearerLength = MaxTokenSizeLimit

var (
	errTwoAuthorization = errors.New("more than one Authorization header")
	errBearerEmpty      = errors.New("bearer scheme without a token")
	errBearerSeparator  = errors.New("bearer token not separated by a space")
	errBearerCharset    = errors.New("bearer token has characters outside b64token")
	errBearerTooLong    = errors.New("bearer token too long")
	errTwoMethods       = errors.New("access token sent in the header and the query")
)

// BearerToken extracts the token of an "Authorization: Bearer <token>"
// header following RFC 6750 §2.1: the scheme is case-insensitive, one or
// more spaces (and nothing else) separate it from the token, and the token
// is a b64token. Tokens in the query string or the form body are never read.
//
// It returns an error wrapping authgate.ErrNoCredentials when there is no
// Authorization header or it uses another scheme, and one wrapping
// authgate.ErrMalformedRequest (400) for two Authorization headers, "Bearer"
// without a token, a tab or other whitespace as separator, characters
// outside b64token (spaces and commas among them), a token over
// MaxBearerLength, or a bearer header together with an access_token query
// parameter (RFC 6750 §2: one method only).
func BearerToken(r *http.Request) (string, error) {
	token, err := bearerCredential(r)
	if err != nil {
		return "", err
	}
	if !validB64Token(token) {
		return "", malformed(errBearerCharset)
	}
	return token, nil
}

// bearerCredential is BearerToken without its check of the token's
// characters (validB64Token), which TokenAuthenticator makes only for a
// token its verified-token cache does not hold: a token the cache holds
// is byte for byte one that verified, and a JWT's characters (base64url
// and dots) are all b64token characters.
func bearerCredential(r *http.Request) (string, error) {
	values := r.Header.Values("Authorization")
	switch len(values) {
	case 0:
		return "", authgate.ErrNoCredentials
	case 1:
	default:
		return "", malformed(errTwoAuthorization)
	}
	v := values[0]
	if len(v) < 6 || !strings.EqualFold(v[:6], "bearer") {
		return "", authgate.ErrNoCredentials
	}
	rest := v[6:]
	if rest == "" {
		return "", malformed(errBearerEmpty)
	}
	if rest[0] != ' ' {
		if isB64Token(rest[0]) {
			return "", authgate.ErrNoCredentials // another scheme: "Bearerish …"
		}
		return "", malformed(errBearerSeparator)
	}
	rest = strings.TrimLeft(rest, " ")
	if rest == "" {
		return "", malformed(errBearerEmpty)
	}
	if len(rest) > MaxBearerLength {
		return "", malformed(errBearerTooLong)
	}
	if r.URL != nil && mayHoldAccessToken(r.URL.RawQuery) && r.URL.Query().Has("access_token") {
		return "", malformed(errTwoMethods)
	}
	return rest, nil
}

// mayHoldAccessToken reports whether a raw query can decode to a parameter
// named access_token: it must spell "access" literally or percent-encode
// some of it. Other queries are not parsed, which keeps the common case free
// of allocations.
func mayHoldAccessToken(q string) bool {
	return q != "" && (strings.Contains(q, "access") || strings.Contains(q, "%"))
}

func malformed(cause error) error {
	return &authgate.Error{Kind: authgate.ErrMalformedRequest, Err: cause}
}

func isB64Token(c byte) bool {
	return isBase64URL(c) || c == '.' || c == '~' || c == '+' || c == '/'
}

// validB64Token checks RFC 6750's b64token: 1*( ALPHA / DIGIT / "-" / "." /
// "_" / "~" / "+" / "/" ) *"=". A token without "=" (every JWT) is checked
// eight bytes a round, without a branch per byte.
func validB64Token(s string) bool {
	var acc byte
	i := 0
	for ; i+8 <= len(s); i += 8 {
		acc |= b64TokenClass[s[i]] | b64TokenClass[s[i+1]] | b64TokenClass[s[i+2]] | b64TokenClass[s[i+3]] |
			b64TokenClass[s[i+4]] | b64TokenClass[s[i+5]] | b64TokenClass[s[i+6]] | b64TokenClass[s[i+7]]
	}
	for ; i < len(s); i++ {
		acc |= b64TokenClass[s[i]]
	}
	if acc == 0 {
		return s != ""
	}
	if acc&b64TokenOther != 0 {
		return false
	}
	// Padding: only at the end, after at least one other character.
	i = 0
	for i < len(s) && isB64Token(s[i]) {
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

// Classes of bytes for validB64Token: 0 for the b64token characters.
const (
	b64TokenPad   = 1 << iota // "="
	b64TokenOther             // anything else
)

var b64TokenClass = func() (t [256]byte) {
	for c := range t {
		switch {
		case isB64Token(byte(c)):
		case c == '=':
			t[c] = b64TokenPad
		default:
			t[c] = b64TokenOther
		}
	}
	return t
}()
