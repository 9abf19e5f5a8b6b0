package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/mcpauth/mcpauth/internal/devidp"
	"github.com/mcpauth/mcpauth/internal/optest/nodeop"
	"github.com/mcpauth/mcpauth/internal/optest/zitadelop"
)

// discoverJSON runs `mcpauth discover --json` in this process.
func discoverJSON(t *testing.T, args ...string) (*discoveryReport, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	if err := discover(context.Background(), append([]string{"--json"}, args...), &stdout, &stderr); err != nil {
		t.Fatalf("discover %v: %v\n%s", args, err, stderr.String())
	}
	var rep discoveryReport
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		t.Fatalf("stdout is not the JSON report: %v\n%s", err, stdout.String())
	}
	return &rep, stderr.String()
}

func wantSteps(t *testing.T, got []discoveryStep, want ...discoveryStep) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("steps\n%+v\nwant\n%+v", got, want)
	}
}

func wantGrants(t *testing.T, rep *discoveryReport, want map[string]bool) {
	t.Helper()
	got := make(map[string]bool)
	for _, g := range rep.Grants {
		got[g.Grant] = g.Available
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("grants %+v, want %v", rep.Grants, want)
	}
}

func TestDiscoverDevserver(t *testing.T) {
	s, err := devidp.New(devidp.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	rep, stderr := discoverJSON(t, s.Issuer)
	if stderr != "" {
		t.Errorf("--json printed on stderr: %s", stderr)
	}
	wantSteps(t, rep.Steps,
		discoveryStep{"RFC 9728 protected-resource metadata", s.Issuer + "/.well-known/oauth-protected-resource", "not found"},
		discoveryStep{"RFC 8414", s.Issuer + "/.well-known/oauth-authorization-server", "found"})
	if rep.Issuer != s.Issuer || rep.Metadata.Issuer != s.Issuer || rep.MetadataSource != s.Issuer+devidp.AuthServerMetadataPath || rep.Resource != nil {
		t.Errorf("report %+v", rep)
	}
	if rep.Driver.Name != "oidc" || !strings.Contains(rep.Driver.Reason, "generic") {
		t.Errorf("driver %+v, want the generic oidc driver", rep.Driver)
	}
	wantGrants(t, rep, map[string]bool{"device": true, "pkce": true, "refresh": true})

	// The human report, on stderr only.
	var stdout, human bytes.Buffer
	if err := discover(context.Background(), []string{s.Issuer}, &stdout, &human); err != nil {
		t.Fatal(err)
	}
	if stdout.Len() != 0 {
		t.Errorf("human report wrote to stdout: %s", stdout.String())
	}
	for _, want := range []string{"RFC 8414  ", "metadata from " + s.Issuer + devidp.AuthServerMetadataPath,
		"device_authorization_endpoint", "Driver: oidc", "device   yes", "pkce     yes (S256)", "refresh  yes"} {
		if !strings.Contains(human.String(), want) {
			t.Errorf("human report lacks %q:\n%s", want, human.String())
		}
	}
}

func TestDiscoverOIDCOnly(t *testing.T) {
	op := zitadelop.Start(t, zitadelop.Options{})
	rep, _ := discoverJSON(t, op.Issuer, "--driver", "oidc") // flags after the URL too
	wantSteps(t, rep.Steps,
		discoveryStep{"RFC 9728 protected-resource metadata", op.Issuer + "/.well-known/oauth-protected-resource", "not found"},
		discoveryStep{"RFC 8414", op.Issuer + "/.well-known/oauth-authorization-server", "not found"},
		discoveryStep{"OpenID Connect discovery", op.Issuer + "/.well-known/openid-configuration", "found"})
	if rep.Driver != (driverChoice{Name: "oidc", Reason: "--driver oidc", Version: rep.Driver.Version}) {
		t.Errorf("driver %+v", rep.Driver)
	}
}

func TestDiscoverNodeOP(t *testing.T) {
	op := nodeop.Start(t, nodeop.Options{IssuerPath: "/tenant-a"})
	rep, _ := discoverJSON(t, op.Issuer)
	wantSteps(t, rep.Steps,
		discoveryStep{"RFC 9728 protected-resource metadata", op.BaseURL + "/.well-known/oauth-protected-resource/tenant-a", "not found"},
		discoveryStep{"RFC 8414 with path insertion", op.BaseURL + "/.well-known/oauth-authorization-server/tenant-a", "found"})
	if rep.Metadata.Issuer != op.Issuer || !rep.Metadata.AuthorizationResponseIssParameterSupported {
		t.Errorf("metadata %+v", rep.Metadata)
	}
	wantGrants(t, rep, map[string]bool{"device": true, "pkce": true, "refresh": true})
}

func TestDiscoverResource(t *testing.T) {
	s, err := devidp.New(devidp.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	var api *httptest.Server
	api = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/.well-known/oauth-protected-resource/v1" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{
			"resource":              api.URL + "/v1",
			"authorization_servers": []string{s.Issuer},
			"scopes_supported":      []string{"mcp:tools"},
		})
	}))
	t.Cleanup(api.Close)

	rep, _ := discoverJSON(t, api.URL+"/v1")
	wantSteps(t, rep.Steps,
		discoveryStep{"RFC 9728 protected-resource metadata", api.URL + "/.well-known/oauth-protected-resource/v1", "found"},
		discoveryStep{"RFC 8414", s.Issuer + "/.well-known/oauth-authorization-server", "found"})
	if rep.Resource == nil || rep.Resource.Resource != api.URL+"/v1" || rep.Issuer != s.Issuer {
		t.Errorf("resource %+v, issuer %s", rep.Resource, rep.Issuer)
	}
}

func TestDiscoverFailures(t *testing.T) {
	empty := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(empty.Close)
	for _, tt := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"discover"}, 2, "missing the URL"},
		{[]string{"discover", "not a url"}, 2, "is not an absolute URL"},
		{[]string{"discover", "http://idp.example.com"}, 2, "must use https"},
		{[]string{"discover", "--driver", "nosuch", empty.URL}, 2, `--driver "nosuch": not a built-in driver`},
		{[]string{"discover", empty.URL, "extra"}, 2, "unexpected arguments"},
		{[]string{"discover", empty.URL}, 1, "no authorization server metadata found"},
		{[]string{"discover", "--help"}, 0, "ISSUER|RESOURCE"},
	} {
		var stderr bytes.Buffer
		if code := run(context.Background(), tt.args, &stderr); code != tt.code || !strings.Contains(stderr.String(), tt.want) {
			t.Errorf("%v: exit %d, want %d with %q:\n%s", tt.args, code, tt.code, tt.want, stderr.String())
		}
	}
}
