package entra

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"github.com/mcpauth/mcpauth/drivers/oidc"
	"github.com/mcpauth/mcpauth/provider"
)

// ConsumersTenantID is the tenant of personal Microsoft accounts: what the
// consumers document and its tokens name as their tenant.
const ConsumersTenantID = "9188040d-6c67-4c5b-b112-36a304b66dad"

// tenantIDPlaceholder is the literal Entra writes into the issuer of the
// common and organizations documents.
const tenantIDPlaceholder = "{tenantid}"

// maxDiscoveryBody caps the discovery document, as discovery does (1 MiB).
const maxDiscoveryBody = 1 << 20

var guid = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// TenantKind says how a tenant's issuer is matched.
type TenantKind int

const (
	// TenantID: a directory GUID; the document and every token name the
	// configured issuer exactly.
	TenantID TenantKind = iota
	// TenantDomain: a verified domain (contoso.onmicrosoft.com); the
	// document names the directory's GUID issuer on the same host, which
	// tokens must then match exactly.
	TenantDomain
	// TenantCommon and TenantOrganizations: multi-tenant; the document names
	// the literal issuer .../{tenantid}/v2.0, and a token's issuer is that
	// template with its tid claim in place. organizations refuses tokens of
	// personal accounts (tid ConsumersTenantID).
	TenantCommon
	TenantOrganizations
	// TenantConsumers: personal accounts; the document and tokens name
	// tenant ConsumersTenantID exactly.
	TenantConsumers
)

// Tenant is an Entra issuer taken apart.
type Tenant struct {
	// Origin is the scheme and host: https://login.microsoftonline.com.
	Origin string
	// Name is the tenant path segment as configured.
	Name string
	Kind TenantKind
}

// ParseTenant reads an issuer of the form ORIGIN/{tenant}/v2.0.
func ParseTenant(issuer string) (Tenant, error) {
	u, err := url.Parse(issuer)
	if err != nil || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return Tenant{}, fmt.Errorf("entra: issuer %q is not a URL of the form https://login.microsoftonline.com/{tenant}/v2.0", issuer)
	}
	parts := strings.Split(strings.Trim(u.Path, "/"), "/")
	if len(parts) != 2 || parts[1] != "v2.0" || parts[0] == "" {
		return Tenant{}, fmt.Errorf("entra: issuer %q: want https://login.microsoftonline.com/{tenant}/v2.0 (the v2.0 endpoint; {tenant} is common, organizations, consumers, a tenant ID or a domain)", issuer)
	}
	t := Tenant{Origin: u.Scheme + "://" + u.Host, Name: parts[0]}
	switch name := strings.ToLower(parts[0]); {
	case name == "common":
		t.Kind = TenantCommon
	case name == "organizations":
		t.Kind = TenantOrganizations
	case name == "consumers" || name == ConsumersTenantID:
		t.Kind = TenantConsumers
	case guid.MatchString(name):
		t.Kind = TenantID
	case strings.Contains(name, "."):
		t.Kind = TenantDomain
	default:
		return Tenant{}, fmt.Errorf("entra: issuer %q: tenant %q is neither common, organizations, consumers, a tenant ID (GUID) nor a domain", issuer, parts[0])
	}
	return t, nil
}

// Issuer is the issuer as configured.
func (t Tenant) Issuer() string { return t.Origin + "/" + t.Name + "/v2.0" }

func (t Tenant) tenantIssuer(id string) string { return t.Origin + "/" + id + "/v2.0" }

func (t Tenant) multi() bool { return t.Kind == TenantCommon || t.Kind == TenantOrganizations }

// checkDocumentIssuer checks the issuer a discovery document names and
// returns the issuer tokens must carry ("" for multi-tenant: it depends on
// the token's tid). This is RFC 8414 §3.3's exact match, bent only as far
// as Entra publishes: the template for common and organizations, the
// tenant's GUID issuer on the same host for consumers and domains.
func (t Tenant) checkDocumentIssuer(docIssuer string) (string, error) {
	mismatch := func(want string) error {
		return fmt.Errorf("entra: discovery document for %s names issuer %q, want %s: %w", t.Issuer(), docIssuer, want, provider.ErrIssuerMismatch)
	}
	switch t.Kind {
	case TenantCommon, TenantOrganizations:
		if want := t.tenantIssuer(tenantIDPlaceholder); docIssuer != want {
			return "", mismatch(fmt.Sprintf("%q", want))
		}
		return "", nil
	case TenantConsumers:
		if want := t.tenantIssuer(ConsumersTenantID); docIssuer != want {
			return "", mismatch(fmt.Sprintf("%q", want))
		}
		return docIssuer, nil
	case TenantDomain:
		id, ok := strings.CutPrefix(docIssuer, t.Origin+"/")
		id, ok2 := strings.CutSuffix(id, "/v2.0")
		if !ok || !ok2 || !guid.MatchString(id) {
			return "", mismatch(fmt.Sprintf("%s/{tenant ID}/v2.0", t.Origin))
		}
		return docIssuer, nil
	}
	if docIssuer != t.Issuer() {
		return "", mismatch(fmt.Sprintf("%q", t.Issuer()))
	}
	return docIssuer, nil
}

// TokenIssuer is the issuer an ID token with tenant ID tid must carry; for
// a single-tenant issuer pinned is the issuer discovery found.
func (t Tenant) TokenIssuer(pinned, tid string) (string, error) {
	if !t.multi() {
		return pinned, nil
	}
	if !guid.MatchString(tid) {
		return "", errors.New("entra: ID token has no tenant ID (tid) claim")
	}
	if t.Kind == TenantOrganizations && strings.EqualFold(tid, ConsumersTenantID) {
		return "", fmt.Errorf("entra: a personal Microsoft account signed in, but the issuer is organizations (work and school accounts only): %w", provider.ErrIssuerMismatch)
	}
	return t.tenantIssuer(tid), nil
}

// discoveryDocument is what the driver reads of the OpenID configuration:
// the metadata, whose issuer it checks with the tenant's rules.
type discoveryDocument = provider.AuthServerMetadata

// discover fetches ORIGIN/{tenant}/v2.0/.well-known/openid-configuration
// with a capped body, and returns the metadata with the configured issuer
// (what the embedded driver compares) and the issuer tokens must carry.
// The host's discovery cannot be used: it refuses the template issuer.
func discover(ctx context.Context, client *http.Client, t Tenant) (*provider.AuthServerMetadata, string, error) {
	docURL := t.Issuer() + "/.well-known/openid-configuration"
	if err := provider.CheckEndpointURL("discovery document", docURL); err != nil {
		return nil, "", fmt.Errorf("entra: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, docURL, nil)
	if err != nil {
		return nil, "", fmt.Errorf("entra: discovery: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return nil, "", fmt.Errorf("entra: discovery: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, "", fmt.Errorf("entra: discovery: %s answered HTTP %d (is the tenant %q right?)", docURL, resp.StatusCode, t.Name)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxDiscoveryBody+1))
	if err != nil {
		return nil, "", fmt.Errorf("entra: discovery: reading %s: %w", docURL, err)
	}
	if len(body) > maxDiscoveryBody {
		return nil, "", fmt.Errorf("entra: discovery: %s is larger than %d bytes", docURL, maxDiscoveryBody)
	}
	var m discoveryDocument
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, "", fmt.Errorf("entra: discovery: %s: %s", docURL, oidc.DescribeJSONError(err, len(body)))
	}
	pinned, err := t.checkDocumentIssuer(m.Issuer)
	if err != nil {
		return nil, "", err
	}
	m.Issuer = t.Issuer()
	m.Source = docURL
	if err := m.Validate(); err != nil {
		return nil, "", fmt.Errorf("entra: discovery: %w", err)
	}
	if len(m.CodeChallengeMethodsSupported) == 0 {
		// Entra supports S256 but its documents do not say so.
		m.CodeChallengeMethodsSupported = []string{"S256"}
	}
	return &m, pinned, nil
}
