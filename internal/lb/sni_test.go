package lb

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"testing"
	"time"
)

// certFor is a self-signed certificate for one DNS name.
func certFor(t *testing.T, name string) KeyPair {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: name},
		DNSNames: []string{name}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kd, _ := x509.MarshalECPrivateKey(key)
	return KeyPair{CertificatePEM: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		KeyPEM: string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kd}))}
}

// TestSNICertificates: an HTTPS listener serves the certificate that covers
// the client's server name, and its default to a client that names another
// host or none.
func TestSNICertificates(t *testing.T) {
	cfg := albConfig(fixed("ok"), nil)
	l := &cfg.LoadBalancers[0].Listeners[0]
	l.Protocol = ProtocolHTTPS
	def := certFor(t, "www.example.test")
	l.CertificatePEM, l.KeyPEM = def.CertificatePEM, def.KeyPEM
	l.SNICertificates = []KeyPair{certFor(t, "api.example.test"), certFor(t, "admin.example.test")}
	b, _ := start(t, Options{}, cfg)
	for name, want := range map[string]string{
		"api.example.test":   "api.example.test",
		"admin.example.test": "admin.example.test",
		"www.example.test":   "www.example.test",
		"other.example.test": "www.example.test",
		"":                   "www.example.test",
	} {
		conn, err := tls.Dial("tcp", b.Addr("l-1").String(), &tls.Config{ServerName: name, InsecureSkipVerify: true})
		if err != nil {
			t.Fatalf("%q: %v", name, err)
		}
		got := conn.ConnectionState().PeerCertificates[0].Subject.CommonName
		conn.Close()
		if got != want {
			t.Fatalf("server name %q got the certificate of %s, want %s", name, got, want)
		}
	}
}
