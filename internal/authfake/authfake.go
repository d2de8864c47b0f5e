// Package authfake holds fake authenticators for the tests of chain,
// ginauth and httpauth. They verify nothing: a "token" is an unsigned
// JWT-shaped string whose payload says who the caller is and which outcome
// the fake must produce. Never use them outside tests.
package authfake

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"

	"github.com/authgate/authgate"
)

// Claims is the payload of a fake token.
type Claims struct {
	Issuer      string   `json:"iss,omitempty"`
	Subject     string   `json:"sub,omitempty"`
	Roles       []string `json:"roles,omitempty"`
	Scopes      []string `json:"scopes,omitempty"`
	Permissions []string `json:"permissions,omitempty"`
	// Outcome makes the fake fail: "expired", "signature", "unavailable",
	// "forbidden", "malformed", "panic", "nil" (nil principal, nil error),
	// "revoked" or "other" (an unclassified error).
	Outcome string `json:"outcome,omitempty"`
}

// Token returns a JWT-shaped fake token (it starts with "eyJ", has three
// segments and a fake signature), so log tests can look for it.
func Token(c Claims) string {
	enc := base64.RawURLEncoding
	payload, _ := json.Marshal(c)
	return enc.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`)) + "." +
		enc.EncodeToString(payload) + ".c2lnbmF0dXJlLXNlY3JldC1zaWduYXR1cmU"
}

// Bearer reads "Authorization: Bearer <Token>". With Issuers set, tokens of
// other issuers (and bearer values that are no fake token) are
// ErrUnrecognizedCredential; without, it claims every bearer token.
type Bearer struct {
	Name    string
	Issuers []string
	Calls   atomic.Int64
}

// Describe implements authgate.Describer.
func (b *Bearer) Describe() authgate.Description {
	return authgate.Description{Name: b.Name, Scheme: "Bearer", Issuers: b.Issuers}
}

// Authenticate implements authgate.Authenticator.
func (b *Bearer) Authenticate(r *http.Request) (*authgate.Principal, error) {
	b.Calls.Add(1)
	vs := r.Header.Values("Authorization")
	if len(vs) == 0 {
		return nil, authgate.NewError(b.Name, authgate.ErrNoCredentials, nil)
	}
	if len(vs) > 1 {
		return nil, authgate.NewError(b.Name, authgate.ErrMalformedRequest, nil)
	}
	scheme, tok, _ := strings.Cut(vs[0], " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return nil, authgate.NewError(b.Name, authgate.ErrNoCredentials, nil)
	}
	c, ok := parse(strings.TrimLeft(tok, " "))
	switch {
	case !ok && len(b.Issuers) > 0:
		return nil, authgate.NewError(b.Name, authgate.ErrUnrecognizedCredential, nil)
	case !ok:
		return nil, authgate.NewError(b.Name, authgate.ErrMalformedToken, nil)
	case len(b.Issuers) > 0 && !slices.Contains(b.Issuers, c.Issuer):
		return nil, authgate.NewError(b.Name, authgate.ErrUnrecognizedCredential, nil)
	}
	return outcome(b.Name, "jwt", c, tok)
}

// APIKey reads "X-API-Key: ak_<subject>". "ak_bad" is revoked; values
// without the "ak_" prefix are ErrUnrecognizedCredential.
type APIKey struct {
	Name  string
	Calls atomic.Int64
}

// Describe implements authgate.Describer.
func (k *APIKey) Describe() authgate.Description {
	return authgate.Description{Name: k.Name, Scheme: `ApiKey header="X-API-Key"`}
}

// Authenticate implements authgate.Authenticator.
func (k *APIKey) Authenticate(r *http.Request) (*authgate.Principal, error) {
	k.Calls.Add(1)
	v := r.Header.Get("X-API-Key")
	sub, ok := strings.CutPrefix(v, "ak_")
	switch {
	case v == "":
		return nil, authgate.NewError(k.Name, authgate.ErrNoCredentials, nil)
	case !ok:
		return nil, authgate.NewError(k.Name, authgate.ErrUnrecognizedCredential, nil)
	case sub == "bad":
		return nil, authgate.NewError(k.Name, authgate.ErrRevoked, nil)
	}
	return &authgate.Principal{Provider: k.Name, Method: "apikey", Subject: sub, Roles: []string{"service"}}, nil
}

func parse(tok string) (Claims, bool) {
	var c Claims
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return c, false
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil || json.Unmarshal(b, &c) != nil {
		return c, false
	}
	return c, true
}

type otherError struct{}

func (otherError) Error() string { return "authfake: unclassified failure" }

func outcome(name, method string, c Claims, tok string) (*authgate.Principal, error) {
	var kind error
	switch c.Outcome {
	case "":
		return &authgate.Principal{
			Provider: name, Method: method, Issuer: c.Issuer, Subject: c.Subject,
			Roles: c.Roles, Scopes: c.Scopes, Permissions: c.Permissions,
		}, nil
	case "panic":
		// The panic value holds the token, as a careless authenticator's
		// might: nobody may log it.
		panic("authfake: cannot handle " + tok)
	case "nil":
		return nil, nil
	case "other":
		return nil, otherError{}
	case "expired":
		kind = authgate.ErrTokenExpired
	case "signature":
		kind = authgate.ErrInvalidSignature
	case "revoked":
		kind = authgate.ErrRevoked
	case "unavailable":
		kind = authgate.ErrUnavailable
	case "forbidden":
		kind = authgate.ErrForbidden
	case "malformed":
		kind = authgate.ErrMalformedRequest
	default:
		kind = authgate.ErrInvalidCredentials
	}
	return nil, authgate.NewError(name, kind, nil)
}

// Fixed returns p, the same pointer, for every request: for benchmarks that
// measure the adapters, not verification.
func Fixed(p *authgate.Principal) authgate.Authenticator {
	return authgate.AuthenticatorFunc(func(*http.Request) (*authgate.Principal, error) { return p, nil })
}
