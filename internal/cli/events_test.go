package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/flotta-dev/flotta/internal/cli"
	"github.com/flotta-dev/flotta/internal/flottaapi"
	"github.com/flotta-dev/flotta/internal/testutil/fleet"
	"github.com/flotta-dev/flotta/internal/testutil/flottatest"
)

// lockedBuffer is an output written by a command that runs beside the test.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// jsonEvents decodes the lines of `events -o json`.
func jsonEvents(t *testing.T, out string) []flottaapi.Event {
	t.Helper()
	var evs []flottaapi.Event
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if line == "" {
			continue
		}
		var ev flottaapi.Event
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatalf("a line of -o json is not an event: %v\n%s", err, line)
		}
		evs = append(evs, ev)
	}
	return evs
}

// taskStatuses lists the lastStatus of each event of one task, in order.
func taskStatuses(t *testing.T, evs []flottaapi.Event, taskID string) []string {
	t.Helper()
	var out []string
	for _, ev := range evs {
		if ev.DetailType != flottaapi.TaskStateChange || !strings.HasSuffix(ev.Resources[0], "/"+taskID) {
			continue
		}
		var d flottaapi.TaskDetail
		if err := json.Unmarshal(ev.Detail, &d); err != nil {
			t.Fatal(err)
		}
		out = append(out, d.LastStatus+"/"+d.DesiredStatus)
	}
	return out
}

func TestEventsVerb(t *testing.T) {
	e := flottatest.StartServer(t)
	fleet.New(t, e).Add(1, fleet.Spec{CPU: 1024, Memory: 1024}, nil)
	file := t.TempDir() + "/td.json"
	writeFile(t, file, `{"family":"ev","containerDefinitions":[{"name":"app","image":"demo","memory":64}]}`)
	mustRun := func(args ...string) string {
		t.Helper()
		out, errOut, err := runAll(t, e.DataDir, args...)
		if err != nil {
			t.Fatalf("flotta %s: %v\n%s%s", strings.Join(args, " "), err, out, errOut)
		}
		return out
	}
	mustRun("taskdef", "register", "-f", file)
	out := mustRun("run", "ev", "--wait")
	id := strings.Fields(strings.Split(out, "\n")[1])[0]
	mustRun("task", "stop", id, "--wait")

	// The last hour, as JSON: the instance joined, the task's life in order.
	evs := jsonEvents(t, mustRun("events", "-o", "json"))
	got := taskStatuses(t, evs, id)
	want := []string{"PROVISIONING/RUNNING", "PENDING/RUNNING", "RUNNING/RUNNING", "RUNNING/STOPPED", "STOPPING/STOPPED", "STOPPED/STOPPED"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("the task's events: got %v, want %v", got, want)
	}
	seen := map[string]bool{}
	instances := 0
	for _, ev := range evs {
		if seen[ev.ID] {
			t.Fatalf("event %s printed twice", ev.ID)
		}
		seen[ev.ID] = true
		if ev.DetailType == flottaapi.InstanceStateChange {
			instances++
		}
	}
	if instances == 0 {
		t.Fatal("no container instance event for the instance that joined")
	}

	// Since an event id: exactly what comes after it.
	var first flottaapi.Event
	for _, ev := range evs {
		if ev.DetailType == flottaapi.TaskStateChange {
			first = ev
			break
		}
	}
	after := jsonEvents(t, mustRun("events", "-o", "json", "--type", "task", "--since", first.ID))
	if got := taskStatuses(t, after, id); strings.Join(got, " ") != strings.Join(want[1:], " ") {
		t.Fatalf("since %s: got %v, want %v", first.ID, got, want[1:])
	}

	// The table, filtered by type and cluster.
	table := mustRun("events", "--type", "task", "--cluster", "default")
	lines := strings.Split(strings.TrimSpace(table), "\n")
	if !strings.HasPrefix(lines[0], "TIME") || len(lines) != 1+len(want) {
		t.Fatalf("events --type task: want a header and %d rows:\n%s", len(want), table)
	}
	for _, l := range lines[1:] {
		if !strings.Contains(l, " task ") || !strings.Contains(l, id) || !strings.Contains(l, "ev:1") {
			t.Fatalf("a row that is not about the task:\n%s", table)
		}
	}
	if !strings.Contains(lines[len(lines)-1], "STOPPED (desired STOPPED)") {
		t.Fatalf("the last row is not the stop:\n%s", table)
	}
	if other, note, err := runAll(t, e.DataDir, "events", "--cluster", "elsewhere"); err != nil || strings.TrimSpace(other) != "" || note != "no events\n" {
		t.Fatalf("events of another cluster: %v\n%s%s", err, other, note)
	}

	// Refusals say what is wrong.
	for args, msg := range map[string]string{
		"--type bogus":        `--type "bogus"`,
		"--since yesterday":   `--since "yesterday"`,
		"--since 999999999-*": "ahead of this server's history",
		"--since -5m":         "cannot be negative",
		"-o yaml":             "--output must be table or json",
		"--cluster arn:aws:ecs:us-east-1:123456789012:service/default/web": "InvalidParameterException",
	} {
		_, _, err := runAll(t, e.DataDir, append([]string{"events"}, strings.Fields(args)...)...)
		if err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("events %s: want an error with %q, got %v", args, msg, err)
		}
	}
}

// TestEventsFollowReconnects: --follow prints events as they happen, rides
// out a server it cannot reach, and resumes where it stopped: every event
// once.
func TestEventsFollowReconnects(t *testing.T) {
	e := flottatest.StartServer(t)
	fleet.New(t, e).Add(1, fleet.Spec{CPU: 4096, Memory: 4096}, nil)
	file := t.TempDir() + "/td.json"
	writeFile(t, file, `{"family":"ev","containerDefinitions":[{"name":"app","image":"demo","memory":64}]}`)
	if _, _, err := runAll(t, e.DataDir, "taskdef", "register", "-f", file); err != nil {
		t.Fatal(err)
	}

	// A proxy that can go down: in-flight reads are cut and new ones get 503.
	target, _ := url.Parse(e.Server.Endpoint())
	proxy := httputil.NewSingleHostReverseProxy(target)
	proxy.ErrorLog = log.New(io.Discard, "", 0)
	var down atomic.Bool
	var mu sync.Mutex
	epoch, cut := context.WithCancel(context.Background())
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if down.Load() {
			http.Error(w, "down for the test", http.StatusServiceUnavailable)
			return
		}
		mu.Lock()
		ctx, cancel := context.WithCancel(r.Context())
		defer context.AfterFunc(epoch, cancel)()
		mu.Unlock()
		proxy.ServeHTTP(w, r.WithContext(ctx))
	}))
	defer front.Close()
	goDown := func() {
		down.Store(true)
		mu.Lock()
		cut()
		epoch, cut = context.WithCancel(context.Background())
		mu.Unlock()
	}

	t.Setenv("AWS_ACCESS_KEY_ID", e.Root.AccessKeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", e.Root.SecretAccessKey)
	o := &cli.Options{}
	root := &cobra.Command{Use: "flotta", SilenceUsage: true, SilenceErrors: true}
	o.AddFlags(root)
	root.AddCommand(cli.EventsCommand(o))
	var out, warn lockedBuffer
	root.SetOut(&out)
	root.SetErr(&warn)
	// Follow from the present as it is now, so that no event of the test
	// comes before the first read.
	var now flottaapi.GetEventsOutput
	if err := e.Client(e.Root).Call(context.Background(), flottaapi.FlottaTarget+".GetEvents", &flottaapi.GetEventsInput{}, &now); err != nil {
		t.Fatal(err)
	}
	root.SetArgs([]string{"events", "--follow", "--since", now.Cursor, "--type", "task", "-o", "json", "--endpoint", front.URL, "--region", e.Server.Account().Region})
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- root.ExecuteContext(ctx) }()

	waitFor := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for !cond() {
			select {
			case err := <-done:
				t.Fatalf("events --follow ended while waiting for %s: %v", what, err)
			default:
			}
			if time.Now().After(deadline) {
				t.Fatalf("waited 30s for %s\nout:\n%s\nwarnings:\n%s", what, out.String(), warn.String())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	run := func() string {
		t.Helper()
		out, errOut, err := runAll(t, e.DataDir, "run", "ev", "--wait")
		if err != nil {
			t.Fatalf("run: %v\n%s", err, errOut)
		}
		return strings.Fields(strings.Split(out, "\n")[1])[0]
	}
	a := run()
	waitFor("task a running", func() bool {
		return strings.Contains(strings.Join(taskStatuses(t, jsonEvents(t, out.String()), a), " "), "RUNNING/RUNNING")
	})

	goDown()
	waitFor("the warning", func() bool { return strings.Contains(warn.String(), "trying again") })
	b := run()
	if _, _, err := runAll(t, e.DataDir, "task", "stop", a, "--wait"); err != nil {
		t.Fatal(err)
	}
	down.Store(false)
	waitFor("the events missed while down", func() bool {
		evs := jsonEvents(t, out.String())
		return len(taskStatuses(t, evs, a)) == 6 && len(taskStatuses(t, evs, b)) == 3
	})
	stop()
	if err := <-done; err != nil {
		t.Fatalf("follow ended with %v", err)
	}
	if !strings.Contains(warn.String(), "reconnected") {
		t.Fatalf("no word of the reconnection:\n%s", warn.String())
	}
	evs := jsonEvents(t, out.String())
	ids := map[string]bool{}
	for _, ev := range evs {
		if ids[ev.ID] {
			t.Fatalf("event %s printed twice:\n%s", ev.ID, out.String())
		}
		ids[ev.ID] = true
	}
	if got := strings.Join(taskStatuses(t, evs, a), " "); got != "PROVISIONING/RUNNING PENDING/RUNNING RUNNING/RUNNING RUNNING/STOPPED STOPPING/STOPPED STOPPED/STOPPED" {
		t.Fatalf("task a's events: %s", got)
	}
	if got := strings.Join(taskStatuses(t, evs, b), " "); got != "PROVISIONING/RUNNING PENDING/RUNNING RUNNING/RUNNING" {
		t.Fatalf("task b's events: %s", got)
	}
}

func writeFile(t *testing.T, path, body string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}
