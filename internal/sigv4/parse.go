// Package sigv4 verifies and produces AWS Signature Version 4 signatures.
//
// It owns the exact canonicalisation rules of SigV4 (canonical request, string
// to sign, derived signing key) and the AWS error codes and messages a service
// answers when a signature does not hold. It knows nothing about who the keys
// belong to: the caller supplies a lookup from access key id to secret.
package sigv4

import (
	"strings"

	"github.com/flotta-dev/flotta/internal/model"
)

// Algorithm is the only signing algorithm Flotta accepts.
const Algorithm = "AWS4-HMAC-SHA256"

// Authorization is a parsed `Authorization: AWS4-HMAC-SHA256 ...` header.
type Authorization struct {
	AccessKeyID string
	// Date is the credential scope's date, YYYYMMDD.
	Date    string
	Region  string
	Service string
	// SignedHeaders are lower-case header names, in the order the client sent them.
	SignedHeaders []string
	// Signature is the hex signature the client computed.
	Signature string
}

// Scope returns the credential scope, DATE/REGION/SERVICE/aws4_request.
func (a Authorization) Scope() string {
	return a.Date + "/" + a.Region + "/" + a.Service + "/aws4_request"
}

// ParseAuthorization parses the value of an Authorization header. Its errors
// are IncompleteSignatureException errors that say what is missing, as AWS does.
func ParseAuthorization(header string) (Authorization, error) {
	var a Authorization
	header = strings.TrimSpace(header)
	alg, rest, ok := strings.Cut(header, " ")
	if !ok || alg != Algorithm {
		if strings.HasPrefix(header, "AWS4-") || strings.HasPrefix(header, "AWS ") {
			return a, incomplete("Authorization header uses an unsupported algorithm; only " + Algorithm + " is accepted.")
		}
		return a, incomplete("Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' parameter. Authorization header requires 'SignedHeaders' parameter. Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")
	}
	var cred, signed, sig string
	var haveCred, haveSigned, haveSig bool
	for _, part := range strings.Split(rest, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		if !ok {
			return a, incomplete("Authorization header has a malformed component: '" + model.Truncate(part, 64) + "'.")
		}
		switch k {
		case "Credential":
			cred, haveCred = v, true
		case "SignedHeaders":
			signed, haveSigned = v, true
		case "Signature":
			sig, haveSig = v, true
		default:
			return a, incomplete("Authorization header has an unknown component: '" + model.Truncate(k, 64) + "'.")
		}
	}
	var missing []string
	if !haveCred {
		missing = append(missing, "Authorization header requires 'Credential' parameter.")
	}
	if !haveSig {
		missing = append(missing, "Authorization header requires 'Signature' parameter.")
	}
	if !haveSigned {
		missing = append(missing, "Authorization header requires 'SignedHeaders' parameter.")
	}
	if len(missing) > 0 {
		return a, incomplete(strings.Join(missing, " "))
	}
	parts := strings.Split(cred, "/")
	if len(parts) != 5 || parts[0] == "" || parts[4] != "aws4_request" {
		return a, incomplete("Credential should be scoped to a valid region, service and date, in the form ACCESS_KEY/YYYYMMDD/REGION/SERVICE/aws4_request; got '" + model.Truncate(cred, 128) + "'.")
	}
	a.AccessKeyID, a.Date, a.Region, a.Service = parts[0], parts[1], parts[2], parts[3]
	if len(a.Date) != 8 || !allDigits(a.Date) {
		return a, incomplete("Credential scope date '" + model.Truncate(a.Date, 16) + "' is not in the form YYYYMMDD.")
	}
	if signed == "" {
		return a, incomplete("Authorization header requires a non-empty 'SignedHeaders' parameter.")
	}
	for _, h := range strings.Split(signed, ";") {
		if h == "" || h != strings.ToLower(h) {
			return a, incomplete("SignedHeaders must be a semicolon-separated list of lower-case header names; got '" + model.Truncate(signed, 128) + "'.")
		}
		a.SignedHeaders = append(a.SignedHeaders, h)
	}
	if len(sig) != 64 || !allHex(sig) {
		return a, incomplete("Signature must be 64 hexadecimal characters.")
	}
	a.Signature = sig
	return a, nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func allHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}
