package driverplugin

import (
	"reflect"
	"testing"
	"time"

	"github.com/mcpauth/mcpauth/provider"
)

// Round trips through the wire types lose nothing.
func TestConvertRoundTrip(t *testing.T) {
	desc := provider.Description{Name: "n", Version: "v", Grants: []provider.Grant{provider.GrantPKCE}, DefaultScopes: []string{"a"},
		Quirks: []string{"q"}, ClientID: "c", ChallengeStatuses: []int{200, 404}}
	if got := fromProtoDescription(toProtoDescription(desc)); !reflect.DeepEqual(got, desc) {
		t.Errorf("description: %+v != %+v", got, desc)
	}
	meta := &provider.AuthServerMetadata{Issuer: "https://i", AuthorizationEndpoint: "https://i/a", TokenEndpoint: "https://i/t",
		DeviceAuthorizationEndpoint: "https://i/d", CodeChallengeMethodsSupported: []string{"S256"},
		AuthorizationResponseIssParameterSupported: true, ClientIDMetadataDocumentSupported: true, Source: "https://i/.well-known"}
	if got := fromProtoMetadata(toProtoMetadata(meta)); !reflect.DeepEqual(got, meta) {
		t.Errorf("metadata: %+v != %+v", got, meta)
	}
	exp := time.Unix(1_700_000_000, 123)
	da := &provider.DeviceAuthorization{DeviceCode: "dc", UserCode: "UC", VerificationURI: "https://i/d", ExpiresAt: exp, Interval: 7 * time.Second, Scopes: []string{"s"}}
	if got := fromProtoDevice(toProtoDevice(da)); !reflect.DeepEqual(got, da) || !got.ExpiresAt.Equal(exp) {
		t.Errorf("device: %v != %v", got, da)
	}
	tok := &provider.Token{AccessToken: "a", TokenType: "Bearer", RefreshToken: "r", IDToken: "i", Expiry: exp, Scopes: []string{"s"}}
	if got := fromProtoToken(toProtoToken(tok)); !reflect.DeepEqual(*got, *tok) {
		t.Errorf("token: %v != %v", got, tok)
	}
	if got := fromProtoToken(toProtoToken(&provider.Token{AccessToken: "a"})); !got.Expiry.IsZero() {
		t.Errorf("zero expiry came back as %v", got.Expiry)
	}
}
