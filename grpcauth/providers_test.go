package grpcauth_test

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/apikey"
	"github.com/authgate/authgate/authtest"
	"github.com/authgate/authgate/firebase"
	"github.com/authgate/authgate/google"
	"github.com/authgate/authgate/grpcauth"
	"github.com/authgate/authgate/providers"
)

// TestProvidersReadMetadata sends each kind of credential a provider
// reads — the Authorization header, an API-key header, a cookie, IAP's
// header — as gRPC metadata, and checks that the provider authenticates
// the call as it authenticates the same header over HTTP. Metadata keys
// are lower case on the wire; the providers name them in canonical or
// mixed case.
func TestProvidersReadMetadata(t *testing.T) {
	st, iss := newStatic(t)
	keys, key := newAPIKey(t, apikey.Config{})
	custom, customKey := newAPIKey(t, apikey.Config{Prefix: "pk_test", Header: "X-Partner-Key"})

	fb := authtest.Firebase(t, "demo-project", authtest.WithNow(clock))
	fbAuth, err := firebase.New(firebase.Config{
		ProjectID:       "demo-project",
		CertsURL:        fb.CertsURL(),
		SessionCookies:  true,
		SessionCertsURL: fb.SessionCertsURL(),
		TokenOptions:    providers.TokenOptions{Now: clock, Logger: slog.New(slog.DiscardHandler)},
		FetchOptions:    providers.FetchOptions{HTTPClient: fb.Client()},
	})
	if err != nil {
		t.Fatal(err)
	}

	aud := google.BackendServiceAudience("1071284184436", "4929192873648274104")
	iap := authtest.IAP(t, aud, authtest.WithNow(clock))
	iapAuth, err := google.NewIAP(google.IAPConfig{
		KeysURL:      iap.KeysURL(),
		TokenOptions: providers.TokenOptions{Audience: []string{aud}, Now: clock},
		FetchOptions: providers.FetchOptions{HTTPClient: iap.Client()},
	})
	if err != nil {
		t.Fatal(err)
	}
	cookie := fb.SessionCookie(nil)
	assertion := iap.Assertion(nil)

	tests := []struct {
		name     string
		auth     authgate.Authenticator
		md       []string
		wantCode codes.Code
	}{
		{name: "authorization", auth: st, md: []string{"authorization", "Bearer " + token(iss, "alice", nil)}},
		{name: "authorization, scheme in another case", auth: st, md: []string{"authorization", "bearer " + token(iss, "alice", nil)}},
		{name: "default API-key header", auth: keys, md: []string{"x-api-key", key}},
		{name: "configured API-key header", auth: custom, md: []string{"x-partner-key", customKey}},
		{name: "API key in a header the provider does not read", auth: custom, md: []string{"x-api-key", customKey}, wantCode: codes.Unauthenticated},
		{name: "session cookie", auth: fbAuth, md: []string{"cookie", "theme=dark; session=" + cookie}},
		{name: "session cookie among several cookie values", auth: fbAuth, md: []string{"cookie", "theme=dark", "cookie", "session=" + cookie}},
		{name: "session cookie twice", auth: fbAuth, md: []string{"cookie", "session=" + cookie, "cookie", "session=" + cookie}, wantCode: codes.InvalidArgument},
		{name: "IAP assertion", auth: iapAuth, md: []string{"x-goog-iap-jwt-assertion", assertion}},
		{name: "IAP assertion twice", auth: iapAuth, md: []string{"x-goog-iap-jwt-assertion", assertion, "x-goog-iap-jwt-assertion", assertion}, wantCode: codes.InvalidArgument},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, unaryMethod, nil)
			for i := 0; i+1 < len(tt.md); i += 2 {
				r.Header.Add(tt.md[i], tt.md[i+1])
			}
			want, werr := tt.auth.Authenticate(r)
			if c := grpcauth.Code(werr); c != tt.wantCode {
				t.Fatalf("over HTTP: Authenticate = %v (code %v), want code %v", werr, c, tt.wantCode)
			}

			conn := serveWith(t, grpcauth.Require(tt.auth, quiet))
			got := unary(t, conn, tt.md...)
			if code := status.Code(got.err); code != tt.wantCode {
				t.Fatalf("UnaryCall code = %v (%v), want %v", code, got.err, tt.wantCode)
			}
			if want != nil && (got.subject != want.Subject || got.provider != want.Provider) {
				t.Errorf("UnaryCall principal = %s/%s, want %s/%s as over HTTP", got.provider, got.subject, want.Provider, want.Subject)
			}
		})
	}
}
