package dns

import (
	"encoding/binary"
	"strings"
	"time"

	mdns "github.com/miekg/dns"
)

// EDNS0 policy. A client that sends an OPT record may receive UDP answers up
// to the size it advertises, but never more than ourMaxUDP (the size that
// avoids IP fragmentation, DNS Flag Day 2020) and never less than 512. A
// client without EDNS0 gets at most 512 bytes over UDP. Over TCP an answer may
// use the whole 65,535 bytes.
const (
	ourMaxUDP = 1232
	minUDP    = mdns.MinMsgSize // 512
	maxTCP    = mdns.MaxMsgSize // 65535
)

// udpLimit is the largest UDP answer allowed for a query with the given OPT
// record (nil when the query has none).
func udpLimit(opt *mdns.OPT) int {
	if opt == nil {
		return minUDP
	}
	return min(max(int(opt.UDPSize()), minUDP), ourMaxUDP)
}

// forwardReq is a query to send upstream, with what is needed to answer the
// client afterwards.
type forwardReq struct {
	msg   *mdns.Msg
	limit int // the client's size limit
	start time.Time
	qtype uint16
}

// handle answers one raw query. It returns the packed answer (built in buf
// when it fits), or a query to forward upstream, or neither when the packet
// deserves no answer (too short to echo, or itself an answer). It never
// panics on any input, and over UDP its answer is never larger than the
// query's allowed size.
func (s *Server) handle(req []byte, tcp bool, buf []byte) ([]byte, *forwardReq) {
	start := time.Now()
	if len(req) < 12 || req[2]&0x80 != 0 { // shorter than a header, or QR set
		return nil, nil
	}
	var q mdns.Msg
	if err := q.Unpack(req); err != nil {
		s.observe(mdns.RcodeFormatError, 0, start)
		return headerOnly(req, mdns.RcodeFormatError, buf), nil
	}
	limit := maxTCP
	opt := q.IsEdns0()
	if !tcp {
		limit = udpLimit(opt)
	}
	m := new(mdns.Msg)
	m.Id = q.Id
	m.Response = true
	m.Opcode = q.Opcode
	m.RecursionDesired = q.RecursionDesired
	m.CheckingDisabled = q.CheckingDisabled
	if len(q.Question) > 0 {
		m.Question = q.Question[:1]
	}
	var qtype uint16
	switch {
	case q.Opcode != mdns.OpcodeQuery:
		m.Rcode = mdns.RcodeNotImplemented
	case len(q.Question) != 1 || len(q.Answer) != 0 || len(q.Ns) != 0:
		m.Rcode = mdns.RcodeFormatError
	case opt != nil && opt.Version() != 0:
		m.Rcode = mdns.RcodeBadVers
	default:
		qq := q.Question[0]
		qtype = qq.Qtype
		name := lower(qq.Name)
		t := s.table.Load()
		z := t.find(name)
		switch {
		case qq.Qclass != mdns.ClassINET && qq.Qclass != mdns.ClassANY:
			m.Rcode = mdns.RcodeRefused
		case z == nil && s.opts.Upstream != "":
			fq := q // a copy, so that q itself stays on the stack
			return nil, &forwardReq{msg: &fq, limit: limit, start: start, qtype: qtype}
		case z == nil:
			m.Rcode = mdns.RcodeRefused
		case qtype == mdns.TypeAXFR || qtype == mdns.TypeIXFR:
			m.Rcode = mdns.RcodeRefused // no zone transfers
		default:
			s.answer(t, z, m, name, qtype)
		}
	}
	if opt != nil {
		m.SetEdns0(ourMaxUDP, opt.Do()) // Pack puts BADVERS's upper bits in it
	}
	return s.finish(m, limit, buf, qtype, start), nil
}

// finish truncates m to limit, packs it into buf and counts it.
func (s *Server) finish(m *mdns.Msg, limit int, buf []byte, qtype uint16, start time.Time) []byte {
	m.Compress = true
	m.Truncate(limit)
	m.Compress = true
	out, err := m.PackBuffer(buf)
	if err == nil && len(out) > limit {
		// Truncate's estimate should always hold; should it ever not,
		// send the header, question and OPT with TC rather than too much.
		m.Answer, m.Ns, m.Truncated = nil, nil, true
		m.Extra = onlyOPT(m.Extra)
		out, err = m.PackBuffer(buf)
	}
	if err != nil {
		s.log.Warn("dns pack answer", "err", err)
		s.observe(mdns.RcodeServerFailure, qtype, start)
		return headerOnly(nil, mdns.RcodeServerFailure, buf, m.Id)
	}
	s.observe(m.Rcode, qtype, start)
	return out
}

// onlyOPT keeps the OPT record of an additional section.
func onlyOPT(extra []mdns.RR) []mdns.RR {
	for _, rr := range extra {
		if rr.Header().Rrtype == mdns.TypeOPT {
			return []mdns.RR{rr}
		}
	}
	return nil
}

// headerOnly builds a 12-byte answer with rcode and no sections, echoing the
// id, opcode and RD bit of req (or using id when req is nil).
func headerOnly(req []byte, rcode int, buf []byte, id ...uint16) []byte {
	if cap(buf) < 12 {
		buf = make([]byte, 12)
	}
	b := buf[:12]
	clear(b)
	if req != nil {
		copy(b[:2], req[:2])
		b[2] = 0x80 | req[2]&0x79 // QR, opcode, RD
	} else {
		binary.BigEndian.PutUint16(b, id[0])
		b[2] = 0x80
	}
	b[3] = byte(rcode & 0xF)
	return b
}

// lower returns name in lower case, without allocating when it already is.
func lower(name string) string {
	for i := 0; i < len(name); i++ {
		if c := name[i]; c >= 'A' && c <= 'Z' {
			return strings.ToLower(name)
		}
	}
	return name
}
