// Package entra is the driver for the Microsoft identity platform (Microsoft
// Entra ID, v2.0 endpoints): the generic drivers/oidc driver plus Entra's
// quirks.
//
// The issuer is https://login.microsoftonline.com/{tenant}/v2.0, where tenant
// is a directory GUID, a verified domain, or one of the multi-tenant names
// common (work, school and personal accounts), organizations (work and
// school) and consumers (personal Microsoft accounts, tenant
// 9188040d-6c67-4c5b-b112-36a304b66dad).
//
// What the driver adds to the generic one:
//
//   - discovery that accepts what Entra publishes: the common and
//     organizations documents name the literal issuer
//     https://login.microsoftonline.com/{tenantid}/v2.0, and a token's issuer
//     is that template with {tenantid} replaced by its tid claim; consumers
//     and domain tenants publish their tenant's GUID issuer, which is then
//     matched exactly (see [Tenant]);
//
//   - S256 filled into the metadata (Entra supports PKCE but does not say
//     so), and no RFC 8707 resource parameter (refused on v2.0);
//
//   - scopes checked before any request: every scope of one request must
//     belong to one resource (Entra answers AADSTS28000 otherwise) and a
//     {resource}/.default scope stands alone for its resource;
//
//   - the device grant's authorization_declined, which means access_denied,
//     and bad_verification_code, which means invalid_grant; the verification
//     URI is on a Microsoft host that is not the issuer's ([VerificationHosts]);
//
//   - refresh with the scope parameter Entra wants, keeping the newest
//     refresh token (Entra issues one on every use and does not revoke the
//     old one);
//
//   - claims challenges (Conditional Access, continuous access evaluation):
//     [ParseClaimsChallenge] reads them and [Driver.WithClaims] makes a driver
//     that sends the claims request parameter.
//
//     d, err := entra.New(entra.Config{
//     Issuer:   "https://login.microsoftonline.com/organizations/v2.0",
//     ClientID: "00001111-aaaa-2222-bbbb-3333cccc4444",
//     Scopes:   []string{"openid", "profile", "offline_access", "User.Read"},
//     })
//
// Microsoft documentation:
//
//   - https://learn.microsoft.com/entra/identity-platform/v2-protocols-oidc
//   - https://learn.microsoft.com/entra/identity-platform/v2-oauth2-device-code
//   - https://learn.microsoft.com/entra/identity-platform/v2-oauth2-auth-code-flow
//   - https://learn.microsoft.com/entra/identity-platform/scopes-oidc
//   - https://learn.microsoft.com/entra/identity-platform/refresh-tokens
//   - https://learn.microsoft.com/entra/identity-platform/claims-challenge
//   - https://learn.microsoft.com/entra/identity-platform/reply-url
package entra
