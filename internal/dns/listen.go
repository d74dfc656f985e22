package dns

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"strconv"
	"time"
)

const (
	tcpIdleTimeout = 10 * time.Second // a TCP connection with no query for this long is closed
	tcpMaxConns    = 1000             // TCP connections served at once; more are closed at once
)

// listen binds UDP and then TCP on the same port. With port 0 it retries a few
// times when the port the UDP socket got is taken on TCP.
func (s *Server) listen(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("dns addr %q: %w", addr, err)
	}
	for try := 0; ; try++ {
		ua, err := net.ResolveUDPAddr("udp", addr)
		if err != nil {
			return fmt.Errorf("dns addr %q: %w", addr, err)
		}
		u, err := net.ListenUDP("udp", ua)
		if err != nil {
			return fmt.Errorf("dns listen udp %s: %w", addr, err)
		}
		bound := strconv.Itoa(u.LocalAddr().(*net.UDPAddr).Port)
		t, err := net.Listen("tcp", net.JoinHostPort(host, bound))
		if err != nil {
			u.Close()
			if port == "0" && try < 10 {
				continue
			}
			return fmt.Errorf("dns listen tcp %s: %w", net.JoinHostPort(host, bound), err)
		}
		s.udp, s.tcp = u, t
		return nil
	}
}

// serve starts the UDP readers and the TCP accept loop.
func (s *Server) serve() {
	n := max(2, runtime.GOMAXPROCS(0))
	for range n {
		s.wg.Add(1)
		go s.serveUDP()
	}
	s.wg.Add(1)
	go s.acceptTCP()
}

// serveUDP reads queries and answers them, one at a time; forwarded queries
// are answered from their own goroutine so that a slow upstream never stalls
// the reader.
func (s *Server) serveUDP() {
	defer s.wg.Done()
	in := make([]byte, 65535)
	out := make([]byte, 65535)
	for {
		n, from, err := s.udp.ReadFromUDPAddrPort(in)
		if err != nil {
			if s.closed.Load() || errors.Is(err, net.ErrClosed) {
				return
			}
			s.log.Warn("dns udp read", "err", err)
			continue
		}
		resp, fwd := s.handle(in[:n], false, out)
		if fwd != nil {
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				if b := s.forward(fwd, false); b != nil {
					s.udp.WriteToUDPAddrPort(b, from)
				}
			}()
			continue
		}
		if resp != nil {
			if _, err := s.udp.WriteToUDPAddrPort(resp, from); err != nil && !s.closed.Load() {
				s.log.Debug("dns udp write", "to", from, "err", err)
			}
		}
	}
}

// acceptTCP accepts connections and serves each on its own goroutine.
func (s *Server) acceptTCP() {
	defer s.wg.Done()
	for {
		c, err := s.tcp.Accept()
		if err != nil {
			if s.closed.Load() || errors.Is(err, net.ErrClosed) {
				return
			}
			s.log.Warn("dns tcp accept", "err", err)
			time.Sleep(10 * time.Millisecond) // e.g. out of file descriptors: do not spin
			continue
		}
		s.connMu.Lock()
		if len(s.conns) >= tcpMaxConns || s.closed.Load() {
			s.connMu.Unlock()
			c.Close()
			continue
		}
		s.conns[c] = struct{}{}
		s.connMu.Unlock()
		s.wg.Add(1)
		go s.serveTCP(c)
	}
}

// serveTCP answers length-prefixed queries on one connection until the client
// closes it, it stays idle too long, or a message is not readable.
func (s *Server) serveTCP(c net.Conn) {
	defer s.wg.Done()
	defer func() {
		c.Close()
		s.connMu.Lock()
		delete(s.conns, c)
		s.connMu.Unlock()
	}()
	in := make([]byte, 65535)
	out := make([]byte, 2+65535)
	for {
		c.SetDeadline(time.Now().Add(tcpIdleTimeout))
		var l [2]byte
		if _, err := io.ReadFull(c, l[:]); err != nil {
			return
		}
		n := int(binary.BigEndian.Uint16(l[:]))
		if _, err := io.ReadFull(c, in[:n]); err != nil {
			return
		}
		resp, fwd := s.handle(in[:n], true, out[2:])
		if fwd != nil {
			resp = s.forward(fwd, true)
		}
		if resp == nil {
			continue
		}
		var msg []byte
		if len(resp) > 0 && &resp[0] == &out[2] {
			msg = out[:2+len(resp)]
		} else {
			msg = append(make([]byte, 2, 2+len(resp)), resp...)
		}
		binary.BigEndian.PutUint16(msg, uint16(len(resp)))
		if _, err := c.Write(msg); err != nil {
			return
		}
	}
}
