package providers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/authgate/authgate/internal/remote"
)

// ErrIssuerMismatch is wrapped by Discover's error when the discovery
// document names another issuer than the one asked for (OpenID Connect
// Discovery §4.3): the configured issuer is never replaced by the
// discovered one.
var ErrIssuerMismatch = errors.New("providers: discovered issuer differs from the configured issuer")

// ProviderMetadata is what authgate reads from an OpenID Connect discovery
// document.
type ProviderMetadata struct {
	// Issuer is the document's "issuer", equal to the one asked for.
	Issuer string
	// JWKSURI is "jwks_uri", checked to be https (or loopback http).
	JWKSURI string
	// SigningAlgorithms is "id_token_signing_alg_values_supported". It
	// describes ID tokens, not access tokens, so authgate does not narrow
	// an allow-list with it; it is informational.
	SigningAlgorithms []string
}

// Discover fetches issuer + "/.well-known/openid-configuration" (with the
// same rules as a RemoteKeySet: https except loopback, no redirects, a 5 s
// timeout, a 256 KiB body cap; client may be nil) and checks it: the
// document must be a strict JSON object whose "issuer" equals issuer
// exactly (else an error wrapping ErrIssuerMismatch) and whose "jwks_uri"
// is an https URL (plain http for loopback hosts only). Constructors in
// authgate never call it: RemoteKeySet calls it on first use.
func Discover(ctx context.Context, client *http.Client, issuer string) (*ProviderMetadata, error) {
	if _, err := remote.CheckURL(issuer); err != nil {
		return nil, fmt.Errorf("providers: issuer %w", err)
	}
	md, err := discover(ctx, remote.Client(client, DefaultFetchTimeout), issuer)
	if err != nil {
		return nil, fmt.Errorf("providers: %w", err)
	}
	return md, nil
}

// discover is Discover with a client already made safe by remote.Client.
func discover(ctx context.Context, client *http.Client, issuer string) (*ProviderMetadata, error) {
	u := strings.TrimSuffix(issuer, "/") + "/.well-known/openid-configuration"
	body, _, err := remote.Get(ctx, client, u)
	if err != nil {
		return nil, fmt.Errorf("discovery: %w", err)
	}
	doc, err := parseObject(body)
	if err != nil {
		return nil, fmt.Errorf("discovery document from %s: %w", u, err)
	}
	md := &ProviderMetadata{}
	md.Issuer, _ = doc["issuer"].(string)
	if md.Issuer != issuer {
		return nil, fmt.Errorf("discovery document from %s: %w", u, ErrIssuerMismatch)
	}
	md.JWKSURI, _ = doc["jwks_uri"].(string)
	if md.JWKSURI == "" {
		return nil, fmt.Errorf(`discovery document from %s has no "jwks_uri"`, u)
	}
	if _, err := remote.CheckURL(md.JWKSURI); err != nil {
		return nil, fmt.Errorf("discovery document from %s: jwks_uri %w", u, err)
	}
	md.SigningAlgorithms = StringList(doc["id_token_signing_alg_values_supported"])
	return md, nil
}
