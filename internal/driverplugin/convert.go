package driverplugin

import (
	"net/http"
	"time"

	pb "github.com/mcpauth/mcpauth/internal/driverpb"
	"github.com/mcpauth/mcpauth/provider"
)

// Converters between wire types and provider types. Wire types stay in
// internal/: everything outside sees provider types only.

func toProtoDescription(d provider.Description) *pb.Description {
	grants := make([]string, len(d.Grants))
	for i, g := range d.Grants {
		grants[i] = string(g)
	}
	statuses := make([]int32, len(d.ChallengeStatuses))
	for i, s := range d.ChallengeStatuses {
		statuses[i] = int32(s)
	}
	return &pb.Description{Name: d.Name, Version: d.Version, Grants: grants,
		DefaultScopes: d.DefaultScopes, Quirks: d.Quirks, ClientId: d.ClientID, ChallengeStatuses: statuses,
		Apis: d.APIs, VerificationHosts: d.VerificationHosts, LoopbackHost: d.LoopbackHost, LoopbackPortFixed: d.LoopbackPortFixed}
}

func fromProtoDescription(d *pb.Description) provider.Description {
	grants := make([]provider.Grant, len(d.GetGrants()))
	for i, g := range d.GetGrants() {
		grants[i] = provider.Grant(g)
	}
	var statuses []int
	for _, s := range d.GetChallengeStatuses() {
		statuses = append(statuses, int(s))
	}
	return provider.Description{Name: d.GetName(), Version: d.GetVersion(), Grants: grants,
		DefaultScopes: d.GetDefaultScopes(), Quirks: d.GetQuirks(), ClientID: d.GetClientId(), ChallengeStatuses: statuses,
		APIs: d.GetApis(), VerificationHosts: d.GetVerificationHosts(), LoopbackHost: d.GetLoopbackHost(), LoopbackPortFixed: d.GetLoopbackPortFixed()}
}

func toProtoEndpoints(e provider.Endpoints) *pb.Endpoints {
	if e.IsZero() {
		return nil
	}
	return &pb.Endpoints{Authorization: e.Authorization, Token: e.Token, DeviceAuthorization: e.DeviceAuthorization,
		Revocation: e.Revocation, Userinfo: e.Userinfo}
}

func fromProtoEndpoints(e *pb.Endpoints) provider.Endpoints {
	return provider.Endpoints{Authorization: e.GetAuthorization(), Token: e.GetToken(), DeviceAuthorization: e.GetDeviceAuthorization(),
		Revocation: e.GetRevocation(), Userinfo: e.GetUserinfo()}
}

func toProtoMetadata(m *provider.AuthServerMetadata) *pb.AuthServerMetadata {
	if m == nil {
		return nil
	}
	return &pb.AuthServerMetadata{
		Issuer:                                     m.Issuer,
		AuthorizationEndpoint:                      m.AuthorizationEndpoint,
		TokenEndpoint:                              m.TokenEndpoint,
		DeviceAuthorizationEndpoint:                m.DeviceAuthorizationEndpoint,
		RevocationEndpoint:                         m.RevocationEndpoint,
		UserinfoEndpoint:                           m.UserinfoEndpoint,
		JwksUri:                                    m.JWKSURI,
		ScopesSupported:                            m.ScopesSupported,
		ResponseTypesSupported:                     m.ResponseTypesSupported,
		GrantTypesSupported:                        m.GrantTypesSupported,
		TokenEndpointAuthMethodsSupported:          m.TokenEndpointAuthMethodsSupported,
		CodeChallengeMethodsSupported:              m.CodeChallengeMethodsSupported,
		IdTokenSigningAlgValuesSupported:           m.IDTokenSigningAlgValuesSupported,
		AuthorizationResponseIssParameterSupported: m.AuthorizationResponseIssParameterSupported,
		ClientIdMetadataDocumentSupported:          m.ClientIDMetadataDocumentSupported,
		DpopSigningAlgValuesSupported:              m.DPoPSigningAlgValuesSupported,
		Source:                                     m.Source,
	}
}

func fromProtoMetadata(m *pb.AuthServerMetadata) *provider.AuthServerMetadata {
	if m == nil {
		return nil
	}
	return &provider.AuthServerMetadata{
		Issuer:                                     m.GetIssuer(),
		AuthorizationEndpoint:                      m.GetAuthorizationEndpoint(),
		TokenEndpoint:                              m.GetTokenEndpoint(),
		DeviceAuthorizationEndpoint:                m.GetDeviceAuthorizationEndpoint(),
		RevocationEndpoint:                         m.GetRevocationEndpoint(),
		UserinfoEndpoint:                           m.GetUserinfoEndpoint(),
		JWKSURI:                                    m.GetJwksUri(),
		ScopesSupported:                            m.GetScopesSupported(),
		ResponseTypesSupported:                     m.GetResponseTypesSupported(),
		GrantTypesSupported:                        m.GetGrantTypesSupported(),
		TokenEndpointAuthMethodsSupported:          m.GetTokenEndpointAuthMethodsSupported(),
		CodeChallengeMethodsSupported:              m.GetCodeChallengeMethodsSupported(),
		IDTokenSigningAlgValuesSupported:           m.GetIdTokenSigningAlgValuesSupported(),
		AuthorizationResponseIssParameterSupported: m.GetAuthorizationResponseIssParameterSupported(),
		ClientIDMetadataDocumentSupported:          m.GetClientIdMetadataDocumentSupported(),
		DPoPSigningAlgValuesSupported:              m.GetDpopSigningAlgValuesSupported(),
		Source:                                     m.GetSource(),
	}
}

func unixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func fromUnixNano(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n)
}

func toProtoDevice(d *provider.DeviceAuthorization) *pb.DeviceAuthorization {
	return &pb.DeviceAuthorization{
		DeviceCode: d.DeviceCode, UserCode: d.UserCode, VerificationUri: d.VerificationURI,
		VerificationUriComplete: d.VerificationURIComplete, ExpiresAtUnixNano: unixNano(d.ExpiresAt),
		IntervalNanos: int64(d.Interval), Scopes: d.Scopes,
	}
}

func fromProtoDevice(d *pb.DeviceAuthorization) *provider.DeviceAuthorization {
	return &provider.DeviceAuthorization{
		DeviceCode: d.GetDeviceCode(), UserCode: d.GetUserCode(), VerificationURI: d.GetVerificationUri(),
		VerificationURIComplete: d.GetVerificationUriComplete(), ExpiresAt: fromUnixNano(d.GetExpiresAtUnixNano()),
		Interval: time.Duration(d.GetIntervalNanos()), Scopes: d.GetScopes(),
	}
}

func toProtoToken(t *provider.Token) *pb.Token {
	if t == nil {
		return nil
	}
	return &pb.Token{AccessToken: t.AccessToken, TokenType: t.TokenType, RefreshToken: t.RefreshToken,
		IdToken: t.IDToken, ExpiryUnixNano: unixNano(t.Expiry), Scopes: t.Scopes}
}

func fromProtoToken(t *pb.Token) *provider.Token {
	if t == nil {
		return nil
	}
	return &provider.Token{AccessToken: t.GetAccessToken(), TokenType: t.GetTokenType(), RefreshToken: t.GetRefreshToken(),
		IDToken: t.GetIdToken(), Expiry: fromUnixNano(t.GetExpiryUnixNano()), Scopes: t.GetScopes()}
}

func toProtoHeader(h http.Header) map[string]*pb.HeaderValues {
	out := make(map[string]*pb.HeaderValues, len(h))
	for k, v := range h {
		out[k] = &pb.HeaderValues{Values: v}
	}
	return out
}

func fromProtoHeader(h map[string]*pb.HeaderValues) http.Header {
	out := make(http.Header, len(h))
	for k, v := range h {
		out[http.CanonicalHeaderKey(k)] = v.GetValues()
	}
	return out
}
