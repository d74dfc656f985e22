package state

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/flotta-dev/flotta/internal/store"
)

// Route 53 records: hosted zones, their resource record sets, the changes
// that wrote them and the caller references CreateHostedZone has seen.
// Package api/route53 owns Route 53's rules (validation, the batch
// semantics of ChangeResourceRecordSets, Route 53's errors); the DNS data
// plane follows the records through ReadRoute53 and WatchRoute53.
//
// Key layout (one JSON record a key, every key under r53Prefix):
//
//	r53/zone/<zone id>                            R53Zone
//	r53/rr/<zone id>/<sort name> <type> <set id>  R53RecordSet
//	r53/health/<health check id>                  R53HealthStatus (route53health.go)
//
// and what a DNS data plane has no use for apart, under r53MetaPrefix, so
// that ReadRoute53 and WatchRoute53 carry only zones and record sets:
//
//	r53-meta/change/<change id>            R53ChangeRecord
//	r53-meta/callerref/<caller reference>  the zone id it made
//
// A record set has a key of its own, so a zone of 10,000 records is 10,000
// small values and a change rewrites only what it touches. The sort name is
// the record's name with its labels reversed ("com.example.www."), so that a
// listing of a zone's keys comes back in ListResourceRecordSets's order: by
// name with the labels reversed, then by type, then by set identifier.
// Every change batch rewrites its zone record (the record count) under a
// guard on the zone's revision, so batches on one zone are serialised and
// each is all or nothing.
const (
	r53Prefix     = Root + "r53/"
	r53MetaPrefix = Root + "r53-meta/"
)

// R53Zone is a hosted zone.
type R53Zone struct {
	// ID is the zone's id without "/hostedzone/" ("Z0123456789ABCDEFGHIJ").
	ID string `json:"id"`
	// Name is the zone's domain, lower case, with its trailing dot.
	Name            string   `json:"name"`
	CallerReference string   `json:"callerReference"`
	Comment         string   `json:"comment,omitempty"`
	Private         bool     `json:"private"`
	VPCs            []R53VPC `json:"vpcs,omitempty"`
	// RecordCount is how many record sets the zone holds, SOA and NS
	// included.
	RecordCount int64     `json:"recordCount"`
	CreatedAt   time.Time `json:"createdAt"`
	// NameServers are the zone's delegation set (public zones only).
	NameServers []string `json:"nameServers,omitempty"`
	// Tags are the zone's tags, by key.
	Tags map[string]string `json:"tags,omitempty"`
}

// R53VPC is a VPC a private zone answers in.
type R53VPC struct {
	Region string `json:"region"`
	ID     string `json:"id"`
}

// R53RecordSet is one resource record set.
type R53RecordSet struct {
	// Name is the fully qualified name, lower case, with its trailing dot,
	// in Route 53's presentation (characters other than a-z, 0-9, '-', '_'
	// and '.' as \ooo octal escapes: "\052.example.com.").
	Name string `json:"name"`
	Type string `json:"type"`
	// TTL is unset (0) for an alias record.
	TTL int64 `json:"ttl,omitempty"`
	// Values are the records' RDATA in presentation format, as the API
	// takes them ("192.0.2.1", "10 mail.example.com.", "\"text\"").
	Values           []string  `json:"values,omitempty"`
	SetIdentifier    string    `json:"setIdentifier,omitempty"`
	Weight           *int64    `json:"weight,omitempty"`
	Failover         string    `json:"failover,omitempty"`
	MultiValueAnswer *bool     `json:"multiValueAnswer,omitempty"`
	HealthCheckID    string    `json:"healthCheckId,omitempty"`
	Alias            *R53Alias `json:"alias,omitempty"`
}

// R53Alias is an alias record's target: a Flotta load balancer's DNS name,
// or another record of the same zone (HostedZoneID the zone's own id).
type R53Alias struct {
	HostedZoneID         string `json:"hostedZoneId"`
	DNSName              string `json:"dnsName"`
	EvaluateTargetHealth bool   `json:"evaluateTargetHealth"`
}

// R53ChangeRecord is a change GetChange reports on: one batch of record
// set changes, or the creation or deletion of a zone.
type R53ChangeRecord struct {
	ID          string    `json:"id"`
	ZoneID      string    `json:"zoneId,omitempty"`
	Comment     string    `json:"comment,omitempty"`
	SubmittedAt time.Time `json:"submittedAt"`
}

// R53Change is one write of a zone, record set or health check status
// that a follower sees. Zone is set for Kind "zone", RecordSet for Kind
// "rrset" and Health for Kind "health" (Key the health check's id); each
// is nil when the record was deleted.
type R53Change struct {
	// Key identifies an "rrset" change's record set within its zone
	// (R53RecordKey), deleted ones included.
	Key       string
	ZoneID    string
	Kind      string
	Zone      *R53Zone
	RecordSet *R53RecordSet
	Health    *R53HealthStatus
	ModRev    int64
}

// ErrR53ZoneNotFound is what the Route 53 methods answer for a zone id
// that names no zone.
var ErrR53ZoneNotFound = errors.New("no such hosted zone")

// ErrR53CallerReferenceUsed is CreateR53Zone's answer when the caller
// reference has made a zone before.
var ErrR53CallerReferenceUsed = errors.New("caller reference already used")

func r53ZoneKey(id string) string         { return r53Prefix + "zone/" + id }
func r53ChangeKey(id string) string       { return r53Prefix + "change/" + id }
func r53CallerRefKey(ref string) string   { return r53Prefix + "callerref/" + ref }
func r53RecordsPrefix(zone string) string { return r53Prefix + "rr/" + zone + "/" }

// R53SortName is a name with its labels reversed, as ListResourceRecordSets
// sorts: "www.example.com." becomes "com.example.www.".
func R53SortName(name string) string {
	labels := strings.Split(strings.TrimSuffix(name, "."), ".")
	slices.Reverse(labels)
	return strings.Join(labels, ".") + "."
}

// R53RecordKey is the key of a record set within its zone's prefix: sort
// name, type and set identifier, separated by spaces (which no name, type
// or escaped identifier holds, and which sort before every character they
// do).
func R53RecordKey(name, typ, setID string) string {
	return R53SortName(name) + " " + typ + " " + setID
}

func r53RecordKey(zone string, rs *R53RecordSet) string {
	return r53RecordsPrefix(zone) + R53RecordKey(rs.Name, rs.Type, rs.SetIdentifier)
}

// GetR53Zone reads a zone; ErrR53ZoneNotFound when there is none.
func (s *State) GetR53Zone(ctx context.Context, id string) (*R53Zone, error) {
	_, z, err := read[R53Zone](ctx, s.db, r53ZoneKey(id))
	if err != nil {
		return nil, err
	}
	if z == nil {
		return nil, ErrR53ZoneNotFound
	}
	return z, nil
}

// ListR53Zones reads every zone, by id.
func (s *State) ListR53Zones(ctx context.Context) ([]R53Zone, error) {
	page, err := s.db.List(ctx, r53Prefix+"zone/", store.ListOptions{})
	if err != nil {
		return nil, err
	}
	return decodeAll[R53Zone](page.KVs)
}

// ListR53RecordSets reads every record set of a zone, in Route 53's order.
func (s *State) ListR53RecordSets(ctx context.Context, zoneID string) ([]R53RecordSet, error) {
	page, err := s.db.List(ctx, r53RecordsPrefix(zoneID), store.ListOptions{})
	if err != nil {
		return nil, err
	}
	return decodeAll[R53RecordSet](page.KVs)
}

// ListR53RecordSetsFrom reads up to limit record sets of a zone whose keys
// (R53RecordKey) are at or after from, in Route 53's order; more says
// whether others follow.
func (s *State) ListR53RecordSetsFrom(ctx context.Context, zoneID, from string, limit int) (sets []R53RecordSet, more bool, err error) {
	prefix := r53RecordsPrefix(zoneID)
	o := store.ListOptions{Limit: limit}
	if from != "" {
		// After is exclusive: a record set at from itself comes first.
		kv, err := s.db.Get(ctx, prefix+from)
		if err != nil {
			return nil, false, err
		}
		if kv.ModRev != 0 {
			rs, err := decode[R53RecordSet](kv)
			if err != nil {
				return nil, false, err
			}
			sets = append(sets, *rs)
			o.Limit--
		}
		o.After = prefix + from
	}
	if o.Limit <= 0 && limit > 0 {
		// Whether anything follows from: list one more to see.
		page, err := s.db.List(ctx, prefix, store.ListOptions{After: o.After, Limit: 1, KeysOnly: true})
		if err != nil {
			return nil, false, err
		}
		return sets, len(page.KVs) > 0, nil
	}
	page, err := s.db.List(ctx, prefix, o)
	if err != nil {
		return nil, false, err
	}
	rest, err := decodeAll[R53RecordSet](page.KVs)
	return append(sets, rest...), page.More, err
}

// ReadRoute53 reads every zone and record set at one revision, for a data
// plane to start from; a WatchRoute53 from rev sees every later change.
func (s *State) ReadRoute53(ctx context.Context) (zones []R53Zone, sets map[string][]R53RecordSet, rev int64, err error) {
	zones, sets, _, rev, err = s.ReadRoute53WithHealth(ctx)
	return zones, sets, rev, err
}

// ReadRoute53WithHealth is ReadRoute53 with every health check's status
// (by id), all read at one revision.
func (s *State) ReadRoute53WithHealth(ctx context.Context) (zones []R53Zone, sets map[string][]R53RecordSet, health map[string]R53HealthStatus, rev int64, err error) {
	page, err := s.db.List(ctx, r53Prefix, store.ListOptions{})
	if err != nil {
		return nil, nil, nil, 0, fmt.Errorf("read the Route 53 records: %w", err)
	}
	sets = map[string][]R53RecordSet{}
	health = map[string]R53HealthStatus{}
	for _, kv := range page.KVs {
		rest := strings.TrimPrefix(kv.Key, r53Prefix)
		switch {
		case strings.HasPrefix(rest, "zone/"):
			z, err := decode[R53Zone](kv)
			if err != nil {
				return nil, nil, nil, 0, err
			}
			zones = append(zones, *z)
		case strings.HasPrefix(rest, "rr/"):
			zone, _, _ := strings.Cut(strings.TrimPrefix(rest, "rr/"), "/")
			rs, err := decode[R53RecordSet](kv)
			if err != nil {
				return nil, nil, nil, 0, err
			}
			sets[zone] = append(sets[zone], *rs)
		case strings.HasPrefix(rest, "health/"):
			h, err := decode[R53HealthStatus](kv)
			if err != nil {
				return nil, nil, nil, 0, err
			}
			health[h.ID] = *h
		}
	}
	return zones, sets, health, page.Revision, nil
}

// WatchRoute53 follows every write of a zone, record set or health check
// status after revision
// after. When after is older than the history the store keeps, the error
// channel says so (store.ErrCompacted): read afresh with ReadRoute53.
func (s *State) WatchRoute53(ctx context.Context, after int64) (<-chan []R53Change, <-chan error) {
	return watchAs(ctx, s.db, r53Prefix, after, func(ev store.Event) (R53Change, bool) {
		rest := strings.TrimPrefix(ev.KV.Key, r53Prefix)
		switch {
		case strings.HasPrefix(rest, "zone/"):
			c := R53Change{ZoneID: strings.TrimPrefix(rest, "zone/"), Kind: "zone", ModRev: ev.KV.ModRev}
			if !ev.Deleted {
				z, err := decode[R53Zone](ev.KV)
				if err != nil || z == nil {
					return c, false
				}
				c.Zone = z
			}
			return c, true
		case strings.HasPrefix(rest, "rr/"):
			zone, key, _ := strings.Cut(strings.TrimPrefix(rest, "rr/"), "/")
			c := R53Change{ZoneID: zone, Key: key, Kind: "rrset", ModRev: ev.KV.ModRev}
			if !ev.Deleted {
				rs, err := decode[R53RecordSet](ev.KV)
				if err != nil || rs == nil {
					return c, false
				}
				c.RecordSet = rs
			}
			return c, true
		case strings.HasPrefix(rest, "health/"):
			c := R53Change{Key: strings.TrimPrefix(rest, "health/"), Kind: "health", ModRev: ev.KV.ModRev}
			if !ev.Deleted {
				h, err := decode[R53HealthStatus](ev.KV)
				if err != nil || h == nil {
					return c, false
				}
				c.Health = h
			}
			return c, true
		}
		return R53Change{}, false
	})
}

// CreateR53Zone writes a new zone with its first record sets (SOA and NS)
// and the change that made it, in one transaction. A caller reference that
// made a zone before (even one since deleted) is ErrR53CallerReferenceUsed.
// conflict, when set, is called with every zone of the same name and may
// refuse the new one (private zones of one name sharing a VPC).
func (s *State) CreateR53Zone(ctx context.Context, z *R53Zone, sets []R53RecordSet, change R53ChangeRecord, conflict func(same []R53Zone) error) error {
	z.RecordCount = int64(len(sets))
	return retry(ctx, func() error {
		ref, err := s.db.Get(ctx, r53CallerRefKey(z.CallerReference))
		if err != nil {
			return err
		}
		if ref.ModRev != 0 {
			return ErrR53CallerReferenceUsed
		}
		guards := []store.Guard{{Key: r53CallerRefKey(z.CallerReference)}, {Key: r53ZoneKey(z.ID)}}
		if conflict != nil {
			page, err := s.db.List(ctx, r53Prefix+"zone/", store.ListOptions{})
			if err != nil {
				return err
			}
			all, err := decodeAll[R53Zone](page.KVs)
			if err != nil {
				return err
			}
			var same []R53Zone
			for _, o := range all {
				if o.Name == z.Name {
					same = append(same, o)
				}
			}
			if err := conflict(same); err != nil {
				return err
			}
			guards = append(guards, store.Guard{Key: r53Prefix + "zone/", ModRev: page.Revision, Prefix: true})
		}
		ops := []store.Op{
			store.Put(r53ZoneKey(z.ID), mustJSON(z)),
			store.Put(r53CallerRefKey(z.CallerReference), []byte(z.ID)),
			store.Put(r53ChangeKey(change.ID), mustJSON(change)),
		}
		for i := range sets {
			ops = append(ops, store.Put(r53RecordKey(z.ID, &sets[i]), mustJSON(sets[i])))
		}
		_, err = s.db.Commit(ctx, guards, ops)
		return err
	})
}

// DeleteR53Zone deletes a zone and its record sets and records the change,
// once check (given the zone and its record sets) allows it.
func (s *State) DeleteR53Zone(ctx context.Context, id string, change R53ChangeRecord, check func(z *R53Zone, sets []R53RecordSet) error) (*R53Zone, error) {
	var deleted *R53Zone
	err := retry(ctx, func() error {
		kv, z, err := read[R53Zone](ctx, s.db, r53ZoneKey(id))
		if err != nil {
			return err
		}
		if z == nil {
			return ErrR53ZoneNotFound
		}
		page, err := s.db.List(ctx, r53RecordsPrefix(id), store.ListOptions{})
		if err != nil {
			return err
		}
		sets, err := decodeAll[R53RecordSet](page.KVs)
		if err != nil {
			return err
		}
		if err := check(z, sets); err != nil {
			return err
		}
		ops := []store.Op{store.Del(r53ZoneKey(id)), store.Put(r53ChangeKey(change.ID), mustJSON(change))}
		for _, kv := range page.KVs {
			ops = append(ops, store.Del(kv.Key))
		}
		guards := []store.Guard{{Key: r53ZoneKey(id), ModRev: kv.ModRev}, {Key: r53RecordsPrefix(id), ModRev: page.Revision, Prefix: true}}
		if _, err := s.db.Commit(ctx, guards, ops); err != nil {
			return err
		}
		deleted = z
		return nil
	})
	return deleted, err
}

// UpdateR53Zone rewrites a zone record (its comment or tags) with edit,
// under a guard on its revision.
func (s *State) UpdateR53Zone(ctx context.Context, id string, edit func(z *R53Zone) error) (*R53Zone, error) {
	var out *R53Zone
	err := retry(ctx, func() error {
		kv, z, err := read[R53Zone](ctx, s.db, r53ZoneKey(id))
		if err != nil {
			return err
		}
		if z == nil {
			return ErrR53ZoneNotFound
		}
		if err := edit(z); err != nil {
			return err
		}
		if _, err := s.db.Commit(ctx, []store.Guard{{Key: r53ZoneKey(id), ModRev: kv.ModRev}}, []store.Op{store.Put(r53ZoneKey(id), mustJSON(z))}); err != nil {
			return err
		}
		out = z
		return nil
	})
	return out, err
}

// R53Batch is what a change batch plans against: the zone, and the record
// sets now at each name the batch asked for (by name, in key order).
type R53Batch struct {
	Zone   *R53Zone
	ByName map[string][]R53RecordSet
}

// R53Writes are a planned batch's writes: record sets to put (new or
// replaced, by name, type and set identifier) and to delete.
type R53Writes struct {
	Put    []R53RecordSet
	Delete []R53RecordSet
}

// ChangeR53RecordSets applies one batch of record set changes atomically.
// plan is given the zone and the record sets at names (every name the
// batch touches or whose records its rules look at) and returns the writes
// or a refusal; the writes, the zone's new record count and the change
// record commit in one transaction guarded by the zone's revision, so a
// batch is all or nothing and sees no other batch half done. plan may run
// more than once when writers collide.
func (s *State) ChangeR53RecordSets(ctx context.Context, zoneID string, names []string, change R53ChangeRecord, plan func(b R53Batch) (R53Writes, error)) error {
	return retry(ctx, func() error {
		kv, z, err := read[R53Zone](ctx, s.db, r53ZoneKey(zoneID))
		if err != nil {
			return err
		}
		if z == nil {
			return ErrR53ZoneNotFound
		}
		b := R53Batch{Zone: z, ByName: map[string][]R53RecordSet{}}
		for _, name := range names {
			if _, seen := b.ByName[name]; seen {
				continue
			}
			page, err := s.db.List(ctx, r53RecordsPrefix(zoneID)+R53SortName(name)+" ", store.ListOptions{})
			if err != nil {
				return err
			}
			sets, err := decodeAll[R53RecordSet](page.KVs)
			if err != nil {
				return err
			}
			b.ByName[name] = sets
		}
		w, err := plan(b)
		if err != nil {
			return err
		}
		// Count what the writes add and remove: a put of a key that
		// exists replaces it.
		exists := map[string]bool{}
		for _, sets := range b.ByName {
			for i := range sets {
				exists[r53RecordKey(zoneID, &sets[i])] = true
			}
		}
		ops := make([]store.Op, 0, len(w.Put)+len(w.Delete)+2)
		for i := range w.Delete {
			key := r53RecordKey(zoneID, &w.Delete[i])
			if exists[key] {
				z.RecordCount--
				exists[key] = false
			}
			ops = append(ops, store.Del(key))
		}
		for i := range w.Put {
			key := r53RecordKey(zoneID, &w.Put[i])
			if !exists[key] {
				z.RecordCount++
				exists[key] = true
			}
			ops = append(ops, store.Put(key, mustJSON(w.Put[i])))
		}
		// A key both deleted and put is one put: drop the delete.
		ops = dedupeOps(ops)
		ops = append(ops, store.Put(r53ZoneKey(zoneID), mustJSON(z)), store.Put(r53ChangeKey(change.ID), mustJSON(change)))
		if limit := s.MaxTxnOps(); len(ops)+1 > limit {
			return fmt.Errorf("a batch of %d writes exceeds the store's limit of %d operations a transaction: %w", len(ops), limit, ErrR53BatchTooLarge)
		}
		_, err = s.db.Commit(ctx, []store.Guard{{Key: r53ZoneKey(zoneID), ModRev: kv.ModRev}}, ops)
		return err
	})
}

// ErrR53BatchTooLarge says a change batch holds more writes than the store
// takes in one transaction.
var ErrR53BatchTooLarge = errors.New("change batch too large")

// dedupeOps keeps, for each key, only its last operation (etcd refuses a
// transaction that writes a key twice).
func dedupeOps(ops []store.Op) []store.Op {
	last := map[string]int{}
	for i, o := range ops {
		last[o.Key] = i
	}
	out := ops[:0:0]
	for i, o := range ops {
		if last[o.Key] == i {
			out = append(out, o)
		}
	}
	return out
}

// GetR53Change reads a change; nil when there is none.
func (s *State) GetR53Change(ctx context.Context, id string) (*R53ChangeRecord, error) {
	_, c, err := read[R53ChangeRecord](ctx, s.db, r53ChangeKey(id))
	return c, err
}

// decodeAll decodes a listing's records.
func decodeAll[T any](kvs []store.KV) ([]T, error) {
	out := make([]T, 0, len(kvs))
	for _, kv := range kvs {
		v, err := decode[T](kv)
		if err != nil {
			return nil, err
		}
		if v != nil {
			out = append(out, *v)
		}
	}
	return out, nil
}

// PutR53Change records a change that wrote no record set (a VPC
// association, say), for GetChange.
func (s *State) PutR53Change(ctx context.Context, change R53ChangeRecord) error {
	_, err := s.db.Commit(ctx, nil, []store.Op{store.Put(r53ChangeKey(change.ID), mustJSON(change))})
	return err
}
