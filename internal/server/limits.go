package server

import (
	"context"
	"fmt"
	"syscall"
	"time"

	"github.com/flotta-dev/flotta/internal/connlimit"
	"github.com/flotta-dev/flotta/internal/iam"
	"github.com/flotta-dev/flotta/internal/metrics"
	"github.com/flotta-dev/flotta/internal/state"
	"github.com/flotta-dev/flotta/internal/throttle"
)

// What one server allows its clients by default.
const (
	// DefaultMaxConnections caps API connections when the descriptor limit
	// allows more (about 20 kB of memory each at rest).
	DefaultMaxConnections = 32768
	// DescriptorReserve is kept free of API connections for the embedded
	// store (its WAL, snapshots and database), the server's own files and
	// a margin: a client load can never take the store's descriptors.
	DescriptorReserve = 256
	// DefaultRequestRate and DefaultRequestBurst are each principal's
	// sustained requests per second and burst.
	DefaultRequestRate  = 5000
	DefaultRequestBurst = 10000
)

// HTTP timeouts of the API.
const (
	// readHeaderTimeout bounds a request's header; readTimeout its header
	// and body (1 MiB at 35 kB/s).
	readHeaderTimeout = 10 * time.Second
	readTimeout       = 30 * time.Second
	// writeTimeout bounds handling and answering, above the longest agent
	// poll (10 s).
	writeTimeout = 60 * time.Second
	// idleTimeout closes keep-alive connections left unused, after the AWS
	// SDKs' own 90 s so that a client closes first.
	idleTimeout    = 120 * time.Second
	maxHeaderBytes = 64 << 10
)

// connectionLimit is how many API connections the process can afford: the
// configured number (default DefaultMaxConnections) within the open-file
// limit less DescriptorReserve.
func connectionLimit(configured int) (int, error) {
	if configured <= 0 {
		configured = DefaultMaxConnections
	}
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return configured, nil
	}
	avail := int(min(lim.Cur, 1<<30)) - DescriptorReserve
	if avail < 64 {
		return 0, fmt.Errorf("the open-file limit is %d: flotta server needs at least %d (%d for its store and files, 64 or more for API connections); raise it with `ulimit -n` or LimitNOFILE", lim.Cur, DescriptorReserve+64, DescriptorReserve)
	}
	return min(configured, avail), nil
}

// newThrottle makes the per-principal request throttle; a negative rate
// turns it off. It runs on the wall clock even when the server's is
// simulated: rates are about real load.
func newThrottle(rate float64, burst int) *throttle.Throttle {
	if rate == 0 {
		rate = DefaultRequestRate
	}
	if burst <= 0 {
		burst = max(DefaultRequestBurst, int(rate))
	}
	if rate < 0 {
		rate = 0
	}
	return throttle.New(throttle.Limits{Rate: rate, Burst: burst}, func(ctx context.Context) string {
		p, _ := iam.PrincipalFrom(ctx)
		return p.ARN
	}, nil)
}

// observeDisk publishes the embedded store's disk, so that a full one is
// seen before writes are refused, and while they are.
func observeDisk(m *metrics.Metrics, st *state.State) {
	if _, ok := st.DiskUsage(); !ok {
		return
	}
	usage := func(f func(state.DiskUsage) float64) func() float64 {
		return func() float64 { u, _ := st.DiskUsage(); return f(u) }
	}
	m.GaugeFunc("flotta_store_disk_free_bytes", "Free space on the embedded store's disk.", usage(func(u state.DiskUsage) float64 { return float64(u.Free) }))
	m.GaugeFunc("flotta_store_disk_total_bytes", "Size of the embedded store's disk.", usage(func(u state.DiskUsage) float64 { return float64(u.Total) }))
	m.GaugeFunc("flotta_store_quota_bytes", "The embedded store's database quota, set from its disk's size.", usage(func(u state.DiskUsage) float64 { return float64(u.Quota) }))
	m.GaugeFunc("flotta_store_read_only", "1 while the store refuses writes for lack of space (disk nearly full or database at its quota).", usage(func(u state.DiskUsage) float64 {
		if u.ReadOnly || u.Alarmed {
			return 1
		}
		return 0
	}))
}

func observeConnections(m *metrics.Metrics, l *connlimit.Limiter) {
	m.GaugeFunc("flotta_api_connections", "API connections open.", func() float64 { return float64(l.Stats().Open) })
	m.GaugeFunc("flotta_api_connections_max", "The most API connections the server holds at once.", func() float64 { return float64(l.Max) })
	m.CounterFunc("flotta_api_connections_evicted_total", "Connections closed to make room for new ones (slow or idle ones).", func() float64 { return float64(l.Stats().Evicted) })
	m.CounterFunc("flotta_api_connections_refused_total", "Connections refused because every held one was being answered.", func() float64 { return float64(l.Stats().Refused) })
}
