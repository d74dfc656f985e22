package pki

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
	"time"
)

// PinError is a server whose certificates do not include the pinned authority.
type PinError struct {
	Want string
	// Got are the fingerprints of the certificates the server sent.
	Got []string
}

func (e *PinError) Error() string {
	return fmt.Sprintf("the server's certificate is not from the CA this agent pinned (want %s, the server sent %s): refusing to talk to it",
		e.Want, strings.Join(e.Got, ", "))
}

// VerifyPinned accepts a server's certificate chain when one of its
// certificates has the fingerprint pin and the leaf is that certificate or
// was signed by it (through the chain's other certificates) for serving
// TLS, valid at now. Host names are not checked: the pinned authority is
// this server's own, which is what identifies it.
func VerifyPinned(chain []*x509.Certificate, pin string, now time.Time) error {
	if len(chain) == 0 {
		return errors.New("the server sent no certificate")
	}
	leaf := chain[0]
	var got []string
	for i, c := range chain {
		fp := Fingerprint(c)
		got = append(got, fp)
		if fp != pin {
			continue
		}
		if i == 0 {
			if now.Before(leaf.NotBefore) || now.After(leaf.NotAfter) {
				return fmt.Errorf("the server's certificate is not valid now (valid %s to %s)", leaf.NotBefore.Format(time.RFC3339), leaf.NotAfter.Format(time.RFC3339))
			}
			return nil
		}
		roots, between := x509.NewCertPool(), x509.NewCertPool()
		roots.AddCert(c)
		for j, other := range chain[1:] {
			if j+1 != i {
				between.AddCert(other)
			}
		}
		_, err := leaf.Verify(x509.VerifyOptions{Roots: roots, Intermediates: between, CurrentTime: now,
			KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
		if err != nil {
			return fmt.Errorf("the server's certificate does not verify against the pinned CA: %w", err)
		}
		return nil
	}
	return &PinError{Want: pin, Got: got}
}

// PinnedClientConfig is a TLS client configuration that trusts exactly the
// servers whose chains VerifyPinned accepts.
func PinnedClientConfig(pin string, now func() time.Time) *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		// The standard verification (a public root, the host name) is
		// replaced by the pin's, in VerifyConnection.
		InsecureSkipVerify: true,
		VerifyConnection: func(cs tls.ConnectionState) error {
			return VerifyPinned(cs.PeerCertificates, pin, now())
		},
	}
}

// ChainFingerprint is the pin of a certificate chain a user gave: its last
// certificate's (the authority that issued the rest, when the file holds
// one), or the leaf's when it is alone.
func ChainFingerprint(cert tls.Certificate) (string, error) {
	if len(cert.Certificate) == 0 {
		return "", errors.New("no certificate")
	}
	last, err := x509.ParseCertificate(cert.Certificate[len(cert.Certificate)-1])
	if err != nil {
		return "", err
	}
	return Fingerprint(last), nil
}

// WithPin adds a CA fingerprint to a join token, so that the agent that
// joins with it trusts only this server: TOKEN.sha256:HEX.
func WithPin(token, pin string) string {
	if pin == "" {
		return token
	}
	return token + "." + pin
}

// SplitToken separates a join token from the fingerprint WithPin added ("" if none).
func SplitToken(token string) (base, pin string) {
	if i := strings.LastIndex(token, "."+FingerprintPrefix); i >= 0 {
		return token[:i], token[i+1:]
	}
	return token, ""
}
