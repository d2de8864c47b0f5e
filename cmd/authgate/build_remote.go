package main

import (
	"github.com/authgate/authgate/auth0"
	"github.com/authgate/authgate/firebase"
	"github.com/authgate/authgate/keycloak"
	"github.com/authgate/authgate/oidc"
	"github.com/authgate/authgate/providers"
)

// remoteBuilders build the providers whose keys come from the network. A
// type missing here is reported as "not available in this build".
var remoteBuilders = map[string]func(*ProviderConfig, buildOptions) (*provider, string, error){
	"oidc":     buildOIDC,
	"auth0":    buildAuth0,
	"keycloak": buildKeycloak,
	"firebase": buildFirebase,
}

func buildOIDC(pc *ProviderConfig, o buildOptions) (*provider, string, error) {
	a, err := oidc.New(oidc.Config{
		Issuer:  pc.Issuer,
		JWKSURL: pc.JWKSURL,
		TokenOptions: providers.TokenOptions{
			Name:              pc.Name,
			Audience:          pc.Audience,
			AuthorizedParties: pc.AuthorizedParties,
			Algorithms:        pc.Algorithms,
			Leeway:            pc.Leeway,
			Claims:            pc.Claims,
			RolesClaim:        pc.RolesClaim,
			TenantClaim:       pc.TenantClaim,
			TokenTypes:        pc.TokenTypes,
			CacheSize:         pc.CacheSize,
			CacheTTL:          pc.CacheTTL,
			Logger:            o.logger,
			Now:               o.now,
		},
	})
	if err != nil {
		return nil, "", err
	}
	return &provider{cfg: pc, auth: a, prefetch: a.Prefetch}, "", nil
}

func buildAuth0(pc *ProviderConfig, o buildOptions) (*provider, string, error) {
	a, err := auth0.New(auth0.Config{
		Domain: pc.Domain,
		TokenOptions: providers.TokenOptions{
			Name:        pc.Name,
			Audience:    pc.Audience,
			Algorithms:  pc.Algorithms,
			Leeway:      pc.Leeway,
			Claims:      pc.Claims,
			RolesClaim:  pc.RolesClaim,
			TenantClaim: pc.TenantClaim,
			TokenTypes:  pc.TokenTypes,
			CacheSize:   pc.CacheSize,
			CacheTTL:    pc.CacheTTL,
			Logger:      o.logger,
			Now:         o.now,
		},
	})
	if err != nil {
		return nil, "", err
	}
	return &provider{cfg: pc, auth: a, prefetch: a.Prefetch}, "", nil
}

func buildKeycloak(pc *ProviderConfig, o buildOptions) (*provider, string, error) {
	a, err := keycloak.New(keycloak.Config{
		BaseURL:  pc.BaseURL,
		Realm:    pc.Realm,
		ClientID: pc.ClientID,
		TokenOptions: providers.TokenOptions{
			Name:              pc.Name,
			Audience:          pc.Audience,
			AuthorizedParties: pc.AuthorizedParties,
			Algorithms:        pc.Algorithms,
			Leeway:            pc.Leeway,
			Claims:            pc.Claims,
			TenantClaim:       pc.TenantClaim,
			TokenTypes:        pc.TokenTypes,
			Logger:            o.logger,
			Now:               o.now,
		},
	})
	if err != nil {
		return nil, "", err
	}
	return &provider{cfg: pc, auth: a, prefetch: a.Prefetch}, "", nil
}

func buildFirebase(pc *ProviderConfig, o buildOptions) (*provider, string, error) {
	a, err := firebase.New(firebase.Config{
		ProjectID:         pc.ProjectID,
		TenantID:          pc.TenantID,
		AnyTenant:         pc.AnyTenant,
		SessionCookies:    pc.SessionCookies,
		SessionCookieName: pc.SessionCookieName,
		TokenOptions: providers.TokenOptions{
			Name:       pc.Name,
			Leeway:     pc.Leeway,
			Claims:     pc.Claims,
			RolesClaim: pc.RolesClaim,
			Logger:     o.logger,
			Now:        o.now,
		},
	})
	if err != nil {
		return nil, "", err
	}
	return &provider{cfg: pc, auth: a, prefetch: a.Prefetch}, "", nil
}
