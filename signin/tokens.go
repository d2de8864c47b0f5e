package signin

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/authgate/authgate"
	"golang.org/x/oauth2"
)

// ErrNoToken: the session holds no access token, or none that can be
// refreshed once expired.
var ErrNoToken = errors.New("signin: the session holds no usable access token")

// Token returns the access token of r's session for calling APIs on the
// user's behalf, refreshed through x/oauth2's TokenSource when it expires
// within RefreshBefore (the session must hold a refresh token: ask for
// the "offline_access" scope where the provider needs it). A refreshed
// token — and the ID token that came with it, verified like the first
// (same subject; nonce absent or the same) — is saved back to the session:
// to the Store, or, for a session held in its cookie, by setting the
// cookie again on w.
//
// Its errors are those of Authenticate for the session, authgate.
// ErrInvalidCredentials (ErrNoToken, a refresh the provider refused, a
// refreshed ID token that does not verify) and ErrUnavailable.
func (h *Handler) Token(w http.ResponseWriter, r *http.Request) (*oauth2.Token, error) {
	pl, rec, err := h.load(r)
	if err != nil {
		return nil, err
	}
	if rec.AccessToken == "" {
		return nil, h.reject(authgate.ErrInvalidCredentials, ErrNoToken)
	}
	cur := &oauth2.Token{AccessToken: rec.AccessToken, TokenType: rec.TokenType, RefreshToken: rec.RefreshToken, Expiry: rec.Expiry}
	if !cur.Expiry.IsZero() && cur.Expiry.Add(-RefreshBefore).After(h.now()) {
		return cur, nil
	}
	if cur.Expiry.IsZero() {
		return cur, nil // a token without expiry is never refreshed
	}
	if rec.RefreshToken == "" {
		return nil, h.reject(authgate.ErrTokenExpired, ErrNoToken)
	}
	p, err := h.disc.get(r.Context())
	if err != nil {
		return nil, err
	}
	// Due by the handler's clock (which may not be x/oauth2's): hand the
	// source a token it sees as expired, so it refreshes.
	due := *cur
	due.Expiry = time.Unix(1, 0)
	fresh, err := p.oauth.TokenSource(oauthContext(r, h.client), &due).Token()
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) && re.Response != nil && re.Response.StatusCode >= 400 && re.Response.StatusCode < 500 {
			return nil, h.reject(authgate.ErrInvalidCredentials, errors.Join(ErrExchange, errors.New("refresh refused ("+errorCode(re.ErrorCode)+")")))
		}
		return nil, h.reject(authgate.ErrUnavailable, &shortError{prefix: "signin: refresh: ", err: err})
	}
	next := *rec
	next.AccessToken, next.TokenType, next.Expiry = fresh.AccessToken, fresh.TokenType, h.expiryOf(fresh)
	if fresh.RefreshToken != "" {
		next.RefreshToken = fresh.RefreshToken
	}
	if raw, _ := fresh.Extra("id_token").(string); raw != "" {
		t, err := h.verifyIDToken(r.Context(), p, raw, "", fresh.AccessToken)
		if err != nil {
			return nil, err
		}
		if t.Subject != rec.Subject {
			return nil, h.reject(authgate.ErrInvalidClaim, ErrSubjectChanged)
		}
		var old map[string]any
		json.Unmarshal(rec.Claims, &old)
		if n, ok := t.Claims["nonce"]; ok && n != old["nonce"] {
			return nil, h.reject(authgate.ErrInvalidClaim, ErrNonce)
		}
		next.IDToken = raw
		next.Claims, _ = json.Marshal(t.Claims)
	}
	if err := h.save(w, r, pl, &next); err != nil {
		return nil, err
	}
	fresh.Expiry = next.Expiry
	return fresh, nil
}

// expiryOf is tok's expiry by the handler's clock: x/oauth2 counts
// "expires_in" from time.Now.
func (h *Handler) expiryOf(tok *oauth2.Token) time.Time {
	if tok.ExpiresIn > 0 {
		return h.now().Add(time.Duration(tok.ExpiresIn) * time.Second)
	}
	return tok.Expiry
}

// save writes a changed record back to where the session lives.
func (h *Handler) save(w http.ResponseWriter, r *http.Request, pl *payload, rec *Record) error {
	if pl.ID != "" {
		if err := h.store.Save(r.Context(), pl.ID, rec, time.Unix(h.expiry(pl), 0)); err != nil {
			return h.reject(authgate.ErrUnavailable, err)
		}
		return nil
	}
	cp := *pl
	cp.Record = rec
	c, err := h.sessionCookie(&cp)
	if err != nil {
		// Grown past a cookie: move the session to the Store.
		cp.Record, cp.ID = nil, randomString(32)
		if err := h.store.Save(r.Context(), cp.ID, rec, time.Unix(h.expiry(&cp), 0)); err != nil {
			return h.reject(authgate.ErrUnavailable, err)
		}
		if c, err = h.sessionCookie(&cp); err != nil {
			return h.reject(authgate.ErrInvalidCredentials, err)
		}
	}
	http.SetCookie(w, c)
	return nil
}

// oauthContext is r's context carrying the guarded client for x/oauth2.
func oauthContext(r *http.Request, client *http.Client) context.Context {
	return context.WithValue(r.Context(), oauth2.HTTPClient, client)
}
