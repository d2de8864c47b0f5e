// Package authgate is the contract shared by every authgate authenticator and
// adapter: it answers "who sent this request?" for an HTTP service.
//
// An [Authenticator] inspects a request and returns a [Principal] or an error
// that says what happened:
//
//   - nil: authenticated; the principal is non-nil.
//   - [ErrNoCredentials]: "not mine" — nothing this authenticator handles is in
//     the request. [ErrUnrecognizedCredential] (which wraps it) says a
//     credential was present but belongs to someone else (another issuer,
//     another API-key prefix). Deciding this never costs network I/O or a
//     signature check.
//   - an error wrapping [ErrInvalidCredentials] (or a finer sentinel such as
//     [ErrTokenExpired]): "mine, and wrong".
//   - [ErrForbidden]: authenticated, but not allowed.
//   - [ErrMalformedRequest]: the request is ambiguous (two Authorization
//     headers, a bearer token with spaces inside).
//   - [ErrUnavailable]: a technical failure (keys cannot be fetched, the key
//     store is down). Never "allowed", never 401.
//
// [StatusCode], [Challenge], [Detail] and [WriteError] are the one mapping of
// those outcomes to HTTP (RFC 6750 §3); every adapter (ginauth, httpauth, the
// authgate command) uses them. [Resolve] and [Check] decorate any
// authenticator with the application's own user lookup and rules.
//
// This package imports only the standard library.
package authgate
