package sealing

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSealOpen(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "secrets.key")
	b, err := LoadOrCreate(path)
	if err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o600 || st.Size() != 32 {
		t.Fatalf("key file: %v %v", st, err)
	}
	sealed := b.Seal("hunter2", "db-password")
	if strings.Contains(sealed, "hunter2") || sealed == b.Seal("hunter2", "db-password") {
		t.Fatalf("sealing shows the value or is deterministic: %q", sealed)
	}
	if got, err := b.Open(sealed, "db-password"); err != nil || got != "hunter2" {
		t.Fatalf("open: %q %v", got, err)
	}
	if _, err := b.Open(sealed, "other-name"); err == nil {
		t.Fatal("a value opened under another name")
	}
	again, err := LoadOrCreate(path)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := again.Open(sealed, "db-password"); err != nil || got != "hunter2" {
		t.Fatalf("the key read back does not open it: %v", err)
	}
	other, _ := LoadOrCreate(filepath.Join(t.TempDir(), "k"))
	if _, err := other.Open(sealed, "db-password"); err == nil {
		t.Fatal("another key opened it")
	}
	tampered := sealed[:len(sealed)-2] + "AA"
	if _, err := b.Open(tampered, "db-password"); err == nil {
		t.Fatal("a tampered value opened")
	}
	if _, err := b.Open("hunter2", "db-password"); err == nil {
		t.Fatal("a plain value opened")
	}
	os.WriteFile(filepath.Join(dir, "short"), []byte("abc"), 0o600)
	if _, err := LoadOrCreate(filepath.Join(dir, "short")); err == nil {
		t.Fatal("a 3-byte key was taken")
	}
}
