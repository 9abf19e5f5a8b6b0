package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/mcpauth/mcpauth/config"
	"github.com/mcpauth/mcpauth/discovery"
	"github.com/mcpauth/mcpauth/drivers"
	"github.com/mcpauth/mcpauth/provider"
	"github.com/mcpauth/mcpauth/registry"
)

// discoveryStep is one metadata URL tried, in order.
type discoveryStep struct {
	Step   string `json:"step"`
	URL    string `json:"url"`
	Result string `json:"result"` // "found", "not found", or what went wrong
}

// grantReport says whether a grant can be used with an issuer, and why not.
type grantReport struct {
	Grant     string `json:"grant"`
	Available bool   `json:"available"`
	Note      string `json:"note,omitempty"`
}

// discoveryReport is what `mcpauth discover --json` prints.
type discoveryReport struct {
	Input    string                              `json:"input"`
	Resource *provider.ProtectedResourceMetadata `json:"resource,omitempty"`
	Issuer   string                              `json:"issuer"`
	Steps    []discoveryStep                     `json:"steps"`
	Metadata *provider.AuthServerMetadata        `json:"metadata"`
	// MetadataSource is the URL the metadata came from; empty when the
	// driver has it built in.
	MetadataSource string        `json:"metadata_source,omitempty"`
	Driver         driverChoice  `json:"driver"`
	Grants         []grantReport `json:"grants"`
}

type driverChoice struct {
	Name    string `json:"name"`
	Reason  string `json:"reason"`
	Version string `json:"version,omitempty"`
}

// chooseDriver picks the driver for an issuer and says why: --driver if
// given, else the registry's resolution (a built-in driver that claims the
// issuer, else the generic oidc driver).
func chooseDriver(explicit, issuer string) driverChoice {
	reg, reason, err := registry.Resolve(drivers.Builtin, explicit, issuer)
	if err != nil {
		return driverChoice{Name: explicit, Reason: err.Error()}
	}
	if explicit != "" {
		reason = "--driver " + explicit
	}
	return driverChoice{Name: reg.Name, Reason: reason}
}

func runDiscover(ctx context.Context, args []string, stderr io.Writer) error {
	return discover(ctx, args, os.Stdout, stderr)
}

func discover(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("discover", "discover [--driver NAME] [--json] [--timeout D] ISSUER|RESOURCE\n\n"+
		"Finds an authorization server's metadata and shows where it came from, the driver\n"+
		"mcpauth would use and the grants available. An API URL (RFC 9728 protected\n"+
		"resource) is tried first; otherwise the URL is taken as an issuer.", stderr)
	driver := fs.String("driver", "", "report this driver instead of resolving one from the issuer ("+strings.Join(drivers.Names(), ", ")+")")
	asJSON := fs.Bool("json", false, "print the report as JSON on stdout")
	timeout := fs.Duration("timeout", 30*time.Second, "give up after this long")
	target, err := parseOneArg(fs, args)
	if err != nil {
		return err
	}
	if err := provider.CheckEndpointURL("URL", target); err != nil {
		fmt.Fprintln(stderr, strings.TrimPrefix(err.Error(), "provider: "))
		fs.Usage()
		return errUsage
	}
	if *driver != "" {
		if _, _, err := registry.Resolve(drivers.Builtin, *driver, ""); err != nil || *driver == config.DriverExternal {
			fmt.Fprintf(stderr, "--driver %q: not a built-in driver (%s)\n", *driver, strings.Join(drivers.Names(), ", "))
			fs.Usage()
			return errUsage
		}
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()

	rep, err := discoverReport(ctx, target, *driver)
	if rep != nil && !*asJSON {
		printSteps(stderr, rep)
	}
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	printReport(stderr, rep)
	return nil
}

// parseOneArg parses flags placed before or after the one positional
// argument, and returns it.
func parseOneArg(fs *flag.FlagSet, args []string) (string, error) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return "", err
		}
		return "", errUsage
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(fs.Output(), "missing the URL")
		fs.Usage()
		return "", errUsage
	}
	arg := fs.Arg(0)
	if err := parse(fs, fs.Args()[1:]); err != nil {
		return "", err
	}
	return arg, nil
}

// discoverReport runs discovery as a login would, recording each step. On
// failure it returns the steps so far with the error.
func discoverReport(ctx context.Context, target, explicitDriver string) (*discoveryReport, error) {
	disc := &discovery.Discoverer{}
	rep := &discoveryReport{Input: target, Issuer: target}

	// RFC 9728 first: an API URL names its authorization server. Anything
	// short of a document (404, an HTML page, a timeout) means "not a
	// resource URL"; the error is kept in case the issuer fails too.
	prmURL := protectedResourceURL(target)
	prm, prmErr := disc.ProtectedResource(ctx, target)
	switch {
	case prmErr == nil:
		rep.Resource, rep.Issuer = prm, prm.AuthorizationServers[0]
		rep.Steps = append(rep.Steps, discoveryStep{"RFC 9728 protected-resource metadata", prm.Source, "found"})
	case errors.Is(prmErr, provider.ErrIssuerMismatch):
		rep.Steps = append(rep.Steps, discoveryStep{"RFC 9728 protected-resource metadata", prmURL, errText(prmErr)})
		return rep, prmErr
	case errors.Is(prmErr, discovery.ErrNoMetadata):
		rep.Steps = append(rep.Steps, discoveryStep{"RFC 9728 protected-resource metadata", prmURL, "not found"})
	default:
		rep.Steps = append(rep.Steps, discoveryStep{"RFC 9728 protected-resource metadata", prmURL, errText(prmErr)})
	}

	rep.Driver = chooseDriver(explicitDriver, rep.Issuer)
	var d provider.Driver
	if reg, _, err := registry.Resolve(drivers.Builtin, rep.Driver.Name, rep.Issuer); err == nil {
		d, err = reg.New(ctx, provider.DriverConfig{Issuer: rep.Issuer, ClientID: "mcpauth-discover", Discover: func(ctx context.Context, iss string) (*provider.AuthServerMetadata, error) {
			return disc.AuthServer(ctx, iss)
		}})
		if err != nil {
			return rep, err
		}
		rep.Driver.Version = d.Describe().Version
	}
	var meta *provider.AuthServerMetadata
	var err error
	if d != nil {
		meta, err = d.Metadata(ctx)
	} else {
		meta, err = disc.AuthServer(ctx, rep.Issuer)
	}
	rep.Steps = append(rep.Steps, authServerSteps(rep.Issuer, meta, err)...)
	if err != nil {
		if prmErr != nil && !errors.Is(prmErr, discovery.ErrNoMetadata) {
			err = fmt.Errorf("%w (and as a resource URL: %v)", err, prmErr)
		}
		return rep, err
	}
	rep.Metadata, rep.MetadataSource = meta, meta.Source
	rep.Grants = grantsOf(d, meta)
	return rep, nil
}

func errText(err error) string {
	return strings.TrimPrefix(err.Error(), "registry: ")
}

// protectedResourceURL is where RFC 9728 §3.1 puts a resource's metadata.
func protectedResourceURL(resource string) string {
	u, err := url.Parse(resource)
	if err != nil {
		return resource
	}
	return u.Scheme + "://" + u.Host + "/.well-known/oauth-protected-resource" + strings.TrimSuffix(u.EscapedPath(), "/")
}

// authServerSteps reconstructs the authorization-server steps: the
// discoverer tries discovery.Candidates in order and stops at the first that
// serves a document, so every candidate before the source answered "not
// found". A source outside the candidates is a fallback the driver declared;
// no source at all is metadata built into the driver.
func authServerSteps(issuer string, meta *provider.AuthServerMetadata, err error) []discoveryStep {
	cands, cerr := discovery.Candidates(issuer)
	if cerr != nil {
		return []discoveryStep{{"authorization server metadata", issuer, errText(cerr)}}
	}
	var steps []discoveryStep
	if err != nil {
		// Which candidate failed is in the error; list them all.
		for _, c := range cands {
			steps = append(steps, discoveryStep{stepName(issuer, c), c, "tried"})
		}
		steps[len(steps)-1].Result = errText(err)
		return steps
	}
	if meta.Source == "" {
		return []discoveryStep{{"metadata built into the driver", "", "found"}}
	}
	for _, c := range cands {
		if c == meta.Source {
			return append(steps, discoveryStep{stepName(issuer, c), c, "found"})
		}
		steps = append(steps, discoveryStep{stepName(issuer, c), c, "not found"})
	}
	return append(steps, discoveryStep{"fallback declared by the driver", meta.Source, "found"})
}

// stepName names the discovery mechanism a candidate URL belongs to.
func stepName(issuer, docURL string) string {
	u, err := url.Parse(issuer)
	if err != nil {
		return docURL
	}
	origin := u.Scheme + "://" + u.Host
	path := strings.TrimSuffix(u.EscapedPath(), "/")
	switch {
	case path != "" && docURL == origin+"/.well-known/oauth-authorization-server"+path:
		return "RFC 8414 with path insertion"
	case docURL == origin+"/.well-known/oauth-authorization-server":
		return "RFC 8414"
	case path != "" && docURL == origin+"/.well-known/openid-configuration"+path:
		return "OpenID Connect discovery with path insertion"
	case strings.HasSuffix(docURL, "/.well-known/openid-configuration"):
		return "OpenID Connect discovery"
	}
	return "fallback declared by the driver"
}

// grantsOf says which grants a login could use: the server must advertise
// them and the driver (when known) offer them.
func grantsOf(d provider.Driver, meta *provider.AuthServerMetadata) []grantReport {
	var desc *provider.Description
	if d != nil {
		dd := d.Describe()
		desc = &dd
	}
	report := func(g provider.Grant, serverHas bool, serverWhy string) grantReport {
		r := grantReport{Grant: string(g), Available: serverHas}
		switch {
		case !serverHas:
			r.Note = serverWhy
		case desc != nil && !desc.Offers(g):
			r.Available, r.Note = false, "driver "+desc.Name+" does not offer it"
		}
		return r
	}
	device := report(provider.GrantDevice, meta.Offers(provider.GrantDevice), "no device_authorization_endpoint")
	pkce := report(provider.GrantPKCE, meta.Offers(provider.GrantPKCE), "no authorization_endpoint or authorization_code grant")
	if pkce.Available {
		switch {
		case slices.Contains(meta.CodeChallengeMethodsSupported, "S256"):
			pkce.Note = "S256"
		case len(meta.CodeChallengeMethodsSupported) == 0:
			pkce.Note = "code_challenge_methods_supported absent: S256 is sent and assumed"
		default:
			pkce.Available, pkce.Note = false, "S256 not in code_challenge_methods_supported "+strings.Join(meta.CodeChallengeMethodsSupported, ",")
		}
	}
	refresh := grantReport{Grant: "refresh", Available: meta.SupportsGrantType(provider.GrantTypeRefreshToken)}
	if !refresh.Available {
		refresh.Note = "refresh_token not in grant_types_supported"
	}
	if _, ok := d.(provider.Refresher); d != nil && !ok {
		refresh.Available, refresh.Note = false, "the driver cannot refresh"
	}
	return []grantReport{device, pkce, refresh}
}

func printSteps(w io.Writer, rep *discoveryReport) {
	fmt.Fprintf(w, "Discovering %s\n\n", rep.Input)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, s := range rep.Steps {
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", s.Step, dash(s.URL), s.Result)
	}
	tw.Flush()
	fmt.Fprintln(w)
}

func printReport(w io.Writer, rep *discoveryReport) {
	m := rep.Metadata
	if rep.Resource != nil {
		fmt.Fprintf(w, "Resource %s is protected by %s", rep.Resource.Resource, strings.Join(rep.Resource.AuthorizationServers, ", "))
		if len(rep.Resource.ScopesSupported) > 0 {
			fmt.Fprintf(w, " (scopes: %s)", strings.Join(rep.Resource.ScopesSupported, " "))
		}
		fmt.Fprintln(w)
	}
	from := rep.MetadataSource
	if from == "" {
		from = "built into the driver"
	}
	fmt.Fprintf(w, "Authorization server %s\n  metadata from %s\n\n", m.Issuer, from)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, f := range []struct{ name, value string }{
		{"authorization_endpoint", m.AuthorizationEndpoint},
		{"token_endpoint", m.TokenEndpoint},
		{"device_authorization_endpoint", m.DeviceAuthorizationEndpoint},
		{"revocation_endpoint", m.RevocationEndpoint},
		{"userinfo_endpoint", m.UserinfoEndpoint},
		{"jwks_uri", m.JWKSURI},
		{"grant_types_supported", strings.Join(m.GrantTypesSupported, " ")},
		{"response_types_supported", strings.Join(m.ResponseTypesSupported, " ")},
		{"code_challenge_methods_supported", strings.Join(m.CodeChallengeMethodsSupported, " ")},
		{"token_endpoint_auth_methods_supported", strings.Join(m.TokenEndpointAuthMethodsSupported, " ")},
		{"scopes_supported", strings.Join(m.ScopesSupported, " ")},
		{"authorization_response_iss_parameter_supported", fmt.Sprint(m.AuthorizationResponseIssParameterSupported)},
		{"client_id_metadata_document_supported", fmt.Sprint(m.ClientIDMetadataDocumentSupported)},
	} {
		if f.value != "" {
			fmt.Fprintf(tw, "  %s\t%s\n", f.name, f.value)
		}
	}
	tw.Flush()
	fmt.Fprintf(w, "\nDriver: %s", rep.Driver.Name)
	if rep.Driver.Version != "" {
		fmt.Fprintf(w, " %s", rep.Driver.Version)
	}
	fmt.Fprintf(w, " (%s)\n\nGrants:\n", rep.Driver.Reason)
	for _, g := range rep.Grants {
		verdict := "yes"
		if !g.Available {
			verdict = "no"
		}
		if g.Note != "" {
			verdict += " (" + g.Note + ")"
		}
		fmt.Fprintf(w, "  %-8s %s\n", g.Grant, verdict)
	}
}
