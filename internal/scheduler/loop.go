package scheduler

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/flotta-dev/flotta/internal/model"
	"github.com/flotta-dev/flotta/internal/placement"
	"github.com/flotta-dev/flotta/internal/state"
)

// loop is one cluster's placement loop; only its goroutine touches its fields.
type loop struct {
	s        *Scheduler
	cluster  string
	requests chan *pending
	ledger   *ledger
	cache    *placement.Cache
	rng      *rand.Rand
	logger   *slog.Logger
	// deferred holds requests put back for the next batch.
	deferred []*pending
}

func (l *loop) run(ctx context.Context) {
	for ctx.Err() == nil {
		rev, err := l.load(ctx)
		if err != nil {
			l.logger.Warn("load the cluster's instances", "err", err)
			l.failWaiting(err)
			select {
			case <-time.After(retryDelay):
			case <-ctx.Done():
			}
			continue
		}
		l.serve(ctx, rev)
	}
	l.failWaiting(errors.New("the scheduler stopped"))
}

// load reads every instance of the cluster into a fresh ledger and returns
// the revision to follow changes from.
func (l *loop) load(ctx context.Context) (int64, error) {
	rev, err := l.s.State.Revision(ctx)
	if err != nil {
		return 0, err
	}
	views, err := l.s.State.ListInstances(ctx, l.cluster)
	if err != nil {
		return 0, err
	}
	l.ledger = newLedger()
	for _, v := range views {
		l.ledger.set(v.InstanceRecord, v.ModRev, v.Connected)
	}
	l.cache.Invalidate()
	return rev, nil
}

// serve handles requests and store changes until a watch fails.
func (l *loop) serve(ctx context.Context, rev int64) {
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	instEvents, instErr := l.s.State.WatchInstances(wctx, l.cluster, rev)
	sessEvents, sessErr := l.s.State.WatchSessions(wctx, rev)
	for {
		if len(l.deferred) > 0 {
			batch := l.deferred
			l.deferred = nil
			l.drainEvents(instEvents, sessEvents)
			l.handle(ctx, l.collect(batch))
			continue
		}
		select {
		case p := <-l.requests:
			l.drainEvents(instEvents, sessEvents)
			l.handle(ctx, l.collect([]*pending{p}))
		case evs, ok := <-instEvents:
			if !ok {
				return
			}
			l.applyInstances(evs)
		case evs, ok := <-sessEvents:
			if !ok {
				return
			}
			l.applySessions(evs)
		case err := <-instErr:
			l.logger.Warn("instance watch ended; reloading", "err", err)
			return
		case err := <-sessErr:
			l.logger.Warn("session watch ended; reloading", "err", err)
			return
		case <-ctx.Done():
			return
		}
	}
}

// collect makes a batch of the given requests and those already waiting,
// as long as it stays within MaxBatchTasks tasks and one transaction's
// operations (a single request always fits: Place splits larger ones).
// Requests that do not fit are put back for the next batch.
func (l *loop) collect(first []*pending) []*pending {
	var batch []*pending
	tasks, ops := 0, 0
	add := func(p *pending) bool {
		n, o := p.req.Placement.Count, l.s.ops(p.req)
		if len(batch) > 0 && (tasks+n > l.s.MaxBatchTasks || ops+o > l.s.maxOps) {
			return false
		}
		batch = append(batch, p)
		tasks, ops = tasks+n, ops+o
		return true
	}
	for i, p := range first {
		if !add(p) {
			l.deferred = append(l.deferred, first[i:]...)
			return batch
		}
	}
	for {
		select {
		case p := <-l.requests:
			if !add(p) {
				l.deferred = append(l.deferred, p)
				return batch
			}
		default:
			return batch
		}
	}
}

func (l *loop) drainEvents(inst <-chan []state.InstanceChange, sess <-chan []state.SessionChange) {
	for {
		select {
		case evs, ok := <-inst:
			if !ok {
				return
			}
			l.applyInstances(evs)
		case evs, ok := <-sess:
			if !ok {
				return
			}
			l.applySessions(evs)
		default:
			return
		}
	}
}

func (l *loop) applyInstances(changes []state.InstanceChange) {
	for _, c := range changes {
		if c.Err != nil {
			l.logger.Error("undecodable instance record", "instance", c.ID, "err", c.Err)
			continue
		}
		if c.Record == nil {
			l.ledger.remove(c.ID)
			l.cache.Invalidate()
			continue
		}
		connected := false
		if e := l.ledger.byID[c.ID]; e != nil {
			connected = e.connected
		}
		if l.ledger.set(c.Record, c.ModRev, connected) {
			l.cache.Invalidate()
		}
	}
}

func (l *loop) applySessions(changes []state.SessionChange) {
	for _, c := range changes {
		if l.ledger.setConnected(c.InstanceID, c.Connected) {
			l.cache.Invalidate()
		}
	}
}

func (l *loop) failWaiting(err error) {
	for _, p := range l.deferred {
		p.finish(Result{}, err)
	}
	l.deferred = nil
	for {
		select {
		case p := <-l.requests:
			p.finish(Result{}, err)
		default:
			return
		}
	}
}

// handle places a batch and commits it, placing again on conflicts.
func (l *loop) handle(ctx context.Context, batch []*pending) {
	var err error
	for attempt := 0; attempt < 8; attempt++ {
		var retry bool
		retry, err = l.attempt(ctx, batch)
		if !retry {
			return
		}
	}
	for _, p := range batch {
		if !isDone(p) {
			p.finish(Result{}, err)
		}
	}
}

func isDone(p *pending) bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// attempt places every request of the batch on the ledger and commits. It
// returns true when the commit met a conflict and the batch must be placed
// again (the ledger has then been refreshed).
func (l *loop) attempt(ctx context.Context, batch []*pending) (bool, error) {
	var tasks []state.TaskRecord
	touched := map[string]*entry{}
	tokens := map[string]*state.ClientToken{}
	results := make([]Result, len(batch))
	active := make([]bool, len(batch))
	for i, p := range batch {
		if isDone(p) {
			continue
		}
		if p.req.ClientToken != "" {
			if _, dup := tokens[p.req.ClientToken]; dup {
				// Another request of this batch uses the token: take it next time.
				l.deferred = append(l.deferred, p)
				continue
			}
			prev, err := l.s.State.GetClientToken(ctx, l.cluster, p.req.ClientToken)
			if err != nil {
				p.finish(Result{}, err)
				continue
			}
			if prev != nil {
				p.finish(Result{TokenConflict: prev}, nil)
				continue
			}
		}
		if !l.hasInstances() {
			p.finish(Result{}, ErrNoInstances)
			continue
		}
		res := l.place(p.req)
		if p.req.DryRun {
			p.finish(res, nil)
			continue
		}
		active[i] = true
		for _, id := range res.Instances {
			e := l.ledger.byID[id]
			e.rec.Reserve(p.req.Placement.Demand, p.req.Placement.Group)
			touched[id] = e
			rec := p.req.Build(e.rec)
			res.Tasks = append(res.Tasks, rec)
			tasks = append(tasks, rec)
		}
		if p.req.ClientToken != "" && len(res.Tasks) > 0 {
			// A token is spent only by tasks placed: a retry of a request
			// that placed nothing tries again.
			tok := &state.ClientToken{ParamsHash: p.req.TokenHash}
			for _, t := range res.Tasks {
				tok.TaskArns = append(tok.TaskArns, t.Task.TaskArn)
			}
			tokens[p.req.ClientToken] = tok
		}
		results[i] = res
	}
	if len(tasks) == 0 && len(tokens) == 0 {
		for i, p := range batch {
			if active[i] {
				p.finish(results[i], nil)
			}
		}
		return false, nil
	}
	updates := make([]state.InstanceUpdate, 0, len(touched))
	for _, e := range touched {
		updates = append(updates, state.InstanceUpdate{Record: e.rec, ModRev: e.modRev})
	}
	rev, err := l.s.State.CommitPlacements(ctx, l.cluster, state.Batch{Tasks: tasks, Instances: updates, Tokens: tokens})
	if err != nil {
		// What was reserved in memory was not written: read the truth again.
		if rerr := l.refresh(ctx, touched); rerr != nil {
			l.logger.Warn("refresh instances after a failed commit", "err", rerr)
			l.ledger = newLedger()
			if _, lerr := l.load(ctx); lerr != nil {
				return false, lerr
			}
		}
		if errors.Is(err, state.ErrConflict) {
			return true, err
		}
		for i, p := range batch {
			if active[i] {
				p.finish(Result{}, err)
			}
		}
		return false, err
	}
	for _, e := range touched {
		e.modRev = rev
	}
	for i, p := range batch {
		if active[i] {
			p.finish(results[i], nil)
		}
	}
	return false, nil
}

func (l *loop) hasInstances() bool {
	for _, e := range l.ledger.byID {
		if e.rec.Instance.Status != model.InstanceInactive {
			return true
		}
	}
	return false
}

// place runs the engine for one request.
func (l *loop) place(req Request) Result {
	nodes := l.ledger.nodes
	if req.DryRun {
		nodes = cloneNodes(nodes)
	}
	var res Result
	if req.Only != nil {
		pr := placement.Result{Reasons: map[string]int{}}
		for _, id := range req.Only {
			e := l.ledger.byID[id]
			if e == nil {
				continue
			}
			n := e.node
			if req.DryRun {
				n = cloneNodes([]*placement.Node{n})[0]
			}
			one := req.Placement
			one.Count = 1
			r := placement.Place([]*placement.Node{n}, one, l.rng)
			pr.Chosen = append(pr.Chosen, r.Chosen...)
			pr.Failures = append(pr.Failures, r.Failures...)
			for k, v := range r.Reasons {
				pr.Reasons[k] += v
			}
		}
		res.Placement = pr
	} else if req.DryRun {
		res.Placement = placement.Place(nodes, req.Placement, l.rng)
	} else {
		res.Placement = l.cache.Place(nodes, req.Placement, l.rng)
	}
	for _, n := range res.Placement.Chosen {
		res.Instances = append(res.Instances, n.ID)
	}
	return res
}

// refresh reads the given instances from the store again.
func (l *loop) refresh(ctx context.Context, touched map[string]*entry) error {
	ids := make([]string, 0, len(touched))
	for id := range touched {
		ids = append(ids, id)
	}
	views, err := l.s.State.GetInstances(ctx, l.cluster, ids)
	if err != nil {
		return err
	}
	for _, id := range ids {
		v, ok := views[id]
		if !ok {
			l.ledger.remove(id)
			continue
		}
		e := l.ledger.byID[id]
		e.modRev = 0 // accept what the store says, even if it is "older" than a failed write
		l.ledger.set(v.InstanceRecord, v.ModRev, v.Connected)
	}
	l.cache.Invalidate()
	return nil
}
