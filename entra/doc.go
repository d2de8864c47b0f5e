// Package entra authenticates Microsoft Entra ID (Azure AD) access tokens
// sent to an API: give it the tenant and the API's application ID.
//
//   - Single-tenant: Tenant is the directory's tenant ID and the issuer is
//     exactly https://login.microsoftonline.com/TENANT/v2.0, or with V1
//     https://sts.windows.net/TENANT/ (v1.0 tokens: the default of an API
//     registration whose accessTokenAcceptedVersion is null or 1). Tokens
//     of another tenant are "not mine".
//   - Multi-tenant: Tenant "organizations" or "common", whose discovery
//     names the issuer template https://login.microsoftonline.com/{tenantid}/v2.0.
//     A token is claimed when its iss is the template filled with a tenant
//     it accepts — the explicit allow-list Tenants, or every tenant with
//     AnyTenant; there is no default — and its verified "tid" must be a
//     GUID that fills the template to exactly its iss.
//   - Keys come from the authority's key set (…/discovery/v2.0/keys, or
//     …/discovery/keys for v1.0) through a [providers.RemoteKeySet]. Entra
//     binds each v2.0 key to an issuer (its "issuer" member, possibly the
//     {tenantid} template): a key is only used for tokens of that issuer,
//     so a personal-account key never verifies a work tenant's token.
//   - Authority overrides the login host for the national clouds
//     (https://login.microsoftonline.us, https://login.partner.microsoftonline.cn).
//   - The principal: Subject "sub" (pairwise: per application), Tenant
//     "tid", Roles the app roles ("roles"), Scopes the delegated scopes
//     ("scp", space-separated), Name "name" (or preferred_username,
//     unique_name). [ObjectID] reads "oid", [ClientID] the calling
//     application, and [IsAppOnly] tells app-only tokens (client
//     credentials: no "scp", "idtyp" "app") from delegated ones.
//
// Tokens Entra issues for Microsoft's own APIs (Microsoft Graph) are not
// meant to be verified by anyone else and are refused by their audience.
// New does no network I/O. Authenticators are safe for concurrent use.
package entra
