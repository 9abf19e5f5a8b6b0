package sdk

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/mcpauth/mcpauth/provider"
)

// CapabilityClientIDMetadataDocument is the client capability through which
// an MCP host may declare its Client ID Metadata Document URL, under
// capabilities.extensions (MCP 2026-07-28) or capabilities.experimental
// (earlier versions), as an object with a "clientId" member:
//
//	"capabilities": {"extensions": {"io.github.mcpauth/client-id-metadata-document":
//	    {"clientId": "https://host.example/oauth/client-metadata.json"}}}
//
// A value declared by the client wins over Options.ClientIDMetadataDocument
// and the MCP_OAUTH_CLIENT_ID environment variable.
const CapabilityClientIDMetadataDocument = "io.github.mcpauth/client-id-metadata-document"

// cimdFromCaps reads CapabilityClientIDMetadataDocument.
func cimdFromCaps(caps *mcp.ClientCapabilities) string {
	if caps == nil {
		return ""
	}
	for _, m := range []map[string]any{caps.Extensions, caps.Experimental} {
		switch v := m[CapabilityClientIDMetadataDocument].(type) {
		case map[string]any:
			if s, ok := v["clientId"].(string); ok {
				return s
			}
		case string:
			return v
		}
	}
	return ""
}

// cimdFor returns the CIMD URL for a login of p started by c, if any: the
// client's capability, then the provider's configured document, then the
// server-wide one (Options or MCP_OAUTH_CLIENT_ID).
func (a *Auth) cimdFor(p *providerState, c caller) string {
	if u := cimdFromCaps(c.caps); u != "" {
		return u
	}
	if p.cfg.ClientIDMetadataDocument != "" {
		return p.cfg.ClientIDMetadataDocument
	}
	return a.opts.ClientIDMetadataDocument
}

// CheckClientIDMetadataDocumentURL checks that u can be a client_id under
// draft-ietf-oauth-client-id-metadata-document: an https URL with a path,
// without fragment, credentials or dot segments.
func CheckClientIDMetadataDocumentURL(u string) error {
	p, err := url.Parse(u)
	switch {
	case err != nil:
		return fmt.Errorf("not a URL: %w", err)
	case p.Scheme != "https":
		return errors.New("not an https URL")
	case p.Host == "":
		return errors.New("has no host")
	case p.Path == "" || p.Path == "/":
		return errors.New("has no path")
	case p.Fragment != "" || strings.Contains(u, "#"):
		return errors.New("has a fragment")
	case p.User != nil:
		return errors.New("carries credentials")
	case slices.ContainsFunc(strings.Split(p.Path, "/"), func(s string) bool { return s == "." || s == ".." }):
		return errors.New("has dot segments in its path")
	}
	return nil
}

// driverFor returns the driver for a login: rebound to the CIMD URL where
// that is allowed, p's configured driver otherwise. Every refusal is
// logged once, with its reason.
func (p *providerState) driverFor(ctx context.Context, cimd string) provider.Driver {
	base := p.cfg.Driver
	if cimd == "" {
		return base
	}
	refuse := func(why string) provider.Driver {
		p.a.logCIMDOnce(p.cfg.Name, cimd, why)
		return base
	}
	if err := CheckClientIDMetadataDocumentURL(cimd); err != nil {
		return refuse("the URL " + err.Error() + "; a client ID metadata document URL must be https with a path")
	}
	meta, err := base.Metadata(ctx)
	if err != nil {
		return base // the login reports the error
	}
	if !meta.ClientIDMetadataDocumentSupported {
		return refuse("the authorization server " + meta.Issuer + " does not advertise client_id_metadata_document_supported")
	}
	rb, ok := base.(provider.ClientRebinder)
	if !ok {
		return refuse("driver " + base.Describe().Name + " cannot act for another client_id")
	}
	p.mu.Lock()
	d := p.rebound[cimd]
	p.mu.Unlock()
	if d != nil {
		return d
	}
	d, err = rb.WithClientID(cimd)
	if err != nil {
		return refuse("the driver refused it: " + err.Error())
	}
	p.mu.Lock()
	p.rebound[cimd] = d
	p.mu.Unlock()
	p.a.logger.Info("mcpauth: using the host's client ID metadata document as client_id",
		"provider", p.cfg.Name, "client_id", cimd)
	return d
}

func (a *Auth) logCIMDOnce(providerName, cimd, why string) {
	k := providerName + "\x00" + cimd
	a.cimdMu.Lock()
	seen := a.cimdLogged[k]
	a.cimdLogged[k] = true
	a.cimdMu.Unlock()
	if !seen {
		a.logger.Warn("mcpauth: client ID metadata document ignored; using the configured client_id",
			"provider", providerName, "client_id_metadata_document", cimd, "reason", why)
	}
}
