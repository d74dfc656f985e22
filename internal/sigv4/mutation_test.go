package sigv4

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// mutant is a request and its body as a forger would send them.
type mutant struct {
	r    *http.Request
	body []byte
}

// signedView is everything a valid signature vouches for: the canonical
// request over the headers it names, the scope and the time. Two requests
// with the same view mean the same thing.
func signedView(m mutant) string {
	auth, err := ParseAuthorization(m.r.Header.Get("Authorization"))
	if err != nil {
		return "unparsable"
	}
	return strings.Join([]string{CanonicalRequest(m.r, auth.SignedHeaders, HashPayload(m.body)), auth.Scope(),
		m.r.Header.Get("X-Amz-Date"), m.r.Header.Get("X-Amz-Security-Token"), auth.AccessKeyID}, "\n")
}

var targets = []string{"CreateCluster", "DeleteCluster", "ListClusters", "RunTask", "StopTask", "DeregisterContainerInstance"}

// signed makes a request as an SDK client would sign it, for service.
func signed(t *testing.T, rnd *rand.Rand, service string) mutant {
	body := fmt.Sprintf(`{"cluster":"c%d","count":%d}`, rnd.IntN(1000), rnd.IntN(10))
	r := httptest.NewRequest("POST", "http://flotta.test:8080/", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/x-amz-json-1.1")
	r.Header.Set("X-Amz-Target", "AmazonEC2ContainerServiceV20141113."+targets[rnd.IntN(len(targets))])
	id, s := "AKLONG", longKey
	if rnd.IntN(2) == 0 {
		id, s = "ASTEMP", tempKey
	}
	err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: id, SecretAccessKey: s.SecretAccessKey, SessionToken: s.SessionToken},
		r, HashPayload([]byte(body)), service, "us-east-1", clock.Add(-time.Duration(rnd.IntN(240))*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	return mutant{r: r, body: []byte(body)}
}

func (m mutant) clone() mutant {
	r := m.r.Clone(context.Background())
	r.Header = m.r.Header.Clone()
	return mutant{r: r, body: append([]byte(nil), m.body...)}
}

// editAuth changes one part of the Authorization header.
func editAuth(m *mutant, f func(string) string) {
	m.r.Header.Set("Authorization", f(m.r.Header.Get("Authorization")))
}

// mutations are what a forger can do to a captured request.
var mutations = []struct {
	name string
	do   func(rnd *rand.Rand, m *mutant)
}{
	{"flip a body byte", func(rnd *rand.Rand, m *mutant) { m.body[rnd.IntN(len(m.body))] ^= byte(1 + rnd.IntN(255)) }},
	{"append to the body", func(rnd *rand.Rand, m *mutant) { m.body = append(m.body, ' ') }},
	{"swap the operation", func(rnd *rand.Rand, m *mutant) {
		m.r.Header.Set("X-Amz-Target", "AmazonEC2ContainerServiceV20141113."+targets[rnd.IntN(len(targets))])
	}},
	{"swap the operation and unsign it", func(rnd *rand.Rand, m *mutant) {
		m.r.Header.Set("X-Amz-Target", "AmazonEC2ContainerServiceV20141113.DeleteCluster")
		editAuth(m, func(a string) string { return strings.Replace(a, ";x-amz-target", "", 1) })
	}},
	{"flip a signature digit", func(rnd *rand.Rand, m *mutant) {
		editAuth(m, func(a string) string {
			i := strings.Index(a, "Signature=") + len("Signature=") + rnd.IntN(64)
			c := "0123456789abcdef"[rnd.IntN(16)]
			return a[:i] + string(c) + a[i+1:]
		})
	}},
	{"move the date", func(rnd *rand.Rand, m *mutant) {
		d, _ := time.Parse(TimeFormat, m.r.Header.Get("X-Amz-Date"))
		m.r.Header.Set("X-Amz-Date", d.Add(time.Duration(1+rnd.IntN(100))*time.Second).Format(TimeFormat))
	}},
	{"claim another service", func(rnd *rand.Rand, m *mutant) {
		other := []string{"logs", "iam", "sts", "s3", "ssm", "elasticloadbalancing"}[rnd.IntN(6)]
		editAuth(m, func(a string) string { return strings.Replace(a, "/ecs/aws4_request", "/"+other+"/aws4_request", 1) })
	}},
	{"claim another region", func(rnd *rand.Rand, m *mutant) {
		editAuth(m, func(a string) string { return strings.Replace(a, "/us-east-1/", "/eu-west-1/", 1) })
	}},
	{"claim another key", func(rnd *rand.Rand, m *mutant) {
		editAuth(m, func(a string) string {
			if strings.Contains(a, "AKLONG") {
				return strings.Replace(a, "AKLONG", "ASTEMP", 1)
			}
			return strings.Replace(a, "ASTEMP", "AKLONG", 1)
		})
	}},
	{"drop or change the session token", func(rnd *rand.Rand, m *mutant) {
		if rnd.IntN(2) == 0 {
			m.r.Header.Del("X-Amz-Security-Token")
		} else {
			m.r.Header.Set("X-Amz-Security-Token", "session-token-2")
		}
	}},
	{"add an unsigned x-amz header", func(rnd *rand.Rand, m *mutant) { m.r.Header.Set("X-Amz-Meta-Extra", "1") }},
	{"change a signed header", func(rnd *rand.Rand, m *mutant) { m.r.Header.Set("Content-Type", "application/x-amz-json-1.0") }},
	{"change the host", func(rnd *rand.Rand, m *mutant) { m.r.Host = "evil.test:8080" }},
	{"change the path or query", func(rnd *rand.Rand, m *mutant) {
		if rnd.IntN(2) == 0 {
			m.r.URL.Path = "/other"
		} else {
			m.r.URL.RawQuery = "Action=DeleteCluster"
		}
	}},
	{"change the method", func(rnd *rand.Rand, m *mutant) { m.r.Method = "PUT" }},
	{"shorten the signed headers", func(rnd *rand.Rand, m *mutant) {
		editAuth(m, func(a string) string { return strings.Replace(a, "content-type;", "", 1) })
	}},
	{"an unsigned harmless header", func(rnd *rand.Rand, m *mutant) { m.r.Header.Set("User-Agent", "forger/1") }},
	{"header name case", func(rnd *rand.Rand, m *mutant) {
		v := m.r.Header.Get("Content-Type")
		m.r.Header.Del("Content-Type")
		m.r.Header["content-type"] = []string{v}
	}},
}

// TestNoFalseAcceptsUnderMutation: 100,000 forgeries made from requests that
// the AWS SDK signed (for ECS, and for other services' APIs) and from
// requests whose signature leaves X-Amz-Target out, one to three mutations
// each. A forgery may pass only if what its signature vouches for
// is what the original said, and only if it was signed for ecs.
func TestNoFalseAcceptsUnderMutation(t *testing.T) {
	n := 100_000
	if testing.Short() {
		n = 10_000
	}
	rnd := rand.New(rand.NewPCG(9, 10))
	v := testVerifier()
	var base, other, unsignedTarget mutant
	accepted, falseAccepts := 0, 0
	byName := map[string]int{}
	for i := 0; i < n; i++ {
		if i%200 == 0 {
			base = signed(t, rnd, "ecs")
			// A request signed, correctly, for another service's API.
			other = signed(t, rnd, []string{"logs", "iam", "sts", "ssm"}[rnd.IntN(4)])
			// A request whose signature does not cover its operation (a
			// client that signs only host and date): swapping the target
			// would make it another call.
			unsignedTarget = signed(t, rnd, "ecs")
			unsignedTarget.r.Header.Del("X-Amz-Target")
			unsignedTarget.r.Header.Del("Authorization")
			unsignedTarget.r.Header.Del("X-Amz-Date")
			unsignedTarget.r.Header.Del("X-Amz-Security-Token")
			unsignedTarget.r.Header.Del("Content-Type")
			Sign(unsignedTarget.r, unsignedTarget.body, "AKLONG", longKey, "us-east-1", "ecs", clock)
			unsignedTarget.r.Header.Set("X-Amz-Target", "AmazonEC2ContainerServiceV20141113.DeleteCluster")
			if _, err := v.Verify(context.Background(), base.r, base.body, "ecs"); err != nil {
				t.Fatalf("the unmutated request is refused: %v", err)
			}
		}
		from := base
		switch i % 10 {
		case 9:
			from = other
		case 8:
			from = unsignedTarget
		}
		m := from.clone()
		var names []string
		for range 1 + rnd.IntN(3) {
			mu := mutations[rnd.IntN(len(mutations))]
			mu.do(rnd, &m)
			names = append(names, mu.name)
		}
		got, err := v.Verify(context.Background(), m.r, m.body, "ecs")
		if err != nil {
			continue
		}
		accepted++
		if from.r != base.r || got.Service != "ecs" || signedView(m) != signedView(base) {
			falseAccepts++
			byName[strings.Join(names, " + ")]++
		}
	}
	t.Logf("%d forgeries: %d accepted as the same request, %d false accepts", n, accepted, falseAccepts)
	if falseAccepts != 0 {
		t.Fatalf("%d false accepts: %v", falseAccepts, byName)
	}
	// The harmless edits must pass, or the test proves nothing about them.
	if accepted == 0 {
		t.Fatal("no forgery was accepted, not even those that change nothing signed")
	}
}
