package main

import (
	"github.com/authgate/authgate/auth0"
	"github.com/authgate/authgate/firebase"
	"github.com/authgate/authgate/keycloak"
	"github.com/authgate/authgate/oidc"
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
		Name:              pc.Name,
		Issuer:            pc.Issuer,
		Audience:          pc.Audience,
		AuthorizedParties: pc.AuthorizedParties,
		Algorithms:        pc.Algorithms,
		JWKSURL:           pc.JWKSURL,
		Leeway:            pc.Leeway,
		Claims:            pc.Claims,
		RolesClaim:        pc.RolesClaim,
		TenantClaim:       pc.TenantClaim,
		TokenTypes:        pc.TokenTypes,
		CacheSize:         pc.CacheSize,
		CacheTTL:          pc.CacheTTL,
		Logger:            o.logger,
		Now:               o.now,
	})
	if err != nil {
		return nil, "", err
	}
	return &provider{cfg: pc, auth: a, prefetch: a.Prefetch}, "", nil
}

func buildAuth0(pc *ProviderConfig, o buildOptions) (*provider, string, error) {
	a, err := auth0.New(auth0.Config{
		Name:        pc.Name,
		Domain:      pc.Domain,
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
	})
	if err != nil {
		return nil, "", err
	}
	return &provider{cfg: pc, auth: a, prefetch: a.Prefetch}, "", nil
}

func buildKeycloak(pc *ProviderConfig, o buildOptions) (*provider, string, error) {
	a, err := keycloak.New(keycloak.Config{
		Name:              pc.Name,
		BaseURL:           pc.BaseURL,
		Realm:             pc.Realm,
		ClientID:          pc.ClientID,
		Audience:          pc.Audience,
		AuthorizedParties: pc.AuthorizedParties,
		Algorithms:        pc.Algorithms,
		Leeway:            pc.Leeway,
		Claims:            pc.Claims,
		TenantClaim:       pc.TenantClaim,
		TokenTypes:        pc.TokenTypes,
		Logger:            o.logger,
		Now:               o.now,
	})
	if err != nil {
		return nil, "", err
	}
	return &provider{cfg: pc, auth: a, prefetch: a.Prefetch}, "", nil
}

func buildFirebase(pc *ProviderConfig, o buildOptions) (*provider, string, error) {
	a, err := firebase.New(firebase.Config{
		Name:              pc.Name,
		ProjectID:         pc.ProjectID,
		TenantID:          pc.TenantID,
		AnyTenant:         pc.AnyTenant,
		SessionCookies:    pc.SessionCookies,
		SessionCookieName: pc.SessionCookieName,
		Leeway:            pc.Leeway,
		Claims:            pc.Claims,
		RolesClaim:        pc.RolesClaim,
		Logger:            o.logger,
		Now:               o.now,
	})
	if err != nil {
		return nil, "", err
	}
	return &provider{cfg: pc, auth: a, prefetch: a.Prefetch}, "", nil
}
