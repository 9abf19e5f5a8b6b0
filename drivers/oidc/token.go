package oidc

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mcpauth/mcpauth/provider"
)

// maxTokenResponse caps a token response body.
const maxTokenResponse = 1 << 20

// tokenRequest makes one token endpoint request (RFC 6749 §4.1.3, §6; RFC
// 8628 §3.4) with the client's authentication and the extra parameters,
// and parses the reply. x/oauth2 offers the device request only inside its
// own polling loop, sends no extra parameters on refresh and refuses an
// expires_in that is not a whole number, so the driver makes this one
// request itself, for every grant.
func (d *Driver) tokenRequest(ctx context.Context, m *provider.AuthServerMetadata, form url.Values) (*provider.Token, error) {
	for k, v := range d.cfg.ExtraParams {
		if !form.Has(k) {
			form.Set(k, v)
		}
	}
	basic := d.clientSecretBasic(m)
	if !basic {
		form.Set("client_id", d.cfg.ClientID)
		if d.cfg.ClientSecret != "" {
			form.Set("client_secret", d.cfg.ClientSecret)
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, m.TokenEndpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, fmt.Errorf("oidc: token request: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if basic {
		// RFC 6749 §2.3.1: both parts form-encoded before Basic encoding.
		req.SetBasicAuth(url.QueryEscape(d.cfg.ClientID), url.QueryEscape(d.cfg.ClientSecret))
	}
	resp, err := d.cfg.HTTPClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("oidc: token request: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxTokenResponse))
	if err != nil {
		return nil, fmt.Errorf("oidc: reading token response: %w", err)
	}
	return ParseTokenResponse(resp.StatusCode, resp.Header.Get("Content-Type"), body, d.cfg.Now())
}

// clientSecretBasic reports whether a secret goes in the Authorization
// header (client_secret_basic, the RFC 6749 §2.3.1 default) rather than the
// form (client_secret_post, what the metadata offers instead).
func (d *Driver) clientSecretBasic(m *provider.AuthServerMetadata) bool {
	return d.cfg.ClientSecret != "" && (len(m.TokenEndpointAuthMethodsSupported) == 0 ||
		slices.Contains(m.TokenEndpointAuthMethodsSupported, "client_secret_basic"))
}

// tokenResponse holds the fields of a token response (RFC 6749 §5.1) or
// error response (§5.2), plus the interval GitHub adds to slow_down.
type tokenResponse struct {
	AccessToken      string  `json:"access_token"`
	TokenType        string  `json:"token_type"`
	RefreshToken     string  `json:"refresh_token"`
	IDToken          string  `json:"id_token"`
	ExpiresIn        Seconds `json:"expires_in"`
	Scope            string  `json:"scope"`
	Error            string  `json:"error"`
	ErrorDescription string  `json:"error_description"`
	ErrorURI         string  `json:"error_uri"`
	Interval         Seconds `json:"interval"`
}

// ParseTokenResponse reads a token endpoint reply, JSON or form-encoded.
// Any reply carrying "error", whatever its status (GitHub answers errors
// with 200), and any reply without an access_token is an error, returned
// as a *provider.OAuthError. An error names what failed to parse (the
// field, the content type, the status) and never quotes the body, which
// may hold the tokens. expires_in and interval may be integers, decimals
// or numeric strings.
func ParseTokenResponse(status int, contentType string, body []byte, now time.Time) (*provider.Token, error) {
	invalid := func(format string, args ...any) error {
		return &provider.OAuthError{Endpoint: "token", Code: "invalid_response", StatusCode: status,
			Description: fmt.Sprintf(format, args...)}
	}
	ct, _, _ := mime.ParseMediaType(contentType)
	var (
		r   tokenResponse
		err error
	)
	switch ct {
	case "application/x-www-form-urlencoded", "text/plain":
		r, err = parseTokenForm(body)
	default:
		r, err = parseTokenJSON(body)
		if err != nil && ct != "application/json" && !strings.HasSuffix(ct, "+json") {
			err = fmt.Errorf("content type %q is neither JSON nor form-encoded", ct)
		}
	}
	if err != nil {
		return nil, invalid("unparseable response: %v", err)
	}
	if r.Error != "" {
		oe := &provider.OAuthError{Endpoint: "token", Code: r.Error, Description: r.ErrorDescription, URI: r.ErrorURI, StatusCode: status}
		if r.Interval > 0 {
			oe.Interval = r.Interval.Duration()
		}
		return nil, oe
	}
	if status < 200 || status > 299 || r.AccessToken == "" {
		return nil, invalid("no access_token and no error in the response")
	}
	t := &provider.Token{
		AccessToken:  r.AccessToken,
		TokenType:    r.TokenType,
		RefreshToken: r.RefreshToken,
		IDToken:      r.IDToken,
		Scopes:       ParseScopes(r.Scope),
	}
	if t.TokenType == "" {
		t.TokenType = "Bearer"
	}
	if r.ExpiresIn > 0 {
		t.Expiry = now.Add(r.ExpiresIn.Duration())
	}
	return t, nil
}

// parseTokenJSON decodes a JSON reply.
func parseTokenJSON(body []byte) (tokenResponse, error) {
	var r tokenResponse
	if err := json.Unmarshal(body, &r); err != nil {
		return r, errors.New(DescribeJSONError(err, len(body)))
	}
	return r, nil
}

// parseTokenForm reads a form-encoded reply (GitHub's default).
func parseTokenForm(body []byte) (tokenResponse, error) {
	v, err := url.ParseQuery(string(body))
	if err != nil {
		// url's errors quote the offending bytes; name the problem only.
		if bytes.Contains(body, []byte(";")) {
			return tokenResponse{}, errors.New("form-encoded body contains a semicolon")
		}
		return tokenResponse{}, fmt.Errorf("form-encoded body is malformed (%d bytes)", len(body))
	}
	r := tokenResponse{
		AccessToken: v.Get("access_token"), TokenType: v.Get("token_type"), RefreshToken: v.Get("refresh_token"),
		IDToken: v.Get("id_token"), Scope: v.Get("scope"),
		Error: v.Get("error"), ErrorDescription: v.Get("error_description"), ErrorURI: v.Get("error_uri"),
	}
	for name, p := range map[string]*Seconds{"expires_in": &r.ExpiresIn, "interval": &r.Interval} {
		if s := v.Get(name); s != "" {
			if *p, err = ParseSeconds(s); err != nil {
				return r, fmt.Errorf("field %q: %w", name, err)
			}
		}
	}
	return r, nil
}

// Seconds is a duration in seconds in a JSON reply. Servers send 3600,
// 3600.0 or "3600" (PayPal sends a string); all are read, fractions
// dropped.
type Seconds int64

// Duration converts s.
func (s Seconds) Duration() time.Duration { return time.Duration(s) * time.Second }

// UnmarshalJSON reads a number or a numeric string. Its error names the
// JSON type only, never the value.
func (s *Seconds) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	v := string(b)
	var str string
	if json.Unmarshal(b, &str) == nil {
		v = str
	}
	n, err := ParseSeconds(v)
	if err != nil {
		return &json.UnmarshalTypeError{Value: jsonKind(b), Type: reflect.TypeFor[Seconds]()}
	}
	*s = n
	return nil
}

// ParseSeconds reads a non-negative number of seconds, whole or not.
func ParseSeconds(v string) (Seconds, error) {
	f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if err != nil || math.IsNaN(f) || f < 0 {
		return 0, errors.New("want a non-negative number of seconds")
	}
	return Seconds(min(f, math.MaxInt32)), nil
}

// DescribeJSONError says what is wrong with a JSON body of n bytes without
// quoting any of it: encoding/json's errors can carry parts of the input,
// and a token response's input is the tokens.
func DescribeJSONError(err error, n int) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("not valid JSON (at byte %d of %d)", se.Offset, n)
	case errors.As(err, &te) && te.Field != "":
		return fmt.Sprintf("field %q: want %s, got %s", te.Field, typeKind(te.Type), firstWord(te.Value))
	case errors.As(err, &te):
		return fmt.Sprintf("want a JSON object, got %s", firstWord(te.Value))
	}
	return fmt.Sprintf("unreadable JSON (%d bytes)", n)
}

// firstWord keeps the JSON kind of an UnmarshalTypeError value ("number
// 3600.5" → "number"): the rest may be part of the input.
func firstWord(s string) string {
	w, _, _ := strings.Cut(s, " ")
	return w
}

func typeKind(t reflect.Type) string {
	switch {
	case t == nil:
		return "another type"
	case t == reflect.TypeFor[Seconds]():
		return "a number of seconds"
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array"
	}
	return "an object"
}

// jsonKind names the JSON type of a value without quoting it.
func jsonKind(v []byte) string {
	switch t := bytes.TrimSpace(v); {
	case len(t) == 0:
		return "nothing"
	case t[0] == '"':
		return "string"
	case t[0] == '[':
		return "array"
	case t[0] == '{':
		return "object"
	case t[0] == 't' || t[0] == 'f':
		return "bool"
	}
	return "number"
}
