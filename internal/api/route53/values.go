package route53

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// The record types Flotta stores. Route 53 knows more (DS, NAPTR, SPF,
// SSHFP, SVCB, HTTPS, TLSA); those are refused until Flotta's DNS server
// answers them.
var recordTypes = map[string]bool{"A": true, "AAAA": true, "CNAME": true, "TXT": true, "SRV": true,
	"MX": true, "NS": true, "SOA": true, "PTR": true, "CAA": true}

// awsTypes are every type Route 53's RRType enum has.
var awsTypes = map[string]bool{"SOA": true, "A": true, "TXT": true, "NS": true, "CNAME": true, "MX": true,
	"NAPTR": true, "PTR": true, "SRV": true, "SPF": true, "AAAA": true, "CAA": true, "DS": true,
	"TLSA": true, "SSHFP": true, "SVCB": true, "HTTPS": true}

// badRecord is Route 53's words for a value its type refuses.
func badRecord(problem, explain, value string) string {
	return fmt.Sprintf("Invalid Resource Record: 'FATAL problem: %s (%s) encountered with '%s''", problem, explain, value)
}

// checkValue checks one value of a record of type typ; "" when it is good,
// else the message.
func checkValue(typ, v string) string {
	switch typ {
	case "A":
		if a, err := netip.ParseAddr(v); err != nil || !a.Is4() {
			return badRecord("ARRDATAIllegalIPv4Address", "Value is not a valid IPv4 address", v)
		}
	case "AAAA":
		if a, err := netip.ParseAddr(v); err != nil || !a.Is6() || a.Zone() != "" {
			return badRecord("AAAARRDATAIllegalIPv6Address", "Value is not a valid IPv6 address", v)
		}
	case "CNAME", "NS", "PTR":
		if !hostname(v) {
			return badRecord("DomainLabelInvalid", "Value is not a valid domain name", v)
		}
	case "MX":
		f := strings.Fields(v)
		if len(f) != 2 || !uint16Field(f[0]) || !hostname(f[1]) {
			return badRecord("MXRRDATANotTwoFields", "MX record must be of the form 'priority host', priority 0-65535", v)
		}
	case "SRV":
		f := strings.Fields(v)
		if len(f) != 4 || !uint16Field(f[0]) || !uint16Field(f[1]) || !uint16Field(f[2]) || !hostname(f[3]) {
			return badRecord("SRVRRDATANotFourFields", "SRV record must be of the form 'priority weight port target', each number 0-65535", v)
		}
	case "TXT":
		if msg := characterStrings(v); msg != "" {
			return badRecord(msg, "Value should be one or more strings in quotation marks, each at most 255 characters", v)
		}
	case "CAA":
		f := strings.SplitN(v, " ", 3)
		if len(f) != 3 || !uint8Field(f[0]) || f[1] == "" || characterStrings(f[2]) != "" {
			return badRecord("CAARRDATAInvalid", "CAA record must be of the form 'flags tag \"value\"'", v)
		}
	case "SOA":
		f := strings.Fields(v)
		if len(f) != 7 || !hostname(f[0]) || !hostname(f[1]) {
			return badRecord("SOARRDATANotSevenFields", "SOA record must be of the form 'mname rname serial refresh retry expire minimum'", v)
		}
		for _, n := range f[2:] {
			if _, err := strconv.ParseUint(n, 10, 32); err != nil {
				return badRecord("SOARRDATAIllegalNumber", "SOA serial, refresh, retry, expire and minimum are 0-4294967295", v)
			}
		}
	}
	return ""
}

func uint16Field(s string) bool {
	_, err := strconv.ParseUint(s, 10, 16)
	return err == nil
}

func uint8Field(s string) bool {
	_, err := strconv.ParseUint(s, 10, 8)
	return err == nil
}

// characterStrings checks a TXT value: one or more strings in double
// quotes separated by spaces, with \" and \\ (and \ddd) escapes, each at
// most 255 characters. It answers Route 53's problem name, or "".
func characterStrings(v string) string {
	v = strings.TrimSpace(v)
	if v == "" {
		return "InvalidCharacterString"
	}
	for v != "" {
		if v[0] != '"' {
			return "InvalidCharacterString"
		}
		n, i, closed := 0, 1, false
		for i < len(v) {
			c := v[i]
			if c == '\\' && i+1 < len(v) {
				if i+3 < len(v) && isDigit(v[i+1]) && isDigit(v[i+2]) && isDigit(v[i+3]) {
					i += 4
				} else {
					i += 2
				}
				n++
				continue
			}
			if c == '"' {
				closed = true
				i++
				break
			}
			n++
			i++
		}
		if !closed {
			return "InvalidCharacterString"
		}
		if n > 255 {
			return "CharacterStringTooLong"
		}
		rest := v[i:]
		trimmed := strings.TrimLeft(rest, " \t")
		if trimmed != "" && len(trimmed) == len(rest) {
			return "InvalidCharacterString"
		}
		v = trimmed
	}
	return ""
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
