// Package signin signs people in to web applications with OpenID Connect
// and keeps them signed in with a sealed session cookie, whose
// [Authenticator] is an authgate.Authenticator: a page and an API route can
// accept a browser's session and an API client's bearer token or API key
// alike (chain.Any(session, bearer, apiKey)), with the same Principal,
// guards and outcome mapping.
//
// The flow is the authorization code flow with PKCE (S256): [Handler.Login]
// binds a random state (against login CSRF), nonce (bound to the ID token)
// and code verifier to the browser in a sealed, short-lived cookie and
// redirects to the provider; [Handler.Callback] checks them, exchanges the
// code through golang.org/x/oauth2, and verifies the ID token with
// authgate's own verifier (providers.Preset over the discovered key set:
// signature, issuer, audience = client ID, exp, iat, nbf, claim rules) plus
// azp, nonce, at_hash and auth_time/max_age (OpenID Connect Core
// §3.1.3.7). Discovery uses github.com/coreos/go-oidc/v3 (oidc.NewProvider),
// run on first use, once, retried with backoff after a failure, over a
// client that times out, caps answers at 256 KiB, follows no redirects and
// talks to https only (plain http for loopback hosts).
//
// Sessions: the cookie is HttpOnly, SameSite=Lax, Secure except on loopback
// http, host-only unless a domain is configured, sealed with AES-256-GCM
// under rotatable keys ([Key]) and never larger than [MaxCookieSize]. Its
// sealed content carries the absolute and idle lifetimes, checked on every
// request. Claims and tokens stay on the server in a [Store] (in memory by
// default) or, with Config.SealTokens, in the cookie when they fit.
// [Handler.Token] refreshes the access token before it expires;
// [Handler.Logout] ends the session and uses the provider's RP-initiated
// logout when it has one. The landing page after sign-in is restricted to
// same-origin paths ([SafeRedirect]).
//
// Handlers are plain net/http handlers; with Gin, mount them with
// gin.WrapF and render failures with [Handler.WriteError], which redirects
// a browser's page request to sign in and answers an API request with 401.
//
// A Handler and its Authenticator are safe for concurrent use.
package signin
