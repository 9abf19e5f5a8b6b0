package slack

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/mcpauth/mcpauth/drivers/oidc"
	"github.com/mcpauth/mcpauth/provider"
)

// Identity asks auth.test who the token belongs to. It needs no scope. The
// subject is team_id/user_id; the display name is the user and workspace.
func (d *Driver) Identity(ctx context.Context, t *provider.Token) (*provider.Identity, error) {
	status, body, err := d.post(ctx, d.cfg.BaseURL+authTestPath, nil, t.AccessToken)
	if err != nil {
		return nil, err
	}
	var r struct {
		OK     bool   `json:"ok"`
		Error  string `json:"error"`
		User   string `json:"user"`
		UserID string `json:"user_id"`
		Team   string `json:"team"`
		TeamID string `json:"team_id"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, fmt.Errorf("slack: auth.test: HTTP %d: %s", status, oidc.DescribeJSONError(err, len(body)))
	}
	if !r.OK {
		return nil, fmt.Errorf("slack: auth.test: %s [HTTP %d]", r.Error, status)
	}
	if r.UserID == "" || r.TeamID == "" {
		return nil, fmt.Errorf("slack: auth.test: no user_id or team_id in the reply [HTTP %d]", status)
	}
	return &provider.Identity{Subject: r.TeamID + "/" + r.UserID, DisplayName: r.User + " (" + r.Team + ")"}, nil
}
