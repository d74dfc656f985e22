package controller

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/flotta-dev/flotta/internal/state"
)

// R53ProbeTimeout bounds one probe: Route 53 gives an endpoint 4 seconds
// to connect and answer (HTTP: 4 s to connect, 2 s to answer after it; TCP:
// 10 s to connect); Flotta's checker runs from one place and keeps it short.
const R53ProbeTimeout = 4 * time.Second

const r53TimedOut = "Failure: Connection timed out. The endpoint or the internet connection is down, or requests are being blocked by your firewall. See https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/dns-failover-router-firewall-rules.html"

// ProbeR53 checks a health check's endpoint once, from this machine, as
// Route 53's checkers do: HTTP and HTTPS GET the ResourcePath of
// IPAddress:Port (with FullyQualifiedDomainName as the Host header, and as
// the TLS server name when SNI is on) or of FullyQualifiedDomainName:Port,
// and a status code 2xx or 3xx passes; HTTPS does not verify the
// certificate; TCP passes once a connection is established. reason is the
// result in Route 53's words.
func ProbeR53(ctx context.Context, hc *state.R53HealthCheck) (ok bool, reason string) {
	ctx, cancel := context.WithTimeout(ctx, R53ProbeTimeout)
	defer cancel()
	host := hc.IPAddress
	if host == "" {
		host = strings.TrimSuffix(hc.FullyQualifiedDomainName, ".")
	}
	addr := net.JoinHostPort(host, strconv.Itoa(int(hc.Port)))
	if hc.Type == "TCP" {
		var d net.Dialer
		conn, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			return false, failureReason(err)
		}
		conn.Close()
		return true, "Success: TCP connection established"
	}
	scheme := "http"
	tlsConfig := &tls.Config{InsecureSkipVerify: true} //nolint:gosec // Route 53 does not verify an endpoint's certificate either
	if hc.Type == "HTTPS" {
		scheme = "https"
		if hc.EnableSNI && hc.FullyQualifiedDomainName != "" {
			tlsConfig.ServerName = strings.TrimSuffix(hc.FullyQualifiedDomainName, ".")
		}
	}
	path := hc.ResourcePath
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, scheme+"://"+addr+path, nil)
	if err != nil {
		return false, "Failure: " + err.Error()
	}
	if hc.FullyQualifiedDomainName != "" {
		req.Host = strings.TrimSuffix(hc.FullyQualifiedDomainName, ".")
	}
	req.Header.Set("User-Agent", "Amazon-Route53-Health-Check-Service (ref flotta; report http://amzn.to/1vsZADi)")
	client := &http.Client{
		Transport: &http.Transport{TLSClientConfig: tlsConfig, DisableKeepAlives: true, Proxy: nil},
		// A redirect is an answer: 3xx passes, as in Route 53.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	resp, err := client.Do(req)
	if err != nil {
		return false, failureReason(err)
	}
	resp.Body.Close()
	text := http.StatusText(resp.StatusCode)
	if resp.StatusCode >= 200 && resp.StatusCode < 400 {
		return true, fmt.Sprintf("Success: HTTP Status Code %d, %s", resp.StatusCode, text)
	}
	return false, fmt.Sprintf("Failure: HTTP Status Code %d, %s", resp.StatusCode, text)
}

// failureReason words a failed connection as Route 53 does.
func failureReason(err error) string {
	var dnsErr *net.DNSError
	switch {
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded):
		return r53TimedOut
	case errors.As(err, &dnsErr):
		return "Failure: DNS resolution failed: " + dnsErr.Err
	case errors.Is(err, syscall.ECONNREFUSED):
		return "Failure: Connection refused. The endpoint or the internet connection is down, or requests are being blocked by your firewall."
	case errors.Is(err, syscall.ECONNRESET):
		return "Failure: The endpoint closed the connection."
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return r53TimedOut
	}
	return "Failure: " + err.Error()
}
