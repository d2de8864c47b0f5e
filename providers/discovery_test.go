package providers_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/providers"
)

// discoveryServer serves a discovery document built by doc(baseURL) and a
// JWKS, counting requests to each.
type discoveryServer struct {
	*httptest.Server
	discoveries, keyFetches atomic.Int64
	doc                     atomic.Pointer[string]
	status                  atomic.Int64
}

func newDiscoveryServer(t *testing.T, doc func(base string) string) *discoveryServer {
	t.Helper()
	s := &discoveryServer{}
	s.status.Store(200)
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/.well-known/openid-configuration":
			s.discoveries.Add(1)
			if c := int(s.status.Load()); c != 200 {
				w.WriteHeader(c)
				return
			}
			w.Write([]byte(*s.doc.Load()))
		case "/keys":
			s.keyFetches.Add(1)
			w.Write(set("k1"))
		default:
			http.NotFound(w, r)
		}
	}))
	d := doc(s.URL)
	s.doc.Store(&d)
	t.Cleanup(s.Close)
	return s
}

func TestDiscover(t *testing.T) {
	tests := []struct {
		name    string
		doc     func(base string) string
		issuer  func(base string) string
		wantErr error // nil: success
	}{
		{"ok", func(b string) string { return `{"issuer":"` + b + `","jwks_uri":"` + b + `/keys"}` }, nil, nil},
		{"trailing slash", func(b string) string { return `{"issuer":"` + b + `/","jwks_uri":"` + b + `/keys"}` }, nil, providers.ErrIssuerMismatch},
		{"case", func(b string) string {
			return `{"issuer":"` + strings.Replace(b, "http", "HTTP", 1) + `","jwks_uri":"` + b + `/keys"}`
		}, nil, providers.ErrIssuerMismatch},
		{"https vs http", func(b string) string {
			return `{"issuer":"` + strings.Replace(b, "http", "https", 1) + `","jwks_uri":"` + b + `/keys"}`
		}, nil, providers.ErrIssuerMismatch},
		{"other issuer", func(b string) string { return `{"issuer":"https://evil.example","jwks_uri":"` + b + `/keys"}` }, nil, providers.ErrIssuerMismatch},
		{"issuer missing", func(b string) string { return `{"jwks_uri":"` + b + `/keys"}` }, nil, providers.ErrIssuerMismatch},
		{"jwks_uri http", func(b string) string { return `{"issuer":"` + b + `","jwks_uri":"http://idp.example/keys"}` }, nil, errAny},
		{"jwks_uri missing", func(b string) string { return `{"issuer":"` + b + `"}` }, nil, errAny},
		{"duplicate issuer", func(b string) string {
			return `{"issuer":"https://evil.example","issuer":"` + b + `","jwks_uri":"` + b + `/keys"}`
		}, nil, errAny},
		{"not json", func(b string) string { return `<html>` }, nil, errAny},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := newDiscoveryServer(t, tc.doc)
			md, err := providers.Discover(t.Context(), nil, srv.URL)
			switch {
			case tc.wantErr == nil && err != nil:
				t.Fatalf("Discover = %v, want success", err)
			case tc.wantErr == nil:
				if md.Issuer != srv.URL || md.JWKSURI != srv.URL+"/keys" {
					t.Fatalf("Discover = %+v", md)
				}
			case err == nil:
				t.Fatalf("Discover = %+v, want an error", md)
			case tc.wantErr != errAny && !errors.Is(err, tc.wantErr):
				t.Fatalf("Discover = %v, want %v", err, tc.wantErr)
			}
		})
	}
}

var errAny = errors.New("any error")

// TestRemoteKeySetDiscovery: discovery once, shared; failures backed off;
// an issuer mismatch is a 503 and never falls back to the discovered value.
func TestRemoteKeySetDiscovery(t *testing.T) {
	srv := newDiscoveryServer(t, func(b string) string { return `{"issuer":"` + b + `","jwks_uri":"` + b + `/keys"}` })
	srv.status.Store(500)
	clk := newClock()
	ks, err := providers.NewRemoteKeySet(providers.RemoteKeySetConfig{Issuer: srv.URL, Algorithms: []string{"RS256"}, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	if ks.URL() != "" {
		t.Fatalf("URL() before discovery = %q, want empty", ks.URL())
	}
	for range 20 {
		if _, err := ks.VerificationKeys(t.Context(), "k1", "RS256"); !errors.Is(err, authgate.ErrUnavailable) {
			t.Fatalf("VerificationKeys with discovery down = %v, want ErrUnavailable", err)
		}
	}
	if n := srv.discoveries.Load(); n != 1 {
		t.Fatalf("discoveries = %d, want 1 (backoff)", n)
	}
	srv.status.Store(200)
	clk.Advance(2 * time.Second)
	for range 5 {
		keys, err := ks.VerificationKeys(t.Context(), "k1", "RS256")
		if err != nil || len(keys) != 1 {
			t.Fatalf("VerificationKeys = %d keys, %v", len(keys), err)
		}
		clk.Advance(2 * time.Hour) // key refreshes, never rediscovery
	}
	eventually(t, "refreshes", func() bool { return srv.keyFetches.Load() >= 2 })
	if n := srv.discoveries.Load(); n != 2 {
		t.Fatalf("discoveries = %d, want 2", n)
	}
	if ks.URL() != srv.URL+"/keys" {
		t.Fatalf("URL() = %q", ks.URL())
	}
}

func TestRemoteKeySetDiscoveryMismatch(t *testing.T) {
	srv := newDiscoveryServer(t, func(b string) string { return `{"issuer":"` + b + `/","jwks_uri":"` + b + `/keys"}` })
	ks, err := providers.NewRemoteKeySet(providers.RemoteKeySetConfig{Issuer: srv.URL, Algorithms: []string{"RS256"}})
	if err != nil {
		t.Fatal(err)
	}
	err = ks.Prefetch(t.Context())
	if !errors.Is(err, providers.ErrIssuerMismatch) || !errors.Is(err, authgate.ErrUnavailable) {
		t.Fatalf("Prefetch = %v, want ErrIssuerMismatch and ErrUnavailable", err)
	}
	if n := srv.keyFetches.Load(); n != 0 {
		t.Fatalf("key fetches = %d, want 0", n)
	}
}
