package dns

import (
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// Options configure a Server.
type Options struct {
	// Addr is the host:port served on UDP and TCP both. Port 0 picks a free
	// port (tests); empty means ":53".
	Addr string
	// Upstream is an optional host:port to which queries for names outside our
	// zones are forwarded. Empty means such queries are REFUSED.
	Upstream string
	// Logger receives the server's logs; nil discards them.
	Logger *slog.Logger
	// Registerer, when set, receives the query counter (by rcode and type) and
	// the latency histogram.
	Registerer prometheus.Registerer
	// Rand returns a random int in [0,n) for routing decisions; nil uses
	// math/rand/v2. Tests inject it to make routing repeatable.
	Rand func(n int) int
}

// Server is a running authoritative DNS server. Its methods are safe for
// concurrent use.
type Server struct {
	opts    Options
	log     *slog.Logger
	intn    func(int) int
	metrics *metrics

	table    atomic.Pointer[table]
	forwards chan struct{} // a slot per forwarded query in flight
	mu       sync.Mutex    // serialises zone writers; readers never take it

	udp    *net.UDPConn
	tcp    net.Listener
	wg     sync.WaitGroup
	closed atomic.Bool
	connMu sync.Mutex
	conns  map[net.Conn]struct{}
}

// New binds Options.Addr on UDP and TCP (the same port) and starts serving.
// The server starts with no zones.
func New(o Options) (*Server, error) {
	s, err := newServer(o)
	if err != nil {
		return nil, err
	}
	if o.Addr == "" {
		o.Addr = ":53"
	}
	if err := s.listen(o.Addr); err != nil {
		return nil, err
	}
	s.serve()
	s.log.Info("dns server listening", "addr", s.Addr(), "upstream", o.Upstream)
	return s, nil
}

// newServer makes a Server that answers handle calls but has no sockets yet.
func newServer(o Options) (*Server, error) {
	s := &Server{opts: o, log: o.Logger, intn: o.Rand, conns: map[net.Conn]struct{}{},
		forwards: make(chan struct{}, maxForwards)}
	if s.log == nil {
		s.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if s.intn == nil {
		s.intn = rand.IntN
	}
	if o.Registerer != nil {
		m, err := newMetrics(o.Registerer)
		if err != nil {
			return nil, err
		}
		s.metrics = m
	}
	s.table.Store(&table{zones: map[string]*zoneIndex{}})
	return s, nil
}

// Addr returns the bound host:port (the same for UDP and TCP).
func (s *Server) Addr() string {
	return s.udp.LocalAddr().String()
}

// SetZone adds the zone z, or replaces the zone of the same name, atomically:
// queries see either the old zone or the new one whole. When z is invalid it
// returns an error that names the faulty record set, and nothing changes.
// Concurrent calls for one zone leave whichever finished last: a caller that
// follows a stream of changes makes its calls one after another.
func (s *Server) SetZone(z Zone) error {
	zi, err := buildZone(z)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.table.Load()
	next := make(map[string]*zoneIndex, len(old.zones)+1)
	for k, v := range old.zones {
		next[k] = v
	}
	next[zi.origin] = zi
	s.table.Store(&table{zones: next})
	s.log.Debug("dns zone set", "zone", zi.origin, "recordSets", zi.count)
	return nil
}

// DeleteZone stops serving the zone named name (any case, trailing dot
// optional). Deleting a zone that is not served does nothing.
func (s *Server) DeleteZone(name string) {
	origin := canonical(name)
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.table.Load()
	if _, ok := old.zones[origin]; !ok {
		return
	}
	next := make(map[string]*zoneIndex, len(old.zones))
	for k, v := range old.zones {
		if k != origin {
			next[k] = v
		}
	}
	s.table.Store(&table{zones: next})
	s.log.Debug("dns zone deleted", "zone", origin)
}

// Zones returns the names of the served zones, canonical (lower-case, fully
// qualified) and sorted.
func (s *Server) Zones() []string {
	t := s.table.Load()
	out := make([]string, 0, len(t.zones))
	for k := range t.zones {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Close stops serving: it closes the sockets and every TCP connection and
// waits for the serving goroutines to end.
func (s *Server) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	err1 := s.udp.Close()
	err2 := s.tcp.Close()
	s.connMu.Lock()
	for c := range s.conns {
		c.Close()
	}
	s.connMu.Unlock()
	s.wg.Wait()
	if err1 != nil {
		return fmt.Errorf("close udp: %w", err1)
	}
	if err2 != nil {
		return fmt.Errorf("close tcp: %w", err2)
	}
	return nil
}
