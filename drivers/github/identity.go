package github

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/mcpauth/mcpauth/provider"
)

// Identity asks the REST API who the token belongs to (GET /user): the
// numeric account id is the subject (logins can be renamed), the login is
// shown.
func (d *Driver) Identity(ctx context.Context, t *provider.Token) (*provider.Identity, error) {
	endpoint := d.cfg.APIURL + "/user"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, endpoint, nil)
	if err != nil {
		return nil, fmt.Errorf("github: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+t.AccessToken)
	req.Header.Set("Accept", "application/vnd.github+json")
	resp, err := d.cfg.HTTPClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("github: GET %s: %w", endpoint, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return nil, fmt.Errorf("github: reading %s: %w", endpoint, err)
	}
	if resp.StatusCode != http.StatusOK {
		if msg := apiMessage(body); msg != "" {
			return nil, fmt.Errorf("github: GET %s: HTTP %d: %s", endpoint, resp.StatusCode, msg)
		}
		return nil, fmt.Errorf("github: GET %s: HTTP %d", endpoint, resp.StatusCode)
	}
	var u struct {
		Login string `json:"login"`
		ID    int64  `json:"id"`
	}
	if err := json.Unmarshal(body, &u); err != nil || u.ID == 0 || u.Login == "" {
		return nil, fmt.Errorf("github: GET %s: the reply has no id and login (%d bytes)", endpoint, len(body))
	}
	return &provider.Identity{Subject: strconv.FormatInt(u.ID, 10), DisplayName: u.Login}, nil
}
