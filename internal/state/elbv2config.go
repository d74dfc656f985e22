package state

import (
	"context"
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/flotta-dev/flotta/internal/store"
)

// ELBConfig is the whole load balancing configuration at one store
// revision, every map keyed by ARN. It is what an ELB write changes
// (UpdateELB) and what the data plane follows (ReadELB, WatchELB).
type ELBConfig struct {
	// Revision is the store revision the configuration was read at; a
	// WatchELB from it sees every later change.
	Revision      int64                       `json:"revision"`
	LoadBalancers map[string]*ELBLoadBalancer `json:"loadBalancers"`
	TargetGroups  map[string]*ELBTargetGroup  `json:"targetGroups"`
	Listeners     map[string]*ELBListener     `json:"listeners"`
	Rules         map[string]*ELBRule         `json:"rules"`
}

// ListenersOf are a load balancer's listeners, by port.
func (c *ELBConfig) ListenersOf(lbArn string) []*ELBListener {
	var out []*ELBListener
	for _, l := range c.Listeners {
		if l.LoadBalancerArn == lbArn {
			out = append(out, l)
		}
	}
	slices.SortFunc(out, func(a, b *ELBListener) int { return int(a.Port - b.Port) })
	return out
}

// RulesOf are a listener's non-default rules, by priority.
func (c *ELBConfig) RulesOf(listenerArn string) []*ELBRule {
	var out []*ELBRule
	for _, r := range c.Rules {
		if r.ListenerArn == listenerArn {
			out = append(out, r)
		}
	}
	slices.SortFunc(out, func(a, b *ELBRule) int { return a.Priority - b.Priority })
	return out
}

// LoadBalancersOf are the ARNs of the load balancers whose listeners or
// rules forward to a target group, sorted; none means the group is not in
// use.
func (c *ELBConfig) LoadBalancersOf(tgArn string) []string {
	seen := map[string]bool{}
	uses := func(actions []ELBAction) bool {
		for _, a := range actions {
			if slices.Contains(a.TargetGroupArns(), tgArn) {
				return true
			}
		}
		return false
	}
	for _, l := range c.Listeners {
		if uses(l.DefaultActions) {
			seen[l.LoadBalancerArn] = true
		}
	}
	for _, r := range c.Rules {
		if l := c.Listeners[r.ListenerArn]; l != nil && uses(r.Actions) {
			seen[l.LoadBalancerArn] = true
		}
	}
	out := make([]string, 0, len(seen))
	for arn := range seen {
		out = append(out, arn)
	}
	slices.Sort(out)
	return out
}

// listenerRecord is how a listener is stored: with its rules, so that
// deleting a load balancer with its listeners and their rules is one
// operation a listener (51 at most, under etcd's default limit of 128 a
// transaction) rather than one a rule.
type listenerRecord struct {
	*ELBListener
	Rules []*ELBRule `json:"rules,omitempty"`
}

// elbKey is where a record of kind ("lb", "tg", "listener") with
// this ARN lives: under the ARN's last segment, a random hex id.
func elbKey(kind, arn string) string {
	return elbPrefix + kind + "/" + path.Base(arn)
}

// elbHealthKey is where the health of a target of a group is observed.
func elbHealthKey(tgArn, id string, port int32) string {
	return fmt.Sprintf("%s%s/%s:%d", elbHealthPrefix, path.Base(tgArn), id, port)
}

// ReadELB reads the whole configuration at one revision.
func (s *State) ReadELB(ctx context.Context) (*ELBConfig, error) {
	cfg, _, err := s.readELB(ctx)
	return cfg, err
}

// readELB reads the configuration and each record's encoding by key.
func (s *State) readELB(ctx context.Context) (*ELBConfig, map[string][]byte, error) {
	page, err := s.db.List(ctx, elbPrefix, store.ListOptions{})
	if err != nil {
		return nil, nil, fmt.Errorf("read the load balancing configuration: %w", err)
	}
	return parseELB(page)
}

// parseELB decodes a listing of the configuration's records.
func parseELB(page store.Page) (*ELBConfig, map[string][]byte, error) {
	var err error
	cfg := &ELBConfig{Revision: page.Revision, LoadBalancers: map[string]*ELBLoadBalancer{},
		TargetGroups: map[string]*ELBTargetGroup{}, Listeners: map[string]*ELBListener{}, Rules: map[string]*ELBRule{}}
	raw := make(map[string][]byte, len(page.KVs))
	for _, kv := range page.KVs {
		raw[kv.Key] = kv.Value
		kind, _, _ := strings.Cut(strings.TrimPrefix(kv.Key, elbPrefix), "/")
		switch kind {
		case "lb":
			err = decodeInto(kv, cfg.LoadBalancers, func(v *ELBLoadBalancer) string { return v.Arn })
		case "tg":
			err = decodeInto(kv, cfg.TargetGroups, func(v *ELBTargetGroup) string { return v.Arn })
		case "listener":
			var rec *listenerRecord
			if rec, err = decode[listenerRecord](kv); err == nil {
				cfg.Listeners[rec.Arn] = rec.ELBListener
				for _, r := range rec.Rules {
					cfg.Rules[r.Arn] = r
				}
			}
		}
		if err != nil {
			return nil, nil, err
		}
	}
	return cfg, raw, nil
}

func decodeInto[T any](kv store.KV, into map[string]*T, arn func(*T) string) error {
	v, err := decode[T](kv)
	if err != nil {
		return err
	}
	into[arn(v)] = v
	return nil
}

// ELBTxn is one ELB write in the making: the configuration to change, and
// the other records the change depends on.
type ELBTxn struct {
	// Config is the configuration as read; the write changes it in place.
	Config *ELBConfig
	ctx    context.Context
	s      *State
	guards []store.Guard
}

// ServerCertificate reads an IAM server certificate by ARN (nil when there
// is none) and makes the write depend on it, so that a certificate deleted
// meanwhile is not put on a listener.
func (tx *ELBTxn) ServerCertificate(arn string) (*ServerCertificate, error) {
	kv, c, err := tx.s.serverCertificateByARN(tx.ctx, arn)
	if err != nil {
		return nil, err
	}
	tx.guards = append(tx.guards, store.Guard{Key: kv.Key, ModRev: kv.ModRev})
	return c, nil
}

// UpdateELB changes the load balancing configuration with fn and commits
// the difference in one transaction, guarded so that it applies only to the
// configuration fn saw; on a conflict it reads again and runs fn again. An
// error from fn changes nothing. Health observations of the targets a write
// removes stay until SweepELBTargets deletes them; until then they are
// ignored, being older than any registration of the same target.
func (s *State) UpdateELB(ctx context.Context, fn func(tx *ELBTxn) error) (*ELBConfig, error) {
	var out *ELBConfig
	err := retry(ctx, func() error {
		page, err := s.db.List(ctx, elbPrefix, store.ListOptions{})
		if err != nil {
			return fmt.Errorf("read the load balancing configuration: %w", err)
		}
		cfg, raw, err := parseELB(page)
		if err != nil {
			return err
		}
		tx := &ELBTxn{Config: cfg, ctx: ctx, s: s}
		if err := fn(tx); err != nil {
			return err
		}
		ops := elbDiff(cfg, raw)
		if len(ops) == 0 {
			out = cfg
			return nil
		}
		guards := append([]store.Guard{{Key: elbPrefix, ModRev: cfg.Revision, Prefix: true}}, tx.guards...)
		rev, err := s.db.Commit(ctx, guards, ops)
		if err != nil {
			return err
		}
		cfg.Revision = rev
		out = cfg
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// elbDiff is the writes that turn the stored records (raw, by key) into cfg.
func elbDiff(cfg *ELBConfig, raw map[string][]byte) []store.Op {
	want := map[string][]byte{}
	for arn, v := range cfg.LoadBalancers {
		want[elbKey("lb", arn)] = mustJSON(v)
	}
	for arn, v := range cfg.TargetGroups {
		want[elbKey("tg", arn)] = mustJSON(v)
	}
	for arn, v := range cfg.Listeners {
		want[elbKey("listener", arn)] = mustJSON(listenerRecord{ELBListener: v, Rules: cfg.RulesOf(arn)})
	}
	var ops []store.Op
	for k, v := range want {
		if prev, ok := raw[k]; !ok || string(prev) != string(v) {
			ops = append(ops, store.Put(k, v))
		}
	}
	for k := range raw {
		if _, ok := want[k]; !ok {
			ops = append(ops, store.Del(k))
		}
	}
	slices.SortFunc(ops, func(a, b store.Op) int { return strings.Compare(a.Key, b.Key) })
	return ops
}

// ELBChange says that a configuration record changed at a revision: the
// data plane reads the configuration again (ReadELB) when it sees one.
type ELBChange struct {
	// Kind is lb, tg or listener (whose record holds its rules); ID the
	// ARN's last segment.
	Kind, ID string
	Deleted  bool
	ModRev   int64
}

// WatchELB follows the configuration from revision after (an
// ELBConfig.Revision), in batches as they are committed.
func (s *State) WatchELB(ctx context.Context, after int64) (<-chan []ELBChange, <-chan error) {
	return watchAs(ctx, s.db, elbPrefix, after, func(ev store.Event) (ELBChange, bool) {
		kind, id, ok := strings.Cut(strings.TrimPrefix(ev.KV.Key, elbPrefix), "/")
		return ELBChange{Kind: kind, ID: id, Deleted: ev.Deleted, ModRev: ev.KV.ModRev}, ok
	})
}
