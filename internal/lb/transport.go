package lb

import (
	"crypto/tls"
	"net"
	"net/http"
	"time"
)

// transports carries requests to targets with pooled keep-alive
// connections: HTTP/1.1 to http and https targets, h2c to targets of
// groups whose protocol version is HTTP2. There is one per idle timeout.
type transports struct {
	h1, h2c *http.Transport
	fast    *h1Pool
}

func newTransports(idle time.Duration) *transports {
	mk := func() *http.Transport {
		d := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
		return &http.Transport{
			DialContext:           d.DialContext,
			MaxIdleConnsPerHost:   1024,
			IdleConnTimeout:       90 * time.Second,
			ResponseHeaderTimeout: idle,
			ExpectContinueTimeout: time.Second,
			DisableCompression:    true,
			TLSClientConfig:       &tls.Config{InsecureSkipVerify: true}, // ALB does not verify target certificates
		}
	}
	t := &transports{h1: mk(), h2c: mk(), fast: newH1Pool(idle)}
	p := new(http.Protocols)
	p.SetUnencryptedHTTP2(true)
	t.h2c.Protocols = p
	return t
}

// RoundTrip sends "h2c" URLs over the HTTP/2 transport and the rest over
// HTTP/1.1.
func (t *transports) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Scheme != "h2c" {
		return t.h1.RoundTrip(r)
	}
	r2 := *r
	u := *r.URL
	u.Scheme = "http"
	r2.URL = &u
	return t.h2c.RoundTrip(&r2)
}

func (t *transports) close() {
	t.h1.CloseIdleConnections()
	t.h2c.CloseIdleConnections()
	t.fast.close()
}
