// Package scheduler places tasks. For each cluster one loop is the single
// writer of placements: it keeps an in-memory ledger of what every container
// instance has left (fed by a watch on the store), takes the requests that
// arrive while it works (RunTask calls now, the service controller later),
// asks the placement engine, and commits each batch in one store
// transaction. One writer per cluster is what makes overcommit impossible
// without locks; the transaction's guards keep it true even when other
// writers (agents reporting stopped tasks, a second server) change an
// instance meanwhile.
package scheduler

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/flotta-dev/flotta/internal/placement"
	"github.com/flotta-dev/flotta/internal/state"
)

// Request asks for tasks to be placed in a cluster.
type Request struct {
	Placement placement.Request
	// Only restricts placement to these instance ids (StartTask), one task each.
	Only []string
	// Build makes the record of a task placed on an instance.
	Build func(inst *state.InstanceRecord) state.TaskRecord
	// ClientToken, when set, is recorded with the tasks (and must be unused).
	ClientToken string
	TokenHash   string
	// DryRun places without committing or reserving anything.
	DryRun bool
}

// Result is what became of a request.
type Result struct {
	Tasks []state.TaskRecord
	// Placement is the engine's answer (failures, reasons, chosen nodes).
	Placement placement.Result
	// Instances are the instances of the tasks (or, for a dry run, those chosen).
	Instances []string
	// Replayed is set when the clientToken was already used by the same request.
	TokenConflict *state.ClientToken
}

// ErrNoInstances is returned when the cluster has no container instance at all.
var ErrNoInstances = errors.New("no container instances")

// Scheduler runs one placement loop per cluster.
type Scheduler struct {
	State  *state.State
	Logger *slog.Logger
	// Seed makes random choices repeatable; zero picks one.
	Seed uint64
	// MaxBatchTasks bounds the tasks committed in one transaction; batches
	// are also kept within the store's limit on a transaction's operations.
	MaxBatchTasks int
	maxOps        int

	ctx   context.Context
	mu    sync.Mutex
	loops map[string]*loop
	wg    sync.WaitGroup
}

// Start makes the scheduler ready; its loops end when ctx ends.
func (s *Scheduler) Start(ctx context.Context) {
	s.ctx = ctx
	s.loops = map[string]*loop{}
	if s.MaxBatchTasks == 0 {
		s.MaxBatchTasks = 200
	}
	s.maxOps = s.State.MaxTxnOps()
	if s.Logger == nil {
		s.Logger = slog.Default()
	}
}

// Wait waits for the loops to end after the scheduler's context ended.
func (s *Scheduler) Wait() { s.wg.Wait() }

// Place submits a request to its cluster's loop and waits for the answer.
// A request for more tasks than one transaction holds (a service of 5,000)
// is placed and committed in parts, one after the other; each part sees
// what the ones before it reserved, so spread and distinctInstance hold
// across parts. If a part places fewer than it asked for, the rest is not
// tried: the answer says why the last part fell short. An error after some
// parts were committed comes back with their tasks.
func (s *Scheduler) Place(ctx context.Context, cluster string, req Request) (Result, error) {
	chunk := s.partSize(req)
	if req.DryRun || req.Only != nil || req.Placement.Count <= chunk {
		return s.placeOnce(ctx, cluster, req)
	}
	var all Result
	for left := req.Placement.Count; left > 0; {
		part := req
		part.Placement.Count = min(left, chunk)
		res, err := s.placeOnce(ctx, cluster, part)
		all.Tasks = append(all.Tasks, res.Tasks...)
		all.Instances = append(all.Instances, res.Instances...)
		all.Placement.Chosen = append(all.Placement.Chosen, res.Placement.Chosen...)
		all.Placement.Failures, all.Placement.Reasons = res.Placement.Failures, res.Placement.Reasons
		if err != nil {
			return all, err
		}
		if len(res.Tasks) < part.Placement.Count {
			break
		}
		left -= part.Placement.Count
	}
	return all, nil
}

// partSize is how many tasks of a request one transaction holds.
func (s *Scheduler) partSize(req Request) int {
	fixed := state.PlacementOps(req.Placement.Group, 0, req.ClientToken != "")
	per := state.PlacementOps(req.Placement.Group, 1, false)
	return max(1, min(s.MaxBatchTasks, (s.maxOps-fixed)/per))
}

// ops is the most store operations a request's placement costs.
func (s *Scheduler) ops(req Request) int {
	return state.PlacementOps(req.Placement.Group, req.Placement.Count, req.ClientToken != "")
}

// placeOnce hands one request, small enough for one transaction, to its
// cluster's loop and waits for the answer.
func (s *Scheduler) placeOnce(ctx context.Context, cluster string, req Request) (Result, error) {
	l := s.loop(cluster)
	p := &pending{req: req, done: make(chan struct{})}
	select {
	case l.requests <- p:
	case <-ctx.Done():
		return Result{}, ctx.Err()
	case <-s.ctx.Done():
		return Result{}, errors.New("the scheduler is shutting down")
	}
	select {
	case <-p.done:
		return p.res, p.err
	case <-ctx.Done():
		// The loop may still commit it; the caller's token (if any) tells.
		return Result{}, ctx.Err()
	}
}

func (s *Scheduler) loop(cluster string) *loop {
	s.mu.Lock()
	defer s.mu.Unlock()
	if l := s.loops[cluster]; l != nil {
		return l
	}
	seed := s.Seed
	if seed == 0 {
		seed = rand.Uint64()
	}
	l := &loop{s: s, cluster: cluster, requests: make(chan *pending, 1024), rng: rand.New(rand.NewPCG(seed, uint64(len(s.loops)))),
		cache: placement.NewCache(), logger: s.Logger.With("cluster", cluster)}
	s.loops[cluster] = l
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		l.run(s.ctx)
	}()
	return l
}

type pending struct {
	req  Request
	res  Result
	err  error
	done chan struct{}
}

func (p *pending) finish(res Result, err error) {
	p.res, p.err = res, err
	close(p.done)
}

// retryDelay paces a loop that cannot reach the store.
const retryDelay = 200 * time.Millisecond
