package introspection

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/providers"
)

// userAgent is sent with every call.
const userAgent = "authgate (+https://github.com/authgate/authgate)"

// logEvery bounds how often a failing endpoint is logged.
const logEvery = time.Minute

var errInactive = errors.New("the authorization server says the token is not active")

// introspect calls the endpoint and returns the members of an active
// answer. Every failure of the call or of the answer's framing is
// ErrUnavailable; an inactive token is ErrInvalidCredentials.
func (a *Authenticator) introspect(ctx context.Context, token string) (map[string]any, error) {
	form := url.Values{"token": {token}, "token_type_hint": {a.hint}}
	if a.method == ClientSecretPost {
		form.Set("client_id", a.clientID)
		form.Set("client_secret", string(a.secret))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, a.unavailable(errors.New("cannot build the introspection request"))
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", userAgent)
	if a.method == ClientSecretBasic {
		// RFC 6749 §2.3.1: both are form-urlencoded before Basic encoding.
		req.SetBasicAuth(url.QueryEscape(a.clientID), url.QueryEscape(string(a.secret)))
	}
	resp, err := a.client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL is added below, once
		}
		return nil, a.unavailable(fmt.Errorf("introspection request to %s: %w", a.endpoint, err))
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
		return nil, a.unavailable(fmt.Errorf("introspection endpoint %s answered status %d, want 200", a.endpoint, resp.StatusCode))
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxResponseSize+1))
	switch {
	case err != nil:
		return nil, a.unavailable(fmt.Errorf("introspection response from %s: %w", a.endpoint, err))
	case len(body) > MaxResponseSize:
		return nil, a.unavailable(fmt.Errorf("introspection response from %s exceeds %d bytes", a.endpoint, MaxResponseSize))
	}
	members, err := providers.ParseClaimSet(body)
	if err != nil {
		return nil, a.unavailable(fmt.Errorf("introspection response from %s: %w", a.endpoint, err))
	}
	active, ok := members["active"].(bool)
	if !ok {
		return nil, a.unavailable(fmt.Errorf(`introspection response from %s has no boolean "active"`, a.endpoint))
	}
	if !active {
		return nil, a.reject(authgate.ErrInvalidCredentials, errInactive)
	}
	return members, nil
}

// check applies the JWT rules to an active answer and returns it as a
// token: iss, exp (required), nbf and iat with the leeway, aud or
// client_id, token_type, token_use and cnf, the subject, the claim rules
// and Validate.
func (a *Authenticator) check(c map[string]any) (*providers.Token, error) {
	t := &providers.Token{Claims: c}
	if t.Issuer, _ = c["iss"].(string); t.Issuer != a.issuer {
		return nil, a.reject(authgate.ErrInvalidIssuer, errors.New(`"iss" missing or not the configured issuer`))
	}
	now := a.now()
	exp, hasExp, err := date(c, "exp")
	if err != nil {
		return nil, a.reject(authgate.ErrInvalidClaim, err)
	}
	if !hasExp {
		return nil, a.reject(authgate.ErrMissingClaim, errors.New(`"exp" is required`))
	}
	nbf, hasNbf, err := date(c, "nbf")
	if err != nil {
		return nil, a.reject(authgate.ErrInvalidClaim, err)
	}
	iat, hasIat, err := date(c, "iat")
	if err != nil {
		return nil, a.reject(authgate.ErrInvalidClaim, err)
	}
	switch {
	case (hasIat && iat.After(exp)) || (hasNbf && nbf.After(exp)):
		return nil, a.reject(authgate.ErrInvalidClaim, errors.New("iat or nbf after exp"))
	case !now.Before(exp.Add(a.leeway)):
		return nil, a.reject(authgate.ErrTokenExpired, nil)
	case hasNbf && now.Before(nbf.Add(-a.leeway)):
		return nil, a.reject(authgate.ErrTokenNotYetValid, errors.New(`"nbf" in the future`))
	case hasIat && iat.After(now.Add(a.leeway)):
		return nil, a.reject(authgate.ErrTokenNotYetValid, errors.New(`"iat" in the future`))
	}
	t.ExpiresAt, t.NotBefore, t.IssuedAt = exp, nbf, iat

	if t.Audience, err = audience(c); err != nil {
		return nil, a.reject(authgate.ErrInvalidAudience, err)
	}
	clientID, _ := c["client_id"].(string)
	if !slices.ContainsFunc(t.Audience, func(s string) bool { return slices.Contains(a.audience, s) }) &&
		(clientID == "" || !slices.Contains(a.parties, clientID)) {
		return nil, a.reject(authgate.ErrInvalidAudience, errors.New("audience not accepted"))
	}
	if err := a.checkUse(c); err != nil {
		return nil, err
	}
	if t.Subject, err = subject(c, clientID); err != nil {
		kind := authgate.ErrInvalidClaim
		if _, present := c["sub"]; !present {
			kind = authgate.ErrMissingClaim
		}
		return nil, a.reject(kind, err)
	}
	if err := a.claims(c); err != nil {
		var e *authgate.Error
		if errors.As(err, &e) {
			e.Provider = a.name
		}
		return nil, err
	}
	if a.validate != nil {
		if err := a.validate(t); err != nil {
			if errors.Is(err, authgate.ErrInvalidCredentials) || errors.Is(err, authgate.ErrUnavailable) {
				return nil, err
			}
			return nil, a.reject(authgate.ErrInvalidClaim, err)
		}
	}
	return t, nil
}

// checkUse refuses what is not a plain bearer access token: a token_type
// not configured (refresh tokens, DPoP), a token_use other than
// access_token (Hydra's refresh tokens), and a cnf binding authgate cannot
// check (mTLS, DPoP).
func (a *Authenticator) checkUse(c map[string]any) error {
	raw, present := c["token_type"]
	if !present {
		return a.reject(authgate.ErrMissingClaim, errors.New(`"token_type" is required`))
	}
	typ, _ := raw.(string)
	if !slices.ContainsFunc(a.types, func(s string) bool { return strings.EqualFold(s, typ) }) {
		return a.reject(authgate.ErrInvalidClaim, errors.New(`"token_type" not accepted`))
	}
	if use, present := c["token_use"]; present && use != "access_token" {
		return a.reject(authgate.ErrInvalidClaim, errors.New(`"token_use" is not "access_token"`))
	}
	if _, present := c["cnf"]; present {
		return a.reject(authgate.ErrInvalidClaim, errors.New(`sender-constrained token ("cnf") cannot be checked here`))
	}
	return nil
}

func (a *Authenticator) reject(kind, cause error) error {
	return &authgate.Error{Provider: a.name, Kind: kind, Err: cause}
}

// unavailable classifies a failed call and logs it, at most once per
// logEvery so an outage does not flood the log. The cause names the
// endpoint and a status, never the token or the secret.
func (a *Authenticator) unavailable(cause error) error {
	now := time.Now()
	a.logMu.Lock()
	log := a.lastLogAt.IsZero() || now.Sub(a.lastLogAt) >= logEvery
	if log {
		a.lastLogAt = now
	}
	a.logMu.Unlock()
	if log {
		a.logger.Warn("authgate: introspection failed", "provider", a.name, "err", cause)
	}
	return &authgate.Error{Provider: a.name, Kind: authgate.ErrUnavailable, Err: cause}
}

// date reads the NumericDate member name of c, if present.
func date(c map[string]any, name string) (time.Time, bool, error) {
	raw, present := c[name]
	if !present {
		return time.Time{}, false, nil
	}
	t, err := providers.NumericDate(raw)
	if err != nil {
		return time.Time{}, true, fmt.Errorf("%q: %w", name, err)
	}
	return t, true, nil
}

// audience reads "aud": a non-empty string or a non-empty array of
// non-empty strings; absent is an empty list.
func audience(c map[string]any) ([]string, error) {
	raw, present := c["aud"]
	if !present {
		return nil, nil
	}
	switch v := raw.(type) {
	case string:
		if v != "" {
			return []string{v}, nil
		}
	case []any:
		out := make([]string, 0, len(v))
		for _, e := range v {
			s, ok := e.(string)
			if !ok || s == "" {
				return nil, errors.New(`"aud" has a member that is not a non-empty string`)
			}
			out = append(out, s)
		}
		if len(out) > 0 {
			return out, nil
		}
	}
	return nil, errors.New(`"aud" is not a string or an array of strings`)
}

// subject is "sub", or, for a token a client obtained for itself (client
// credentials, RFC 6749 §4.4, which many servers answer without "sub"),
// the client_id: 1 to 255 characters without control characters.
func subject(c map[string]any, clientID string) (string, error) {
	sub, present := c["sub"]
	s, ok := sub.(string)
	if !present {
		s, ok = clientID, clientID != ""
	}
	if !ok || s == "" || len(s) > 255 {
		return "", errors.New(`"sub" (or "client_id") missing, empty, too long or not a string`)
	}
	for i := 0; i < len(s); i++ {
		if b := s[i]; b < 0x20 || b == 0x7f {
			return "", errors.New(`"sub" contains control characters`)
		}
	}
	return s, nil
}
