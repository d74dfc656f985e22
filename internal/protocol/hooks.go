// Package protocol declares what every AWS wire protocol package
// (protocol/awsjson, protocol/query, protocol/restxml) asks of the server
// around each request: who is calling, may they, are they calling too fast,
// and what happened; and how an error that is no API error is answered
// (AsAPIError). Each is declared here once; the protocol packages call them
// and the server wires them (iam, throttle, metrics).
package protocol

import (
	"context"
	"net"
	"net/http"
	"time"
)

// Authenticator verifies a request's signature for a signing name and returns
// a context that carries the caller's identity. body is the request body as
// read (empty for a GET).
type Authenticator interface {
	Authenticate(ctx context.Context, r *http.Request, body []byte, signingName string) (context.Context, error)
}

// Authorizer decides whether the authenticated caller a context carries may
// perform an IAM action ("ecs:DeleteCluster") on every one of the resources
// that on returns, with the request's condition keys; a refusal is the
// error to answer with. on is called only when a policy must decide (never
// for the account's root user), so that it costs nothing on most requests.
type Authorizer interface {
	Authorize(ctx context.Context, action string, on Resolver) error
}

// Resolver works out what a request is authorized on: resource ARNs and
// condition keys.
type Resolver func() (resources []string, conditions map[string][]string)

// Limiter decides whether an authenticated caller may make one more request
// now; when it may not, retryAfter says when it could.
type Limiter interface {
	Allow(ctx context.Context) (ok bool, retryAfter time.Duration)
}

// Observer is told about every answered request, for metrics.
type Observer interface {
	ObserveRequest(service, operation, code string, elapsed time.Duration)
}

type sourceIPKey struct{}

// WithSourceIP remembers the address a request came from (the host of
// remoteAddr), for aws:SourceIp wherever the request is decided.
func WithSourceIP(ctx context.Context, remoteAddr string) context.Context {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		host = remoteAddr
	}
	return context.WithValue(ctx, sourceIPKey{}, host)
}

// SourceIP is the address a request came from (aws:SourceIp), "" outside a
// request.
func SourceIP(ctx context.Context) string {
	ip, _ := ctx.Value(sourceIPKey{}).(string)
	return ip
}
