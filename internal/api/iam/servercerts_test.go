package iam_test

import (
	"bytes"
	"context"
	"testing"

	iamapi "github.com/flotta-dev/flotta/internal/api/iam"
	"github.com/flotta-dev/flotta/internal/sealing"
	"github.com/flotta-dev/flotta/internal/state"
)

// TestListenerCertificatePEMsOpensTheSealedKey: what the data plane gets
// for an HTTPS listener is the certificate with its chain and the key in
// the clear, the default certificate first; a key sealed under another
// certificate's ARN does not open.
func TestListenerCertificatePEMsOpensTheSealedKey(t *testing.T) {
	ctx := context.Background()
	st, err := state.Open(ctx, state.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	box, err := sealing.New(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	const listener = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/web/0123456789abcdef/2222222222222222"
	a, b := "arn:aws:iam::123456789012:server-certificate/a", "arn:aws:iam::123456789012:server-certificate/b"
	for name, arn := range map[string]string{"a": a, "b": b} {
		if err := st.CreateServerCertificate(ctx, state.ServerCertificate{Name: name, Arn: arn, Path: "/", CertificateBody: "CERT " + name,
			CertificateChain: "CHAIN " + name, SealedPrivateKey: box.Seal("KEY "+name, arn)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := st.UpdateELB(ctx, func(tx *state.ELBTxn) error {
		tx.Config.Listeners[listener] = &state.ELBListener{Arn: listener, Protocol: "HTTPS", Port: 443,
			Certificates: []state.ELBCertificate{{Arn: a}, {Arn: b, IsDefault: true}}}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	pems, err := iamapi.ListenerCertificatePEMs(ctx, st, box, listener)
	if err != nil {
		t.Fatal(err)
	}
	if len(pems) != 2 || pems[0].Arn != b || pems[0].Key != "KEY b" || pems[0].CertChain != "CERT b\nCHAIN b\n" || pems[1].Key != "KEY a" {
		t.Fatalf("certificates for the data plane: %+v", pems)
	}
	if err := st.CreateServerCertificate(ctx, state.ServerCertificate{Name: "moved", Arn: a + "2", SealedPrivateKey: box.Seal("KEY", a)}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.UpdateELB(ctx, func(tx *state.ELBTxn) error {
		tx.Config.Listeners[listener].Certificates = []state.ELBCertificate{{Arn: a + "2", IsDefault: true}}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := iamapi.ListenerCertificatePEMs(ctx, st, box, listener); err == nil {
		t.Fatal("a key sealed under another certificate's ARN opened")
	}
}
