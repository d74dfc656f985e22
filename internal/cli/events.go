package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/flotta-dev/flotta/internal/flottaapi"
	"github.com/flotta-dev/flotta/internal/model"
)

// eventTypes are the short names --type takes, and the detail types they mean.
var eventTypes = map[string]string{
	"task":       flottaapi.TaskStateChange,
	"instance":   flottaapi.InstanceStateChange,
	"deployment": flottaapi.DeploymentStateChange,
	"service":    flottaapi.ServiceAction,
}

// eventID is the shape of an event's id (and of a cursor).
var eventID = regexp.MustCompile(`^\d+-(\d+|\*)$`)

// getEvents is the target of FlottaV1.GetEvents.
const getEvents = flottaapi.FlottaTarget + ".GetEvents"

// followWait is how long one read of --follow waits for an event.
const followWait = 20

// EventsCommand is `flotta events`.
func EventsCommand(o *Options) *cobra.Command {
	var (
		follow  bool
		cluster string
		types   []string
		since   string
	)
	cmd := &cobra.Command{
		Use:   "events",
		Short: "Show the event stream: task, container instance, deployment and service changes",
		Long: `Show Flotta's event stream: every task, container instance, deployment and service
change, in the shapes of ECS's EventBridge events (FlottaV1.GetEvents).

Without --follow, events prints what happened since --since (default: the last
hour) and stops. With --follow it prints the events as they happen, from now or
from --since, until interrupted, and reconnects by itself when the server goes
away for a while: it resumes after the last event it printed, so nothing is
missed or shown twice.

--since takes a duration (10m, 2h), a time (2026-12-01T10:00:00Z), or the id of
an event, to go on exactly after it. With -o json, each event is one line of
JSON as GetEvents returns it.`,
		Example: `  flotta events --since 30m
  flotta events --follow --cluster web --type task
  flotta events --follow -o json --since 1766-0 | jq .detail.lastStatus`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			in := flottaapi.GetEventsInput{Cluster: cluster, MaxEvents: flottaapi.MaxEventsPerRead}
			for _, t := range types {
				dt, ok := eventTypes[strings.ToLower(t)]
				if !ok {
					switch t {
					case flottaapi.TaskStateChange, flottaapi.InstanceStateChange, flottaapi.DeploymentStateChange, flottaapi.ServiceAction:
						dt = t
					default:
						return fmt.Errorf("--type %q: want task, instance, deployment or service", t)
					}
				}
				in.DetailTypes = append(in.DetailTypes, dt)
			}
			if since == "" && !follow {
				since = "1h"
			}
			if err := setSince(&in, since, time.Now()); err != nil {
				return err
			}
			p := eventPrinter{w: cmd.OutOrStdout(), json: o.Output == "json"}
			if o.Output != "json" && o.Output != "table" {
				return fmt.Errorf("--output must be table or json, not %q", o.Output)
			}
			c, err := o.flottaClient(cmd.Context())
			if err != nil {
				return err
			}
			if follow {
				return followEvents(cmd.Context(), c, in, &p, cmd.ErrOrStderr())
			}
			if err := readEvents(cmd.Context(), c, in, &p); err != nil {
				return err
			}
			if !p.json && !p.header {
				fmt.Fprintln(cmd.ErrOrStderr(), "no events")
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.BoolVarP(&follow, "follow", "f", false, "keep printing events as they happen, until interrupted")
	f.StringVar(&cluster, "cluster", "", "only the events of this cluster (name or ARN)")
	f.StringSliceVar(&types, "type", nil, "only these kinds of event: task, instance, deployment, service (repeatable)")
	f.StringVar(&since, "since", "", "start from a duration ago (10m), a time (RFC 3339) or after an event id (default: 1h, or now with --follow)")
	return cmd
}

// setSince turns --since into the read's starting point.
func setSince(in *flottaapi.GetEventsInput, since string, now time.Time) error {
	switch {
	case since == "":
	case eventID.MatchString(since):
		in.Cursor = since
	default:
		if d, err := time.ParseDuration(since); err == nil {
			if d < 0 {
				return fmt.Errorf("--since %s: a duration ago cannot be negative", since)
			}
			in.Since = &model.Time{Time: now.Add(-d)}
			return nil
		}
		t, err := time.Parse(time.RFC3339, since)
		if err != nil {
			return fmt.Errorf("--since %q: want a duration (10m), a time (2026-12-01T10:00:00Z) or an event id (1234-0)", since)
		}
		in.Since = &model.Time{Time: t}
	}
	return nil
}

// readEvents prints the events from the starting point up to the server's
// present, and stops.
func readEvents(ctx context.Context, c *flottaapi.Client, in flottaapi.GetEventsInput, p *eventPrinter) error {
	// The present: a read from now answers at once with where now is.
	var head flottaapi.GetEventsOutput
	if err := c.Call(ctx, getEvents, &flottaapi.GetEventsInput{MaxEvents: 1}, &head); err != nil {
		return errors.New(Explain(err))
	}
	end := cursorRevision(head.Cursor)
	for {
		var out flottaapi.GetEventsOutput
		if err := c.Call(ctx, getEvents, &in, &out); err != nil {
			return errors.New(Explain(err))
		}
		for _, ev := range out.Events {
			if err := p.print(ev); err != nil {
				return err
			}
		}
		if cursorRevision(out.Cursor) >= end || out.Cursor == in.Cursor && len(out.Events) == 0 {
			return nil
		}
		in.Cursor, in.Since = out.Cursor, nil
	}
}

// followEvents prints events as they come until ctx ends. A server that
// cannot be reached or fails is tried again, with a growing pause, from the
// last cursor; a refusal (a cursor too old, a bad filter) ends the command.
func followEvents(ctx context.Context, c *flottaapi.Client, in flottaapi.GetEventsInput, p *eventPrinter, warn io.Writer) error {
	in.WaitSeconds = followWait
	pause, down := time.Second, false
	for {
		var out flottaapi.GetEventsOutput
		err := c.Call(ctx, getEvents, &in, &out)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			var apiErr *model.Error
			if errors.As(err, &apiErr) && apiErr.Status < http.StatusInternalServerError && apiErr.Status != http.StatusTooManyRequests {
				return errors.New(Explain(err))
			}
			if !down {
				fmt.Fprintf(warn, "events: %s; trying again\n", Explain(err))
				down = true
			}
			select {
			case <-time.After(pause):
			case <-ctx.Done():
				return nil
			}
			pause = min(2*pause, 15*time.Second)
			continue
		}
		if down {
			fmt.Fprintln(warn, "events: reconnected")
			down, pause = false, time.Second
		}
		for _, ev := range out.Events {
			if err := p.print(ev); err != nil {
				return err
			}
		}
		in.Cursor, in.Since = out.Cursor, nil
	}
}

// cursorRevision is the store revision a cursor or event id points into.
func cursorRevision(c string) int64 {
	rev, _, _ := strings.Cut(c, "-")
	n, _ := strconv.ParseInt(rev, 10, 64)
	return n
}

// eventPrinter prints events as a table (a header, then one aligned line
// each) or as one JSON line each.
type eventPrinter struct {
	w      io.Writer
	json   bool
	header bool
}

const eventRow = "%-20s  %-10s  %-10s  %-28s  %s\n"

func (p *eventPrinter) print(ev flottaapi.Event) error {
	if p.json {
		line, err := json.Marshal(ev)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(p.w, "%s\n", line)
		return err
	}
	if !p.header {
		p.header = true
		if _, err := fmt.Fprintf(p.w, eventRow, "TIME", "ID", "TYPE", "RESOURCE", "WHAT"); err != nil {
			return err
		}
	}
	kind, resource, what := summarize(ev)
	at := ev.Time
	if t, err := time.Parse(time.RFC3339, ev.Time); err == nil {
		at = t.Local().Format("2006-01-02 15:04:05")
	}
	_, err := fmt.Fprintf(p.w, eventRow, at, ev.ID, kind, resource, what)
	return err
}

// summarize says in a few words what an event is about.
func summarize(ev flottaapi.Event) (kind, resource, what string) {
	if len(ev.Resources) > 0 {
		resource = shortID(ev.Resources[0])
	}
	switch ev.DetailType {
	case flottaapi.TaskStateChange:
		var d flottaapi.TaskDetail
		if json.Unmarshal(ev.Detail, &d) != nil {
			return "task", resource, "(unreadable detail)"
		}
		what = fmt.Sprintf("%s %s (desired %s)", defName(d.TaskDefinitionArn), d.LastStatus, d.DesiredStatus)
		if d.StoppedReason != "" {
			what += ": " + d.StoppedReason
		}
		return "task", resource, what
	case flottaapi.InstanceStateChange:
		var d flottaapi.InstanceDetail
		if json.Unmarshal(ev.Detail, &d) != nil {
			return "instance", resource, "(unreadable detail)"
		}
		what = fmt.Sprintf("%s, %d running, %d pending", d.Status, d.RunningTasksCount, d.PendingTasksCount)
		if d.StatusReason != "" {
			what += ": " + d.StatusReason
		}
		return "instance", resource, what
	case flottaapi.DeploymentStateChange, flottaapi.ServiceAction:
		var d struct {
			EventName    string `json:"eventName"`
			DeploymentID string `json:"deploymentId"`
			Reason       string `json:"reason"`
		}
		if json.Unmarshal(ev.Detail, &d) != nil {
			return "service", resource, "(unreadable detail)"
		}
		kind, what = "service", d.EventName
		if ev.DetailType == flottaapi.DeploymentStateChange {
			kind, what = "deployment", d.EventName+" "+d.DeploymentID
		}
		if d.Reason != "" {
			what += ": " + d.Reason
		}
		return kind, resource, what
	}
	return ev.DetailType, resource, ""
}
