package sdk

// caller is what mcpauth knows of the client behind one tool call.
type caller struct {
	kind ElicitationSupport
	// modern: the request uses MCP 2026-07-28 or later (capabilities in
	// _meta, multi round-trip results, no server-initiated requests).
	modern        bool
	progressToken any
	cimd          string // the client's Client ID Metadata Document URL, if it declared one
	peer          Peer   // nil: the client cannot be reached outside the result
}

func callerOf(req *Request) caller {
	return caller{
		kind:          req.Client.Elicitation,
		modern:        req.Client.Modern,
		progressToken: req.ProgressToken,
		cimd:          req.Client.ClientIDMetadataDocument,
		peer:          req.Peer,
	}
}
