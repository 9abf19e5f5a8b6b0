package provider

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// TestTokenRedactsEverywhere feeds a token and a device authorization with
// known secrets through every way a value reaches text by mistake: JSON,
// both slog handlers, and fmt of the values nested in structs, slices and maps.
func TestTokenRedactsEverywhere(t *testing.T) {
	const secret = "S3CR3T"
	tok := &Token{AccessToken: secret + "-at", RefreshToken: secret + "-rt", IDToken: secret + "-id",
		TokenType: "Bearer", Expiry: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC), Scopes: []string{"repo"}}
	da := &DeviceAuthorization{DeviceCode: secret + "-dc", UserCode: "ABCD-EFGH", VerificationURI: "https://example.com/device"}
	type holder struct {
		T  Token
		P  *Token
		D  DeviceAuthorization
		DP *DeviceAuthorization
	}
	values := map[string]any{
		"token":       tok,
		"token value": *tok,
		"struct":      struct{ T Token }{*tok},
		"holder":      holder{*tok, tok, *da, da},
		"slice":       []*Token{tok, tok},
		"value slice": []Token{*tok},
		"map":         map[string]*Token{"github": tok},
		"da":          da,
		"da value":    *da,
		"da slice":    []*DeviceAuthorization{da},
		"da map":      map[string]DeviceAuthorization{"x": *da},
	}
	for name, v := range values {
		t.Run(name, func(t *testing.T) {
			var outs []string
			b, err := json.Marshal(v)
			if err != nil {
				t.Fatalf("json.Marshal: %v", err)
			}
			outs = append(outs, "json: "+string(b))
			for _, h := range []struct {
				name string
				mk   func(*bytes.Buffer) slog.Handler
			}{
				{"slog json", func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) }},
				{"slog text", func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) }},
			} {
				var buf bytes.Buffer
				slog.New(h.mk(&buf)).Info("m", "v", v, slog.Any("any", v), slog.Group("g", "v", v))
				outs = append(outs, h.name+": "+buf.String())
			}
			for _, f := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x"} {
				outs = append(outs, f+": "+fmt.Sprintf(f, v))
			}
			outs = append(outs, "Sprint: "+fmt.Sprint(v), "Sprintln: "+fmt.Sprintln(v))
			for _, o := range outs {
				if strings.Contains(o, secret) {
					t.Errorf("secret printed by %s", o)
				}
			}
		})
	}
}

// TestTokenMarshalJSONShape pins what a token's JSON carries: its shape and
// markers for the secrets it holds, never their values.
func TestTokenMarshalJSONShape(t *testing.T) {
	tok := Token{AccessToken: "a", RefreshToken: "r", TokenType: "Bearer", Expiry: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC), Scopes: []string{"repo", "user"}}
	b, err := json.Marshal(tok)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"token_type":"Bearer","access_token":"[redacted]","refresh_token":"[redacted]","expiry":"2030-01-02T03:04:05Z","scopes":["repo","user"]}`
	if string(b) != want {
		t.Errorf("json.Marshal(Token) = %s\nwant %s", b, want)
	}
	var back Token
	if err := json.Unmarshal(b, &back); err == nil {
		t.Errorf("a redacted token decoded without error: %+v", back)
	}
	da := DeviceAuthorization{DeviceCode: "d", UserCode: "U-C", VerificationURI: "https://e.example/d", Interval: 5 * time.Second}
	b, err = json.Marshal(da)
	if err != nil {
		t.Fatal(err)
	}
	want = `{"user_code":"U-C","verification_uri":"https://e.example/d","device_code":"[redacted]","interval":5}`
	if string(b) != want {
		t.Errorf("json.Marshal(DeviceAuthorization) = %s\nwant %s", b, want)
	}
}
