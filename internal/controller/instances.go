package controller

import (
	"context"
	"log/slog"
	"time"

	"github.com/flotta-dev/flotta/internal/model"
	"github.com/flotta-dev/flotta/internal/state"
)

// LostInstances notices agents that stopped polling. An instance whose
// agent has been gone longer than Grace has its service tasks recorded as
// stopped (their capacity freed), so that the service controller replaces
// them elsewhere; when the agent comes back it stops the stale copies,
// because they are no longer assigned to it. Standalone tasks are left be.
type LostInstances struct {
	State  *state.State
	Logger *slog.Logger
	Grace  time.Duration
	Tick   time.Duration
	// now is the clock; tests may set it.
	now func() time.Time

	instances map[string]lostEntry
}

type lostEntry struct {
	cluster string
	status  string
	since   time.Time // when the agent was first seen gone; zero while connected
	handled bool
}

// Run watches until ctx ends.
func (c *LostInstances) Run(ctx context.Context) {
	if c.Grace == 0 {
		c.Grace = 10 * time.Second
	}
	if c.Tick == 0 {
		c.Tick = time.Second
	}
	if c.now == nil {
		c.now = c.State.Now
	}
	for ctx.Err() == nil {
		rev, err := c.load(ctx)
		if err != nil {
			c.Logger.Warn("load instances", "err", err)
			sleep(ctx, time.Second)
			continue
		}
		c.follow(ctx, rev)
	}
}

func (c *LostInstances) load(ctx context.Context) (int64, error) {
	all, rev, err := c.State.AllInstances(ctx)
	if err != nil {
		return 0, err
	}
	c.instances = map[string]lostEntry{}
	for _, r := range all {
		c.set(r)
	}
	return rev, nil
}

func (c *LostInstances) set(r *state.InstanceRecord) {
	e := c.instances[r.ID]
	e.cluster, e.status = r.Cluster, r.Instance.Status
	c.instances[r.ID] = e
}

func (c *LostInstances) follow(ctx context.Context, rev int64) {
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	changes, errc := c.State.WatchInstances(wctx, "", rev)
	tick := time.NewTicker(c.Tick)
	defer tick.Stop()
	for {
		select {
		case batch, ok := <-changes:
			if !ok {
				return
			}
			for _, ch := range batch {
				switch {
				case ch.Err != nil:
				case ch.Record == nil:
					delete(c.instances, ch.ID)
				default:
					c.set(ch.Record)
				}
			}
		case <-tick.C:
			if err := c.check(ctx); err != nil {
				c.Logger.Warn("check agent sessions", "err", err)
			}
		case err := <-errc:
			c.Logger.Warn("instance watch ended", "err", err)
			return
		case <-ctx.Done():
			return
		}
	}
}

// check compares the live sessions with the instances.
func (c *LostInstances) check(ctx context.Context) error {
	live, err := c.State.ConnectedInstances(ctx)
	if err != nil {
		return err
	}
	now := c.now()
	for id, e := range c.instances {
		if live[id] || e.status == model.InstanceInactive {
			if !e.since.IsZero() {
				e.since, e.handled = time.Time{}, false
				c.instances[id] = e
			}
			continue
		}
		if e.since.IsZero() {
			e.since = now
			c.instances[id] = e
			continue
		}
		if e.handled || now.Sub(e.since) < c.Grace {
			continue
		}
		if err := c.replace(ctx, e.cluster, id, now.Sub(e.since)); err != nil {
			return err
		}
		e.handled = true
		c.instances[id] = e
	}
	return nil
}

// replace records an instance's service tasks as stopped.
func (c *LostInstances) replace(ctx context.Context, cluster, id string, gone time.Duration) error {
	tasks, _, err := c.State.AssignedTasks(ctx, id)
	if err != nil {
		return err
	}
	n := 0
	for _, t := range tasks {
		if state.ServiceOfGroup(t.Task.Group) == "" || t.Task.LastStatus == model.TaskStopped {
			continue
		}
		reason := "Task stopped because the agent of its container instance has been disconnected for " + gone.Round(time.Second).String() + "."
		if _, err := c.State.MarkTaskLost(ctx, t.Cluster, t.ID, reason); err != nil {
			return err
		}
		n++
	}
	if n > 0 {
		c.Logger.Warn("replacing the service tasks of a lost container instance", "cluster", cluster, "instance", id, "tasks", n, "gone", gone)
	}
	return nil
}
