package agent

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/flotta-dev/flotta/internal/flottaapi"
	"github.com/flotta-dev/flotta/internal/pki"
)

// Targets of the operations the agent calls.
const (
	ecsTarget    = flottaapi.ECSTarget + "."
	flottaTarget = flottaapi.FlottaTarget + "."
)

// client calls the Flotta server with the agent's own credentials.
type client struct{ c flottaapi.Client }

// newClient makes a client that signs with keyID, or sends unsigned
// requests when keyID is "" (before the agent has joined). An https server
// is trusted only if its certificates include the CA with fingerprint pin.
func newClient(endpoint, pin, region, keyID, secret string, now func() time.Time) (*client, error) {
	c := flottaapi.Client{Endpoint: endpoint, Region: region, Now: now}
	if keyID != "" {
		c.Credentials = flottaapi.Static(flottaapi.Credentials{AccessKeyID: keyID, SecretAccessKey: secret})
	}
	u, err := url.Parse(endpoint)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("server URL %q: want http://HOST:PORT or https://HOST:PORT", endpoint)
	}
	switch u.Scheme {
	case "https":
		if pin == "" {
			return nil, fmt.Errorf("no CA fingerprint to trust %s by: join with a token from `flotta token create` (it carries the fingerprint), or pass --ca-fingerprint", endpoint)
		}
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.TLSClientConfig = pki.PinnedClientConfig(pin, time.Now)
		c.HTTP = &http.Client{Transport: t, Timeout: time.Minute}
	case "http":
		if pin != "" {
			return nil, fmt.Errorf("this agent trusts only a server with CA %s, but %s is plain HTTP: use https://", pin, endpoint)
		}
	default:
		return nil, fmt.Errorf("server URL %q: want http:// or https://", endpoint)
	}
	return &client{c: c}, nil
}

// call sends one JSON 1.1 request.
func (c *client) call(ctx context.Context, target string, in, out any) error {
	return c.c.Call(ctx, target, in, out)
}
