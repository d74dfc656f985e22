package dns

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	mdns "github.com/miekg/dns"
)

// supportedTypes are the record types a zone may hold.
var supportedTypes = map[string]uint16{
	"A": mdns.TypeA, "AAAA": mdns.TypeAAAA, "SRV": mdns.TypeSRV, "CNAME": mdns.TypeCNAME,
	"TXT": mdns.TypeTXT, "MX": mdns.TypeMX, "NS": mdns.TypeNS, "SOA": mdns.TypeSOA,
}

// parseRR turns one value in presentation format into a record owned by the
// canonical name. The common types are parsed by hand, because SetZone of a
// large zone must be fast; the rest go through the library's zone parser.
func parseRR(name string, t uint16, ttl uint32, value string) (mdns.RR, error) {
	hdr := mdns.RR_Header{Name: name, Rrtype: t, Class: mdns.ClassINET, Ttl: ttl}
	v := strings.TrimSpace(value)
	switch t {
	case mdns.TypeA:
		ip, err := netip.ParseAddr(v)
		if err != nil || !ip.Is4() {
			return nil, fmt.Errorf("A value %q is not an IPv4 address", value)
		}
		b := ip.As4()
		return &mdns.A{Hdr: hdr, A: b[:]}, nil
	case mdns.TypeAAAA:
		ip, err := netip.ParseAddr(v)
		if err != nil || !ip.Is6() || ip.Is4In6() || ip.Zone() != "" {
			return nil, fmt.Errorf("AAAA value %q is not an IPv6 address", value)
		}
		b := ip.As16()
		return &mdns.AAAA{Hdr: hdr, AAAA: b[:]}, nil
	case mdns.TypeCNAME, mdns.TypeNS:
		target, err := parseName(v)
		if err != nil {
			return nil, fmt.Errorf("%s value %q: %w", mdns.TypeToString[t], value, err)
		}
		if t == mdns.TypeCNAME {
			return &mdns.CNAME{Hdr: hdr, Target: target}, nil
		}
		return &mdns.NS{Hdr: hdr, Ns: target}, nil
	case mdns.TypeMX:
		f := strings.Fields(v)
		if len(f) != 2 {
			return nil, fmt.Errorf("MX value %q is not \"preference name\"", value)
		}
		pref, err1 := strconv.ParseUint(f[0], 10, 16)
		target, err2 := parseName(f[1])
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("MX value %q is not \"preference name\"", value)
		}
		return &mdns.MX{Hdr: hdr, Preference: uint16(pref), Mx: target}, nil
	case mdns.TypeSRV:
		f := strings.Fields(v)
		if len(f) != 4 {
			return nil, fmt.Errorf("SRV value %q is not \"priority weight port target\"", value)
		}
		var n [3]uint64
		for i := range 3 {
			var err error
			if n[i], err = strconv.ParseUint(f[i], 10, 16); err != nil {
				return nil, fmt.Errorf("SRV value %q is not \"priority weight port target\"", value)
			}
		}
		target, err := parseName(f[3])
		if err != nil {
			return nil, fmt.Errorf("SRV value %q: %w", value, err)
		}
		return &mdns.SRV{Hdr: hdr, Priority: uint16(n[0]), Weight: uint16(n[1]), Port: uint16(n[2]), Target: target}, nil
	}
	// TXT and SOA: the zone parser knows their quoting and fields.
	if strings.ContainsAny(v, "\n\r;()") && t != mdns.TypeTXT {
		return nil, fmt.Errorf("%s value %q has characters that are not allowed", mdns.TypeToString[t], value)
	}
	if t == mdns.TypeTXT && strings.ContainsAny(v, "\n\r") {
		return nil, fmt.Errorf("TXT value %q has a line break", value)
	}
	rr, err := mdns.NewRR(fmt.Sprintf("%s %d IN %s %s", name, ttl, mdns.TypeToString[t], v))
	if err != nil {
		return nil, fmt.Errorf("%s value %q: %v", mdns.TypeToString[t], value, err)
	}
	if rr == nil || rr.Header().Rrtype != t {
		return nil, fmt.Errorf("%s value %q is empty or malformed", mdns.TypeToString[t], value)
	}
	if t == mdns.TypeSOA {
		soa := rr.(*mdns.SOA)
		soa.Ns, soa.Mbox = mdns.CanonicalName(soa.Ns), mdns.CanonicalName(soa.Mbox)
	}
	return rr, nil
}

// parseName checks a domain name value and returns it canonical.
func parseName(v string) (string, error) {
	if v == "" {
		return "", fmt.Errorf("empty name")
	}
	if _, ok := mdns.IsDomainName(v); !ok {
		return "", fmt.Errorf("%q is not a domain name", v)
	}
	n := canonical(v)
	if len(n) > 254 {
		return "", fmt.Errorf("%q is longer than 253 characters", v)
	}
	return n, nil
}
