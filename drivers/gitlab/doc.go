// Package gitlab is the driver for GitLab (gitlab.com and self-managed
// instances): the generic drivers/oidc driver plus GitLab's quirks.
//
// GitLab is a Doorkeeper-based authorization server. The issuer is
// https://gitlab.com or the instance URL, without a trailing slash; it
// serves OpenID Connect discovery and RFC 8414 metadata. What the driver
// adds to the generic one:
//
//   - the device grant (RFC 8628) at POST /oauth/authorize_device, which
//     gitlab.com's discovery document does not list: the driver fills
//     device_authorization_endpoint from the issuer when the document lacks
//     it, and an instance that answers 404 there (older than GitLab 17.2, or
//     with the oauth2_device_grant_flow feature flag off) rules the grant out
//     with an error wrapping provider.ErrGrantUnsupported;
//
//   - scope challenges in a 403 JSON body ({"error":"insufficient_scope",
//     "scope":"api read_api"}) with no WWW-Authenticate header (RFC 6750
//     §3.1 names the error, GitLab puts it in the body);
//
//   - identity from GET /api/v4/user (the numeric user ID, which is also
//     the sub of GitLab's ID tokens), and the REST API root
//     (Driver.APIURL), https://gitlab.com/api/v4 or {issuer}/api/v4: what
//     GITLAB_API_URL holds for servers that call the API.
//
// Access tokens live two hours; refreshing rotates both tokens (the old
// refresh and access tokens stop working at once).
//
//	d, err := gitlab.New(gitlab.Config{
//		Issuer:   "https://gitlab.corp.example", // "" means https://gitlab.com
//		ClientID: "0123456789abcdef",
//		Scopes:   []string{"read_api"},
//	})
//
// GitLab documentation:
//
//   - https://docs.gitlab.com/api/oauth2/
//   - https://docs.gitlab.com/integration/oauth_provider/
//   - https://docs.gitlab.com/integration/openid_connect_provider/
//   - RFC 8628 (device grant): https://www.rfc-editor.org/rfc/rfc8628
package gitlab
