package google

import (
	"cmp"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/providers"
)

// Cloud IAP's issuer, key set and header.
const (
	// IAPIssuer is the "iss" of IAP assertions.
	IAPIssuer = "https://cloud.google.com/iap"
	// DefaultIAPKeysURL publishes IAP's ES256 keys as a JWKS.
	DefaultIAPKeysURL = "https://www.gstatic.com/iap/verify/public_key-jwk"
	// IAPHeader is the request header IAP puts its assertion in.
	IAPHeader = "X-Goog-IAP-JWT-Assertion"
	// MethodIAP is Principal.Method for an IAP assertion.
	MethodIAP = "iap"
)

// IAPConfig configures an Authenticator for Cloud IAP assertions. Audience
// is required.
type IAPConfig struct {
	// HostedDomains, when not empty, accepts only users of these Google
	// Workspace domains ("hd"), as Config.HostedDomains.
	HostedDomains []string
	// KeysURL is where IAP's keys are fetched (default
	// DefaultIAPKeysURL). https only, except for loopback hosts.
	KeysURL string
	// TokenOptions are the options every JWT provider shares. Audience
	// lists the protected resources, as IAP writes them in "aud":
	// BackendServiceAudience for Compute Engine and GKE behind a load
	// balancer, AppEngineAudience for App Engine; each must start with
	// "/projects/NUMBER/". Algorithms defaults to {"ES256"}, IAP's only
	// one. RolesClaim "google.access_levels" makes the access levels that
	// applied to the request Principal.Roles.
	providers.TokenOptions
	// FetchOptions tune the key manager.
	providers.FetchOptions
}

// BackendServiceAudience returns the "aud" of IAP assertions for a backend
// service: "/projects/NUMBER/global/backendServices/ID".
func BackendServiceAudience(projectNumber, serviceID string) string {
	return "/projects/" + projectNumber + "/global/backendServices/" + serviceID
}

// AppEngineAudience returns the "aud" of IAP assertions for an App Engine
// app: "/projects/NUMBER/apps/PROJECT_ID".
func AppEngineAudience(projectNumber, projectID string) string {
	return "/projects/" + projectNumber + "/apps/" + projectID
}

var (
	errTwoAssertions  = errors.New("more than one " + IAPHeader + " header")
	errEmptyAssertion = errors.New("empty " + IAPHeader + " header")
)

// NewIAP validates cfg and returns an Authenticator for the IAP assertions
// in the X-Goog-IAP-JWT-Assertion header. A request without that header
// is "not mine" (authgate.ErrNoCredentials), so the route can also accept
// other credentials; the header twice or empty is
// authgate.ErrMalformedRequest. It does no network I/O. It returns an
// error for a missing audience or one not of IAP's "/projects/NUMBER/…"
// shape, a malformed hosted domain, a keys URL that is not https (outside
// loopback), an unknown algorithm, a leeway over 5 minutes and claim rules
// that cannot be checked.
func NewIAP(cfg IAPConfig) (*Authenticator, error) {
	if len(cfg.Audience) == 0 {
		return nil, errors.New("google: iap: an audience is required (BackendServiceAudience or AppEngineAudience)")
	}
	for _, aud := range cfg.Audience {
		if !iapAudience(aud) {
			return nil, fmt.Errorf("google: iap: audience %q is not of the form /projects/NUMBER/… (the project number, not its id)", aud)
		}
	}
	hd, err := hostedDomains(cfg.Name, cfg.HostedDomains)
	if err != nil {
		return nil, err
	}
	opts := cfg.TokenOptions
	opts.Name = cmp.Or(opts.Name, "iap")
	return providers.Preset{
		Package:    "google",
		Issuer:     IAPIssuer,
		JWKSURL:    cmp.Or(cfg.KeysURL, DefaultIAPKeysURL),
		Algorithms: []string{providers.ES256},
		Method:     MethodIAP,
		Validate:   hd,
		Credential: assertion,
		Scheme:     `IAP header="` + IAPHeader + `"`,
	}.New(opts, cfg.FetchOptions)
}

// iapAudience reports whether aud starts with "/projects/DIGITS/" and
// names something below it.
func iapAudience(aud string) bool {
	rest, ok := strings.CutPrefix(aud, "/projects/")
	if !ok {
		return false
	}
	number, resource, ok := strings.Cut(rest, "/")
	if !ok || number == "" || resource == "" || strings.ContainsAny(aud, "?# ") {
		return false
	}
	for _, c := range number {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// assertion reads the IAP header: exactly one, not empty.
func assertion(r *http.Request) (string, error) {
	values := r.Header.Values(IAPHeader)
	switch {
	case len(values) == 0:
		return "", authgate.ErrNoCredentials
	case len(values) > 1:
		return "", &authgate.Error{Kind: authgate.ErrMalformedRequest, Err: errTwoAssertions}
	case values[0] == "":
		return "", &authgate.Error{Kind: authgate.ErrMalformedRequest, Err: errEmptyAssertion}
	}
	return values[0], nil
}
