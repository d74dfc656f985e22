package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"
)

// mountTmpfs mounts a tmpfs of size bytes for the test, or skips it where
// this process may not mount (it needs root or CAP_SYS_ADMIN).
func mountTmpfs(t *testing.T, size int64) string {
	t.Helper()
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, fmt.Sprintf("size=%d", size)); err != nil {
		t.Skipf("cannot mount a tmpfs of %d MiB here (%v): this test needs root or CAP_SYS_ADMIN", size>>20, err)
	}
	t.Cleanup(func() { syscall.Unmount(dir, syscall.MNT_DETACH) })
	return dir
}

func TestTooSmallADiskIsRefusedClearly(t *testing.T) {
	dir := mountTmpfs(t, 20<<20)
	_, err := OpenEmbedded(context.Background(), EmbeddedOptions{Dir: dir + "/etcd"})
	if err == nil || !strings.Contains(err.Error(), "is on a disk of 20 MiB") || !strings.Contains(err.Error(), "at least 384 MiB") {
		t.Fatalf("opening a store on 20 MiB: %v", err)
	}
}

func TestQuotaFollowsTheDisk(t *testing.T) {
	for _, c := range []struct {
		total uint64
		want  int64
	}{
		{MinDiskBytes, (MinDiskBytes - WriteReserve - 3*walSegment) / 2},
		{1 << 30, (1<<30 - WriteReserve - 3*walSegment) / 2},
		{1 << 40, 8 << 30},
		{100 << 20, 16 << 20},
	} {
		if got := quotaFor(c.total); got != c.want {
			t.Errorf("quota for a disk of %d MiB: %d MiB, want %d MiB", c.total>>20, got>>20, c.want>>20)
		}
	}
}

// TestSpaceAlarmClearsItself fills a database up to a small quota: writes
// are refused with ErrNoSpace, reads work, and once keys are deleted the
// store compacts, defragments and takes writes again by itself.
func TestSpaceAlarmClearsItself(t *testing.T) {
	ctx := context.Background()
	s, err := OpenEmbedded(ctx, EmbeddedOptions{Dir: t.TempDir(), QuotaBytes: 4 << 20, TendEvery: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	value := make([]byte, 64<<10)
	var written []string
	for i := 0; ; i++ {
		key := fmt.Sprintf("/fill/%05d", i)
		_, err := s.Commit(ctx, nil, []Op{Put(key, value)})
		if errors.Is(err, ErrNoSpace) {
			break
		}
		if err != nil {
			t.Fatalf("write %d: %v", i, err)
		}
		written = append(written, key)
		if i > 1000 {
			t.Fatal("a 4 MiB quota took 64 MiB of writes")
		}
	}
	if kv, err := s.Get(ctx, written[0]); err != nil || len(kv.Value) != len(value) {
		t.Fatalf("read while out of space: %v", err)
	}
	if u, _ := s.DiskUsage(); !u.Alarmed {
		t.Fatalf("usage %+v does not show the alarm", u)
	}
	// Deleting is what frees space: deletes go through under the alarm.
	for _, k := range written {
		if _, err := s.Commit(ctx, nil, []Op{Del(k)}); err != nil {
			t.Fatalf("delete under the alarm: %v", err)
		}
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		_, err := s.Commit(ctx, nil, []Op{Put("/after", []byte("x"))})
		if err == nil {
			break
		}
		if !errors.Is(err, ErrNoSpace) || time.Now().After(deadline) {
			t.Fatalf("writes did not resume after space was freed: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
