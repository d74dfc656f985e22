package sigv4

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/flotta-dev/flotta/internal/model"
)

var (
	clock   = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	longKey = Secret{SecretAccessKey: "long-term-secret"}
	tempKey = Secret{SecretAccessKey: "temp-secret", SessionToken: "session-token-1", Expires: clock.Add(time.Hour)}
	oldKey  = Secret{SecretAccessKey: "old-secret", SessionToken: "session-token-2", Expires: clock.Add(-time.Second)}
)

func testVerifier() *Verifier {
	keys := map[string]Secret{"AKLONG": longKey, "ASTEMP": tempKey, "ASOLD": oldKey}
	return &Verifier{
		Region: "us-east-1",
		Now:    func() time.Time { return clock },
		Lookup: func(_ context.Context, id string) (Secret, bool, error) {
			s, ok := keys[id]
			return s, ok, nil
		},
	}
}

const body = `{"clusterName":"web"}`

func newRequest(t *testing.T) *http.Request {
	t.Helper()
	r := httptest.NewRequest("POST", "http://flotta.test:8080/", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/x-amz-json-1.1")
	r.Header.Set("X-Amz-Target", "AmazonEC2ContainerServiceV20141113.CreateCluster")
	return r
}

// sdkSign signs r with the AWS SDK's own signer, the way every SDK client does.
func sdkSign(t *testing.T, r *http.Request, id string, s Secret, at time.Time) {
	t.Helper()
	err := v4.NewSigner().SignHTTP(context.Background(),
		aws.Credentials{AccessKeyID: id, SecretAccessKey: s.SecretAccessKey, SessionToken: s.SessionToken},
		r, HashPayload([]byte(body)), "ecs", "us-east-1", at)
	if err != nil {
		t.Fatal(err)
	}
}

func code(err error) string {
	var e *model.Error
	if errors.As(err, &e) {
		return e.Code
	}
	if err == nil {
		return ""
	}
	return "unexpected: " + err.Error()
}

func TestVerifyAcceptsSDKSignatures(t *testing.T) {
	v := testVerifier()
	for _, tc := range []struct {
		id string
		s  Secret
	}{{"AKLONG", longKey}, {"ASTEMP", tempKey}} {
		r := newRequest(t)
		sdkSign(t, r, tc.id, tc.s, clock.Add(-4*time.Minute))
		got, err := v.Verify(context.Background(), r, []byte(body), "ecs")
		if err != nil {
			t.Fatalf("%s: %v", tc.id, err)
		}
		if got.AccessKeyID != tc.id || got.Temporary != (tc.s.SessionToken != "") {
			t.Fatalf("%s: verified %+v", tc.id, got)
		}
	}
}

func TestSignMatchesVerify(t *testing.T) {
	r := newRequest(t)
	Sign(r, []byte(body), "ASTEMP", tempKey, "us-east-1", "ecs", clock)
	if _, err := testVerifier().Verify(context.Background(), r, []byte(body), "ecs"); err != nil {
		t.Fatal(err)
	}
}

func TestVerifyRefusals(t *testing.T) {
	cases := []struct {
		name    string
		prepare func(t *testing.T) (*http.Request, []byte)
		want    string
		msg     string
	}{
		{"no authorization", func(t *testing.T) (*http.Request, []byte) {
			return newRequest(t), []byte(body)
		}, "MissingAuthenticationTokenException", "Missing Authentication Token"},
		{"wrong secret", func(t *testing.T) (*http.Request, []byte) {
			r := newRequest(t)
			sdkSign(t, r, "AKLONG", Secret{SecretAccessKey: "not-the-secret"}, clock)
			return r, []byte(body)
		}, "InvalidSignatureException", "does not match"},
		{"unknown key", func(t *testing.T) (*http.Request, []byte) {
			r := newRequest(t)
			sdkSign(t, r, "AKNOBODY", longKey, clock)
			return r, []byte(body)
		}, "UnrecognizedClientException", "security token included in the request is invalid"},
		{"altered body", func(t *testing.T) (*http.Request, []byte) {
			r := newRequest(t)
			sdkSign(t, r, "AKLONG", longKey, clock)
			return r, []byte(`{"clusterName":"evil"}`)
		}, "InvalidSignatureException", "does not match"},
		{"altered signed header", func(t *testing.T) (*http.Request, []byte) {
			r := newRequest(t)
			sdkSign(t, r, "AKLONG", longKey, clock)
			r.Header.Set("X-Amz-Target", "AmazonEC2ContainerServiceV20141113.DeleteCluster")
			return r, []byte(body)
		}, "InvalidSignatureException", "does not match"},
		{"X-Amz-Target left out of the signature", func(t *testing.T) (*http.Request, []byte) {
			// A signature captured from a request signed without its target
			// must not carry over to any operation the replayer chooses.
			r := newRequest(t)
			r.Header.Del("X-Amz-Target")
			sdkSign(t, r, "AKLONG", longKey, clock)
			r.Header.Set("X-Amz-Target", "AmazonEC2ContainerServiceV20141113.DeleteCluster")
			return r, []byte(body)
		}, "IncompleteSignatureException", "'x-amz-target' must be a 'SignedHeader' in the AWS Authorization."},
		{"another x-amz header added after signing", func(t *testing.T) (*http.Request, []byte) {
			r := newRequest(t)
			sdkSign(t, r, "AKLONG", longKey, clock)
			r.Header.Set("X-Amz-Meta-Anything", "x")
			return r, []byte(body)
		}, "IncompleteSignatureException", "'x-amz-meta-anything' must be a 'SignedHeader'"},
		{"altered host", func(t *testing.T) (*http.Request, []byte) {
			r := newRequest(t)
			sdkSign(t, r, "AKLONG", longKey, clock)
			r.Host = "other.test:8080"
			return r, []byte(body)
		}, "InvalidSignatureException", "does not match"},
		{"date 5m1s in the past", func(t *testing.T) (*http.Request, []byte) {
			r := newRequest(t)
			sdkSign(t, r, "AKLONG", longKey, clock.Add(-5*time.Minute-time.Second))
			return r, []byte(body)
		}, "InvalidSignatureException", "Signature expired: 20261126T115459Z is now earlier than 20261126T115500Z (20261126T120000Z - 5 min.)"},
		{"date 5m1s in the future", func(t *testing.T) (*http.Request, []byte) {
			r := newRequest(t)
			sdkSign(t, r, "AKLONG", longKey, clock.Add(5*time.Minute+time.Second))
			return r, []byte(body)
		}, "InvalidSignatureException", "Signature not yet current"},
		{"missing security token", func(t *testing.T) (*http.Request, []byte) {
			r := newRequest(t)
			sdkSign(t, r, "ASTEMP", Secret{SecretAccessKey: tempKey.SecretAccessKey}, clock)
			return r, []byte(body)
		}, "UnrecognizedClientException", "security token"},
		{"wrong security token", func(t *testing.T) (*http.Request, []byte) {
			r := newRequest(t)
			sdkSign(t, r, "ASTEMP", Secret{SecretAccessKey: tempKey.SecretAccessKey, SessionToken: "forged"}, clock)
			return r, []byte(body)
		}, "UnrecognizedClientException", "security token"},
		{"token on a long-term key", func(t *testing.T) (*http.Request, []byte) {
			r := newRequest(t)
			sdkSign(t, r, "AKLONG", Secret{SecretAccessKey: longKey.SecretAccessKey, SessionToken: "stray"}, clock)
			return r, []byte(body)
		}, "UnrecognizedClientException", "security token"},
		{"expired temporary credentials", func(t *testing.T) (*http.Request, []byte) {
			r := newRequest(t)
			sdkSign(t, r, "ASOLD", oldKey, clock)
			return r, []byte(body)
		}, "ExpiredTokenException", "expired"},
		{"other region", func(t *testing.T) (*http.Request, []byte) {
			r := newRequest(t)
			v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: "AKLONG", SecretAccessKey: longKey.SecretAccessKey},
				r, HashPayload([]byte(body)), "ecs", "eu-west-1", clock)
			return r, []byte(body)
		}, "InvalidSignatureException", "region"},
		{"other service", func(t *testing.T) (*http.Request, []byte) {
			r := newRequest(t)
			v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: "AKLONG", SecretAccessKey: longKey.SecretAccessKey},
				r, HashPayload([]byte(body)), "s3", "us-east-1", clock)
			return r, []byte(body)
		}, "InvalidSignatureException", "correct service"},
		{"garbage authorization", func(t *testing.T) (*http.Request, []byte) {
			r := newRequest(t)
			r.Header.Set("Authorization", "AWS AKLONG:abc")
			r.Header.Set("X-Amz-Date", clock.Format(TimeFormat))
			return r, []byte(body)
		}, "IncompleteSignatureException", ""},
		{"no date", func(t *testing.T) (*http.Request, []byte) {
			r := newRequest(t)
			sdkSign(t, r, "AKLONG", longKey, clock)
			r.Header.Del("X-Amz-Date")
			return r, []byte(body)
		}, "IncompleteSignatureException", "X-Amz-Date"},
	}
	v := testVerifier()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, b := tc.prepare(t)
			_, err := v.Verify(context.Background(), r, b, "ecs")
			if got := code(err); got != tc.want {
				t.Fatalf("got %q (%v), want %s", got, err, tc.want)
			}
			if !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("message %q does not mention %q", err.Error(), tc.msg)
			}
		})
	}
}

func TestVerifyLookupFailureIsNotARefusal(t *testing.T) {
	v := testVerifier()
	v.Lookup = func(context.Context, string) (Secret, bool, error) { return Secret{}, false, errors.New("store down") }
	r := newRequest(t)
	sdkSign(t, r, "AKLONG", longKey, clock)
	_, err := v.Verify(context.Background(), r, []byte(body), "ecs")
	var e *model.Error
	if err == nil || errors.As(err, &e) {
		t.Fatalf("a store failure must surface as an internal error, got %v", err)
	}
}

func TestCanonicalQueryAndPath(t *testing.T) {
	r := httptest.NewRequest("GET", "http://h/a%20b/c?b=2&a=1&a=0&sp=x%20y", bytes.NewReader(nil))
	got := CanonicalRequest(r, []string{"host"}, HashPayload(nil))
	want := "GET\n/a%2520b/c\na=0&a=1&b=2&sp=x%20y\nhost:h\n\nhost\n" + HashPayload(nil)
	if got != want {
		t.Fatalf("canonical request:\n%q\nwant\n%q", got, want)
	}
}
