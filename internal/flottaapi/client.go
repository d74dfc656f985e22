package flottaapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/flotta-dev/flotta/internal/model"
	"github.com/flotta-dev/flotta/internal/sigv4"
)

// Credentials sign a client's requests.
type Credentials struct {
	AccessKeyID     string
	SecretAccessKey string
	// SessionToken is set for temporary credentials.
	SessionToken string
}

// Client calls AWS JSON 1.1 operations of a Flotta server, signed with SigV4
// for the service "ecs" (which every one of them is signed as). It is the
// one client the agent, the CLI and the tests share for what the AWS SDK
// cannot send: Flotta's own operations, and hand-made bodies.
type Client struct {
	// Endpoint is the server's base URL.
	Endpoint string
	Region   string
	// Credentials returns what to sign with; nil sends requests unsigned
	// (an agent presenting a join token has no credentials yet).
	Credentials func(ctx context.Context) (Credentials, error)
	// HTTP defaults to a client with a 60 s timeout.
	HTTP *http.Client
	// Now is the signing clock; nil means time.Now.
	Now func() time.Time
}

// Reply is a raw answer.
type Reply struct {
	Status int
	Header http.Header
	Body   []byte
}

// Err is the answer as an error: nil for a 200, else the *model.Error the
// body describes (its __type, message and the status).
func (r *Reply) Err() error {
	if r.Status == http.StatusOK {
		return nil
	}
	var e struct {
		Type    string `json:"__type"`
		Message string `json:"message"`
	}
	json.Unmarshal(r.Body, &e)
	if e.Type == "" {
		e.Type = r.Header.Get("X-Amzn-ErrorType")
	}
	if e.Type == "" {
		e.Type, e.Message = "HTTP"+fmt.Sprint(r.Status), strings.TrimSpace(string(r.Body))
	}
	return &model.Error{Code: e.Type, Message: e.Message, Status: r.Status}
}

// Call sends in as the JSON body of the operation target ("FlottaV1.Poll",
// say) and decodes the answer into out (unless out is nil). A refusal comes
// back as a *model.Error.
func (c *Client) Call(ctx context.Context, target string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return fmt.Errorf("encode %s: %w", target, err)
	}
	r, err := c.Send(ctx, target, body, nil)
	if err != nil {
		return err
	}
	if err := r.Err(); err != nil {
		return err
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(r.Body, out); err != nil {
		return fmt.Errorf("decode the answer to %s: %w", target, err)
	}
	return nil
}

// Send posts body as it is to the operation target, signed, and returns the
// raw answer; edit, when given, may change the request after signing (for
// tests of what the server refuses).
func (c *Client) Send(ctx context.Context, target string, body []byte, edit func(*http.Request)) (*Reply, error) {
	req, err := http.NewRequestWithContext(ctx, "POST", strings.TrimRight(c.Endpoint, "/")+"/", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", ContentType)
	req.Header.Set("X-Amz-Target", target)
	if c.Credentials != nil {
		creds, err := c.Credentials(ctx)
		if err != nil {
			return nil, fmt.Errorf("credentials: %w", err)
		}
		now := time.Now
		if c.Now != nil {
			now = c.Now
		}
		sigv4.Sign(req, body, creds.AccessKeyID, sigv4.Secret{SecretAccessKey: creds.SecretAccessKey, SessionToken: creds.SessionToken},
			c.Region, "ecs", now())
	}
	if edit != nil {
		edit(req)
	}
	hc := c.HTTP
	if hc == nil {
		hc = defaultHTTP
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	return &Reply{Status: resp.StatusCode, Header: resp.Header, Body: data}, nil
}

var defaultHTTP = &http.Client{Timeout: 60 * time.Second}

// Static returns credentials that never change.
func Static(c Credentials) func(context.Context) (Credentials, error) {
	return func(context.Context) (Credentials, error) { return c, nil }
}
