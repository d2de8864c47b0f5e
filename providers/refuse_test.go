package providers_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/providers"
)

// countingKeys counts key lookups.
type countingKeys struct {
	keys providers.KeySet
	n    atomic.Int64
}

func (c *countingKeys) VerificationKeys(ctx context.Context, kid, alg string) ([]providers.Key, error) {
	c.n.Add(1)
	return c.keys.VerificationKeys(ctx, kid, alg)
}

// TestPresetRefuseIssuers pins Preset.RefuseIssuers: a token of a refused
// issuer is the provider's own to reject (ErrInvalidIssuer with the
// preset's reason, not "not mine"), decided before any key lookup, while a
// token of any other issuer stays "not mine".
func TestPresetRefuseIssuers(t *testing.T) {
	reason := errors.New("use introspection")
	keys := &countingKeys{keys: presetKeys(t)}
	a, err := providers.Preset{
		Package:       "custom",
		Issuer:        "https://idp.example",
		Keys:          keys,
		Algorithms:    []string{"ES256"},
		RefuseIssuers: []string{"https://org.example"},
		RefuseReason:  reason,
	}.New(providers.TokenOptions{Audience: []string{"api"}, Now: func() time.Time { return presetNow }}, providers.FetchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		iss      string
		wantErr  error
		notMine  bool
		wantKeys int64
	}{
		{name: "accepted issuer", iss: "https://idp.example", wantKeys: 1},
		{name: "refused issuer", iss: "https://org.example", wantErr: authgate.ErrInvalidIssuer},
		{name: "another issuer", iss: "https://other.example", wantErr: authgate.ErrUnrecognizedCredential, notMine: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			keys.n.Store(0)
			token := presetToken(t, func(c map[string]any) { c["iss"] = tt.iss })
			_, err := a.Verify(context.Background(), token)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("Verify() = %v, want %v", err, tt.wantErr)
			}
			if got := authgate.IsNotMine(err); err != nil && got != tt.notMine {
				t.Errorf("IsNotMine(%v) = %v, want %v", err, got, tt.notMine)
			}
			if tt.iss == "https://org.example" && !errors.Is(err, reason) {
				t.Errorf("Verify() = %v, want the preset's reason", err)
			}
			if got := keys.n.Load(); got != tt.wantKeys {
				t.Errorf("key lookups = %d, want %d", got, tt.wantKeys)
			}
		})
	}
	if got := a.Describe().Issuers; !slices.Equal(got, []string{"https://idp.example", "https://org.example"}) {
		t.Errorf("Describe().Issuers = %q, want the issuer and the refused one", got)
	}
}

func TestPresetRefuseIssuersConfig(t *testing.T) {
	for _, refuse := range [][]string{{""}, {"https://idp.example"}, {"https://also.example"}} {
		_, err := providers.Preset{
			Package:       "custom",
			Issuer:        "https://idp.example",
			Issuers:       []string{"https://also.example"},
			Keys:          presetKeys(t),
			Algorithms:    []string{"ES256"},
			RefuseIssuers: refuse,
		}.New(providers.TokenOptions{Audience: []string{"api"}}, providers.FetchOptions{})
		if err == nil || !strings.HasPrefix(err.Error(), "custom: refused issuer") {
			t.Errorf("New(RefuseIssuers %q) = %v, want a refused-issuer error", refuse, err)
		}
	}
}
