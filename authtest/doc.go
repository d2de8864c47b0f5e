// Package authtest is authgate's test kit: local identity providers on
// httptest servers and tokens in each provider's exact shape, so
// applications can test their routes, guards and provider configuration
// offline. It is for tests, like net/http/httptest: never import it from
// production code — its keys live in memory and it mints whatever it is
// asked to.
//
//   - NewIssuer: an OpenID Connect issuer (discovery, JWKS, keys generated
//     at start in RS256, PS256, ES256, EdDSA…), with key rotation
//     (Issuer.Rotate, Issuer.Retire), simulated outages (Fail for an HTTP
//     status, Drop for a connection-level failure, Recover), request
//     counters that prove caching (Issuer.JWKSRequests,
//     Issuer.DiscoveryRequests), and Issuer.Token for tokens with sensible
//     defaults that explicit claims override (a nil value removes one);
//     Issuer.TokenWithHeader for hostile headers.
//   - Auth0 and Keycloak: the same issuer in the exact shapes of an Auth0
//     tenant and a Keycloak realm (paths, key sets, token claims; Keycloak
//     ID and refresh tokens an API must refuse).
//   - Firebase: Google's certificate maps for Firebase ID tokens and
//     session cookies, and their minting.
//   - Cognito, Okta, Entra, Google, IAP, GitHub and Kubernetes: an Amazon
//     Cognito user pool (access, ID and client-credentials tokens), an Okta
//     org (custom and org authorization servers), Microsoft Entra ID's
//     authority (per-tenant v1.0/v2.0 discovery, issuer-bound keys,
//     delegated and app-only tokens), Google's ID tokens and Cloud IAP
//     assertions, GitHub Actions OIDC tokens, and a Kubernetes API server
//     as service-account issuer — each in the provider's documented shape.
//   - NewIntrospectionServer: an RFC 7662 introspection endpoint with
//     active, inactive and failing answers.
//   - Principal and Reject: authenticators that return a fixed principal or
//     error, to test handlers without tokens at all.
//
// Every server listens on 127.0.0.1 and is closed by t.Cleanup. Times come
// from WithNow: mint with the clock the verifier under test is given, and
// no test needs to sleep. Everything is safe for concurrent use; minting
// never calls t.Fatal, so it may run in any goroutine.
package authtest
