// Package admin connects authgate's Firebase revocation check to
// firebase-admin-go: Users turns an *auth.Client (or *auth.TenantClient)
// into the firebase.UserLookup that firebase.Revocation takes.
//
// It is a module of its own, so that a program that verifies Firebase
// tokens without checking revocation, or that checks it against its own
// store, never imports the Admin SDK and what it pulls in.
package admin

import (
	"context"
	"errors"
	"fmt"
	"time"

	"firebase.google.com/go/v4/auth"

	"github.com/authgate/authgate/firebase"
)

// UserGetter is the part of firebase-admin-go's *auth.Client and
// *auth.TenantClient the lookup uses.
type UserGetter interface {
	GetUser(ctx context.Context, uid string) (*auth.UserRecord, error)
}

// Users returns a firebase.UserLookup over c. A user the Admin API does not
// know (auth.IsUserNotFound) is firebase.ErrUserNotFound, so its tokens are
// refused as revoked; any other error is a failed lookup (503).
func Users(c UserGetter) firebase.UserLookup { return lookup{c} }

type lookup struct{ c UserGetter }

var errNoRecord = errors.New("admin: the Admin API returned no user record")

func (l lookup) LookupUser(ctx context.Context, uid string) (*firebase.User, error) {
	rec, err := l.c.GetUser(ctx, uid)
	switch {
	case err != nil && auth.IsUserNotFound(err):
		return nil, fmt.Errorf("admin: %w", firebase.ErrUserNotFound)
	case err != nil:
		return nil, fmt.Errorf("admin: user lookup: %w", err)
	case rec == nil:
		return nil, errNoRecord
	}
	u := &firebase.User{Disabled: rec.Disabled}
	if rec.TokensValidAfterMillis > 0 {
		u.TokensValidAfter = time.UnixMilli(rec.TokensValidAfterMillis)
	}
	return u, nil
}
