package agent

import (
	"context"
	"time"

	"github.com/flotta-dev/flotta/internal/flottaapi"
)

// Targets of the operations the agent calls.
const (
	ecsTarget    = flottaapi.ECSTarget + "."
	flottaTarget = flottaapi.FlottaTarget + "."
)

// client calls the Flotta server with the agent's own credentials.
type client struct{ c flottaapi.Client }

// newClient makes a client that signs with keyID, or sends unsigned
// requests when keyID is "" (before the agent has joined).
func newClient(endpoint, region, keyID, secret string, now func() time.Time) *client {
	c := flottaapi.Client{Endpoint: endpoint, Region: region, Now: now}
	if keyID != "" {
		c.Credentials = flottaapi.Static(flottaapi.Credentials{AccessKeyID: keyID, SecretAccessKey: secret})
	}
	return &client{c: c}
}

// call sends one JSON 1.1 request.
func (c *client) call(ctx context.Context, target string, in, out any) error {
	return c.c.Call(ctx, target, in, out)
}
