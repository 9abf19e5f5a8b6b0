package sdk

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/mcpauth/mcpauth/login"
	"github.com/mcpauth/mcpauth/provider"
)

// twoGrantDriver offers both interactive grants and never completes a login.
type twoGrantDriver struct{ staticDriver }

func (twoGrantDriver) Describe() provider.Description {
	return provider.Description{Name: "two", ClientID: "client", Grants: []provider.Grant{provider.GrantPKCE, provider.GrantDevice}}
}

func (twoGrantDriver) StartDevice(_ context.Context, scopes []string) (*provider.DeviceAuthorization, error) {
	return &provider.DeviceAuthorization{DeviceCode: "dc", UserCode: "BCDF-GHJK", VerificationURI: "https://idp.example/device",
		ExpiresAt: time.Now().Add(time.Minute), Interval: time.Hour, Scopes: scopes}, nil
}

func (twoGrantDriver) PollDevice(context.Context, *provider.DeviceAuthorization) (*provider.Token, error) {
	return nil, provider.ErrAuthorizationPending
}

func (twoGrantDriver) AuthCodeURL(_ context.Context, req provider.AuthCodeRequest) (string, error) {
	return "https://idp.example/authorize?state=" + req.State, nil
}

func (twoGrantDriver) Exchange(context.Context, string, string, string) (*provider.Token, error) {
	return nil, provider.ErrInvalidGrant
}

// TestGrantPerCall: on a desktop (PKCE chosen by auto), a client that can
// show a link gets the browser login, and a form-only client the device
// grant, whose code and address a form can carry.
func TestGrantPerCall(t *testing.T) {
	d := twoGrantDriver{staticDriver{meta: provider.AuthServerMetadata{
		Issuer: "https://idp.example", AuthorizationEndpoint: "https://idp.example/authorize",
		TokenEndpoint: "https://idp.example/token", DeviceAuthorizationEndpoint: "https://idp.example/device_authorization",
	}}}
	for _, tt := range []struct {
		kind ElicitationSupport
		want provider.Grant
	}{{ElicitURL, provider.GrantPKCE}, {ElicitNone, provider.GrantPKCE}, {ElicitForm, provider.GrantDevice}} {
		t.Run(tt.kind.String(), func(t *testing.T) {
			a, err := New(context.Background(), withDriver(d, Options{
				Env:       &login.Environment{GOOS: "darwin"},
				NoBrowser: true,
				Logger:    slog.New(slog.DiscardHandler),
			}))
			if err != nil {
				t.Fatal(err)
			}
			defer a.Close()
			f, started := a.providers["p"].startOrJoin(callerWith(Client{Elicitation: tt.kind}), nil, false, false)
			if !started {
				t.Fatal("no login started")
			}
			pr, err := f.waitPrompt(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if pr.grant != tt.want {
				t.Errorf("grant %s, want %s", pr.grant, tt.want)
			}
			if _, again := a.providers["p"].startOrJoin(callerWith(Client{Elicitation: tt.kind}), nil, false, false); again {
				t.Error("a second call started a second login")
			}
		})
	}
}
