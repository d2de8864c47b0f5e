package signin

import (
	"context"
	"crypto"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"math"
	"time"

	_ "crypto/sha256" // the hashes of at_hash
	_ "crypto/sha512"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/providers"
)

// ID token errors, wrapped by the *authgate.Error of a refused ID token
// besides those of authgate's verifier (ErrInvalidSignature,
// ErrInvalidAudience, ErrTokenExpired, …).
var (
	// ErrNonce: the ID token's "nonce" is missing or is not the one this
	// browser's login sent.
	ErrNonce = errors.New("signin: ID token nonce does not match the login")
	// ErrAuthorizedParty: "azp" names another client, or is missing from
	// a token for several audiences (OpenID Connect Core §3.1.3.7).
	ErrAuthorizedParty = errors.New("signin: ID token authorized party is not this client")
	// ErrAccessTokenHash: "at_hash" does not match the access token.
	ErrAccessTokenHash = errors.New("signin: ID token at_hash does not match the access token")
	// ErrAuthTime: "auth_time" is missing while MaxAge is set, in the
	// future, or older than MaxAge.
	ErrAuthTime = errors.New("signin: ID token auth_time is missing, in the future or older than MaxAge")
	// ErrSubjectChanged: a refreshed ID token names another user.
	ErrSubjectChanged = errors.New("signin: refreshed ID token names another subject")
)

// verifyIDToken verifies raw with authgate's verifier (signature, issuer,
// audience = client ID, exp, iat, nbf, claim rules, Validate) and then the
// rules of OpenID Connect Core §3.1.3.7 the verifier does not know: azp,
// nonce (when nonce is not empty: an ID token from the code exchange),
// at_hash when present (with accessToken), auth_time against MaxAge.
func (h *Handler) verifyIDToken(ctx context.Context, p *provider, raw, nonce, accessToken string) (*providers.Token, error) {
	t, err := p.verifier.VerifyToken(ctx, raw)
	if err != nil {
		return nil, err
	}
	fail := func(kind, cause error) (*providers.Token, error) { return nil, h.reject(kind, cause) }

	azp, present := t.Claims["azp"]
	switch s, ok := azp.(string); {
	case present && (!ok || s != h.cfg.ClientID):
		return fail(authgate.ErrInvalidAudience, ErrAuthorizedParty)
	case !present && len(t.Audience) > 1:
		return fail(authgate.ErrMissingClaim, ErrAuthorizedParty)
	}

	got, present := t.Claims["nonce"]
	s, _ := got.(string)
	switch {
	case nonce != "" && !present:
		return fail(authgate.ErrMissingClaim, ErrNonce)
	case nonce != "" && subtle.ConstantTimeCompare([]byte(s), []byte(nonce)) != 1:
		return fail(authgate.ErrInvalidClaim, ErrNonce)
	}

	if v, present := t.Claims["at_hash"]; present && accessToken != "" {
		s, ok := v.(string)
		want, known := tokenHash(t.Algorithm, accessToken)
		if !ok || !known || subtle.ConstantTimeCompare([]byte(s), []byte(want)) != 1 {
			return fail(authgate.ErrInvalidClaim, ErrAccessTokenHash)
		}
	}

	at, present := t.Claims["auth_time"]
	if present || h.cfg.MaxAge > 0 {
		n, ok := at.(float64)
		if !ok || n < 0 || n > 253402300799 || n != math.Trunc(n) {
			if !present {
				return fail(authgate.ErrMissingClaim, ErrAuthTime)
			}
			return fail(authgate.ErrInvalidClaim, ErrAuthTime)
		}
		when := time.Unix(int64(n), 0)
		now := h.now()
		if when.After(now.Add(h.leeway)) || (h.cfg.MaxAge > 0 && now.Sub(when) > h.cfg.MaxAge+h.leeway) {
			return fail(authgate.ErrInvalidClaim, ErrAuthTime)
		}
	}
	return t, nil
}

// tokenHash is the at_hash of token for an ID token signed with alg
// (OpenID Connect Core §3.1.3.6): the left half of the hash that alg uses,
// base64url-encoded; SHA-512 for EdDSA (Ed25519).
func tokenHash(alg, token string) (string, bool) {
	var h crypto.Hash
	switch alg {
	case providers.RS256, providers.PS256, providers.ES256:
		h = crypto.SHA256
	case providers.RS384, providers.PS384, providers.ES384:
		h = crypto.SHA384
	case providers.RS512, providers.PS512, providers.ES512, providers.EdDSA:
		h = crypto.SHA512
	default:
		return "", false
	}
	d := h.New()
	d.Write([]byte(token))
	sum := d.Sum(nil)
	return base64.RawURLEncoding.EncodeToString(sum[:len(sum)/2]), true
}
