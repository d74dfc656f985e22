package model

import "testing"

func TestCloudMapServiceID(t *testing.T) {
	for arn, want := range map[string]string{
		"arn:aws:servicediscovery:us-east-1:123456789012:service/srv-abcdefghijklmnop":  "srv-abcdefghijklmnop",
		"arn:aws:servicediscovery:us-east-1:123456789012:namespace/ns-abcdefghijklmnop": "",
		"arn:aws:ecs:us-east-1:123456789012:service/srv-x":                              "",
		"arn:aws:servicediscovery:us-east-1:123456789012:service/srv-a/b":               "",
		"srv-abcdefghijklmnop": "",
		"":                     "",
	} {
		got, ok := ServiceRegistry{RegistryArn: arn}.CloudMapServiceID()
		if got != want || ok != (want != "") {
			t.Errorf("%q: %q %v, want %q", arn, got, ok, want)
		}
	}
}
