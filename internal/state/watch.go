package state

import (
	"context"
	"fmt"
	"strings"

	"github.com/flotta-dev/flotta/internal/store"
)

// Typed watches: each follows one kind of record from a store revision on,
// in batches as the store commits them, until ctx ends. When the revision is
// older than the store keeps, the channel closes and the error channel says
// ErrCompacted: read everything afresh, then watch from Revision.

// InstanceChange is a change of a container instance record.
type InstanceChange struct {
	Cluster, ID string
	// Record is the instance as written; nil when it was deleted (or
	// could not be read: then Err says why).
	Record *InstanceRecord
	ModRev int64
	Err    error
}

// WatchInstances follows the instances of one cluster, or of every cluster
// when cluster is "".
func (s *State) WatchInstances(ctx context.Context, cluster string, after int64) (<-chan []InstanceChange, <-chan error) {
	prefix := Root + "instances/"
	if cluster != "" {
		prefix = instanceRecordsPrefix(cluster)
	}
	return watchAs(ctx, s.db, prefix, after, func(ev store.Event) (InstanceChange, bool) {
		cl, id, _ := strings.Cut(strings.TrimPrefix(ev.KV.Key, Root+"instances/"), "/")
		c := InstanceChange{Cluster: cl, ID: id, ModRev: ev.KV.ModRev}
		if !ev.Deleted {
			c.Record, c.Err = decode[InstanceRecord](ev.KV)
		}
		return c, true
	})
}

// SessionChange says that an instance's agent connected or went away.
type SessionChange struct {
	InstanceID string
	Connected  bool
}

// WatchSessions follows the agents' sessions.
func (s *State) WatchSessions(ctx context.Context, after int64) (<-chan []SessionChange, <-chan error) {
	return watchAs(ctx, s.db, sessionsPrefix(), after, func(ev store.Event) (SessionChange, bool) {
		return SessionChange{InstanceID: strings.TrimPrefix(ev.KV.Key, sessionsPrefix()), Connected: !ev.Deleted}, true
	})
}

// ServiceChange names a service whose record changed.
type ServiceChange struct {
	Cluster, Name string
}

// WatchServices follows the service records (by name: a reconcile reads the
// record itself).
func (s *State) WatchServices(ctx context.Context, after int64) (<-chan []ServiceChange, <-chan error) {
	return watchAs(ctx, s.db, serviceRecordsPrefix(), after, func(ev store.Event) (ServiceChange, bool) {
		cl, name, ok := strings.Cut(strings.TrimPrefix(ev.KV.Key, serviceRecordsPrefix()), "/")
		return ServiceChange{Cluster: cl, Name: name}, ok
	})
}

// ServiceTaskChange is a change of a service's task summary.
type ServiceTaskChange struct {
	Cluster, Service, TaskID string
	Deleted                  bool
	ModRev                   int64
	value                    []byte
}

// Summary decodes the summary as written (nil when it was deleted). It is
// decoded only when asked: most readers need only the names.
func (c ServiceTaskChange) Summary() (*TaskSummary, error) {
	if c.Deleted {
		return nil, nil
	}
	return decode[TaskSummary](store.KV{Key: c.Cluster + "/" + c.Service + "/" + c.TaskID, Value: c.value, ModRev: c.ModRev})
}

// WatchServiceTasks follows every service's task summaries.
func (s *State) WatchServiceTasks(ctx context.Context, after int64) (<-chan []ServiceTaskChange, <-chan error) {
	return watchAs(ctx, s.db, allServiceTasksPrefix(), after, func(ev store.Event) (ServiceTaskChange, bool) {
		parts := strings.Split(strings.TrimPrefix(ev.KV.Key, allServiceTasksPrefix()), "/")
		if len(parts) != 3 {
			return ServiceTaskChange{}, false
		}
		return ServiceTaskChange{Cluster: parts[0], Service: parts[1], TaskID: parts[2], Deleted: ev.Deleted, ModRev: ev.KV.ModRev, value: ev.KV.Value}, true
	})
}

// WaitForAssignments blocks until the tasks assigned to an instance (or
// their desired statuses) change after revision after, and returns the
// revision of that change; at once when after is older than the store keeps.
func (s *State) WaitForAssignments(ctx context.Context, instanceID string, after int64) (int64, error) {
	return s.db.WaitForChange(ctx, assignmentsPrefix(instanceID), after)
}

// watchAs runs a store watch and converts its events; convert's false drops one.
func watchAs[T any](ctx context.Context, st *store.Store, prefix string, after int64, convert func(store.Event) (T, bool)) (<-chan []T, <-chan error) {
	events, errs := st.Watch(ctx, prefix, after)
	out := make(chan []T, 16)
	errc := make(chan error, 1)
	go func() {
		defer close(out)
		for {
			select {
			case batch, ok := <-events:
				if !ok {
					select {
					case err := <-errs:
						errc <- err
					default:
					}
					return
				}
				conv := make([]T, 0, len(batch))
				for _, ev := range batch {
					if c, ok := convert(ev); ok {
						conv = append(conv, c)
					}
				}
				if len(conv) == 0 {
					continue
				}
				select {
				case out <- conv:
				case <-ctx.Done():
					return
				}
			case err := <-errs:
				errc <- err
				return
			case <-ctx.Done():
				return
			}
		}
	}()
	return out, errc
}

// AllInstances reads every container instance of every cluster, and the
// revision to watch for changes from.
func (s *State) AllInstances(ctx context.Context) ([]*InstanceRecord, int64, error) {
	page, err := s.db.List(ctx, Root+"instances/", store.ListOptions{})
	if err != nil {
		return nil, 0, err
	}
	out := make([]*InstanceRecord, 0, len(page.KVs))
	for _, kv := range page.KVs {
		r, err := decode[InstanceRecord](kv)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, r)
	}
	return out, page.Revision, nil
}

// ConnectedInstances are the instances whose agents hold a session now.
func (s *State) ConnectedInstances(ctx context.Context) (map[string]bool, error) {
	page, err := s.db.List(ctx, sessionsPrefix(), store.ListOptions{KeysOnly: true})
	if err != nil {
		return nil, err
	}
	live := make(map[string]bool, len(page.KVs))
	for _, kv := range page.KVs {
		live[strings.TrimPrefix(kv.Key, sessionsPrefix())] = true
	}
	return live, nil
}

// AllServiceTasks reads every service's task summaries, and the revision
// to watch for changes from.
func (s *State) AllServiceTasks(ctx context.Context) ([]ServiceTaskChange, int64, error) {
	page, err := s.db.List(ctx, allServiceTasksPrefix(), store.ListOptions{})
	if err != nil {
		return nil, 0, err
	}
	out := make([]ServiceTaskChange, 0, len(page.KVs))
	for _, kv := range page.KVs {
		parts := strings.Split(strings.TrimPrefix(kv.Key, allServiceTasksPrefix()), "/")
		if len(parts) == 3 {
			out = append(out, ServiceTaskChange{Cluster: parts[0], Service: parts[1], TaskID: parts[2], ModRev: kv.ModRev, value: kv.Value})
		}
	}
	return out, page.Revision, nil
}

// RecordChange is a write of a task, container instance or service record,
// in the order the store made them (Revision, then position): what the
// event stream is made from. Exactly one of Task, Instance and Service is set.
type RecordChange struct {
	Revision int64
	Task     *TaskRecord
	Instance *InstanceRecord
	// Connected says, with Instance, whether the instance's agent held a
	// session at that revision. An agent that connects or goes away is a
	// change of its instance too.
	Connected bool
	// Service is the service as written and PrevService as it was before
	// (nil for a new one).
	Service, PrevService *ServiceRecord

	// session, while a change is read, is the instance key of a session
	// that began or ended.
	session string
}

// RecordBatch is the record changes of one store watch answer, and the
// revision it brings a reader to (also when none of its writes were records
// a reader follows, so that a reader knows it is caught up).
type RecordBatch struct {
	Revision int64
	Changes  []RecordChange
}

// WatchRecords follows every write of a task, container instance or service
// record after revision after. Deletions (the reaper's) are not changes a
// reader follows. When after is older than the history the store keeps, the
// channel closes with a *CompactedError naming the oldest revision kept.
func (s *State) WatchRecords(ctx context.Context, after int64) (<-chan RecordBatch, <-chan error) {
	events, errs := s.db.WatchWithPrev(ctx, Root, after)
	out := make(chan RecordBatch, 16)
	errc := make(chan error, 1)
	go func() {
		defer close(out)
		for {
			select {
			case batch, ok := <-events:
				if !ok {
					select {
					case err := <-errs:
						errc <- err
					default:
					}
					return
				}
				if len(batch) == 0 {
					continue
				}
				b := RecordBatch{Revision: batch[len(batch)-1].KV.ModRev}
				var err error
				if b.Changes, err = s.recordChanges(ctx, batch); err != nil {
					errc <- err
					return
				}
				select {
				case out <- b:
				case <-ctx.Done():
					return
				}
			case err := <-errs:
				errc <- err
				return
			case <-ctx.Done():
				return
			}
		}
	}()
	return out, errc
}

// recordChanges turns a watch answer into record changes. An instance's
// connectivity is read as it was at the revision of each change, so that the
// same history always gives the same changes.
func (s *State) recordChanges(ctx context.Context, batch []store.Event) ([]RecordChange, error) {
	var out []RecordChange
	// The keys to read at each revision: sessions of changed instances, and
	// instances whose agents connected or left.
	need := map[int64][]string{}
	for _, ev := range batch {
		c, ok := recordChange(ev)
		if !ok {
			continue
		}
		switch {
		case c.Instance != nil:
			need[c.Revision] = append(need[c.Revision], sessionKey(c.Instance.ID))
		case c.session != "":
			need[c.Revision] = append(need[c.Revision], c.session)
		}
		out = append(out, c)
	}
	if len(need) == 0 {
		return out, nil
	}
	read := map[int64]map[string]store.KV{}
	for rev, keys := range need {
		kvs, err := s.db.GetManyAt(ctx, rev, keys)
		if err != nil {
			return nil, fmt.Errorf("read connectivity at revision %d: %w", rev, err)
		}
		read[rev] = kvs
	}
	kept := out[:0]
	for _, c := range out {
		switch {
		case c.Instance != nil:
			c.Connected = read[c.Revision][sessionKey(c.Instance.ID)].ModRev != 0
		case c.session != "":
			rec, err := decode[InstanceRecord](read[c.Revision][c.session])
			if err != nil {
				return nil, err
			}
			if rec == nil {
				continue // an instance deregistered, or a session from before sessions named their cluster
			}
			c.Instance, c.session = rec, ""
		}
		kept = append(kept, c)
	}
	return kept, nil
}

// recordChange decodes one write. A session that begins or ends comes back
// with the key of its instance in session, to be read.
func recordChange(ev store.Event) (RecordChange, bool) {
	c := RecordChange{Revision: ev.KV.ModRev}
	rest := strings.TrimPrefix(ev.KV.Key, Root)
	if id, ok := strings.CutPrefix(rest, "sessions/"); ok {
		// A new session is an agent that connected, a deleted one an agent
		// gone; a session put again on a new lease changes nothing.
		switch {
		case !ev.Deleted && ev.Prev == nil && len(ev.KV.Value) > 0:
			c.Connected, c.session = true, instanceKey(string(ev.KV.Value), id)
		case ev.Deleted && ev.Prev != nil && len(ev.Prev.Value) > 0:
			c.session = instanceKey(string(ev.Prev.Value), id)
		default:
			return c, false
		}
		return c, true
	}
	if ev.Deleted {
		return RecordChange{}, false
	}
	var err error
	switch {
	case strings.HasPrefix(rest, "tasks/"):
		c.Task, err = decode[TaskRecord](ev.KV)
	case strings.HasPrefix(rest, "instances/"):
		c.Instance, err = decode[InstanceRecord](ev.KV)
	case strings.HasPrefix(rest, "services/"):
		c.Service, err = decode[ServiceRecord](ev.KV)
		if err == nil && ev.Prev != nil {
			c.PrevService, err = decode[ServiceRecord](*ev.Prev)
		}
	default:
		return c, false
	}
	return c, err == nil
}
