package dns

import (
	"errors"
	"time"

	mdns "github.com/miekg/dns"
)

const (
	forwardTimeout = 2 * time.Second // bounds one exchange with the upstream server
	maxForwards    = 256             // forwarded queries in flight; more get SERVFAIL at once
)

var errTooManyForwards = errors.New("too many forwarded queries in flight")

// forward sends f upstream (over UDP, then over TCP when the answer was
// truncated and the client asked over TCP) and returns the packed answer for
// the client, SERVFAIL when the upstream did not answer.
func (s *Server) forward(f *forwardReq, tcp bool) []byte {
	id := f.msg.Id
	var r *mdns.Msg
	var err error
	select {
	case s.forwards <- struct{}{}:
		c := &mdns.Client{Net: "udp", Timeout: forwardTimeout, UDPSize: ourMaxUDP}
		r, _, err = c.Exchange(f.msg, s.opts.Upstream)
		if err == nil && r.Truncated && tcp {
			c.Net = "tcp"
			r, _, err = c.Exchange(f.msg, s.opts.Upstream)
		}
		<-s.forwards
	default:
		err = errTooManyForwards
	}
	if err != nil {
		s.log.Debug("dns forward", "upstream", s.opts.Upstream, "err", err)
		r = new(mdns.Msg)
		r.SetRcode(f.msg, mdns.RcodeServerFailure)
		if opt := f.msg.IsEdns0(); opt != nil {
			r.SetEdns0(ourMaxUDP, opt.Do())
		}
	}
	r.Id = id
	return s.finish(r, f.limit, make([]byte, f.limit+1), f.qtype, f.start)
}
