package events

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/flotta-dev/flotta/internal/flottaapi"
	"github.com/flotta-dev/flotta/internal/model"
	"github.com/flotta-dev/flotta/internal/state"
)

// Limits of one read.
const (
	DefaultMaxEvents = 100
	MaxMaxEvents     = flottaapi.MaxEventsPerRead
	MaxWait          = 20 * time.Second
	// settle is how long a read that has events waits for more that are
	// already on their way (a replay arrives in several batches).
	settle = 50 * time.Millisecond
)

// Stream serves the event stream of one account.
type Stream struct {
	State *state.State
}

// position is a place in the stream: the event at index Idx of the events
// of store revision Rev; Idx end means after all of that revision's.
type position struct {
	rev int64
	idx int
}

const end = math.MaxInt

func (p position) String() string {
	if p.idx == end {
		return strconv.FormatInt(p.rev, 10) + "-*"
	}
	return strconv.FormatInt(p.rev, 10) + "-" + strconv.Itoa(p.idx)
}

// after says whether p comes after q.
func (p position) after(q position) bool { return p.rev > q.rev || p.rev == q.rev && p.idx > q.idx }

func parseCursor(s string) (position, error) {
	rev, idx, ok := strings.Cut(s, "-")
	r, err := strconv.ParseInt(rev, 10, 64)
	if !ok || err != nil || r < 0 {
		return position{}, model.InvalidParameter("cursor %q is not one this server made: use the id of an event, or the cursor of an answer.", model.Truncate(s, 64))
	}
	if idx == "*" {
		return position{r, end}, nil
	}
	i, err := strconv.Atoi(idx)
	if err != nil || i < 0 {
		return position{}, model.InvalidParameter("cursor %q is not one this server made: use the id of an event, or the cursor of an answer.", model.Truncate(s, 64))
	}
	return position{r, i}, nil
}

// Read answers FlottaV1.GetEvents: the events after the cursor (or from now,
// or from a time). A read first catches up with the store as it was when the
// read began; then, if it has no event yet, it waits up to WaitSeconds for
// one. A replay that takes longer than MaxWait answers with what it has and
// a cursor to go on from.
func (s *Stream) Read(ctx context.Context, in *flottaapi.GetEventsInput) (*flottaapi.GetEventsOutput, error) {
	limit := in.MaxEvents
	if limit == 0 {
		limit = DefaultMaxEvents
	}
	if limit < 1 || limit > MaxMaxEvents {
		return nil, model.InvalidParameter("maxEvents must be between 1 and %d; got %d.", MaxMaxEvents, in.MaxEvents)
	}
	if in.WaitSeconds < 0 || time.Duration(in.WaitSeconds)*time.Second > MaxWait {
		return nil, model.InvalidParameter("waitSeconds must be between 0 and %d; got %d.", int(MaxWait/time.Second), in.WaitSeconds)
	}
	if in.Cursor != "" && in.Since != nil {
		return nil, model.InvalidParameter("Give either a cursor or since, not both.")
	}
	keep, err := s.filter(in)
	if err != nil {
		return nil, err
	}
	head, err := s.State.Revision(ctx)
	if err != nil {
		return nil, err
	}
	from := position{head, end}
	since := ""
	switch {
	case in.Cursor != "":
		if from, err = parseCursor(in.Cursor); err != nil {
			return nil, err
		}
		if from.rev > head {
			// A cursor from another server's history (or a reset data
			// dir): waiting for it would skip every event until then.
			return nil, model.InvalidParameter("The cursor %s is ahead of this server's history (it is at revision %d): read from now without a cursor, or with since.",
				model.Truncate(in.Cursor, 64), head)
		}
	case in.Since != nil:
		from, since = position{0, end}, stamp(in.Since.Time)
	}
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	batches, errc, err := s.watch(rctx, from, since != "")
	if err != nil {
		return nil, err
	}

	out := &flottaapi.GetEventsOutput{Events: []flottaapi.Event{}, Cursor: from.String()}
	// Until caught up, the timer bounds the replay; then it is the wait for
	// a first event, or the settle for more after one.
	timer := time.NewTimer(MaxWait)
	defer timer.Stop()
	caughtUp := false
	catchUp := func(rev int64) {
		if caughtUp || rev < head {
			return
		}
		caughtUp = true
		if len(out.Events) > 0 {
			timer.Reset(settle)
		} else {
			timer.Reset(time.Duration(in.WaitSeconds) * time.Second)
		}
	}
	catchUp(from.rev)
	for {
		var b state.RecordBatch
		select {
		case got, ok := <-batches:
			if !ok {
				return s.ended(ctx, out, errc, in.Cursor)
			}
			b = got
		case <-timer.C:
			return out, nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		at := position{b.Revision, -1}
		for _, c := range b.Changes {
			if c.Revision != at.rev {
				at = position{c.Revision, -1}
			}
			for _, ev := range Of(s.State.Scope, c) {
				at.idx++
				if !at.after(from) || ev.Time < since {
					continue
				}
				if len(out.Events) == limit {
					return out, nil
				}
				out.Cursor = at.String()
				if keep(c, ev) {
					ev.ID = at.String()
					out.Events = append(out.Events, ev)
				}
			}
		}
		// The whole answer is read: the cursor moves past it, also over
		// writes that made no event.
		if p := (position{b.Revision, end}); p.after(from) {
			out.Cursor = p.String()
		}
		if caughtUp && len(out.Events) > 0 {
			timer.Reset(settle)
		}
		catchUp(b.Revision)
	}
}

// watch follows the record changes after a position. A read from a time
// begins with the oldest change the store keeps.
func (s *Stream) watch(ctx context.Context, from position, oldest bool) (<-chan state.RecordBatch, <-chan error, error) {
	after := from.rev - 1 // the position's own revision, for its events after from.idx
	if from.idx == end {
		after = from.rev
	}
	batches, errc := s.State.WatchRecords(ctx, max(after, 0))
	if !oldest {
		return batches, errc, nil
	}
	// A compacted history says where it starts: follow from there.
	select {
	case b, ok := <-batches:
		if ok {
			return prepend(ctx, b, batches), errc, nil
		}
	case <-ctx.Done():
		return nil, nil, ctx.Err()
	}
	// The watch sends its error before it closes.
	var err error
	select {
	case err = <-errc:
	default:
	}
	var compacted *state.CompactedError
	if !errors.As(err, &compacted) {
		return nil, nil, fmt.Errorf("read the event stream: %w", cmp.Or(err, errWatchEnded))
	}
	batches, errc = s.State.WatchRecords(ctx, max(compacted.Oldest-1, 0))
	return batches, errc, nil
}

// prepend gives first, then the rest of batches.
func prepend(ctx context.Context, first state.RecordBatch, rest <-chan state.RecordBatch) <-chan state.RecordBatch {
	out := make(chan state.RecordBatch, 1)
	out <- first
	go func() {
		defer close(out)
		for b := range rest {
			select {
			case out <- b:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out
}

// ended answers when the watch ended early: a cursor older than the history
// the store keeps gets a clear error.
func (s *Stream) ended(ctx context.Context, out *flottaapi.GetEventsOutput, errc <-chan error, cursor string) (*flottaapi.GetEventsOutput, error) {
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	var err error
	select { // the watch sends its error before it closes
	case err = <-errc:
	default:
		err = errWatchEnded
	}
	var compacted *state.CompactedError
	if errors.As(err, &compacted) {
		return nil, model.InvalidParameter("The cursor %s is older than the events this server keeps (they start at revision %d): read again with since, or from now without a cursor.",
			model.Truncate(cursor, 64), compacted.Oldest)
	}
	if err != nil {
		return nil, fmt.Errorf("read the event stream: %w", err)
	}
	return out, nil
}

var errWatchEnded = errors.New("the watch of the store ended")

// filter is the events a read keeps.
func (s *Stream) filter(in *flottaapi.GetEventsInput) (func(state.RecordChange, flottaapi.Event) bool, error) {
	for _, t := range in.DetailTypes {
		switch t {
		case flottaapi.TaskStateChange, flottaapi.InstanceStateChange, flottaapi.DeploymentStateChange, flottaapi.ServiceAction:
		default:
			return nil, model.InvalidParameter("detailTypes should be among [%s, %s, %s, %s]; got %q.", flottaapi.TaskStateChange,
				flottaapi.InstanceStateChange, flottaapi.DeploymentStateChange, flottaapi.ServiceAction, model.Truncate(t, 64))
		}
	}
	cluster := in.Cluster
	if model.IsARN(cluster) {
		a, err := model.ParseARN(cluster)
		if err != nil || !strings.HasPrefix(a.Resource, "cluster/") {
			return nil, model.InvalidParameter("cluster %q is neither a cluster name nor a cluster ARN.", model.Truncate(cluster, 300))
		}
		cluster = strings.TrimPrefix(a.Resource, "cluster/")
	}
	return func(c state.RecordChange, ev flottaapi.Event) bool {
		if len(in.DetailTypes) > 0 && !slices.Contains(in.DetailTypes, ev.DetailType) {
			return false
		}
		if cluster == "" {
			return true
		}
		switch {
		case c.Task != nil:
			return c.Task.Cluster == cluster
		case c.Instance != nil:
			return c.Instance.Cluster == cluster
		case c.Service != nil:
			return c.Service.Cluster == cluster
		}
		return false
	}, nil
}
