package nodeop

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// Introspection is the provider's answer about a token (RFC 7662 §2.2).
// Only Active is always set; the rest describe an active token.
type Introspection struct {
	Active    bool   `json:"active"`
	ClientID  string `json:"client_id"`
	Subject   string `json:"sub"`
	Scope     string `json:"scope"`
	TokenType string `json:"token_type"` // "Bearer" for access tokens, empty for refresh tokens
	Expiry    int64  `json:"exp"`        // Unix seconds
}

// Introspect asks the provider's introspection endpoint
// (<issuer>/token/introspection) about token, as the public test client:
// oidc-provider lets a client without authentication introspect its own
// tokens, and answers active false for a revoked, expired or unknown one.
// A self-contained JWT access token (issued for an RFC 8707 resource) is
// refused with unsupported_token_type, returned as an error. Errors carry
// the HTTP status and the OAuth error code, never the token.
func (o *OP) Introspect(ctx context.Context, token string) (*Introspection, error) {
	form := url.Values{"token": {token}, "client_id": {o.ClientID}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, o.Issuer+"/token/introspection", strings.NewReader(form.Encode()))
	if err != nil {
		return nil, fmt.Errorf("nodeop: introspect: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := o.httpClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("nodeop: introspect: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("nodeop: introspect: reading response: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error string `json:"error"`
		}
		_ = json.Unmarshal(body, &e)
		return nil, fmt.Errorf("nodeop: introspect: HTTP %d, error %q", resp.StatusCode, e.Error)
	}
	var in Introspection
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, fmt.Errorf("nodeop: introspect: response is not an introspection object (%d bytes)", len(body))
	}
	return &in, nil
}
