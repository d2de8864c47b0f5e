package authgate_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/authgate/authgate"
)

// TestPrincipalJSON: lists are [] when empty, never null; every string and
// list is present; maps and times only when set; User never.
func TestPrincipalJSON(t *testing.T) {
	exp := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	tests := []struct {
		name string
		p    authgate.Principal
		want string
	}{
		{
			name: "API key without scopes",
			p: authgate.Principal{Provider: "apikey", Method: "apikey", Subject: "bot", Roles: []string{"editor"},
				CredentialID: "key_1", User: map[string]string{"password_hash": "x"}},
			want: `{"provider":"apikey","method":"apikey","subject":"bot","issuer":"","audience":[],"email":"","name":"",` +
				`"tenant":"","roles":["editor"],"scopes":[],"permissions":[],"credential_id":"key_1"}`,
		},
		{
			name: "empty but non-nil lists",
			p:    authgate.Principal{Subject: "s", Roles: []string{}, Scopes: []string{}, Claims: authgate.NewObject(map[string]any{})},
			want: `{"provider":"","method":"","subject":"s","issuer":"","audience":[],"email":"","name":"",` +
				`"tenant":"","roles":[],"scopes":[],"permissions":[],"credential_id":""}`,
		},
		{
			name: "token",
			p: authgate.Principal{Provider: "static", Method: "jwt", Subject: "ada", Issuer: "https://i.test/",
				Audience: []string{"api"}, Email: "ada@example.com", Name: "Ada", Tenant: "t1",
				Roles: []string{"admin"}, Scopes: []string{"read", "write"}, Permissions: []string{"orders:read"},
				Claims: authgate.NewObject(map[string]any{"sub": "ada"}), Header: authgate.NewObject(map[string]any{"alg": "RS256"}),
				TokenID: "t-1", ExpiresAt: exp, IssuedAt: exp.Add(-time.Hour)},
			want: `{"provider":"static","method":"jwt","subject":"ada","issuer":"https://i.test/","audience":["api"],` +
				`"email":"ada@example.com","name":"Ada","tenant":"t1","roles":["admin"],"scopes":["read","write"],` +
				`"permissions":["orders:read"],"claims":{"sub":"ada"},"header":{"alg":"RS256"},"credential_id":"",` +
				`"token_id":"t-1","expires_at":"2026-03-04T05:06:07Z","issued_at":"2026-03-04T04:06:07Z"}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			byValue, err := json.Marshal(tt.p)
			if err != nil {
				t.Fatal(err)
			}
			if string(byValue) != tt.want {
				t.Errorf("json.Marshal(Principal) = %s, want %s", byValue, tt.want)
			}
			byPointer, err := json.Marshal(&tt.p)
			if err != nil || string(byPointer) != string(byValue) {
				t.Errorf("json.Marshal(*Principal) = %s (%v), want %s", byPointer, err, byValue)
			}
			// Inside a map the value is not addressable: it encodes the same.
			inMap, err := json.Marshal(map[string]authgate.Principal{"p": tt.p})
			if err != nil || string(inMap) != `{"p":`+tt.want+`}` {
				t.Errorf("json.Marshal(map of Principal) = %s (%v)", inMap, err)
			}
			if strings.Contains(string(byValue), "password_hash") {
				t.Errorf("the encoding holds User: %s", byValue)
			}
			// It decodes back into the same principal, less User.
			var back authgate.Principal
			if err := json.Unmarshal(byValue, &back); err != nil {
				t.Fatal(err)
			}
			want := tt.p
			want.User = nil
			if got, want := normalize(back), normalize(want); !reflect.DeepEqual(got, want) {
				t.Errorf("json.Unmarshal(json.Marshal(p)) = %+v, want %+v", got, want)
			}
		})
	}
	if b, err := json.Marshal((*authgate.Principal)(nil)); err != nil || string(b) != "null" {
		t.Errorf("json.Marshal(nil *Principal) = %s, %v, want null", b, err)
	}
	if _, err := json.Marshal(authgate.Principal{Claims: authgate.NewObject(map[string]any{"c": make(chan int)})}); err == nil {
		t.Error("json.Marshal(principal with an unencodable claim) = nil error")
	}
}

// normalize makes nil and empty lists and maps compare equal, which JSON
// does not tell apart on the way back.
func normalize(p authgate.Principal) authgate.Principal {
	for _, s := range []*[]string{&p.Audience, &p.Roles, &p.Scopes, &p.Permissions} {
		if len(*s) == 0 {
			*s = nil
		}
	}
	if p.Claims.IsZero() {
		p.Claims = authgate.Object{}
	}
	if p.Header.IsZero() {
		p.Header = authgate.Object{}
	}
	return p
}
