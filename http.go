package authgate

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
)

// StatusCode maps an authentication error to its HTTP status: nil → 200,
// no or unrecognized or invalid credentials → 401, ErrForbidden → 403,
// ErrMalformedRequest → 400, ErrRateLimited → 429, ErrUnavailable → 503.
// An error that carries no
// authgate sentinel is treated as a rejection (401): fail closed.
func StatusCode(err error) int {
	switch classify(err) {
	case classNone:
		return http.StatusOK
	case classForbidden:
		return http.StatusForbidden
	case classMalformed:
		return http.StatusBadRequest
	case classUnavailable:
		return http.StatusServiceUnavailable
	case classRateLimited:
		return http.StatusTooManyRequests
	}
	return http.StatusUnauthorized
}

// ErrorCode returns the RFC 6750 §3.1 error code for err: "invalid_token",
// "invalid_request" or "insufficient_scope", and "" when there were no
// credentials at all, on success, and for ErrUnavailable.
func ErrorCode(err error) string {
	var e *Error
	if errors.As(err, &e) && e.Code != "" {
		return e.Code
	}
	switch classify(err) {
	case classInvalid, classUnrecognized:
		return "invalid_token"
	case classForbidden:
		return "insufficient_scope"
	case classMalformed:
		return "invalid_request"
	}
	return ""
}

// bodyCode is the "error" member of the JSON body: the RFC 6750 code, or a
// fixed word where RFC 6750 defines none.
func bodyCode(err error) string {
	if c := ErrorCode(err); c != "" {
		return c
	}
	switch classify(err) {
	case classNoCredentials:
		return "not_authenticated"
	case classUnavailable:
		return "temporarily_unavailable"
	case classRateLimited:
		return "rate_limited"
	}
	return ""
}

// Detail returns the client-safe text for err, compatible with the seed
// project: "Authentication credentials were not provided", "Token has
// expired", "Invalid token", "Insufficient permissions", … It never contains
// token material or unverified claim values.
func Detail(err error) string {
	var e *Error
	if errors.As(err, &e) && e.Description != "" {
		return e.Description
	}
	switch classify(err) {
	case classNone:
		return ""
	case classNoCredentials:
		return "Authentication credentials were not provided"
	case classUnrecognized:
		return "Invalid token"
	case classMalformed:
		return "Invalid authorization header"
	case classUnavailable:
		return "Authentication service unavailable"
	case classRateLimited:
		return "Too many failed attempts"
	case classForbidden:
		return "Insufficient permissions"
	}
	switch {
	case errors.Is(err, ErrInvalidSignature), errors.Is(err, ErrUnsupportedAlgorithm), errors.Is(err, ErrMalformedToken):
		return "Invalid token"
	case errors.Is(err, ErrTokenExpired):
		return "Token has expired"
	case errors.Is(err, ErrTokenNotYetValid):
		return "Token is not yet valid"
	case errors.Is(err, ErrRevoked):
		return "Token has been revoked"
	}
	return "Invalid token"
}

// Challenge returns the WWW-Authenticate value for err (RFC 6750 §3, RFC
// 9110 §11.6.1), or "" when none belongs (success, ErrUnavailable,
// ErrRateLimited).
//
// With no credentials it offers one challenge per scheme and no error
// attribute: `Bearer realm="api"`, or `Bearer realm="api", ApiKey
// realm="api", header="X-API-Key"` from a chain. Otherwise it is one
// challenge with error, error_description and, for insufficient_scope,
// scope. Every quoted value is restricted to the characters RFC 6750 allows,
// so nothing can inject into the header.
func Challenge(err error, realm string) string {
	c := classify(err)
	if c == classNone || c == classUnavailable || c == classRateLimited {
		return ""
	}
	var e *Error
	errors.As(err, &e)
	schemes := []string{"Bearer"}
	if e != nil && len(e.Schemes) > 0 {
		schemes = e.Schemes
	}
	var b strings.Builder
	if c == classNoCredentials {
		for i, s := range schemes {
			if i > 0 {
				b.WriteString(", ")
			}
			writeScheme(&b, s, realm)
		}
		return b.String()
	}
	writeScheme(&b, schemes[0], realm)
	writeParam(&b, "error", ErrorCode(err))
	writeParam(&b, "error_description", Detail(err))
	if c == classForbidden && e != nil && len(e.Scope) > 0 {
		writeParam(&b, "scope", strings.Join(e.Scope, " "))
	}
	return b.String()
}

// writeScheme writes `Name realm="…"` followed by the scheme's own params.
func writeScheme(b *strings.Builder, scheme, realm string) {
	name, params, _ := strings.Cut(scheme, " ")
	b.WriteString(name)
	b.WriteString(` realm="`)
	b.WriteString(quotable(realm))
	b.WriteByte('"')
	if params = strings.TrimSpace(params); params != "" {
		b.WriteString(", ")
		b.WriteString(params)
	}
}

func writeParam(b *strings.Builder, name, value string) {
	if value == "" {
		return
	}
	b.WriteString(", ")
	b.WriteString(name)
	b.WriteString(`="`)
	b.WriteString(quotable(value))
	b.WriteByte('"')
}

// quotable keeps only %x20-21 / %x23-5B / %x5D-7E (RFC 6750 §3).
func quotable(s string) string {
	ok := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			ok = false
			break
		}
	}
	if ok {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 0x20 && c <= 0x7e && c != '"' && c != '\\' {
			b.WriteByte(c)
		}
	}
	return b.String()
}

// RetryAfterSeconds is the Retry-After value WriteError sends with a 503.
const RetryAfterSeconds = "5"

// RateLimitRetryAfterSeconds is the Retry-After value WriteError sends with
// a 429.
const RateLimitRetryAfterSeconds = "60"

// WriteError writes the response for a failed authentication: the status of
// StatusCode, the WWW-Authenticate header of Challenge (for 401, 403 and
// 400), Retry-After with a 503 or a 429, Cache-Control: no-store, and the
// JSON body {"detail": Detail(err), "error": code}. Adapters that render
// differently can build on StatusCode, Challenge and Detail instead.
func WriteError(w http.ResponseWriter, err error, realm string) {
	h := w.Header()
	if ch := Challenge(err, realm); ch != "" {
		h.Set("WWW-Authenticate", ch)
	}
	status := StatusCode(err)
	switch status {
	case http.StatusServiceUnavailable:
		h.Set("Retry-After", RetryAfterSeconds)
	case http.StatusTooManyRequests:
		h.Set("Retry-After", RateLimitRetryAfterSeconds)
	}
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	body, _ := json.Marshal(ErrorBody{Detail: Detail(err), Error: bodyCode(err)})
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// ErrorBody is the JSON body WriteError sends.
type ErrorBody struct {
	Detail string `json:"detail"`
	Error  string `json:"error,omitempty"`
}
