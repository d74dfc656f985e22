package events_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/flotta-dev/flotta/internal/flottaapi"
	"github.com/flotta-dev/flotta/internal/model"
	"github.com/flotta-dev/flotta/internal/testutil/fleet"
	"github.com/flotta-dev/flotta/internal/testutil/flottatest"
)

const getEvents = flottaapi.FlottaTarget + ".GetEvents"

func read(ctx context.Context, c *flottaapi.Client, in flottaapi.GetEventsInput) (*flottaapi.GetEventsOutput, error) {
	var out flottaapi.GetEventsOutput
	if err := c.Call(ctx, getEvents, in, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// revOf is the store revision in an event id or cursor (-1 if none).
func revOf(cursor string) int64 {
	r, _, _ := strings.Cut(cursor, "-")
	n, err := strconv.ParseInt(r, 10, 64)
	if err != nil {
		return -1
	}
	return n
}

// reader follows the stream from a cursor until its cursor reaches the
// revision stop (set once the workload is over), reconnecting (a new HTTP
// client, a dropped long poll) every few pages when flaky.
type reader struct {
	name   string
	flaky  bool
	events []flottaapi.Event
	// reconnects counts the times the reader went away and came back with
	// the last id it saw.
	reconnects atomic.Int32
	err        error
}

func (r *reader) run(env *flottatest.Env, cursor string, stop func() int64) {
	rnd := rand.New(rand.NewPCG(1, 2))
	for {
		c := env.Client(env.Root)
		c.HTTP = &http.Client{Transport: &http.Transport{}, Timeout: time.Minute}
		pages := 1 << 30
		if r.flaky {
			pages = 1 + rnd.IntN(8)
		}
		for range pages {
			in := flottaapi.GetEventsInput{Cursor: cursor, WaitSeconds: 1, MaxEvents: 1000}
			if r.flaky {
				in.MaxEvents = 1 + rnd.IntN(60)
			}
			out, err := read(context.Background(), c, in)
			if err != nil {
				r.err = err
				return
			}
			r.events = append(r.events, out.Events...)
			if n := len(out.Events); n > 0 && revOf(out.Cursor) < revOf(out.Events[n-1].ID) {
				r.err = fmt.Errorf("cursor %s is before the last event %s", out.Cursor, out.Events[n-1].ID)
				return
			}
			cursor = out.Cursor
			if end := stop(); end > 0 && revOf(cursor) >= end {
				return
			}
		}
		// Go away in the middle of a long poll, as a dropped connection does,
		// and come back later with the last id seen.
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		read(ctx, c, flottaapi.GetEventsInput{Cursor: cursor, WaitSeconds: 5}) //nolint:errcheck // its answer is dropped, as a lost connection's is
		cancel()
		c.HTTP.CloseIdleConnections()
		r.reconnects.Add(1)
		time.Sleep(time.Duration(rnd.IntN(150)) * time.Millisecond)
		if len(r.events) > 0 {
			cursor = r.events[len(r.events)-1].ID
		}
	}
}

// taskVersion is what a task state change says of its task.
type taskVersion struct {
	TaskArn    string `json:"taskArn"`
	LastStatus string `json:"lastStatus"`
	Version    int64  `json:"version"`
}

// TestEveryEventOnceAcrossReconnects: a reader that goes away ten times and
// comes back with the last id it saw reads exactly what a reader that never
// left reads, and each task's events are its every version, once, in order.
func TestEveryEventOnceAcrossReconnects(t *testing.T) {
	env := flottatest.StartServer(t)
	ctx := context.Background()
	f := fleet.New(t, env)
	f.Add(2, fleet.Spec{CPU: 8192, Memory: 16384}, nil)
	mem := int32(16)
	if _, err := env.ECS.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String("ev"),
		ContainerDefinitions: []types.ContainerDefinition{{Name: aws.String("app"), Image: aws.String(fleet.Image), Memory: &mem}}}); err != nil {
		t.Fatal(err)
	}
	now, err := read(ctx, env.Client(env.Root), flottaapi.GetEventsInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(now.Events) != 0 || !strings.HasSuffix(now.Cursor, "-*") {
		t.Fatalf("a read from now without waiting has no event and a cursor at the head: %+v", now)
	}

	var mu sync.Mutex
	var end int64
	stop := func() int64 { mu.Lock(); defer mu.Unlock(); return end }
	steady, flaky := &reader{name: "steady"}, &reader{name: "flaky", flaky: true}
	var wg sync.WaitGroup
	for _, r := range []*reader{steady, flaky} {
		wg.Add(1)
		go func() { defer wg.Done(); r.run(env, now.Cursor, stop) }()
	}

	// The workload: rounds of 20 tasks started and stopped, until at least
	// 1,000 task state changes were made and the flaky reader came back ten
	// times.
	var all []string
	for round := 0; 4*len(all) < 1000 || flaky.reconnects.Load() < 10; round++ {
		if round > 100 {
			t.Fatalf("after %d rounds: %d tasks, %d reconnects", round, len(all), flaky.reconnects.Load())
		}
		var arns []string
		for range 2 {
			out, err := env.ECS.RunTask(ctx, &ecs.RunTaskInput{TaskDefinition: aws.String("ev"), Count: aws.Int32(10)})
			if err != nil || len(out.Failures) > 0 {
				t.Fatalf("run: %v %+v", err, out)
			}
			for _, tk := range out.Tasks {
				arns = append(arns, *tk.TaskArn)
			}
		}
		waitAll(t, env, arns, "RUNNING")
		for _, arn := range arns {
			if _, err := env.ECS.StopTask(ctx, &ecs.StopTaskInput{Task: aws.String(arn)}); err != nil {
				t.Fatal(err)
			}
		}
		waitAll(t, env, arns, "STOPPED")
		all = append(all, arns...) // each made at least 4 changes: created, running, stopping, stopped
	}
	// Every version each task went through up to now must be in the stream.
	described := map[string]int64{}
	for chunk := range slices.Chunk(all, 100) {
		out, err := env.ECS.DescribeTasks(ctx, &ecs.DescribeTasksInput{Tasks: chunk})
		if err != nil || len(out.Tasks) != len(chunk) {
			t.Fatalf("describe: %v", err)
		}
		for _, tk := range out.Tasks {
			described[*tk.TaskArn] = tk.Version
		}
	}
	head, err := read(ctx, env.Client(env.Root), flottaapi.GetEventsInput{})
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	end = revOf(head.Cursor)
	mu.Unlock()
	wg.Wait()
	for _, r := range []*reader{steady, flaky} {
		if r.err != nil {
			t.Fatalf("%s reader: %v", r.name, r.err)
		}
	}
	t.Logf("%d tasks; steady reader %d events, flaky reader %d events over %d reconnects", len(all), len(steady.events), len(flaky.events), flaky.reconnects.Load())

	// Both readers saw the same stream, up to the end.
	upTo := func(evs []flottaapi.Event) []flottaapi.Event {
		for i, ev := range evs {
			if revOf(ev.ID) > end {
				return evs[:i]
			}
		}
		return evs
	}
	a, b := upTo(steady.events), upTo(flaky.events)
	if len(a) != len(b) {
		t.Fatalf("the steady reader read %d events, the flaky one %d", len(a), len(b))
	}
	for i := range a {
		if a[i].ID != b[i].ID || string(a[i].Detail) != string(b[i].Detail) || a[i].DetailType != b[i].DetailType {
			t.Fatalf("event %d: steady read %s %s, flaky read %s %s", i, a[i].ID, a[i].DetailType, b[i].ID, b[i].DetailType)
		}
	}

	// Each task's events are its versions 1, 2, 3 ... once each, in order:
	// nothing lost, nothing twice.
	seen := map[string]bool{}
	versions := map[string][]int64{}
	last := map[string]string{}
	taskEvents := 0
	for _, ev := range a {
		if seen[ev.ID] {
			t.Fatalf("event id %s twice", ev.ID)
		}
		seen[ev.ID] = true
		if ev.DetailType != flottaapi.TaskStateChange {
			continue
		}
		taskEvents++
		var tv taskVersion
		if err := json.Unmarshal(ev.Detail, &tv); err != nil {
			t.Fatal(err)
		}
		versions[tv.TaskArn] = append(versions[tv.TaskArn], tv.Version)
		last[tv.TaskArn] = tv.LastStatus
	}
	if taskEvents < 1000 || len(versions) == 0 {
		t.Fatalf("want at least 1,000 task state changes, read %d", taskEvents)
	}
	for arn, vs := range versions {
		for i, v := range vs {
			if v != int64(i+1) {
				t.Fatalf("task %s: versions read %v; want 1..%d, each once", arn, vs, len(vs))
			}
		}
		if last[arn] != "STOPPED" || int64(len(vs)) < described[arn] {
			t.Fatalf("task %s: the stream has %d versions, the last %s; DescribeTasks said version %d", arn, len(vs), last[arn], described[arn])
		}
	}
	if len(versions) != len(all) {
		t.Fatalf("%d tasks ran; the stream has events of %d", len(all), len(versions))
	}
}

// waitAll waits until every task has the status.
func waitAll(t *testing.T, env *flottatest.Env, arns []string, status string) []types.Task {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		out, err := env.ECS.DescribeTasks(context.Background(), &ecs.DescribeTasksInput{Tasks: arns})
		if err != nil {
			t.Fatal(err)
		}
		done := len(out.Tasks) == len(arns)
		for _, tk := range out.Tasks {
			done = done && aws.ToString(tk.LastStatus) == status
		}
		if done {
			return out.Tasks
		}
		if time.Now().After(deadline) {
			t.Fatalf("tasks not all %s after a minute", status)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestReadsThatAreRefused: bad input gets InvalidParameterException and
// writes nothing.
func TestReadsThatAreRefused(t *testing.T) {
	env := flottatest.StartServer(t)
	c := env.Client(env.Root)
	ctx := context.Background()
	since := model.Time{Time: time.Now()}
	before := env.Revision(t)
	for name, in := range map[string]flottaapi.GetEventsInput{
		"too many events":          {MaxEvents: 1001},
		"negative max":             {MaxEvents: -1},
		"too long a wait":          {WaitSeconds: 21},
		"a made-up cursor":         {Cursor: "yesterday"},
		"a negative cursor":        {Cursor: "-5-1"},
		"an unknown type":          {DetailTypes: []string{"ECS Task State Change", "Task Change"}},
		"cursor and since both":    {Cursor: "5-*", Since: &since},
		"a service ARN":            {Cluster: "arn:aws:ecs:us-east-1:123456789012:service/default/web"},
		"a cursor from the future": {Cursor: "999999999-*"},
	} {
		_, err := read(ctx, c, in)
		if !model.IsCode(err, model.CodeInvalidParameter) {
			t.Errorf("%s: want InvalidParameterException, got %v", name, err)
		}
	}
	if after := env.Revision(t); after != before {
		t.Fatalf("refused reads wrote to the store (revision %d to %d)", before, after)
	}
}

// TestFiltersSinceAndCompaction: cluster and type filters keep the cursor
// moving past what they leave out; since replays what the store keeps; a
// cursor older than that is refused with a way out.
func TestFiltersSinceAndCompaction(t *testing.T) {
	env := flottatest.StartServer(t)
	ctx := context.Background()
	c := env.Client(env.Root)
	start := time.Now().Add(-time.Second)
	from, err := read(ctx, c, flottaapi.GetEventsInput{})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"blue", "green"} {
		if _, err := env.ECS.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String(name)}); err != nil {
			t.Fatal(err)
		}
	}
	f := fleet.New(t, env)
	f.Add(1, fleet.Spec{Cluster: "blue", CPU: 1024, Memory: 1024}, nil)
	f.Add(1, fleet.Spec{Cluster: "green", CPU: 1024, Memory: 1024}, nil)

	all, err := read(ctx, c, flottaapi.GetEventsInput{Cursor: from.Cursor})
	if err != nil {
		t.Fatal(err)
	}
	blue, err := read(ctx, c, flottaapi.GetEventsInput{Cursor: from.Cursor, Cluster: "arn:aws:ecs:us-east-1:123456789012:cluster/blue",
		DetailTypes: []string{flottaapi.InstanceStateChange}})
	if err != nil {
		t.Fatal(err)
	}
	clusters := map[string]int{}
	for _, ev := range all.Events {
		var d struct{ ContainerInstanceArn string }
		if ev.DetailType == flottaapi.InstanceStateChange && json.Unmarshal(ev.Detail, &d) == nil {
			clusters[strings.Split(ev.Resources[0], "/")[1]]++
		}
	}
	if clusters["blue"] == 0 || clusters["green"] == 0 {
		t.Fatalf("both instances' registrations are in the stream: %v", clusters)
	}
	if len(blue.Events) != clusters["blue"] {
		t.Fatalf("the blue filter kept %d events; the stream has %d blue instance changes", len(blue.Events), clusters["blue"])
	}
	for _, ev := range blue.Events {
		if ev.DetailType != flottaapi.InstanceStateChange || !strings.Contains(ev.Resources[0], "/blue/") {
			t.Fatalf("the filter let through %s %v", ev.DetailType, ev.Resources)
		}
	}
	if blue.Cursor != all.Cursor {
		t.Fatalf("a filtered read moves its cursor as far as an unfiltered one: %s, want %s", blue.Cursor, all.Cursor)
	}

	// since replays from the oldest change kept, from that time on.
	replay, err := read(ctx, c, flottaapi.GetEventsInput{Since: &model.Time{Time: start}, MaxEvents: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if len(replay.Events) < len(all.Events) || replay.Events[len(replay.Events)-1].ID != all.Events[len(all.Events)-1].ID {
		t.Fatalf("since %v replayed %d events; the stream from the first read has %d", start, len(replay.Events), len(all.Events))
	}
	later, err := read(ctx, c, flottaapi.GetEventsInput{Since: &model.Time{Time: time.Now().Add(time.Hour)}})
	if err != nil || len(later.Events) != 0 {
		t.Fatalf("since a future time: %v %+v", err, later)
	}

	// Compact the history: the first cursor is refused; since still works.
	rev := env.Revision(t)
	if err := env.Server.State().Compact(ctx, rev); err != nil {
		t.Fatal(err)
	}
	_, err = read(ctx, c, flottaapi.GetEventsInput{Cursor: from.Cursor})
	if !model.IsCode(err, model.CodeInvalidParameter) || !strings.Contains(err.Error(), "older than the events this server keeps") {
		t.Fatalf("a compacted cursor: %v", err)
	}
	if _, err := read(ctx, c, flottaapi.GetEventsInput{Since: &model.Time{Time: start}}); err != nil {
		t.Fatalf("since after a compaction: %v", err)
	}
}

// TestAgentConnectivityIsAnInstanceChange: an agent that connects, goes away
// and comes back is an instance state change each time, with agentConnected
// as DescribeContainerInstances says it; a replay from before says the same.
func TestAgentConnectivityIsAnInstanceChange(t *testing.T) {
	env := flottatest.StartServer(t)
	c := env.Client(env.Root)
	ctx := context.Background()
	start := fmt.Sprintf("%d-*", env.Revision(t))
	m := fleet.New(t, env).Add(1, fleet.Spec{CPU: 1024, Memory: 1024}, nil)[0]

	cursor := start
	var seen []bool
	// next reads instance events until one says connected is want.
	next := func(want bool) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for time.Now().Before(deadline) {
			out, err := read(ctx, c, flottaapi.GetEventsInput{Cursor: cursor, WaitSeconds: 2, DetailTypes: []string{flottaapi.InstanceStateChange}})
			if err != nil {
				t.Fatal(err)
			}
			cursor = out.Cursor
			for _, ev := range out.Events {
				var d flottaapi.InstanceDetail
				if err := json.Unmarshal(ev.Detail, &d); err != nil {
					t.Fatal(err)
				}
				if d.ContainerInstanceArn != m.ARN() {
					t.Fatalf("an event of another instance: %s", ev.Detail)
				}
				seen = append(seen, d.AgentConnected)
				if d.AgentConnected == want {
					return
				}
			}
		}
		t.Fatalf("no instance event with agentConnected %v; saw %v", want, seen)
	}
	described := func() bool {
		out, err := env.ECS.DescribeContainerInstances(ctx, &ecs.DescribeContainerInstancesInput{ContainerInstances: []string{m.ARN()}})
		if err != nil {
			t.Fatal(err)
		}
		return out.ContainerInstances[0].AgentConnected
	}

	next(true)
	if !described() {
		t.Fatal("the event says connected, DescribeContainerInstances does not")
	}
	m.Stop()
	next(false)
	if described() {
		t.Fatal("the event says disconnected, DescribeContainerInstances does not")
	}
	m.Start()
	next(true)

	// A replay of the same history tells the same story.
	out, err := read(ctx, c, flottaapi.GetEventsInput{Cursor: start, DetailTypes: []string{flottaapi.InstanceStateChange}, MaxEvents: 1000})
	if err != nil {
		t.Fatal(err)
	}
	var replayed []bool
	for _, ev := range out.Events {
		var d flottaapi.InstanceDetail
		json.Unmarshal(ev.Detail, &d)
		replayed = append(replayed, d.AgentConnected)
	}
	if fmt.Sprint(replayed[:len(seen)]) != fmt.Sprint(seen) {
		t.Fatalf("replayed %v, followed %v", replayed, seen)
	}
	// Connected, gone, back: the story has a false between two trues.
	story := strings.Join(strings.Fields(fmt.Sprint(seen)), " ")
	if !strings.Contains(story, "true") || !strings.Contains(story, "false") || seen[len(seen)-1] != true {
		t.Fatalf("agentConnected over the events: %v", seen)
	}
}
