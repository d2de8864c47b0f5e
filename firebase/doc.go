// Package firebase authenticates Firebase ID tokens and session cookies —
// the seed project's FirebaseAuth, done with authgate's one verifier.
//
// [New] takes a project id and does no network I/O. Tokens are verified by
// [providers.Verifier] with keys from Google's certificate map
// ([DefaultCertsURL], parsed by providers.ParseX509CertMap and held by a
// providers.RemoteKeySet): fetched on first use, fresh for the answer's
// Cache-Control max-age (clamped to [5 min, 24 h]), refreshed in the
// background, refetched for an unknown kid at most once a minute, and kept
// through an outage of the endpoint for up to 24 hours — firebase-admin-go
// clears its cache before refetching, so every request fails during an
// outage; this package does not.
//
// # What an ID token must be
//
//   - compact JWS, at most 16 KiB, strict base64url and JSON (no duplicate
//     members, no trailing data): framing problems and a foreign "iss" are
//     authgate.ErrUnrecognizedCredential, decided before any key fetch;
//   - "alg" RS256 and a "kid" naming a published certificate;
//   - "iss" exactly https://securetoken.google.com/<ProjectID> — every
//     Firebase project shares Google's keys, so a token of another project
//     has a valid signature and is still not accepted: it is "not mine";
//   - "aud" exactly ProjectID (a custom token, whose audience is Identity
//     Toolkit's, is rejected);
//   - "sub" (the uid) a string of 1 to 128 bytes;
//   - "exp" not passed, "iat" and "auth_time" present and not in the future,
//     all within Leeway (default 60 s; firebase-admin-go allows 5 min and
//     never checks auth_time);
//   - the tenant: with TenantID, "firebase.tenant" must equal it; without,
//     a token that carries a tenant is rejected unless AnyTenant is set
//     (firebase-admin-go's project-level client accepts every tenant).
//
// # Where credentials are read
//
// ID tokens come from "Authorization: Bearer". Session cookies (with
// Config.SessionCookies) come from the cookie SessionCookieName ("session")
// and must have the issuer https://session.firebase.google.com/<ProjectID>
// and a key from [DefaultSessionCertsURL]. Both at once, or the cookie
// twice, is a 400 (authgate.ErrMalformedRequest). This project's session
// cookie sent as a bearer token, or its ID token sent in the cookie, is
// rejected (authgate.ErrInvalidIssuer); a cookie of that name that names no
// issuer of this project (another application's "session" cookie) is "not
// mine". Cookie authentication needs CSRF protection on routes that change
// state.
//
// # The principal
//
// Provider is Config.Name ("firebase"), Method [MethodIDToken] or
// [MethodSessionCookie], Subject the uid, Email, Name, Tenant
// ("firebase.tenant"), Roles from the custom claim RolesClaim ("roles"),
// and Claims every claim, custom claims included; [SignInProvider] reads
// "firebase.sign_in_provider".
//
// # Revocation
//
// With Config.Revocation, each verified token's user is looked up through
// the Admin SDK (firebase.google.com/go/v4, *auth.Client satisfies
// [UserLookup]): a revoked token, a disabled or deleted user is
// authgate.ErrRevoked (401); a failed lookup is authgate.ErrUnavailable
// (503). Records are cached per uid in a bounded LRU for CacheTTL (30 s).
//
// # The emulator
//
// The Firebase Auth emulator signs nothing: its tokens have "alg":"none".
// Config.InsecureEmulator accepts them (every other rule still applies) for
// "demo-" projects only, and New logs a warning. The
// FIREBASE_AUTH_EMULATOR_HOST variable, which makes firebase-admin-go skip
// every signature check, changes nothing here; it is still how the Admin
// SDK's user lookups reach the emulator.
//
// An [Authenticator] is safe for concurrent use.
package firebase
