// Package providers is the toolkit every authgate token provider is built
// from, public so applications can add their own (Okta, Entra ID, Cognito…):
// the one JWT verifier ([Verifier]), key sources ([KeySet], [StaticKeySet],
// the remote key manager [RemoteKeySet] with OpenID Connect discovery
// [Discover]), key parsing ([ParseKeys], [ParseJWKS], [ParseX509CertMap],
// [SecretKey], [PublicKey]) with
// algorithm binding ([BindKeys]), declarative claim rules ([Claims]),
// claim-to-principal mapping ([Mapping]) and bearer extraction
// ([BearerToken]).
//
// # What is checked where
//
// The verifier is written for this package on the standard library's crypto;
// it does not delegate parsing to golang-jwt or go-jose. Some rules below
// are theirs too — go-jose processes "crit" and refuses duplicate header
// members — but not all of them (SECURITY.md#token-rules): golang-jwt ignores
// "crit" and auto-detects the PSS salt length, claims decoded with
// encoding/json accept duplicate and case-variant members, golang-jwt and
// go-oidc accept NumericDates given as strings, the standard base64
// decoders skip CR and LF, and go-jose's ParseSigned also takes the JSON
// serialization. No wrapper changes how a library decodes a token.
// Everything is checked here:
//
//   - framing: compact serialization only, size cap (16 KiB default) before
//     any split, exactly two dots counted without splitting, no empty
//     segment, base64url alphabet (no padding, CR, LF or spaces) and
//     canonical encoding (Strict decoding), decoded header ≤ 4 KiB;
//   - JSON (header and claims): exactly one object, no trailing data,
//     duplicate member names rejected, member names that differ only by case
//     (Unicode simple folding, as encoding/json matches struct fields)
//     rejected in every object, valid UTF-8 without lone surrogates, depth ≤
//     32, bounded members, numbers that overflow rejected;
//   - header: "alg" exact and in the verifier's allow-list; "crit" processed
//     (RFC 7515 §4.1.11); jku, x5u, jwk and x5c rejected on presence (keys
//     never come from a token); enc, zip, b64 and nesting cty rejected; kid
//     and typ must be strings; typ from a configured set;
//   - keys: each bound to exactly one algorithm (RFC 8725 §3.1); RSA ≥ 2048
//     bits, HMAC secrets ≥ the hash length, EC points on their curve, JWK use
//     and key_ops honoured, secrets never taken from a published key set;
//   - signatures: RS* PKCS#1 v1.5; PS* with salt length = hash length; ES*
//     exactly R‖S of the curve's size; EdDSA (Ed25519); HS* compared with
//     hmac.Equal;
//   - claims: exp required, nbf and iat not in the future beyond the leeway,
//     NumericDate a JSON number in [0, 9999-12-31], iss and aud exact, sub a
//     non-empty string without control characters, then the claim rules.
//
// # Remote keys: why not keyfunc, jwkset or go-oidc
//
// The first design (docs/DESIGN.md#tokens) named keyfunc/v3 + jwkset (and
// go-oidc/v3 for discovery) as the starting point. Much of what they lack a wrapper could supply — an
// *http.Client with a timeout and no redirects, a key set that binds each
// key to one algorithm — but not their core behaviour: go-oidc exposes no
// keys to bind or check, never refreshes on a schedule, drops its keys when
// a fetch returns an empty set and has no maximum key age; jwkset has no
// single-flight for concurrent refreshes, and one bad entry fails a whole
// set. [RemoteKeySet] and [Discover] are therefore written on net/http and
// sync. Keys from a remote set go through the same parser and binding as
// configured keys ([ParseJWKS], one algorithm per key), fetches share one
// guarded transport (https except loopback, no redirects, no cookies, 5 s
// timeout, 256 KiB cap), and the cache (single-flight, Cache-Control
// within [5 min, 24 h], a non-blocking cooldown for unknown kids,
// last-known-good keys up to a maximum age, backoff after failures) is
// documented on [RemoteKeySet].
//
// Tokens are routed by their unverified "iss" before anything costly: a
// token of another issuer is [authgate.ErrUnrecognizedCredential] ("not
// mine"), so chains of providers cost one signature check however many are
// configured. The routing value is never trusted for anything else.
package providers
