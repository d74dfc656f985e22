// Package fleet runs container instances for tests: real agents, in process,
// each on its own fake container runtime, joined to a test server. A member
// can be stopped the way a killed agent stops (its containers keep running)
// and started again from the same data directory.
package fleet

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/flotta-dev/flotta/internal/agent"
	"github.com/flotta-dev/flotta/internal/runtime"
	"github.com/flotta-dev/flotta/internal/runtime/fake"
	"github.com/flotta-dev/flotta/internal/testutil/flottatest"
)

// Image is the image every member's runtime holds.
const Image = "demo"

// Spec describes one instance.
type Spec struct {
	Cluster     string
	CPU, Memory int
	Zone        string
	Attributes  map[string]string
	// CredentialsAddress is where the agent serves task role credentials;
	// default "off" (agents of one test process cannot share an address).
	CredentialsAddress string
}

// Fleet is a set of instances joined to one server.
type Fleet struct {
	t   testing.TB
	env *flottatest.Env
	// OnStart, when set before members are added, runs as each container
	// starts (to make it exit, or turn healthy).
	OnStart func(rt *fake.Runtime, id string, spec runtime.ContainerSpec)

	mu      sync.Mutex
	members []*Member
}

// New makes an empty fleet; members stop when the test ends.
func New(t testing.TB, env *flottatest.Env) *Fleet {
	f := &Fleet{t: t, env: env}
	t.Cleanup(func() {
		for _, m := range f.Members() {
			m.Stop()
		}
	})
	return f
}

// Members lists the members in the order they were added.
func (f *Fleet) Members() []*Member {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]*Member(nil), f.members...)
}

// Member is one container instance.
type Member struct {
	Runtime *fake.Runtime
	Dir     string
	Spec    Spec

	f      *Fleet
	mu     sync.Mutex
	agent  *agent.Agent
	cancel context.CancelFunc
	done   chan struct{}
}

// Add joins n instances like spec, named zone by zone(i) when given, and
// waits until each takes tasks.
func (f *Fleet) Add(n int, spec Spec, zone func(i int) string) []*Member {
	f.t.Helper()
	var out []*Member
	for i := 0; i < n; i++ {
		s := spec
		if zone != nil {
			s.Zone = zone(i)
		}
		rt := fake.New()
		rt.AddImage(Image)
		if f.OnStart != nil {
			rt.OnStart = f.OnStart
		}
		m := &Member{Runtime: rt, Dir: f.memDir(), Spec: s, f: f}
		m.Start()
		f.mu.Lock()
		f.members = append(f.members, m)
		f.mu.Unlock()
		out = append(out, m)
	}
	return out
}

// memDir is a data dir for a member: in memory (/dev/shm) where there is
// one, since a fleet's agents checkpoint every task change (an open and an
// fsync each) and their runtimes are fake anyway; 5,000 tasks on 40 agents
// spent most of their time there on disk. Removed when the test ends.
func (f *Fleet) memDir() string {
	if st, err := os.Stat("/dev/shm"); err == nil && st.IsDir() {
		if dir, err := os.MkdirTemp("/dev/shm", "flotta-fleet-"); err == nil {
			f.t.Cleanup(func() { os.RemoveAll(dir) })
			return dir
		}
	}
	return f.t.TempDir()
}

// Start runs the member's agent, joining on first start, and waits until it
// takes tasks.
func (m *Member) Start() {
	t := m.f.t
	t.Helper()
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.cancel != nil {
		t.Fatal("fleet: member already running")
	}
	token, _, err := m.f.env.Server.IAM().CreateJoinToken(context.Background(), time.Hour, 1, "fleet")
	if err != nil {
		t.Fatal(err)
	}
	level := slog.LevelError
	if os.Getenv("FLOTTA_TEST_LOG") != "" {
		level = slog.LevelDebug
	}
	a, err := agent.New(agent.Config{Server: m.f.env.Server.Endpoint(), Cluster: m.Spec.Cluster, JoinToken: token, DataDir: m.Dir,
		Runtime: m.Runtime, CPU: m.Spec.CPU, Memory: m.Spec.Memory, Zone: m.Spec.Zone, Attributes: m.Spec.Attributes,
		PollWait: 5 * time.Second, CleanupDelay: time.Hour, CredentialsAddress: cmp.Or(m.Spec.CredentialsAddress, "off"),
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	failed := make(chan error, 1)
	go func() {
		defer close(done)
		if err := a.Run(ctx); err != nil && ctx.Err() == nil {
			failed <- err
		}
	}()
	select {
	case <-a.Registered():
	case err := <-failed:
		cancel()
		t.Fatalf("fleet: agent stopped before registering: %v", err)
	case <-time.After(30 * time.Second):
		cancel()
		t.Fatal("fleet: agent did not register within 30s")
	}
	m.agent, m.cancel, m.done = a, cancel, done
}

// Stop ends the agent as a kill would: its containers keep running.
func (m *Member) Stop() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.cancel == nil {
		return
	}
	m.cancel()
	<-m.done
	m.cancel = nil
}

// ARN is the member's container instance ARN.
func (m *Member) ARN() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.agent == nil {
		return ""
	}
	return m.agent.ContainerInstanceArn()
}

// Running counts the member's running containers.
func (m *Member) Running() int {
	list, err := m.Runtime.ListContainers(context.Background(), nil)
	if err != nil {
		panic(fmt.Sprintf("fake runtime: %v", err))
	}
	n := 0
	for _, c := range list {
		if c.Running {
			n++
		}
	}
	return n
}
