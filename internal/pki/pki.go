// Package pki owns Flotta's certificates: the certificate authority a server
// makes on its first start, the certificates it issues from it (the API's,
// the embedded etcd member's), and the fingerprint by which agents pin that
// authority when they join, as Swarm and kubeadm do. A client that knows the
// fingerprint trusts the server it talks to without any public CA.
package pki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Lifetimes of what a server makes. The server's certificates are renewed
// from the CA on every start when they come within renewBefore of their end.
const (
	caLifetime   = 10 * 365 * 24 * time.Hour
	leafLifetime = 365 * 24 * time.Hour
	renewBefore  = 30 * 24 * time.Hour
)

// FingerprintPrefix begins every fingerprint: the hash of a certificate's
// public key (its SubjectPublicKeyInfo), as kubeadm's --discovery-token-ca-cert-hash.
const FingerprintPrefix = "sha256:"

// Fingerprint is the pin of a certificate: FingerprintPrefix and the hex
// SHA-256 of its DER-encoded SubjectPublicKeyInfo.
func Fingerprint(cert *x509.Certificate) string {
	sum := sha256.Sum256(cert.RawSubjectPublicKeyInfo)
	return FingerprintPrefix + hex.EncodeToString(sum[:])
}

// ValidFingerprint says whether s has a fingerprint's form.
func ValidFingerprint(s string) bool {
	h, ok := strings.CutPrefix(s, FingerprintPrefix)
	if !ok || len(h) != 64 {
		return false
	}
	_, err := hex.DecodeString(h)
	return err == nil && strings.ToLower(h) == h
}

// Authority is a certificate authority with its key.
type Authority struct {
	Cert *x509.Certificate
	Key  crypto.Signer
	// CertFile is where its certificate is, PEM-encoded (for clients'
	// ca_bundle).
	CertFile string
}

// Fingerprint is the authority's pin.
func (a *Authority) Fingerprint() string { return Fingerprint(a.Cert) }

// LoadOrCreateAuthority reads the authority kept in dir (ca.crt, ca.key), or
// makes one there, its key readable by the owner only.
func LoadOrCreateAuthority(dir, name string, now time.Time) (*Authority, error) {
	certFile, keyFile := filepath.Join(dir, "ca.crt"), filepath.Join(dir, "ca.key")
	cert, key, err := readPair(certFile, keyFile)
	if err == nil {
		if !cert.IsCA {
			return nil, fmt.Errorf("%s is not a CA certificate", certFile)
		}
		return &Authority{Cert: cert, Key: key, CertFile: certFile}, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: name, Organization: []string{"Flotta"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(caLifetime),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, k.Public(), k)
	if err != nil {
		return nil, err
	}
	if err := writePair(certFile, keyFile, der, k); err != nil {
		return nil, err
	}
	cert, err = x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &Authority{Cert: cert, Key: k, CertFile: certFile}, nil
}

// Leaf says what a certificate the authority issues is for.
type Leaf struct {
	// Name is the subject's common name.
	Name string
	// Hosts are the DNS names and IP addresses it is valid for.
	Hosts []string
	// Server and Client are the uses it may be put to.
	Server, Client bool
}

// Issue returns the certificate kept at certFile/keyFile when the authority
// signed it for the same hosts and it is not near its end; otherwise it
// issues a new one and keeps it there.
func (a *Authority) Issue(certFile, keyFile string, leaf Leaf, now time.Time) (tls.Certificate, error) {
	if cert, key, err := readPair(certFile, keyFile); err == nil && a.issued(cert, leaf, now) {
		return tlsPair(cert, key), nil
	}
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: leaf.Name, Organization: []string{"Flotta"}},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(leafLifetime),
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
	if leaf.Server {
		tmpl.ExtKeyUsage = append(tmpl.ExtKeyUsage, x509.ExtKeyUsageServerAuth)
	}
	if leaf.Client {
		tmpl.ExtKeyUsage = append(tmpl.ExtKeyUsage, x509.ExtKeyUsageClientAuth)
	}
	for _, h := range leaf.Hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else if h != "" {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, a.Cert, k.Public(), a.Key)
	if err != nil {
		return tls.Certificate{}, err
	}
	if err := writePair(certFile, keyFile, der, k); err != nil {
		return tls.Certificate{}, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tlsPair(cert, k), nil
}

// issued says whether cert is one the authority made for leaf that is still
// good for a while.
func (a *Authority) issued(cert *x509.Certificate, leaf Leaf, now time.Time) bool {
	if cert.CheckSignatureFrom(a.Cert) != nil || now.Add(renewBefore).After(cert.NotAfter) {
		return false
	}
	have := map[string]bool{}
	for _, n := range cert.DNSNames {
		have[n] = true
	}
	for _, ip := range cert.IPAddresses {
		have[ip.String()] = true
	}
	for _, h := range leaf.Hosts {
		if ip := net.ParseIP(h); ip != nil {
			h = ip.String()
		}
		if h != "" && !have[h] {
			return false
		}
	}
	return true
}

func tlsPair(cert *x509.Certificate, key crypto.Signer) tls.Certificate {
	return tls.Certificate{Certificate: [][]byte{cert.Raw}, PrivateKey: key, Leaf: cert}
}

func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		panic(err) // crypto/rand does not fail
	}
	return n
}

// readPair reads a PEM certificate and its PEM key; a missing file is
// os.ErrNotExist.
func readPair(certFile, keyFile string) (*x509.Certificate, crypto.Signer, error) {
	certPEM, err := os.ReadFile(certFile)
	if err != nil {
		return nil, nil, err
	}
	keyPEM, err := os.ReadFile(keyFile)
	if err != nil {
		return nil, nil, err
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, nil, fmt.Errorf("%s and %s: %w", certFile, keyFile, err)
	}
	signer, ok := pair.PrivateKey.(crypto.Signer)
	if !ok {
		return nil, nil, fmt.Errorf("%s: a key that cannot sign", keyFile)
	}
	return pair.Leaf, signer, nil
}

func writePair(certFile, keyFile string, der []byte, key *ecdsa.PrivateKey) error {
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return err
	}
	if err := writeAtomic(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		return err
	}
	return writeAtomic(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
}

// writeAtomic replaces path with data, so that a crash leaves the old file
// or the new one, never half of one.
func writeAtomic(path string, data []byte, mode os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
