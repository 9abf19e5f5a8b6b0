package registry

import (
	"context"
	"strings"
	"testing"

	"github.com/mcpauth/mcpauth/config"
	"github.com/mcpauth/mcpauth/drivers"
	"github.com/mcpauth/mcpauth/provider"
)

// corpDriver is a driver a host registers in code.
type corpDriver struct{ issuer string }

func (corpDriver) Describe() provider.Description { return provider.Description{Name: "corp"} }
func (d corpDriver) Metadata(context.Context) (*provider.AuthServerMetadata, error) {
	return &provider.AuthServerMetadata{Issuer: d.issuer}, nil
}

// TestCatalogueIsData: a registration the host passes claims its issuers
// and is built in process (this binary cannot serve it as a plugin of
// itself); the built-ins keep their claims.
func TestCatalogueIsData(t *testing.T) {
	corp := provider.Registration{
		Name:   "corp",
		Claims: func(iss string) bool { return strings.HasSuffix(iss, ".corp.example") },
		Claim:  "corp claims *.corp.example",
		New: func(_ context.Context, cfg provider.DriverConfig) (provider.Driver, error) {
			return corpDriver{cfg.Issuer}, nil
		},
	}
	f := parseConfig(t, `
providers:
  - name: idp
    issuer: https://login.corp.example
    client_id: c
  - name: gh
    issuer: https://github.com
    client_id: c
    isolation: in-process
`)
	r, err := Open(f, Options{Drivers: append([]provider.Registration{corp}, drivers.Builtin...)})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	idp, _ := r.Provider("idp")
	if _, ok := idp.Driver.(corpDriver); !ok {
		t.Errorf("idp driver = %T, want the registered corpDriver in process", idp.Driver)
	}
	gh, _ := r.Provider("gh")
	if name := gh.Driver.Describe().Name; name != "github" {
		t.Errorf("gh driver = %s", name)
	}
	if got := strings.Join(r.Names(), ","); got != "idp,gh" {
		t.Errorf("names %s", got)
	}
}

// TestOpenReportsEveryProblem: an unknown driver (with a hint) and a typo
// in a driver's options are start-up errors — the option even for a driver
// that would run as a plugin, which only sees its options when it starts.
func TestOpenReportsEveryProblem(t *testing.T) {
	// Built directly: config validation would catch the driver name itself.
	f := &config.File{Providers: []config.Provider{
		{Name: "a", Driver: "gihub", Issuer: "https://github.com", ClientID: "c", Isolation: config.IsolationSubprocess},
		{Name: "b", Issuer: "https://github.com", ClientID: "c", Isolation: config.IsolationSubprocess,
			Options: map[string]string{"api_ur": "https://api.github.com"}},
	}}
	_, err := Open(f, Options{Drivers: drivers.Builtin})
	if err == nil {
		t.Fatal("Open accepted an unknown driver and an unknown option")
	}
	for _, want := range []string{
		`provider "a"`, `unknown driver "gihub" (did you mean "github"?`,
		`provider "b"`, `unknown option "api_ur" (did you mean "api_url"?`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}

// TestEmptyCatalogue: without the generic driver nothing resolves, and the
// error says what the catalogue holds.
func TestEmptyCatalogue(t *testing.T) {
	f := parseConfig(t, `
providers:
  - name: a
    issuer: https://login.example.com
    client_id: c
`)
	_, err := Open(f, Options{})
	if err == nil || !strings.Contains(err.Error(), "no generic oidc driver (drivers: external)") {
		t.Fatalf("err = %v", err)
	}
}

// fixedPortDriver is a driver whose issuer matches redirect URIs port included.
type fixedPortDriver struct{ corpDriver }

func (fixedPortDriver) Describe() provider.Description {
	return provider.Description{Name: "fixed", Grants: []provider.Grant{provider.GrantPKCE, provider.GrantDevice}, LoopbackPortFixed: true, LoopbackHost: "localhost"}
}

// TestFixedLoopbackPortIsCheckedAtStartUp: a browser login to such an
// issuer without loopback_port would fail at the authorization server; it
// is refused when the registry opens, with the fix. A port, or the device
// grant, is accepted.
func TestFixedLoopbackPortIsCheckedAtStartUp(t *testing.T) {
	reg := provider.Registration{Name: "fixed", New: func(_ context.Context, cfg provider.DriverConfig) (provider.Driver, error) {
		return fixedPortDriver{corpDriver{cfg.Issuer}}, nil
	}}
	open := func(port int, grant string) error {
		f := &config.File{Providers: []config.Provider{{Name: "corp", Driver: "fixed", Issuer: "https://idp.corp.example", ClientID: "c",
			Grant: grant, LoopbackPort: port, Isolation: config.IsolationInProcess}}}
		r, err := Open(f, Options{Drivers: []provider.Registration{reg}})
		if err == nil {
			r.Close()
		}
		return err
	}
	err := open(0, config.GrantAuto)
	if err == nil || !strings.Contains(err.Error(), "set loopback_port") || !strings.Contains(err.Error(), "http://localhost:8765/callback") || !strings.Contains(err.Error(), "grant: device") {
		t.Fatalf("no port: err = %v", err)
	}
	if err := open(8765, config.GrantAuto); err != nil {
		t.Errorf("with a port: %v", err)
	}
	if err := open(0, config.GrantDevice); err != nil {
		t.Errorf("device grant: %v", err)
	}
}
