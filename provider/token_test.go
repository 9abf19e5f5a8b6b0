package provider

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestTokenNeverPrintsSecrets(t *testing.T) {
	tok := &Token{AccessToken: "SECRET-AT", RefreshToken: "SECRET-RT", IDToken: "SECRET-ID", TokenType: "Bearer", Expiry: time.Unix(0, 0), Scopes: []string{"repo"}}
	da := &DeviceAuthorization{DeviceCode: "SECRET-DC", UserCode: "ABCD-EFGH"}
	var logs bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, nil))
	logger.Info("x", "token", tok, "tokval", *tok, "da", da)
	slog.New(slog.NewTextHandler(&logs, nil)).Info("x", "token", tok, "da", *da)
	out := logs.String()
	for _, f := range []string{"%v", "%+v", "%#v", "%s"} {
		out += fmt.Sprintf(f, tok) + fmt.Sprintf(f, *tok) + fmt.Sprintf(f, da) + fmt.Sprintf(f, struct{ T *Token }{tok})
	}
	if strings.Contains(out, "SECRET") {
		t.Fatalf("secret printed:\n%s", out)
	}
	if !strings.Contains(out, "ABCD-EFGH") || !strings.Contains(out, "repo") {
		t.Fatalf("non-secret fields missing:\n%s", out)
	}
}

func TestOAuthErrorIs(t *testing.T) {
	cases := map[string]error{
		"authorization_pending": ErrAuthorizationPending, "slow_down": ErrSlowDown, "expired_token": ErrExpiredToken,
		"access_denied": ErrAccessDenied, "invalid_grant": ErrInvalidGrant, "unauthorized_client": ErrInvalidClient,
		"invalid_client": ErrInvalidClient, "unsupported_grant_type": ErrGrantUnsupported,
	}
	for code, want := range cases {
		err := fmt.Errorf("wrapped: %w", &OAuthError{Code: code})
		if !errors.Is(err, want) {
			t.Errorf("%s does not match %v", code, want)
		}
		if errors.Is(err, ErrNoToken) {
			t.Errorf("%s matches an unrelated sentinel", code)
		}
	}
	e := &OAuthError{Endpoint: "token", Code: "invalid_grant", Description: "bad code", URI: "https://doc", StatusCode: 400}
	if got := e.Error(); got != "provider: token endpoint: invalid_grant: bad code (see https://doc) [HTTP 400]" {
		t.Errorf("Error() = %q", got)
	}
}

func TestCheckEndpointURL(t *testing.T) {
	good := []string{"https://as.example/token", "http://127.0.0.1:8080/t", "http://[::1]:9/t", "http://localhost/t"}
	bad := []string{"http://as.example/token", "ftp://as.example", "/relative", "https://as.example/t#frag", "http://10.0.0.1/t"}
	for _, u := range good {
		if err := CheckEndpointURL("token_endpoint", u); err != nil {
			t.Errorf("%s refused: %v", u, err)
		}
	}
	for _, u := range bad {
		if err := CheckEndpointURL("token_endpoint", u); err == nil || !strings.Contains(err.Error(), "token_endpoint") {
			t.Errorf("%s accepted or error does not name the field: %v", u, err)
		}
	}
}
