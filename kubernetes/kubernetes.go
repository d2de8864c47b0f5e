// Package kubernetes authenticates Kubernetes service-account tokens: the
// audience-bound, expiring JWTs the kubelet projects into pods
// (serviceAccountToken volumes) and the TokenRequest API issues, sent by
// a workload to another service as its bearer token.
//
//   - The issuer is the cluster's --service-account-issuer, configured
//     exactly; the audience is the one the pods request in their
//     projection. Never accept the API server's own audience: a token sent
//     to you could then be replayed against the API server.
//   - Keys come from the cluster's issuer discovery (Issuer +
//     "/.well-known/openid-configuration" → jwks_uri), from JWKSURL, or
//     from the API server's "/openid/v1/jwks" (APIServer, InCluster).
//     InCluster calls the API server as the pod's own service account,
//     trusting only the mounted CA bundle and sending the mounted token as
//     its bearer on those key fetches only, never to another host.
//   - The "kubernetes.io" claims are checked and mapped: "sub" must be
//     "system:serviceaccount:NAMESPACE:NAME" of the namespace and service
//     account they name; Principal.Tenant is the namespace and
//     Principal.Name the service account; IdentityOf returns the pod, node
//     and UIDs.
//   - Only the namespaces and service accounts allowed by Namespaces and
//     ServiceAccounts are accepted; New refuses a configuration with
//     neither unless AllowAllServiceAccounts says so.
//
// Verification is local: a token stays valid until it expires (an hour by
// default) after its pod or service account is deleted. Where that
// matters, keep lifetimes short or ask the API server (TokenReview).
// Legacy Secret-based tokens (issuer "kubernetes/serviceaccount") are
// another issuer's, hence "not mine". New does no network I/O.
// Authenticators are safe for concurrent use.
package kubernetes

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/providers"
)

// Config configures an Authenticator. Issuer, Audience and an allow-list
// (or AllowAllServiceAccounts) are required.
type Config struct {
	// Issuer is the cluster's service-account issuer, exactly as in the
	// tokens' "iss" ("https://kubernetes.default.svc.cluster.local", or a
	// managed cluster's "https://oidc.eks.REGION.amazonaws.com/id/ID").
	// It must be an https URL serving discovery unless JWKSURL, APIServer
	// or InCluster says where the keys are.
	Issuer string
	// JWKSURL, if set, is where the keys are (no discovery).
	JWKSURL string
	// APIServer, if set, is the API server's address; the keys are then
	// read from its "/openid/v1/jwks". With InCluster it defaults to
	// https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT.
	APIServer string
	// InCluster calls the API server the way a pod does: over TLS trusted
	// by CAFile only, with the token in TokenFile (re-read on every fetch,
	// as the kubelet rotates it) as bearer, sent to the API server's host
	// only and never logged. HTTPClient cannot be set with it.
	InCluster bool
	// CAFile and TokenFile override DefaultCAFile and DefaultTokenFile.
	CAFile    string
	TokenFile string
	// Namespaces accepts every service account of these namespaces.
	Namespaces []string
	// ServiceAccounts accepts these service accounts, each
	// "NAMESPACE:NAME" or "system:serviceaccount:NAMESPACE:NAME". A token
	// is accepted when Namespaces or ServiceAccounts allows it.
	ServiceAccounts []string
	// AllowAllServiceAccounts accepts every service account of the
	// cluster that holds a token for Audience; it cannot be combined with
	// the lists.
	AllowAllServiceAccounts bool
	// TokenOptions are the options every JWT provider shares. Audience is
	// required. Algorithms defaults to {"RS256", "ES256"}: the API
	// server signs with RS256 for an RSA key and ES256 for a P-256 key.
	providers.TokenOptions
	// FetchOptions tune the key manager.
	providers.FetchOptions
}

// Authenticator verifies service-account tokens of one cluster; see
// [providers.TokenAuthenticator] for its methods.
type Authenticator = providers.TokenAuthenticator

// New validates cfg and returns an Authenticator. It reads the CA bundle
// and checks the token file in InCluster mode, and does no network I/O.
// It returns an error for a missing issuer or audience, no allow-list
// (or one with AllowAllServiceAccounts), a malformed namespace or service
// account, a URL that is not https (loopback excepted), InCluster outside
// a cluster or with HTTPClient, an unreadable CA bundle or token file,
// an HMAC or unknown algorithm and the errors of [providers.Preset.New].
func New(cfg Config) (*Authenticator, error) {
	allowed, err := allowList(cfg)
	if err != nil {
		return nil, err
	}
	if cfg.Issuer == "" {
		return nil, errors.New("kubernetes: an issuer (the cluster's service-account issuer) is required")
	}
	if len(cfg.Audience) == 0 && len(cfg.AuthorizedParties) == 0 {
		return nil, errors.New("kubernetes: an audience (the one the pods' projected tokens request) is required")
	}
	name := cfg.Name
	if name == "" {
		name = "kubernetes"
	}
	p := providers.Preset{
		Package:    "kubernetes",
		Issuer:     cfg.Issuer,
		JWKSURL:    cfg.JWKSURL,
		Algorithms: []string{providers.RS256, providers.ES256},
		Validate: func(t *providers.Token) error {
			id, err := identity(t.Claims, t.Subject)
			switch {
			case errors.Is(err, errNoClaims):
				return &authgate.Error{Provider: name, Kind: authgate.ErrMissingClaim, Err: err}
			case err != nil:
				return &authgate.Error{Provider: name, Kind: authgate.ErrInvalidClaim, Err: err}
			case !allowed(id):
				return &authgate.Error{Provider: name, Kind: authgate.ErrInvalidClaim, Err: errNotAllowed}
			}
			return nil
		},
		Principal: func(t *providers.Token, p *authgate.Principal) {
			id, _ := identity(t.Claims, t.Subject)
			if cfg.TenantClaim == "" {
				p.Tenant = id.Namespace
			}
			if p.Name == "" {
				p.Name = id.ServiceAccount
			}
		},
	}
	client, err := keySource(&p, cfg)
	if err != nil {
		return nil, err
	}
	if client != nil {
		cfg.HTTPClient = client
	}
	return p.New(cfg.TokenOptions, cfg.FetchOptions)
}

var errNotAllowed = errors.New("kubernetes: service account not allowed")

// allowList compiles Namespaces and ServiceAccounts into the test of an
// identity.
func allowList(cfg Config) (func(Identity) bool, error) {
	if cfg.AllowAllServiceAccounts {
		if len(cfg.Namespaces)+len(cfg.ServiceAccounts) > 0 {
			return nil, errors.New("kubernetes: AllowAllServiceAccounts cannot be combined with Namespaces or ServiceAccounts")
		}
		return func(Identity) bool { return true }, nil
	}
	if len(cfg.Namespaces)+len(cfg.ServiceAccounts) == 0 {
		return nil, errors.New("kubernetes: Namespaces or ServiceAccounts is required (or AllowAllServiceAccounts)")
	}
	namespaces := slices.Clone(cfg.Namespaces)
	for _, ns := range namespaces {
		if !isLabel(ns) {
			return nil, fmt.Errorf("kubernetes: namespace %q is not a valid namespace name", ns)
		}
	}
	var accounts []string // "NAMESPACE:NAME"
	for _, sa := range cfg.ServiceAccounts {
		ns, name, ok := strings.Cut(strings.TrimPrefix(sa, userPrefix), ":")
		if !ok || !isLabel(ns) || !isSubdomain(name) {
			return nil, fmt.Errorf(`kubernetes: service account %q is not "NAMESPACE:NAME"`, sa)
		}
		accounts = append(accounts, ns+":"+name)
	}
	return func(id Identity) bool {
		return slices.Contains(namespaces, id.Namespace) || slices.Contains(accounts, id.Namespace+":"+id.ServiceAccount)
	}, nil
}

// isLabel reports whether s is an RFC 1123 label, a namespace name.
func isLabel(s string) bool {
	if s == "" || len(s) > 63 || s[0] == '-' || s[len(s)-1] == '-' {
		return false
	}
	for _, c := range []byte(s) {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' {
			return false
		}
	}
	return true
}

// isSubdomain reports whether s is an RFC 1123 subdomain, a service
// account name.
func isSubdomain(s string) bool {
	if len(s) > 253 {
		return false
	}
	for l := range strings.SplitSeq(s, ".") {
		if !isLabel(l) {
			return false
		}
	}
	return true
}
