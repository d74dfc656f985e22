package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ecs"
)

// TestHostileClientsCannotStarveTheServer runs a server with the descriptor
// limit of a small machine (1,024) and, for a bounded time on 127.0.0.1,
// throws at it 5,000 slow connections (headers or bodies sent a byte a
// second), a flood of unsigned requests and a flood of signed ones from one
// principal. Throughout, a well-behaved client (another principal, the SDK
// with its defaults) must be answered within 1 s at p99 without a single
// failure, and nothing may exit.
//
// The attacker (testdata/hostile) is a program of its own, built without the
// race detector and run at the lowest CPU priority: on a real network it
// would be on other machines, and on this shared 2-core one it must not be
// the test's own CPU that slows the server down.
func TestHostileClientsCannotStarveTheServer(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command("sh", "-c", `ulimit -n 1024 && exec "$0" "$@"`, flottaBin, "server", "--data-dir", dir, "--listen", "127.0.0.1:0")
	cmd, endpoint := startCmd(t, "server", readyRE, cmd)
	srv := &process{cmd: cmd, endpoint: endpoint, dataDir: dir}

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
	const slowConns = 5000
	var lim syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim) == nil && lim.Max < slowConns+1000 {
		t.Fatalf("the attacker opens %d connections and needs a descriptor limit of %d; the hard limit is %d", slowConns, slowConns+1000, lim.Max)
	}
	attacker := filepath.Join(t.TempDir(), "hostile")
	build := exec.Command("go", "build", "-o", attacker, "./testdata/hostile")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build the attacker: %v\n%s", err, out)
	}
	var stats bytes.Buffer
	attacking := exec.Command("nice", "-n", "19", attacker, "-endpoint", endpoint, "-slow", strconv.Itoa(slowConns), "-floods", "4",
		"-duration", attack.String(), "-key", joined.AccessKeyID, "-secret", joined.SecretAccessKey, "-region", joined.Region)
	attacking.Stdout, attacking.Stderr = &stats, os.Stderr
	if err := attacking.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { killChild(attacking) })

	// The well-behaved client, and a watch on the process.
	var latencies []time.Duration
	var failures []string
	time.Sleep(time.Second) // let the attack build up
	for end := time.Now().Add(attack - 2*time.Second); time.Now().Before(end); {
		start := time.Now()
		_, err := good.DescribeClusters(ctx, &ecs.DescribeClustersInput{Clusters: []string{"default"}})
		latencies = append(latencies, time.Since(start))
		if err != nil {
			failures = append(failures, err.Error())
		}
		if processGone(srv.cmd) {
			t.Fatalf("the server exited during the attack")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := attacking.Wait(); err != nil {
		t.Fatalf("the attacker: %v", err)
	}

	slices.Sort(latencies)
	p99 := latencies[len(latencies)*99/100]
	t.Logf("well-behaved client: %d calls, p50 %s, p99 %s, max %s, %d failures; attacker: %s",
		len(latencies), latencies[len(latencies)/2].Round(time.Millisecond), p99.Round(time.Millisecond), latencies[len(latencies)-1].Round(time.Millisecond),
		len(failures), strings.TrimSpace(stats.String()))
	if len(failures) > 0 {
		t.Errorf("the well-behaved client failed %d times, first: %s", len(failures), failures[0])
	}
	if p99 > time.Second {
		t.Errorf("the well-behaved client waited %s at p99 (want at most 1s)", p99)
	}
	// A stall of seconds is starvation, even once: before the server capped
	// its connections, a call waited 16 s for a free descriptor.
	if worst := latencies[len(latencies)-1]; worst > 5*time.Second {
		t.Errorf("the well-behaved client waited %s once (want no stall of 5s or more)", worst)
	}
	if len(latencies) < 100 {
		t.Errorf("the well-behaved client made only %d calls in %s", len(latencies), attack)
	}
	var did struct{ SlowOpened, Unsigned, Signed int }
	if json.Unmarshal(stats.Bytes(), &did) != nil || did.SlowOpened < slowConns {
		t.Errorf("the attack did not happen as planned: %s", stats.String())
	}
	// The server went on taking new connections and answering them all
	// along, the floods' too (refusals of unsigned requests cost it little).
	if did.Unsigned < 100 || did.Signed < 100 {
		t.Errorf("the server answered only %d unsigned and %d signed requests of the floods in %s", did.Unsigned, did.Signed, attack)
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
