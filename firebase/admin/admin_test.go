package admin_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"firebase.google.com/go/v4/auth"

	"github.com/authgate/authgate/firebase"
	"github.com/authgate/authgate/firebase/admin"
)

// The real Admin SDK clients fit.
var (
	_ admin.UserGetter = (*auth.Client)(nil)
	_ admin.UserGetter = (*auth.TenantClient)(nil)
)

type getter struct {
	rec *auth.UserRecord
	err error
}

func (g getter) GetUser(context.Context, string) (*auth.UserRecord, error) { return g.rec, g.err }

func TestUsers(t *testing.T) {
	validAfter := time.UnixMilli(1_800_000_000_123)
	tests := []struct {
		name    string
		g       getter
		want    *firebase.User
		wantErr error
	}{
		{"active", getter{rec: &auth.UserRecord{UserInfo: &auth.UserInfo{UID: "u"}}}, &firebase.User{}, nil},
		{"disabled and revoked", getter{rec: &auth.UserRecord{UserInfo: &auth.UserInfo{UID: "u"}, Disabled: true, TokensValidAfterMillis: validAfter.UnixMilli()}},
			&firebase.User{Disabled: true, TokensValidAfter: validAfter}, nil},
		{"lookup failed", getter{err: errors.New("backend down")}, nil, nil},
		{"no record", getter{}, nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			u, err := admin.Users(tc.g).LookupUser(t.Context(), "u")
			if tc.want == nil {
				if err == nil || errors.Is(err, firebase.ErrUserNotFound) {
					t.Fatalf("LookupUser = %v, %v; want a failed lookup", u, err)
				}
				return
			}
			if err != nil || u.Disabled != tc.want.Disabled || !u.TokensValidAfter.Equal(tc.want.TokensValidAfter) {
				t.Fatalf("LookupUser = %+v, %v; want %+v", u, err, tc.want)
			}
		})
	}
}
