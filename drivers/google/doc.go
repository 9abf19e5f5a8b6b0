// Package google is the driver for Google's OAuth 2.0 and OpenID Connect
// authorization server (issuer https://accounts.google.com): the generic
// drivers/oidc driver plus Google's quirks.
//
// What the driver adds to the generic one:
//
//   - the client secret, which Google's token endpoint wants even from
//     desktop apps using PKCE and from TV and limited-input clients: a login
//     without one is refused before the user is sent anywhere;
//
//   - the device grant only for the scopes Google allows on it (openid,
//     email, profile, drive.appdata, drive.file, youtube, youtube.readonly):
//     StartDevice refuses others with provider.ErrGrantUnsupported naming
//     the scope. Google's device response names verification_url, which
//     x/oauth2 reads;
//
//   - polling errors dispatched on the error field whatever the status
//     (authorization_pending is a 428, slow_down and access_denied 403s), and
//     the quota error {"error_code":"rate_limit_exceeded"} read as slow_down;
//
//   - ID tokens whose issuer is accounts.google.com without the scheme;
//
//   - errors that say what to change: a refused refresh token may be one
//     of an app in "Testing" status, which expire after 7 days.
//
//     d, err := google.New(google.Config{
//     ClientID:     "1234567890-abc.apps.googleusercontent.com",
//     ClientSecret: os.Getenv("GOOGLE_CLIENT_SECRET"),
//     Scopes:       []string{"openid", "email", "https://www.googleapis.com/auth/drive.file"},
//     })
//
// Google documentation:
//
//   - https://developers.google.com/identity/protocols/oauth2/native-app
//   - https://developers.google.com/identity/protocols/oauth2/limited-input-device
//   - https://developers.google.com/identity/openid-connect/openid-connect
//   - https://developers.google.com/identity/protocols/oauth2#expiration
package google
