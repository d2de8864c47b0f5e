// Package apikey authenticates requests that carry an API key: the seed
// project's APIKeyAuth (header X-API-Key, a database lookup, expiry,
// revocation and last use), done safely and fast.
//
// # Key format
//
// A key looks like
//
//	<prefix>_<30 base62 characters of randomness><6 base62 characters of checksum>
//
// for example sk_live_2x9VqK…Zr81kq. The prefix ([GenerateKey], validated
// by [ValidatePrefix]) names the product and environment; the random part
// carries about 178 bits from crypto/rand; the checksum is the CRC-32 (IEEE)
// of the random part, GitHub-token style, so a typo or a truncated key is
// rejected before any store lookup and a leaked key can be recognised by
// scanners ([CheckFormat]). A key with another prefix (sk_test on a live
// deployment) is not this authenticator's: "not mine".
//
// # Storage
//
// A [Store] never sees a plaintext key: it keeps a [Digest] — HMAC-SHA256
// keyed with the server-side [Config].Pepper when one is configured, else
// SHA-256 — and finds keys by that digest. A [Manager] issues, lists and
// revokes keys: built from the same [Config] as the [Authenticator] (or
// taken from it with [Authenticator.Manager]), it hashes a new key exactly as
// that authenticator looks it up, and returns the plaintext once. [NewMemoryStore]
// is the in-memory store; package apikey/sqlstore keeps keys in SQLite or
// PostgreSQL; package apikey/storetest is the conformance suite every store
// should pass.
//
// # Authentication
//
// [New] returns an [Authenticator] that reads the key from the X-API-Key
// header (configurable), from "Authorization: ApiKey <key>", or from
// "Authorization: Bearer <key>" when the bearer value carries this
// authenticator's prefix (so an API key sent as a bearer token is never
// handed to a JWT parser). The outcomes are those of package authgate:
//
//   - no key, or a key of another prefix: [authgate.ErrNoCredentials] /
//     [authgate.ErrUnrecognizedCredential] ("not mine");
//   - a key sent in two places, a header repeated, a value longer than 256
//     bytes or holding whitespace, NUL, '%' or non-ASCII bytes:
//     [authgate.ErrMalformedRequest] (400), decided before any hashing;
//   - a bad checksum or length, an unknown, revoked or expired key: a 401
//     invalid_token with the same description for every case, so a client
//     cannot tell them apart; the kind ([authgate.ErrMalformedToken],
//     [authgate.ErrRevoked], [authgate.ErrTokenExpired],
//     [authgate.ErrInvalidCredentials]) is for logs ([authgate.Reason]);
//   - a store that fails or times out: [authgate.ErrUnavailable] (503), never
//     valid and never invalid;
//   - a valid key: a [authgate.Principal] with Method "apikey", the key's
//     owner as Subject, its Tenant, Roles and Scopes, and its ID as
//     CredentialID.
//
// Valid keys are cached for [Config].CacheTTL (10 s by default, at most one
// minute), so a database-backed check costs about as much as an in-memory
// one; a key revoked in the store stops working within that TTL, and at once
// when revoked through the authenticator's own [Authenticator.Manager]. A
// store that is a [ChangeFeed] (apikey/sqlstore on PostgreSQL) tells every
// authenticator over it which keys changed, whoever changed them, and they
// drop those keys from their caches within about a second; while the feed is
// down the TTL alone bounds the cache, as without a feed. Last use is recorded in
// batches: at most one store write per key per [Config].LastUsedInterval,
// flushed on [Authenticator.Close]; a failing write never fails a request.
//
// Query-string and form parameters are never read.
package apikey
