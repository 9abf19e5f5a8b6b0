package sdk

import (
	"context"
	"errors"
	"fmt"

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

// ClientIDMetadataDocumentOf reads CapabilityClientIDMetadataDocument from
// a client's capabilities.extensions and capabilities.experimental (either
// may be nil); "" if the client declared none.
func ClientIDMetadataDocumentOf(extensions, experimental map[string]any) string {
	for _, m := range []map[string]any{extensions, experimental} {
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
	if c.client().ClientIDMetadataDocument != "" {
		return c.client().ClientIDMetadataDocument
	}
	if p.cfg.ClientIDMetadataDocument != "" {
		return p.cfg.ClientIDMetadataDocument
	}
	return a.opts.ClientIDMetadataDocument
}

// CheckClientIDMetadataDocumentURL checks that u can be a client_id under
// draft-ietf-oauth-client-id-metadata-document: an https URL with a path,
// without fragment, credentials or dot segments. The rules are
// provider.CheckClientIDMetadataDocumentURL's, the ones the config file
// applies; the reason is phrased to follow "the URL " in a log line.
func CheckClientIDMetadataDocumentURL(u string) error {
	err := provider.CheckClientIDMetadataDocumentURL(u)
	var ue *provider.URLError
	if err == nil || !errors.As(err, &ue) {
		return err
	}
	switch ue.Rule {
	case provider.URLNotParsed:
		return fmt.Errorf("not a URL: %w", err)
	case provider.URLNotHTTPS, provider.URLHTTPNotLoopback:
		return fmt.Errorf("not an https URL: %w", err)
	case provider.URLNotAbsolute:
		return fmt.Errorf("has no host: %w", err)
	case provider.URLNoPath:
		return fmt.Errorf("has no path: %w", err)
	case provider.URLFragment:
		return fmt.Errorf("has a fragment: %w", err)
	case provider.URLUserInfo:
		return fmt.Errorf("carries credentials: %w", err)
	case provider.URLDotSegment:
		return fmt.Errorf("has dot segments in its path: %w", err)
	}
	return err
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
