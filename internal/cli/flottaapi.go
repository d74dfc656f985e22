package cli

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/flotta-dev/flotta/internal/flottaapi"
)

// callFlotta calls one of Flotta's own operations (those the ECS API has no
// word for, such as join tokens) with Flotta's signed JSON client and the
// same credentials as every other verb.
func (o *Options) callFlotta(ctx context.Context, op string, in, out any) error {
	c, err := o.flottaClient(ctx)
	if err != nil {
		return err
	}
	return c.Call(ctx, flottaapi.FlottaTarget+"."+op, in, out)
}

// flottaClient is Flotta's signed JSON client, with the endpoint and the
// credentials every other verb uses.
func (o *Options) flottaClient(ctx context.Context) (*flottaapi.Client, error) {
	cfg, endpoint, err := o.config(ctx)
	if err != nil {
		return nil, err
	}
	if endpoint == "" {
		return nil, fmt.Errorf("no Flotta endpoint: pass --endpoint")
	}
	var hc *http.Client
	if cfg.HTTPClient != nil {
		// The SDK's HTTP client, when the configuration made one: it trusts
		// the CA bundle.
		hc = &http.Client{Transport: sdkTransport{cfg.HTTPClient}, Timeout: time.Minute}
	}
	return &flottaapi.Client{Endpoint: endpoint, Region: cfg.Region, HTTP: hc,
		Credentials: func(ctx context.Context) (flottaapi.Credentials, error) {
			creds, err := cfg.Credentials.Retrieve(ctx)
			return flottaapi.Credentials{AccessKeyID: creds.AccessKeyID, SecretAccessKey: creds.SecretAccessKey, SessionToken: creds.SessionToken}, err
		}}, nil
}

// sdkTransport sends requests with the SDK's HTTP client.
type sdkTransport struct{ c aws.HTTPClient }

func (t sdkTransport) RoundTrip(r *http.Request) (*http.Response, error) { return t.c.Do(r) }

// CallFlotta calls one of Flotta's own operations with the endpoint and
// credentials of every other verb (for commands built outside this package,
// such as `flotta lb serve`).
func (o *Options) CallFlotta(ctx context.Context, op string, in, out any) error {
	return o.callFlotta(ctx, op, in, out)
}
