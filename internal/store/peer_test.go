package store

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/flotta-dev/flotta/internal/pki"
)

// TestPeerPortWantsACertificate: with peer TLS, the embedded member's peer
// port answers only a client with a certificate from the CA: not plain
// HTTP, and not TLS without one (a container on the host, say).
func TestPeerPortWantsACertificate(t *testing.T) {
	dir := t.TempDir()
	now := time.Now()
	ca, err := pki.LoadOrCreateAuthority(filepath.Join(dir, "tls"), "test CA", now)
	if err != nil {
		t.Fatal(err)
	}
	peerCert, peerKey := filepath.Join(dir, "tls", "peer.crt"), filepath.Join(dir, "tls", "peer.key")
	if _, err := ca.Issue(peerCert, peerKey, pki.Leaf{Name: "peer", Hosts: []string{"127.0.0.1"}, Server: true, Client: true}, now); err != nil {
		t.Fatal(err)
	}
	s, err := OpenEmbedded(context.Background(), EmbeddedOptions{Dir: filepath.Join(dir, "etcd"), PeerCertFile: peerCert, PeerKeyFile: peerKey, PeerCAFile: ca.CertFile})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if len(s.peerAddrs) != 1 {
		t.Fatalf("peer listeners: %v", s.peerAddrs)
	}
	addr := s.peerAddrs[0]
	roots := x509.NewCertPool()
	roots.AddCert(ca.Cert)
	get := func(c *http.Client, url string) error {
		resp, err := c.Get(url)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return &statusError{resp.StatusCode}
		}
		return nil
	}
	anonymous := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}}
	if err := get(anonymous, "https://"+addr+"/version"); err == nil {
		t.Fatal("the peer port answered TLS without a client certificate")
	}
	if err := get(&http.Client{Timeout: 5 * time.Second}, "http://"+addr+"/version"); err == nil {
		t.Fatal("the peer port answered plain HTTP")
	}
	pair, err := tls.LoadX509KeyPair(peerCert, peerKey)
	if err != nil {
		t.Fatal(err)
	}
	member := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, Certificates: []tls.Certificate{pair}}}}
	if err := get(member, "https://"+addr+"/version"); err != nil {
		t.Fatalf("a peer with the CA's certificate: %v", err)
	}
}

type statusError struct{ code int }

func (e *statusError) Error() string { return http.StatusText(e.code) }
