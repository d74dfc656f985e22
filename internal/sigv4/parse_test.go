package sigv4

import (
	"strings"
	"testing"
)

func TestParseAuthorization(t *testing.T) {
	good := "AWS4-HMAC-SHA256 Credential=AKID/20261126/us-east-1/ecs/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=" + strings.Repeat("a", 64)
	a, err := ParseAuthorization(good)
	if err != nil {
		t.Fatal(err)
	}
	if a.AccessKeyID != "AKID" || a.Region != "us-east-1" || a.Service != "ecs" || len(a.SignedHeaders) != 3 {
		t.Fatalf("parsed %+v", a)
	}
	if a.Scope() != "20261126/us-east-1/ecs/aws4_request" {
		t.Fatalf("scope %s", a.Scope())
	}
	bad := []string{
		"",
		"AWS AKID:sig",
		"AWS4-HMAC-SHA256",
		"AWS4-HMAC-SHA256 Credential=AKID/20261126/us-east-1/ecs/aws4_request",
		"AWS4-HMAC-SHA256 Credential=AKID/2026112/us-east-1/ecs/aws4_request, SignedHeaders=host, Signature=" + strings.Repeat("a", 64),
		"AWS4-HMAC-SHA256 Credential=AKID/20261126/us-east-1/ecs, SignedHeaders=host, Signature=" + strings.Repeat("a", 64),
		"AWS4-HMAC-SHA256 Credential=AKID/20261126/us-east-1/ecs/aws4_request, SignedHeaders=Host, Signature=" + strings.Repeat("a", 64),
		"AWS4-HMAC-SHA256 Credential=AKID/20261126/us-east-1/ecs/aws4_request, SignedHeaders=host, Signature=xyz",
		"AWS4-HMAC-SHA256 Credential=AKID/20261126/us-east-1/ecs/aws4_request, SignedHeaders=host;;x, Signature=" + strings.Repeat("a", 64),
		"AWS4-HMAC-SHA256 Credential=AKID/20261126/us-east-1/ecs/aws4_request, Bogus=1, SignedHeaders=host, Signature=" + strings.Repeat("a", 64),
	}
	for _, h := range bad {
		if _, err := ParseAuthorization(h); code(err) != "IncompleteSignatureException" {
			t.Errorf("%q: got %v, want IncompleteSignatureException", h, err)
		}
	}
}

// FuzzParseAuthorization checks that no header makes the parser panic and that
// whatever it accepts is well formed.
func FuzzParseAuthorization(f *testing.F) {
	f.Add("AWS4-HMAC-SHA256 Credential=AKID/20261126/us-east-1/ecs/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=" + strings.Repeat("0", 64))
	f.Add("AWS4-HMAC-SHA256 Credential=/////, SignedHeaders=;, Signature=")
	f.Add("AWS AKID:sig")
	f.Fuzz(func(t *testing.T, h string) {
		a, err := ParseAuthorization(h)
		if err != nil {
			if code(err) != "IncompleteSignatureException" {
				t.Fatalf("unexpected error kind %v", err)
			}
			return
		}
		if a.AccessKeyID == "" || len(a.Date) != 8 || len(a.Signature) != 64 || len(a.SignedHeaders) == 0 {
			t.Fatalf("accepted a malformed header %q as %+v", h, a)
		}
	})
}
