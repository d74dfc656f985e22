package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// The embedded member's disk budget.
//
// etcd exits (it panics, to protect its log) when a write to its disk fails,
// so the store must never let it meet a full disk. Its write-ahead log comes
// in files of walSegment bytes, each allocated in full when it starts; its
// database grows until backend quota, where etcd itself refuses writes (the
// NOSPACE alarm). The store keeps WriteReserve bytes free: below that it
// refuses writes itself, before etcd is asked to make any, and it sets the
// quota from the disk's size so that the database meets its quota first.
const (
	walSegment = 64 * 1000 * 1000
	// maxWALFiles is how many log files etcd keeps once they are behind a
	// snapshot (etcd's default is 5; 2 is enough to restart from).
	maxWALFiles = 2
	// WriteReserve is the free space below which the store refuses writes:
	// room for etcd to start two more log files.
	WriteReserve = 2 * walSegment
	// MinDiskBytes is the smallest disk a data dir may be on: the first
	// log file, the reserve, the log files kept and a small database.
	MinDiskBytes = 384 << 20
	// resumeMargin is how much more than WriteReserve must be free before
	// refused writes are taken again, so that the store does not flap.
	resumeMargin = 16 << 20
	minQuota     = 16 << 20
	maxQuota     = 8 << 30
)

// ErrNoSpace is returned by writes while the store's disk is (nearly) full or
// its database has reached its quota. Reads still work; writes work again,
// without a restart, once space is freed.
var ErrNoSpace = &noSpaceError{}

type noSpaceError struct{}

func (*noSpaceError) Error() string {
	return "store: out of disk space; writes are refused until space is freed"
}

// PublicMessage is what a client may be told.
func (*noSpaceError) PublicMessage() string {
	return "The server is out of disk space: it refuses changes until space is freed; reads still work."
}

// DiskUsage is what the store knows about its disk.
type DiskUsage struct {
	Path              string
	Total, Free       uint64
	Quota             int64
	ReadOnly, Alarmed bool
}

// diskGuard watches the disk of an embedded member.
type diskGuard struct {
	path  string
	quota int64
	log   *slog.Logger

	mu      sync.Mutex
	checked time.Time
	usage   DiskUsage

	readOnly atomic.Bool
	alarmed  atomic.Bool
	// refusals counts writes refused for lack of space, so that the tender
	// does not clear alarmed on an alarm list read before one of them.
	refusals atomic.Int64
}

// statfs reads the size and free space of the filesystem holding path.
func statfs(path string) (total, free uint64, err error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(path, &st); err != nil {
		return 0, 0, fmt.Errorf("read the size of the disk of %s: %w", path, err)
	}
	return st.Blocks * uint64(st.Bsize), st.Bavail * uint64(st.Bsize), nil
}

// checkDisk refuses a data dir whose disk cannot hold an embedded member,
// and returns the backend quota that suits its disk.
func checkDisk(dir string, firstStart bool) (quota int64, err error) {
	total, free, err := statfs(dir)
	if err != nil {
		return 0, err
	}
	if total < MinDiskBytes {
		return 0, fmt.Errorf("the data dir %s is on a disk of %d MiB: the embedded store needs one of at least %d MiB (its write-ahead log alone takes files of 64 MB)", dir, total>>20, MinDiskBytes>>20)
	}
	if need := uint64(walSegment + WriteReserve + minQuota); firstStart && free < need {
		return 0, fmt.Errorf("the data dir %s has %d MiB free: starting a new store needs at least %d MiB free", dir, free>>20, need>>20)
	}
	return quotaFor(total), nil
}

// quotaFor is the database quota for a disk of total bytes: half of what is
// left once the reserve and the log files are set aside (the other half is
// room for defragmenting, which writes a copy), within 16 MiB and 8 GiB.
func quotaFor(total uint64) int64 {
	left := int64(total) - WriteReserve - (maxWALFiles+1)*walSegment
	return min(max(left/2, minQuota), maxQuota)
}

// writable says whether writes may go to etcd now. It reads the disk at
// most every 100 ms, so that a burst of writes cannot outrun it by much.
func (g *diskGuard) writable() bool {
	if g == nil {
		return true
	}
	g.mu.Lock()
	if time.Since(g.checked) >= 100*time.Millisecond {
		g.refreshLocked()
	}
	g.mu.Unlock()
	return !g.readOnly.Load() && !g.alarmed.Load()
}

func (g *diskGuard) refreshLocked() {
	g.checked = time.Now()
	total, free, err := statfs(g.path)
	if err != nil {
		return
	}
	g.usage.Total, g.usage.Free = total, free
	switch {
	case !g.readOnly.Load() && free < WriteReserve:
		g.readOnly.Store(true)
		g.log.Error("the store's disk is nearly full: refusing writes until space is freed", "path", g.path, "free_mib", free>>20, "needed_mib", (WriteReserve+resumeMargin)>>20)
	case g.readOnly.Load() && free >= WriteReserve+resumeMargin:
		g.readOnly.Store(false)
		g.log.Warn("the store's disk has space again: taking writes", "path", g.path, "free_mib", free>>20)
	}
}

// Usage reports the disk's state for metrics.
func (g *diskGuard) Usage() DiskUsage {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.refreshLocked()
	u := g.usage
	u.Path, u.Quota, u.ReadOnly, u.Alarmed = g.path, g.quota, g.readOnly.Load(), g.alarmed.Load()
	return u
}

// DiskUsage reports the state of an embedded store's disk; ok is false for
// an external store.
func (s *Store) DiskUsage() (u DiskUsage, ok bool) {
	if s.disk == nil {
		return DiskUsage{}, false
	}
	return s.disk.Usage(), true
}

// writeErr turns etcd's refusal for lack of space into ErrNoSpace.
func (s *Store) writeErr(err error) error {
	if errors.Is(err, rpctypes.ErrNoSpace) || errors.Is(err, rpctypes.ErrGRPCNoSpace) {
		if s.disk != nil {
			s.disk.refusals.Add(1)
			s.disk.alarmed.Store(true)
		}
		return ErrNoSpace
	}
	return err
}

// tend runs while an embedded member does: it clears etcd's NOSPACE alarm
// once the database is back under its quota (compacting and defragmenting
// to get there), so that writes resume without a restart.
func (s *Store) tend(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := s.recoverFromNoSpace(ctx); err != nil && ctx.Err() == nil {
			s.disk.log.Warn("recover the store from its space alarm", "err", err)
		}
	}
}

func (s *Store) recoverFromNoSpace(ctx context.Context) error {
	refusals := s.disk.refusals.Load()
	alarms, err := s.cli.AlarmList(ctx)
	if err != nil {
		return err
	}
	var raised []*etcdserverpb.AlarmMember
	for _, a := range alarms.Alarms {
		if a.Alarm == etcdserverpb.AlarmType_NOSPACE {
			raised = append(raised, a)
		}
	}
	if len(raised) == 0 {
		if s.disk.refusals.Load() == refusals {
			s.disk.alarmed.Store(false)
		}
		return nil
	}
	s.disk.alarmed.Store(true)
	// Drop all history (watchers behind it read afresh: being able to
	// write again matters more), give the freed pages back, and see
	// whether what is live fits under the quota again.
	rev, err := s.Revision(ctx)
	if err != nil {
		return err
	}
	if err := s.Compact(ctx, rev); err != nil {
		return err
	}
	if !s.disk.writableDisk() {
		return nil // defragmenting writes a copy: not on a full disk
	}
	// (Through the member itself: its in-process client's Defragment
	// dereferences a health notifier that only its network server has.)
	be := s.member.Backend()
	if err := be.Defrag(); err != nil {
		return fmt.Errorf("defragment: %w", err)
	}
	inUse := be.SizeInUse()
	if inUse > s.disk.quota*9/10 {
		return nil // still full: data must be deleted first
	}
	for _, a := range raised {
		if _, err := s.cli.AlarmDisarm(ctx, (*clientv3.AlarmMember)(a)); err != nil {
			return fmt.Errorf("disarm the space alarm: %w", err)
		}
	}
	s.disk.alarmed.Store(false)
	s.disk.log.Warn("the store's database is under its quota again: taking writes", "in_use_mib", inUse>>20, "quota_mib", s.disk.quota>>20)
	return nil
}

// writableDisk is writable without the alarm: whether the disk has room.
func (g *diskGuard) writableDisk() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.refreshLocked()
	return !g.readOnly.Load()
}
