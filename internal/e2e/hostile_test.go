package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/flotta-dev/flotta/internal/sigv4"
)

// TestHostileClientsCannotStarveTheServer runs a server with the descriptor
// limit of a small machine (1,024) and, for a bounded time on 127.0.0.1,
// throws at it 5,000 slow connections (headers or bodies sent a byte a
// second), a flood of unsigned requests and a flood of signed ones from one
// principal. Throughout, a well-behaved client (another principal, the SDK
// with its defaults) must be answered within 1 s at p99 without a single
// failure, and nothing may exit.
func TestHostileClientsCannotStarveTheServer(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command("sh", "-c", `ulimit -n 1024 && exec "$0" "$@"`, flottaBin, "server", "--data-dir", dir, "--listen", "127.0.0.1:0")
	cmd, endpoint := startCmd(t, "server", readyRE, cmd)
	srv := &process{cmd: cmd, endpoint: endpoint, dataDir: dir}
	host := strings.TrimPrefix(endpoint, "http://")

	// The flood's principal: an agent identity, joined with a token.
	token := cli(t, dir, "token", "create")
	var joined struct {
		AccessKeyID, SecretAccessKey, Region string
	}
	resp := post(t, endpoint, "FlottaV1.Join", []byte(`{"token":"`+token+`"}`), nil)
	if resp.status != 200 || json.Unmarshal(resp.body, &joined) != nil || joined.AccessKeyID == "" {
		t.Fatalf("join: %d %s", resp.status, resp.body)
	}

	good := srv.retryingClient(t)
	ctx := context.Background()
	if _, err := good.DescribeClusters(ctx, &ecs.DescribeClustersInput{}); err != nil {
		t.Fatal(err)
	}

	const attack = 20 * time.Second
	slowConns := 5000
	var lim syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim) == nil && lim.Cur < uint64(slowConns+1000) {
		t.Fatalf("this test opens %d connections and needs a descriptor limit of %d; it is %d", slowConns, slowConns+1000, lim.Cur)
	}
	actx, stop := context.WithTimeout(ctx, attack)
	defer stop()
	var wg sync.WaitGroup
	var opened, unsigned, signed, throttled atomic.Int64

	// 5,000 slow connections, each reopened when the server drops it.
	for i := 0; i < slowConns; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			slowClient(actx, host, i%2 == 0, &opened)
		}()
	}
	// A flood of unsigned requests and one of signed requests.
	for i := 0; i < 4; i++ {
		wg.Add(2)
		go func() {
			defer wg.Done()
			hc := &http.Client{Timeout: 5 * time.Second}
			for actx.Err() == nil {
				if r := rawPost(hc, endpoint, "AmazonEC2ContainerServiceV20141113.ListClusters", []byte(`{}`), nil); r.status != 0 {
					unsigned.Add(1)
				}
			}
		}()
		go func() {
			defer wg.Done()
			hc := &http.Client{Timeout: 5 * time.Second}
			sign := func(r *http.Request, body []byte) {
				sigv4.Sign(r, body, joined.AccessKeyID, sigv4.Secret{SecretAccessKey: joined.SecretAccessKey}, joined.Region, "ecs", time.Now())
			}
			for actx.Err() == nil {
				r := rawPost(hc, endpoint, "AmazonEC2ContainerServiceV20141113.ListClusters", []byte(`{}`), sign)
				if r.status != 0 {
					signed.Add(1)
				}
				if r.status == 400 && strings.Contains(string(r.body), "ThrottlingException") {
					throttled.Add(1)
				}
			}
		}()
	}

	// The well-behaved client, and a watch on the process.
	var latencies []time.Duration
	var failures []string
	time.Sleep(time.Second) // let the attack build up
	for actx.Err() == nil {
		start := time.Now()
		_, err := good.DescribeClusters(ctx, &ecs.DescribeClustersInput{Clusters: []string{"default"}})
		latencies = append(latencies, time.Since(start))
		if err != nil {
			failures = append(failures, err.Error())
		}
		if processGone(srv.cmd) {
			t.Fatalf("the server exited during the attack")
		}
		time.Sleep(50 * time.Millisecond)
	}
	wg.Wait()

	slices.Sort(latencies)
	p99 := latencies[len(latencies)*99/100]
	t.Logf("well-behaved client: %d calls, p50 %s, p99 %s, max %s, %d failures; attack: %d slow connections opened, %d unsigned and %d signed requests answered (%d throttled)",
		len(latencies), latencies[len(latencies)/2].Round(time.Millisecond), p99.Round(time.Millisecond), latencies[len(latencies)-1].Round(time.Millisecond),
		len(failures), opened.Load(), unsigned.Load(), signed.Load(), throttled.Load())
	if len(failures) > 0 {
		t.Errorf("the well-behaved client failed %d times, first: %s", len(failures), failures[0])
	}
	if p99 > time.Second {
		t.Errorf("the well-behaved client waited %s at p99 (want at most 1s)", p99)
	}
	if len(latencies) < 100 {
		t.Errorf("the well-behaved client made only %d calls in %s", len(latencies), attack)
	}
	if processGone(srv.cmd) {
		t.Fatal("the server exited")
	}
	// Afterwards it answers as before, and a new client connects at once.
	if _, err := srv.client(t).DescribeClusters(ctx, &ecs.DescribeClustersInput{}); err != nil {
		t.Fatalf("after the attack: %v", err)
	}
	if code := get(t, endpoint+"/healthz"); code != 200 {
		t.Fatalf("/healthz after the attack: %d", code)
	}
}

// slowClient holds a connection that sends its request a byte a second:
// the headers (withBody false), or full headers and then the body.
func slowClient(ctx context.Context, host string, withBody bool, opened *atomic.Int64) {
	d := net.Dialer{Timeout: 2 * time.Second}
	for ctx.Err() == nil {
		c, err := d.DialContext(ctx, "tcp", host)
		if err != nil {
			sleepCtx(ctx, 100*time.Millisecond)
			continue
		}
		opened.Add(1)
		stop := context.AfterFunc(ctx, func() { c.Close() })
		var head string
		if withBody {
			head = "POST / HTTP/1.1\r\nHost: " + host + "\r\nX-Amz-Target: AmazonEC2ContainerServiceV20141113.ListClusters\r\n" +
				"Content-Type: application/x-amz-json-1.1\r\nContent-Length: 100000\r\n\r\n{"
		} else {
			head = "POST / HTTP/1.1\r\nHost: " + host + "\r\nX-Amz-"
		}
		_, err = io.WriteString(c, head)
		for err == nil && ctx.Err() == nil {
			sleepCtx(ctx, time.Second)
			_, err = c.Write([]byte("a"))
		}
		stop()
		c.Close()
		// Back again after a moment: with 5,000 clients for far fewer
		// slots the server stays full, and the test's own CPU goes less to
		// reconnecting.
		sleepCtx(ctx, 100*time.Millisecond)
	}
}

func sleepCtx(ctx context.Context, d time.Duration) {
	select {
	case <-time.After(d):
	case <-ctx.Done():
	}
}

type rawReply struct {
	status int
	header http.Header
	body   []byte
}

// rawPost sends an AWS JSON request, signed by sign when given.
func rawPost(hc *http.Client, endpoint, target string, body []byte, sign func(*http.Request, []byte)) rawReply {
	req, err := http.NewRequest("POST", endpoint+"/", bytes.NewReader(body))
	if err != nil {
		return rawReply{}
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", target)
	if sign != nil {
		sign(req, body)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return rawReply{}
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return rawReply{status: resp.StatusCode, header: resp.Header, body: b}
}

func post(t *testing.T, endpoint, target string, body []byte, sign func(*http.Request, []byte)) rawReply {
	t.Helper()
	r := rawPost(&http.Client{Timeout: 10 * time.Second}, endpoint, target, body, sign)
	if r.status == 0 {
		t.Fatalf("%s: no answer from %s", target, endpoint)
	}
	return r
}

func get(t *testing.T, u string) int {
	t.Helper()
	if _, err := url.Parse(u); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// processGone says whether a child has exited, without reaping it: a
// process that is gone or a zombie.
func processGone(cmd *exec.Cmd) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", cmd.Process.Pid))
	if err != nil {
		return true
	}
	// The state follows the command name, which is in parentheses.
	i := bytes.LastIndexByte(b, ')')
	return i < 0 || i+2 >= len(b) || b[i+2] == 'Z'
}
