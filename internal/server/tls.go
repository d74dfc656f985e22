package server

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"

	"github.com/flotta-dev/flotta/internal/pki"
)

// security is what the server's TLS setup decided.
type security struct {
	// cert is the API's certificate chain; nil serves plain HTTP.
	cert *tls.Certificate
	// pin is the fingerprint agents pin ("" with plain HTTP).
	pin string
	// caBundle is the file that clients should trust ("" when a public CA
	// or plain HTTP needs none).
	caBundle string
	// peer is the embedded etcd member's peer certificate files and CA.
	peerCert, peerKey, peerCA string
}

// loopback says whether a listen host is reachable only from this machine.
func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// setupTLS makes (or reads) the data dir's certificate authority and the
// certificates issued from it, and decides whether the API serves HTTPS: it
// does when it listens beyond loopback, unless InsecureHTTP says otherwise,
// and always with a certificate of the user's or with TLS set.
func (s *Server) setupTLS() error {
	cfg := s.cfg
	host, _, err := net.SplitHostPort(cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen address %q: %w", cfg.Listen, err)
	}
	if (cfg.TLSCertFile == "") != (cfg.TLSKeyFile == "") {
		return errors.New("--tls-cert and --tls-key go together")
	}
	if cfg.InsecureHTTP && (cfg.TLSCertFile != "" || cfg.TLS) {
		return errors.New("--insecure-http serves plain HTTP: it cannot be given with --tls or --tls-cert")
	}
	dir := filepath.Join(cfg.DataDir, "tls")
	ca, err := pki.LoadOrCreateAuthority(dir, "Flotta CA", cfg.Now())
	if err != nil {
		return fmt.Errorf("certificate authority in %s: %w", dir, err)
	}
	sec := &s.sec
	if len(cfg.EtcdEndpoints) == 0 {
		// The embedded member's peer port answers only those with a
		// certificate from this CA: containers on the host cannot speak raft to it.
		sec.peerCert, sec.peerKey, sec.peerCA = filepath.Join(dir, "etcd-peer.crt"), filepath.Join(dir, "etcd-peer.key"), ca.CertFile
		if _, err := ca.Issue(sec.peerCert, sec.peerKey, pki.Leaf{Name: "flotta etcd peer", Hosts: []string{"127.0.0.1", "localhost"}, Server: true, Client: true}, cfg.Now()); err != nil {
			return fmt.Errorf("etcd peer certificate: %w", err)
		}
	}
	serveTLS := cfg.TLS || cfg.TLSCertFile != "" || !cfg.InsecureHTTP && !loopback(host)
	if !serveTLS {
		return nil
	}
	if cfg.TLSCertFile != "" {
		cert, err := tls.LoadX509KeyPair(cfg.TLSCertFile, cfg.TLSKeyFile)
		if err != nil {
			return fmt.Errorf("--tls-cert/--tls-key: %w", err)
		}
		if sec.pin, err = pki.ChainFingerprint(cert); err != nil {
			return fmt.Errorf("--tls-cert: %w", err)
		}
		if last, err := x509.ParseCertificate(cert.Certificate[len(cert.Certificate)-1]); err == nil && last.IsCA {
			sec.caBundle = cfg.TLSCertFile
		}
		sec.cert = &cert
		return nil
	}
	hosts := append(serverHosts(host), cfg.TLSHosts...)
	cert, err := ca.Issue(filepath.Join(dir, "server.crt"), filepath.Join(dir, "server.key"),
		pki.Leaf{Name: "flotta server", Hosts: hosts, Server: true}, cfg.Now())
	if err != nil {
		return fmt.Errorf("server certificate: %w", err)
	}
	// Send the CA too: agents find the certificate they pinned in the chain.
	cert.Certificate = append(cert.Certificate, ca.Cert.Raw)
	sec.cert, sec.pin, sec.caBundle = &cert, ca.Fingerprint(), ca.CertFile
	return nil
}

// serverHosts are the names the server's own certificate is for: the listen
// host, or every address of this machine when it listens on all of them,
// its host name, and loopback.
func serverHosts(host string) []string {
	out := []string{"localhost", "127.0.0.1", "::1"}
	if name, err := os.Hostname(); err == nil {
		out = append(out, name)
	}
	ip := net.ParseIP(host)
	if host != "" && (ip == nil || !ip.IsUnspecified()) {
		return append(out, host)
	}
	addrs, _ := net.InterfaceAddrs()
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok {
			out = append(out, n.IP.String())
		}
	}
	return out
}

// TLSFingerprint is the fingerprint agents pin to trust this server, as its
// join tokens carry it ("" when the API serves plain HTTP).
func (s *Server) TLSFingerprint() string { return s.sec.pin }

// CABundle is the certificate file clients should trust for this server ("" if none is needed).
func (s *Server) CABundle() string { return s.sec.caBundle }

// endpointHost is the host clients should dial: the listen address, or
// loopback when the server listens on every address.
func (s *Server) endpointHost() string {
	host, port, err := net.SplitHostPort(s.listener.Addr().String())
	if err != nil {
		return s.listener.Addr().String()
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}

// clientConfigLines are the lines of the shared config file that make the
// SDKs and the AWS CLI trust this server.
func (s *Server) clientConfigLines() string {
	var b strings.Builder
	if s.sec.caBundle != "" {
		abs, err := filepath.Abs(s.sec.caBundle)
		if err != nil {
			abs = s.sec.caBundle
		}
		fmt.Fprintf(&b, "ca_bundle = %s\n", abs)
	}
	if s.sec.pin != "" {
		// Not a key the SDKs read: for people, and for flotta agent --ca-fingerprint.
		fmt.Fprintf(&b, "# flotta_ca_fingerprint = %s\n", s.sec.pin)
	}
	if s.dns != nil {
		// Not a key the SDKs read: where flotta dns query asks.
		fmt.Fprintf(&b, "# flotta_dns = %s\n", s.dns.Addr())
	}
	return b.String()
}
