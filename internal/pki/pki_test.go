package pki

import (
	"crypto/x509"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestAuthorityIsKeptAndLeavesRenewed(t *testing.T) {
	dir, now := t.TempDir(), time.Now()
	ca, err := LoadOrCreateAuthority(dir, "test", now)
	if err != nil {
		t.Fatal(err)
	}
	again, err := LoadOrCreateAuthority(dir, "test", now)
	if err != nil || again.Fingerprint() != ca.Fingerprint() {
		t.Fatalf("a second start made another CA: %v", err)
	}
	if !ValidFingerprint(ca.Fingerprint()) {
		t.Fatalf("fingerprint %q", ca.Fingerprint())
	}
	cf, kf := filepath.Join(dir, "s.crt"), filepath.Join(dir, "s.key")
	issue := func(hosts []string, at time.Time) *x509.Certificate {
		t.Helper()
		c, err := ca.Issue(cf, kf, Leaf{Name: "s", Hosts: hosts, Server: true}, at)
		if err != nil {
			t.Fatal(err)
		}
		return c.Leaf
	}
	first := issue([]string{"127.0.0.1", "example.test"}, now)
	if same := issue([]string{"example.test"}, now); same.SerialNumber.Cmp(first.SerialNumber) != 0 {
		t.Fatal("a certificate that covers the hosts was issued again")
	}
	if other := issue([]string{"10.1.2.3"}, now); other.SerialNumber.Cmp(first.SerialNumber) == 0 {
		t.Fatal("a certificate was kept for a host it does not name")
	}
	late := issue([]string{"10.1.2.3"}, now.Add(leafLifetime-renewBefore/2))
	if late.NotAfter.Before(now.Add(leafLifetime)) {
		t.Fatal("a certificate near its end was not renewed")
	}
}

func TestVerifyPinned(t *testing.T) {
	now := time.Now()
	ca, _ := LoadOrCreateAuthority(t.TempDir(), "a", now)
	stranger, _ := LoadOrCreateAuthority(t.TempDir(), "b", now)
	leafOf := func(a *Authority) *x509.Certificate {
		dir := t.TempDir()
		c, err := a.Issue(filepath.Join(dir, "c"), filepath.Join(dir, "k"), Leaf{Name: "s", Hosts: []string{"127.0.0.1"}, Server: true}, now)
		if err != nil {
			t.Fatal(err)
		}
		return c.Leaf
	}
	leaf, forged := leafOf(ca), leafOf(stranger)
	for _, c := range []struct {
		name  string
		chain []*x509.Certificate
		pin   string
		at    time.Time
		want  string // "" for accepted
	}{
		{"the CA pinned, sent after the leaf", []*x509.Certificate{leaf, ca.Cert}, ca.Fingerprint(), now, ""},
		{"the leaf itself pinned", []*x509.Certificate{leaf}, Fingerprint(leaf), now, ""},
		{"another CA's leaf", []*x509.Certificate{forged, stranger.Cert}, ca.Fingerprint(), now, "not from the CA this agent pinned"},
		{"another leaf under the pinned CA's certificate", []*x509.Certificate{forged, ca.Cert}, ca.Fingerprint(), now, "does not verify"},
		{"the CA not sent", []*x509.Certificate{leaf}, ca.Fingerprint(), now, "not from the CA"},
		{"an expired leaf", []*x509.Certificate{leaf, ca.Cert}, ca.Fingerprint(), now.Add(2 * leafLifetime), "does not verify"},
		{"nothing sent", nil, ca.Fingerprint(), now, "no certificate"},
	} {
		err := VerifyPinned(c.chain, c.pin, c.at)
		if c.want == "" && err != nil || c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)) {
			t.Errorf("%s: got %v, want %q", c.name, err, c.want)
		}
	}
}

func TestTokenPins(t *testing.T) {
	pin := FingerprintPrefix + strings.Repeat("ab", 32)
	tok := WithPin("flt1.id.secret", pin)
	if base, got := SplitToken(tok); base != "flt1.id.secret" || got != pin {
		t.Fatalf("split %q: %q %q", tok, base, got)
	}
	if base, got := SplitToken("flt1.id.secret"); base != "flt1.id.secret" || got != "" {
		t.Fatalf("an unpinned token: %q %q", base, got)
	}
	if WithPin("t", "") != "t" {
		t.Fatal("an empty pin changed the token")
	}
	for s, ok := range map[string]bool{pin: true, "sha256:" + strings.Repeat("AB", 32): false, "sha256:abc": false, strings.Repeat("ab", 32): false} {
		if ValidFingerprint(s) != ok {
			t.Errorf("ValidFingerprint(%q) = %v", s, !ok)
		}
	}
}
