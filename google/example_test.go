package google_test

import (
	"fmt"
	"net/http/httptest"
	"time"

	"github.com/authgate/authgate/authtest"
	"github.com/authgate/authgate/google"
	"github.com/authgate/authgate/providers"
)

// The key server here is authtest's stand-in for www.googleapis.com; in
// production the audience is all it takes.
func Example() {
	at := func() time.Time { return time.Unix(1_800_000_000, 0) }
	keys := authtest.Google(nil, authtest.WithNow(at))
	defer keys.Close()

	auth, err := google.New(google.Config{
		HostedDomains:        []string{"example.test"},
		RequireVerifiedEmail: true,
		CertsURL:             keys.CertsURL(), // default: google.DefaultCertsURL
		TokenOptions:         providers.TokenOptions{Audience: []string{keys.ClientID()}, Now: at},
		FetchOptions:         providers.FetchOptions{HTTPClient: keys.Client()},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	r := httptest.NewRequest("GET", "/me", nil)
	r.Header.Set("Authorization", "Bearer "+keys.IDToken(map[string]any{"iss": "accounts.google.com"}))
	p, err := auth.Authenticate(r)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(p.Issuer, p.Email, p.Claims.Map()["hd"])
	// Output: accounts.google.com alice@example.test example.test
}

// An app behind Identity-Aware Proxy checks the assertion IAP signs; the
// key server stands in for www.gstatic.com.
func ExampleNewIAP() {
	at := func() time.Time { return time.Unix(1_800_000_000, 0) }
	aud := google.BackendServiceAudience("1071284184436", "4929192873648274104")
	iap := authtest.IAP(nil, aud, authtest.WithNow(at))
	defer iap.Close()

	auth, err := google.NewIAP(google.IAPConfig{
		KeysURL:      iap.KeysURL(), // default: google.DefaultIAPKeysURL
		TokenOptions: providers.TokenOptions{Audience: []string{aud}, Now: at},
		FetchOptions: providers.FetchOptions{HTTPClient: iap.Client()},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set(google.IAPHeader, iap.Assertion(nil))
	p, err := auth.Authenticate(r)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(p.Provider, p.Method, p.Subject, p.Email)
	// Output: iap iap accounts.google.com:110248495921238986420 alice@example.test
}
