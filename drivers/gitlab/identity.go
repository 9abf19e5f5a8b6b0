package gitlab

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"

	"github.com/mcpauth/mcpauth/provider"
)

// maxUserResponse caps the body of GET /api/v4/user.
const maxUserResponse = 1 << 20

// Identity asks the REST API who the token belongs to (GET /api/v4/user):
// the numeric user ID is the subject (usernames can change), the username
// is shown. A token without a scope that reads the user (api, read_api,
// read_user) is refused with 403; the driver then reads the ID token or
// userinfo (scope openid), whose sub is the same user ID.
func (d *Driver) Identity(ctx context.Context, t *provider.Token) (*provider.Identity, error) {
	endpoint := d.cfg.APIURL + "/user"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, endpoint, nil)
	if err != nil {
		return nil, fmt.Errorf("gitlab: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+t.AccessToken)
	req.Header.Set("Accept", "application/json")
	resp, err := d.cfg.HTTPClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("gitlab: GET %s: %w", endpoint, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxUserResponse))
	if err != nil {
		return nil, fmt.Errorf("gitlab: reading %s: %w", endpoint, err)
	}
	if resp.StatusCode == http.StatusForbidden && (t.IDToken != "" || slices.Contains(t.Scopes, "openid")) {
		id, oerr := d.Driver.Identity(ctx, t)
		if oerr != nil {
			return nil, fmt.Errorf("gitlab: GET %s: HTTP 403, and %w", endpoint, oerr)
		}
		return id, nil
	}
	if resp.StatusCode != http.StatusOK {
		if code := apiErrorCode(body); code != "" {
			return nil, fmt.Errorf("gitlab: GET %s: HTTP %d: %s", endpoint, resp.StatusCode, code)
		}
		return nil, fmt.Errorf("gitlab: GET %s: HTTP %d", endpoint, resp.StatusCode)
	}
	var u struct {
		ID       int64  `json:"id"`
		Username string `json:"username"`
	}
	if err := json.Unmarshal(body, &u); err != nil || u.ID == 0 || u.Username == "" {
		return nil, fmt.Errorf("gitlab: GET %s: the reply has no id and username (%d bytes)", endpoint, len(body))
	}
	return &provider.Identity{Subject: strconv.FormatInt(u.ID, 10), DisplayName: u.Username}, nil
}

// apiErrorCode is the OAuth error code of an API refusal
// ({"error":"invalid_token",…}) or GitLab's own message
// ({"message":"401 Unauthorized"}); neither carries a credential, and
// nothing else of the body is quoted.
func apiErrorCode(body []byte) string {
	var r struct {
		Error   string `json:"error"`
		Message any    `json:"message"`
	}
	if json.Unmarshal(body, &r) != nil {
		return ""
	}
	if r.Error != "" {
		return r.Error
	}
	if s, ok := r.Message.(string); ok && len(s) <= 64 {
		return s
	}
	return ""
}
