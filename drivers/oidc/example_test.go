package oidc_test

import (
	"context"
	"fmt"

	"github.com/mcpauth/mcpauth/drivers/oidc"
	"github.com/mcpauth/mcpauth/provider"
)

// Given only an issuer, the driver discovers its metadata at the first
// login; building it makes no request.
func ExampleNew() {
	d, err := oidc.New(oidc.Config{
		Issuer:      "https://login.example.com",
		ClientID:    "my-native-app",
		Scopes:      []string{"openid", "offline_access"},
		ExtraParams: map[string]string{"audience": "https://api.example.com"},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(d.Describe().Name, d.Describe().DefaultScopes)
	// Output: oidc [openid offline_access]
}

// An issuer driver embeds *oidc.Driver and overrides only what differs;
// every other method and capability is the generic driver's.
type houseDriver struct {
	*oidc.Driver
}

func (d *houseDriver) Describe() provider.Description {
	desc := d.Driver.Describe()
	desc.Name, desc.Quirks = "house", []string{"always asks for offline_access"}
	return desc
}

func (d *houseDriver) AuthCodeURL(ctx context.Context, req provider.AuthCodeRequest) (string, error) {
	req.Scopes = append(req.Scopes, "offline_access")
	return d.Driver.AuthCodeURL(ctx, req)
}

func Example_embedding() {
	base, err := oidc.New(oidc.Config{Issuer: "https://login.example.com", ClientID: "my-native-app"})
	if err != nil {
		fmt.Println(err)
		return
	}
	var d provider.Driver = &houseDriver{base}
	_, refreshes := d.(provider.Refresher)
	fmt.Println(d.Describe().Name, refreshes)
	// Output: house true
}
