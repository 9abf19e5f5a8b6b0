package slack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/mcpauth/mcpauth/drivers/oidc"
	"github.com/mcpauth/mcpauth/provider"
)

// maxResponse caps every response body read.
const maxResponse = 1 << 20

// errorSentinels maps oauth.v2.access error codes to the provider
// sentinels (Slack API docs, oauth.v2.access, "Errors").
var errorSentinels = map[string]error{
	"invalid_code":          provider.ErrInvalidGrant,
	"code_already_used":     provider.ErrInvalidGrant,
	"invalid_refresh_token": provider.ErrInvalidGrant,
	"bad_redirect_uri":      provider.ErrInvalidGrant,
	"invalid_client_id":     provider.ErrInvalidClient,
	"bad_client_secret":     provider.ErrInvalidClient,
	"invalid_grant_type":    provider.ErrGrantUnsupported,
}

// errorHints explain the codes whose cause is not in their name.
var errorHints = map[string]string{
	"invalid_refresh_token": "the refresh token was used already (rotation revokes it) or has expired: a PKCE app's refresh tokens expire after 30 days; log in again",
	"bad_redirect_uri":      "the redirect URL must be registered exactly, port included: register http://localhost:PORT/callback with the app and set loopback_port to PORT",
	"bad_client_secret":     "a PKCE app is a public client and takes no client secret on the code exchange",
}

// AuthCodeURL builds the OAuth v2 authorization request. The scopes go in
// user_scope, comma-separated; scope (bot scopes) is never sent.
func (d *Driver) AuthCodeURL(_ context.Context, req provider.AuthCodeRequest) (string, error) {
	scopes := req.Scopes
	if len(scopes) == 0 {
		scopes = d.cfg.Scopes
	}
	if len(scopes) == 0 {
		return "", errors.New("slack: no user scopes to request: configure at least one (Slack grants nothing without)")
	}
	if err := CheckUserScopes(scopes); err != nil {
		return "", err
	}
	q := url.Values{
		"client_id":             {d.cfg.ClientID},
		"user_scope":            {strings.Join(scopes, ",")},
		"redirect_uri":          {req.RedirectURI},
		"state":                 {req.State},
		"code_challenge":        {req.CodeChallenge},
		"code_challenge_method": {"S256"},
	}
	return d.meta.AuthorizationEndpoint + "?" + q.Encode(), nil
}

// Exchange redeems the code with its PKCE verifier at oauth.v2.access,
// without the client secret: a PKCE app is a public client.
func (d *Driver) Exchange(ctx context.Context, code, verifier, redirect string) (*provider.Token, error) {
	return d.access(ctx, false, url.Values{
		"grant_type":    {provider.GrantTypeAuthorizationCode},
		"code":          {code},
		"code_verifier": {verifier},
		"redirect_uri":  {redirect},
	})
}

// Refresh renews a rotating user token. Slack revokes the refresh token
// used and returns a new one with the new access token.
func (d *Driver) Refresh(ctx context.Context, t *provider.Token) (*provider.Token, error) {
	if t.RefreshToken == "" {
		return nil, fmt.Errorf("slack: token has no refresh token (token rotation is off for the app): %w", provider.ErrInvalidGrant)
	}
	return d.access(ctx, true, url.Values{
		"grant_type":    {provider.GrantTypeRefreshToken},
		"refresh_token": {t.RefreshToken},
	})
}

// accessResponse is an oauth.v2.access reply. For a user-token install the
// user token is under authed_user; the top level holds a bot token when bot
// scopes were granted, and the rotated token on refresh.
type accessResponse struct {
	OK    bool   `json:"ok"`
	Error string `json:"error"`
	slackToken
	AuthedUser struct {
		ID string `json:"id"`
		slackToken
	} `json:"authed_user"`
}

type slackToken struct {
	AccessToken  string       `json:"access_token"`
	TokenType    string       `json:"token_type"` // "user" or "bot"
	Scope        string       `json:"scope"`
	RefreshToken string       `json:"refresh_token"`
	ExpiresIn    oidc.Seconds `json:"expires_in"`
}

// access posts to oauth.v2.access; withSecret adds the configured client
// secret (refreshes only).
func (d *Driver) access(ctx context.Context, withSecret bool, form url.Values) (*provider.Token, error) {
	form.Set("client_id", d.cfg.ClientID)
	if withSecret && d.cfg.ClientSecret != "" {
		form.Set("client_secret", d.cfg.ClientSecret)
	}
	status, body, err := d.post(ctx, d.meta.TokenEndpoint, form, "")
	if err != nil {
		return nil, err
	}
	return parseAccess(status, body, d.cfg.Now())
}

// post sends a POST to a Slack endpoint, with form form-encoded as the body
// (none when nil) and accessToken as the Bearer token (none when ""), and
// returns the HTTP status and at most maxResponse bytes of the reply. The
// reply is not judged: Slack answers errors with 200 and ok:false.
func (d *Driver) post(ctx context.Context, endpoint string, form url.Values, accessToken string) (int, []byte, error) {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, body)
	if err != nil {
		return 0, nil, fmt.Errorf("slack: %w", err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if accessToken != "" {
		req.Header.Set("Authorization", "Bearer "+accessToken)
	}
	resp, err := d.cfg.HTTPClient.Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("slack: POST %s: %w", endpoint, err)
	}
	defer resp.Body.Close()
	reply, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return 0, nil, fmt.Errorf("slack: reading %s: %w", endpoint, err)
	}
	return resp.StatusCode, reply, nil
}

// parseAccess reads an oauth.v2.access reply: ok:false is an error whatever
// the HTTP status (Slack answers errors with 200); the user token is taken
// from authed_user, or from the top level when it says token_type "user"
// (the refresh reply).
func parseAccess(status int, body []byte, now time.Time) (*provider.Token, error) {
	var r accessResponse
	if err := json.Unmarshal(body, &r); err != nil {
		// Name what failed: the body holds the tokens.
		return nil, &provider.OAuthError{Endpoint: "oauth.v2.access", Code: "invalid_response", StatusCode: status,
			Description: "unparseable response: " + oidc.DescribeJSONError(err, len(body))}
	}
	if !r.OK || r.Error != "" {
		oe := &provider.OAuthError{Endpoint: "oauth.v2.access", Code: r.Error, StatusCode: status}
		if oe.Code == "" {
			oe.Code = "invalid_response"
			oe.Description = "ok is not true and no error is named"
		}
		s, ok := errorSentinels[oe.Code]
		switch h, hinted := errorHints[oe.Code]; {
		case ok && hinted:
			return nil, fmt.Errorf("slack: %s: %w: %w", h, s, oe)
		case ok:
			return nil, fmt.Errorf("slack: %w: %w", s, oe)
		}
		return nil, oe
	}
	ut := r.AuthedUser.slackToken
	if ut.AccessToken == "" && r.TokenType == "user" {
		ut = r.slackToken
	}
	if ut.AccessToken == "" {
		what := "nothing"
		if r.AccessToken != "" {
			what = "only a " + r.TokenType + " token"
		}
		return nil, fmt.Errorf("%w (it carries %s): request user scopes in user_scope", ErrNoUserToken, what)
	}
	t := &provider.Token{
		AccessToken:  ut.AccessToken,
		TokenType:    "Bearer", // Slack says "user"; it is sent as a Bearer token
		RefreshToken: ut.RefreshToken,
		Scopes:       oidc.ParseScopes(ut.Scope),
	}
	if ut.ExpiresIn > 0 {
		t.Expiry = now.Add(ut.ExpiresIn.Duration())
	}
	return t, nil
}
