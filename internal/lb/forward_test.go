package lb

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestWeightedGroupsExact: a 10/90 forward over 10,000 requests lands
// within one percentage point of 10%.
func TestWeightedGroupsExact(t *testing.T) {
	a, b := backend(t, "a"), backend(t, "b")
	def := []Action{{Type: ActionForward, Forward: &Forward{TargetGroups: []WeightedGroup{{ARN: "tg-a", Weight: 10}, {ARN: "tg-b", Weight: 90}}}}}
	_, url := start(t, Options{}, albConfig(def, nil, httpGroup("tg-a", targetOf(t, a, "a")), httpGroup("tg-b", targetOf(t, b, "b"))))
	c := &http.Client{}
	counts := map[string]int{}
	for range 10000 {
		_, body := get(t, c, url)
		counts[body]++
	}
	share := float64(counts["a"]) / 10000
	if share < 0.09 || share > 0.11 {
		t.Fatalf("group a got %.2f%% of requests (%v), want 10%% within 1 pp", share*100, counts)
	}
}

// TestRoundRobinAcrossTargets: one group's healthy targets share requests
// evenly.
func TestRoundRobinAcrossTargets(t *testing.T) {
	a, b, c := backend(t, "a"), backend(t, "b"), backend(t, "c")
	_, url := start(t, Options{}, albConfig(forward("tg"), nil, httpGroup("tg", targetOf(t, a, "a"), targetOf(t, b, "b"), targetOf(t, c, "c"))))
	counts := map[string]int{}
	for range 300 {
		_, body := get(t, http.DefaultClient, url)
		counts[body]++
	}
	for _, n := range []string{"a", "b", "c"} {
		if counts[n] != 100 {
			t.Fatalf("counts %v, want 100 each", counts)
		}
	}
}

// TestLeastOutstandingRequests: with one target busy, new requests go to
// the idle one.
func TestLeastOutstandingRequests(t *testing.T) {
	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-release
		io.WriteString(w, "slow")
	}))
	t.Cleanup(slow.Close)
	t.Cleanup(func() { close(release) })
	fast := backend(t, "fast")
	tg := httpGroup("tg", targetOf(t, slow, "slow"), targetOf(t, fast, "fast"))
	tg.Attributes.Algorithm = AlgorithmLeastOutstanding
	b, url := start(t, Options{}, albConfig(forward("tg"), nil, tg))
	// Send requests until one occupies the slow target.
	eventually(t, "a request in flight to the slow target", func() bool {
		for _, tt := range b.liveGroups()[0].set.Load().all {
			if tt.ref.ID == "slow" && tt.inflight.Load() > 0 {
				return true
			}
		}
		go http.Get(url)
		return false
	})
	for range 20 {
		if _, body := get(t, http.DefaultClient, url); body != "fast" {
			t.Fatalf("got %q while the slow target is busy, want fast", body)
		}
	}
}

// TestStickiness: the AWSALB cookie keeps a client on its target; the
// AWSALBTG cookie keeps it on its target group.
func TestStickiness(t *testing.T) {
	a1, a2, b1 := backend(t, "a1"), backend(t, "a2"), backend(t, "b1")
	ga := httpGroup("tg-a", targetOf(t, a1, "a1"), targetOf(t, a2, "a2"))
	ga.Attributes = Attributes{StickinessEnabled: true, StickinessType: "lb_cookie", StickinessSeconds: 60}
	gb := httpGroup("tg-b", targetOf(t, b1, "b1"))
	def := []Action{{Type: ActionForward, Forward: &Forward{StickinessSeconds: 60, TargetGroups: []WeightedGroup{{ARN: "tg-a", Weight: 50}, {ARN: "tg-b", Weight: 50}}}}}
	_, url := start(t, Options{}, albConfig(def, nil, ga, gb))
	for i := range 6 {
		jar, _ := cookiejar.New(nil)
		c := &http.Client{Jar: jar}
		resp, first := get(t, c, url)
		names := map[string]bool{}
		for _, ck := range resp.Cookies() {
			names[ck.Name] = true
		}
		if !names["AWSALBTG"] || (strings.HasPrefix(first, "a") && !names["AWSALB"]) {
			t.Fatalf("client %d: cookies %v on a response from %s", i, names, first)
		}
		for range 10 {
			if _, body := get(t, c, url); body != first {
				t.Fatalf("client %d: sticky to %s, then got %s", i, first, body)
			}
		}
	}
	// Without cookies the same requests spread.
	seen := map[string]bool{}
	for range 8 {
		_, body := get(t, &http.Client{}, url)
		seen[body] = true
	}
	if len(seen) != 3 {
		t.Fatalf("cookieless clients reached %v, want all three targets", seen)
	}
}

// TestFailOpenAndNoTargets: when every target is unhealthy ELB still
// routes to them; with no targets it answers 503 itself.
func TestFailOpenAndNoTargets(t *testing.T) {
	a := backend(t, "a")
	b, url := start(t, Options{}, albConfig(forward("tg"), nil, httpGroup("tg", targetOf(t, a, "a"))))
	g := b.liveGroups()[0]
	g.mu.Lock()
	for _, tt := range g.targets {
		tt.state, tt.reason = HealthUnhealthy, ReasonFailedHealthChecks
	}
	g.rebuild()
	g.mu.Unlock()
	if resp, body := get(t, http.DefaultClient, url); resp.StatusCode != 200 || body != "a" {
		t.Fatalf("all unhealthy: %d %q, want 200 from a (fail open)", resp.StatusCode, body)
	}
	if err := b.Apply(albConfig(forward("tg"), nil, httpGroup("tg"))); err != nil {
		t.Fatal(err)
	}
	if resp, _ := get(t, http.DefaultClient, url); resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("no targets: %d, want 503", resp.StatusCode)
	}
}

// TestTargetFailures: a target that refuses connections is a 502, one that
// does not answer within the idle timeout a 504.
func TestTargetFailures(t *testing.T) {
	dead := httptest.NewServer(http.NotFoundHandler())
	deadTarget := targetOf(t, dead, "dead")
	dead.Close()
	hang := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-hang:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(slow.Close)
	t.Cleanup(func() { close(hang) })
	cfg := albConfig(forward("tg-dead"), []Rule{{ARN: "r", Priority: 1, Conditions: []Condition{{Field: FieldPathPattern, Values: []string{"/slow"}}}, Actions: forward("tg-slow")}},
		httpGroup("tg-dead", deadTarget), httpGroup("tg-slow", targetOf(t, slow, "slow")))
	cfg.LoadBalancers[0].IdleTimeoutSeconds = 1
	_, url := start(t, Options{}, cfg)
	if resp, body := get(t, http.DefaultClient, url); resp.StatusCode != http.StatusBadGateway || !strings.Contains(body, "502 Bad Gateway") {
		t.Fatalf("refused connection: %d %q, want 502", resp.StatusCode, body)
	}
	if resp, _ := get(t, http.DefaultClient, url+"/slow"); resp.StatusCode != http.StatusGatewayTimeout {
		t.Fatalf("silent target: %d, want 504", resp.StatusCode)
	}
}

func TestFixedResponseAndRedirect(t *testing.T) {
	rules := []Rule{
		{ARN: "r1", Priority: 1, Conditions: []Condition{{Field: FieldPathPattern, Values: []string{"/old/*"}}},
			Actions: []Action{{Type: ActionRedirect, Redirect: &Redirect{Protocol: "HTTPS", Port: "443", Path: "/new/#{path}", StatusCode: "HTTP_301"}}}},
		{ARN: "r2", Priority: 2, Conditions: []Condition{{Field: FieldPathPattern, Values: []string{"/moved"}}},
			Actions: []Action{{Type: ActionRedirect, Redirect: &Redirect{Host: "other.test", Query: "from=#{host}&#{query}", StatusCode: "HTTP_302"}}}},
	}
	def := []Action{{Type: ActionFixedResponse, FixedResponse: &FixedResponse{StatusCode: "418", ContentType: "text/plain", MessageBody: "teapot"}}}
	_, url := start(t, Options{}, albConfig(def, rules))
	if resp, body := get(t, http.DefaultClient, url+"/x"); resp.StatusCode != 418 || body != "teapot" || resp.Header.Get("Content-Type") != "text/plain" {
		t.Fatalf("fixed response: %d %q %q", resp.StatusCode, body, resp.Header.Get("Content-Type"))
	}
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	port := strings.TrimPrefix(url, "http://127.0.0.1:")
	for path, want := range map[string]struct {
		code int
		loc  string
	}{
		"/old/a/b?q=1": {301, "https://127.0.0.1/new/old/a/b?q=1"},
		"/moved?x=y":   {302, "http://other.test:" + port + "/moved?from=127.0.0.1&x=y"},
	} {
		resp, _ := get(t, noFollow, url+path)
		if resp.StatusCode != want.code || resp.Header.Get("Location") != want.loc {
			t.Errorf("%s: %d %q, want %d %q", path, resp.StatusCode, resp.Header.Get("Location"), want.code, want.loc)
		}
	}
}

// TestForwardedHeaders: X-Forwarded-For is appended to, Proto and Port are
// the listener's, and the Host header reaches the target unchanged.
func TestForwardedHeaders(t *testing.T) {
	got := make(chan http.Header, 1)
	hosts := make(chan string, 1)
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("User-Agent") == "ELB-HealthChecker/2.0" {
			return
		}
		got <- r.Header.Clone()
		hosts <- r.Host
	}))
	t.Cleanup(s.Close)
	_, url := start(t, Options{}, albConfig(forward("tg"), nil, httpGroup("tg", targetOf(t, s, "s"))))
	req, _ := http.NewRequest("GET", url+"/", nil)
	req.Host = "shop.example.com"
	req.Header.Set("X-Forwarded-For", "203.0.113.9")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	h := <-got
	port := strings.TrimPrefix(url, "http://127.0.0.1:")
	if h.Get("X-Forwarded-For") != "203.0.113.9, 127.0.0.1" || h.Get("X-Forwarded-Proto") != "http" || h.Get("X-Forwarded-Port") != port {
		t.Fatalf("forwarded headers %v", h)
	}
	if host := <-hosts; host != "shop.example.com" {
		t.Fatalf("Host %q reached the target", host)
	}
}

// TestStreaming: a chunk the target flushes reaches the client before the
// target has finished its response.
func TestStreaming(t *testing.T) {
	finish := make(chan struct{})
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "first\n")
		w.(http.Flusher).Flush()
		<-finish
		io.WriteString(w, "second\n")
	}))
	t.Cleanup(s.Close)
	_, url := start(t, Options{}, albConfig(forward("tg"), nil, httpGroup("tg", targetOf(t, s, "s"))))
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	buf := make([]byte, 6)
	done := make(chan error, 1)
	go func() { _, err := io.ReadFull(resp.Body, buf); done <- err }()
	select {
	case err := <-done:
		if err != nil || string(buf) != "first\n" {
			t.Fatalf("first chunk %q, %v", buf, err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the first chunk did not arrive while the target was still answering")
	}
	close(finish)
	rest, _ := io.ReadAll(resp.Body)
	if string(rest) != "second\n" {
		t.Fatalf("rest %q", rest)
	}
}

// TestRequestBodiesAndReuse: bodies of known and unknown length reach the
// target, HEAD answers carry no body, and a keep-alive connection the
// target closed while idle is replaced without the client noticing.
func TestRequestBodiesAndReuse(t *testing.T) {
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("X-Length", strconv.FormatInt(r.ContentLength, 10))
		io.WriteString(w, r.Method+" "+string(b))
	}))
	t.Cleanup(s.Close)
	_, url := start(t, Options{}, albConfig(forward("tg"), nil, httpGroup("tg", targetOf(t, s, "s"))))
	c := &http.Client{}
	resp, err := c.Post(url, "text/plain", strings.NewReader("known"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "POST known" || resp.Header.Get("X-Length") != "5" {
		t.Fatalf("known length: %q, length %s", b, resp.Header.Get("X-Length"))
	}
	pr, pw := io.Pipe()
	go func() { pw.Write([]byte("stre")); pw.Write([]byte("amed")); pw.Close() }()
	resp, err = c.Post(url, "text/plain", pr)
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "POST streamed" {
		t.Fatalf("chunked: %q", b)
	}
	resp, err = c.Head(url)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("HEAD: %v %v", resp, err)
	}
	resp.Body.Close()
	s.CloseClientConnections() // the pooled connection to the target dies
	if resp, body := get(t, c, url); resp.StatusCode != 200 || body != "GET " {
		t.Fatalf("after the target closed its idle connections: %d %q", resp.StatusCode, body)
	}
	s.CloseClientConnections()
	resp, err = c.Post(url, "text/plain", strings.NewReader("again"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(b) != "POST again" {
		t.Fatalf("a POST after the target closed its idle connections: %d %q", resp.StatusCode, b)
	}
}
