package sigv4

import (
	"context"
	"crypto/hmac"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/flotta-dev/flotta/internal/model"
)

// MaxSkew is how far a request's date may be from the server's clock.
const MaxSkew = 5 * time.Minute

// Secret is what the verifier needs to know about an access key.
type Secret struct {
	SecretAccessKey string
	// SessionToken is set for temporary credentials; a request signed with them
	// must carry the same token in X-Amz-Security-Token.
	SessionToken string
	// Expires is when temporary credentials stop working; zero for long-term keys.
	Expires time.Time
}

// Lookup finds the secret of an access key id. found is false for an unknown key.
type Lookup func(ctx context.Context, accessKeyID string) (s Secret, found bool, err error)

// Verifier checks the signatures of incoming requests.
type Verifier struct {
	Lookup Lookup
	// Region is the region requests must be scoped to.
	Region string
	// Now is the server's clock; nil means time.Now.
	Now func() time.Time
}

// Verified is what a valid signature establishes about a request.
type Verified struct {
	AccessKeyID string
	Service     string
	Temporary   bool
}

// Verify checks that r, whose body has already been read into body, carries a
// valid signature for one of the given signing names (the service in the
// credential scope, e.g. "ecs"). Refusals are *model.Error values in AWS's words;
// any other error is the lookup's own failure.
func (v *Verifier) Verify(ctx context.Context, r *http.Request, body []byte, services ...string) (Verified, error) {
	header := r.Header.Get("Authorization")
	if header == "" {
		return Verified{}, missingToken()
	}
	auth, err := ParseAuthorization(header)
	if err != nil {
		return Verified{}, err
	}
	amzDate := r.Header.Get("X-Amz-Date")
	var reqTime time.Time
	if amzDate != "" {
		reqTime, err = time.Parse(TimeFormat, amzDate)
		if err != nil {
			return Verified{}, incomplete(fmt.Sprintf("X-Amz-Date '%s' is not in the ISO-8601 basic format YYYYMMDD'T'HHMMSS'Z'.", model.Truncate(amzDate, 32)))
		}
		if !slices.Contains(auth.SignedHeaders, "x-amz-date") {
			return Verified{}, mustSign("x-amz-date")
		}
	} else if d := r.Header.Get("Date"); d != "" {
		reqTime, err = http.ParseTime(d)
		if err != nil {
			return Verified{}, incomplete("Date header '" + model.Truncate(d, 40) + "' cannot be parsed.")
		}
		if !slices.Contains(auth.SignedHeaders, "date") {
			return Verified{}, mustSign("date")
		}
		amzDate = reqTime.UTC().Format(TimeFormat)
	} else {
		return Verified{}, incomplete("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")
	}
	if !slices.Contains(auth.SignedHeaders, "host") {
		return Verified{}, incomplete("'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.")
	}
	if name := unsignedAmzHeader(r, auth.SignedHeaders); name != "" {
		return Verified{}, mustSign(name)
	}
	now := time.Now
	if v.Now != nil {
		now = v.Now
	}
	t := now().UTC()
	if reqTime.Before(t.Add(-MaxSkew)) {
		return Verified{}, invalidSignature(fmt.Sprintf("Signature expired: %s is now earlier than %s (%s - 5 min.)",
			amzDate, t.Add(-MaxSkew).Format(TimeFormat), t.Format(TimeFormat)))
	}
	if reqTime.After(t.Add(MaxSkew)) {
		return Verified{}, invalidSignature(fmt.Sprintf("Signature not yet current: %s is still later than %s (%s + 5 min.)",
			amzDate, t.Add(MaxSkew).Format(TimeFormat), t.Format(TimeFormat)))
	}
	if auth.Date != amzDate[:8] {
		return Verified{}, invalidSignature(fmt.Sprintf("Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '%s' != '%s', from '%s'.", auth.Date, amzDate[:8], amzDate))
	}
	if auth.Region != v.Region {
		return Verified{}, invalidSignature(fmt.Sprintf("Credential should be scoped to a valid region, not '%s'. This endpoint serves region '%s'.", model.Truncate(auth.Region, 32), v.Region))
	}
	if !slices.Contains(services, auth.Service) {
		return Verified{}, invalidSignature(fmt.Sprintf("Credential should be scoped to correct service: '%s'.", strings.Join(services, "' or '")))
	}

	secret, found, err := v.Lookup(ctx, auth.AccessKeyID)
	if err != nil {
		return Verified{}, fmt.Errorf("look up access key: %w", err)
	}
	if !found {
		return Verified{}, unrecognizedClient()
	}
	token := r.Header.Get("X-Amz-Security-Token")
	if secret.SessionToken != "" {
		if token == "" || subtle.ConstantTimeCompare([]byte(token), []byte(secret.SessionToken)) != 1 {
			return Verified{}, unrecognizedClient()
		}
		if !secret.Expires.IsZero() && !t.Before(secret.Expires) {
			return Verified{}, expiredToken()
		}
	} else if token != "" {
		// A session token with a long-term key is a confused client: AWS refuses it.
		return Verified{}, unrecognizedClient()
	}

	canon := CanonicalRequest(r, auth.SignedHeaders, HashPayload(body))
	want := hmacSHA256(SigningKey(secret.SecretAccessKey, auth.Date, auth.Region, auth.Service),
		StringToSign(amzDate, auth.Scope(), canon))
	got, err := hex.DecodeString(auth.Signature)
	if err != nil || !hmac.Equal(got, want) {
		return Verified{}, invalidSignature(MessageSignatureMismatch)
	}
	return Verified{AccessKeyID: auth.AccessKeyID, Service: auth.Service, Temporary: secret.SessionToken != ""}, nil
}

// unsignedAmzHeader returns the first x-amz-* header of r (in sorted order)
// that the signature does not cover, or "". Every x-amz-* header is part of
// what a request means (X-Amz-Target is the operation itself), so a signature
// that leaves one out could be replayed with another value: one captured
// ListServices signature must not be able to become a DeleteCluster.
func unsignedAmzHeader(r *http.Request, signed []string) string {
	var names []string
	for name := range r.Header {
		ln := strings.ToLower(name)
		if strings.HasPrefix(ln, "x-amz-") && !slices.Contains(signed, ln) {
			names = append(names, ln)
		}
	}
	if len(names) == 0 {
		return ""
	}
	slices.Sort(names)
	return names[0]
}

// Sign adds SigV4 headers to r for the given credentials, scope and body. It
// signs host, x-amz-date, x-amz-security-token (when a token is given) and
// every header already on the request, which is what the AWS SDKs do.
func Sign(r *http.Request, body []byte, accessKeyID string, s Secret, region, service string, at time.Time) {
	amzDate := at.UTC().Format(TimeFormat)
	r.Header.Set("X-Amz-Date", amzDate)
	if s.SessionToken != "" {
		r.Header.Set("X-Amz-Security-Token", s.SessionToken)
	}
	signed := []string{"host"}
	for name := range r.Header {
		ln := strings.ToLower(name)
		switch ln {
		case "authorization", "user-agent", "x-amzn-trace-id", "expect", "transfer-encoding":
			continue
		}
		signed = append(signed, ln)
	}
	slices.Sort(signed)
	auth := Authorization{AccessKeyID: accessKeyID, Date: amzDate[:8], Region: region, Service: service, SignedHeaders: signed}
	canon := CanonicalRequest(r, signed, HashPayload(body))
	sig := Signature(SigningKey(s.SecretAccessKey, auth.Date, region, service), StringToSign(amzDate, auth.Scope(), canon))
	r.Header.Set("Authorization", fmt.Sprintf("%s Credential=%s/%s, SignedHeaders=%s, Signature=%s",
		Algorithm, accessKeyID, auth.Scope(), strings.Join(signed, ";"), sig))
}
