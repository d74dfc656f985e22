package route53

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/flotta-dev/flotta/internal/protocol/restxml"
	"github.com/flotta-dev/flotta/internal/state"
)

// Route 53's limits on a change batch and a listing.
const (
	MaxChangesPerBatch = 1000
	maxValueChars      = 32000
	defaultRecordPage  = 300
	maxSetIdentifier   = 128
)

// change is one checked change of a batch.
type change struct {
	action string
	rs     state.R53RecordSet
}

// key is a record set's identity within its zone.
func key(rs *state.R53RecordSet) string {
	return state.R53RecordKey(rs.Name, rs.Type, rs.SetIdentifier)
}

// describe names a record set as Route 53's messages do.
func describe(rs *state.R53RecordSet) string {
	s := fmt.Sprintf("[name='%s', type='%s'", rs.Name, rs.Type)
	if rs.SetIdentifier != "" {
		s += fmt.Sprintf(", set-identifier='%s'", rs.SetIdentifier)
	}
	return s + "]"
}

// changeRef names a change as Route 53's InvalidInput messages do.
func changeRef(action string, rs *ResourceRecordSet) string {
	setID := "null"
	if rs.SetIdentifier != nil {
		setID = *rs.SetIdentifier
	}
	return fmt.Sprintf("Change with [Action=%s, Name=%s, Type=%s, SetIdentifier=%s]", action, deref(rs.Name), deref(rs.Type), setID)
}

func deref(p *string) string {
	if p == nil {
		return "null"
	}
	return *p
}

// ChangeResourceRecordSets applies a batch of CREATE, DELETE and UPSERT
// changes: all of them, or, when any is refused, none.
func (a *API) ChangeResourceRecordSets(ctx context.Context, r *restxml.Request) (*restxml.Response, error) {
	var in ChangeResourceRecordSetsRequest
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	if in.ChangeBatch == nil {
		return nil, invalid("Invalid request: the ChangeBatch is required.")
	}
	if len(in.ChangeBatch.Changes) == 0 {
		return nil, invalid("1 validation error detected: Value '[]' at 'changeBatch.changes' failed to satisfy constraint: Member must have length greater than or equal to 1")
	}
	if len(in.ChangeBatch.Changes) > MaxChangesPerBatch {
		return nil, invalid("Number of records limit of %d exceeded.", MaxChangesPerBatch)
	}
	comment := ""
	if in.ChangeBatch.Comment != nil {
		comment = *in.ChangeBatch.Comment
		if len(comment) > maxCommentLen {
			return nil, invalid("1 validation error detected: Value at 'changeBatch.comment' failed to satisfy constraint: Member must have length less than or equal to %d", maxCommentLen)
		}
	}
	z, err := a.zone(ctx, r.Path["Id"])
	if err != nil {
		return nil, err
	}
	changes, err := checkChanges(z, in.ChangeBatch.Changes, lookups{
		loadBalancers: func() (map[string]bool, error) { return a.loadBalancerNames(ctx) },
		healthCheck: func(id string) (bool, error) {
			_, err := a.State.GetR53HealthCheck(ctx, id)
			if errors.Is(err, state.ErrR53HealthCheckNotFound) {
				return false, nil
			}
			return err == nil, err
		}})
	if err != nil {
		return nil, err
	}
	names := []string{z.Name}
	for _, c := range changes {
		names = append(names, c.rs.Name)
		if al := c.rs.Alias; al != nil && al.HostedZoneID == z.ID {
			names = append(names, al.DNSName)
		}
	}
	rec := state.R53ChangeRecord{ID: a.newID("C"), ZoneID: z.ID, Comment: comment, SubmittedAt: a.now()}
	err = a.State.ChangeR53RecordSets(ctx, z.ID, names, rec, func(b state.R53Batch) (state.R53Writes, error) {
		return plan(b, changes)
	})
	switch {
	case errors.Is(err, state.ErrR53ZoneNotFound):
		return nil, noSuchZone(z.ID)
	case errors.Is(err, state.ErrR53BatchTooLarge):
		return nil, &ChangeBatchError{Messages: []string{"The change batch holds more changes than this server's store takes in one transaction; split it."}}
	case err != nil:
		return nil, err
	}
	return &restxml.Response{Body: &ChangeResourceRecordSetsResponse{Xmlns: Namespace, ChangeInfo: changeOut(rec, "PENDING")}}, nil
}

// checkChanges checks each change on its own (names, types, values,
// routing policies, alias targets outside the zone) and reads it into a
// record set. InvalidInput comes at once, as Route 53 rejects a malformed
// request before it looks at the zone; the batch's other problems come
// together as InvalidChangeBatch.
// lookups read what a batch's checks need beyond the zone.
type lookups struct {
	// loadBalancers are the DNS names of the load balancers, normalized.
	loadBalancers func() (map[string]bool, error)
	// healthCheck says whether a health check exists.
	healthCheck func(id string) (bool, error)
}

func checkChanges(z *state.R53Zone, in []Change, look lookups) ([]change, error) {
	var msgs []string
	var out []change
	valueChars := 0
	var elbNames map[string]bool
	for i, c := range in {
		action := deref(c.Action)
		if c.Action == nil || action != "CREATE" && action != "DELETE" && action != "UPSERT" {
			return nil, invalid("1 validation error detected: Value '%s' at 'changeBatch.changes.%d.member.action' failed to satisfy constraint: Member must satisfy enum value set: [CREATE, DELETE, UPSERT]", action, i+1)
		}
		in := c.ResourceRecordSet
		if in == nil {
			return nil, invalid("1 validation error detected: Value null at 'changeBatch.changes.%d.member.resourceRecordSet' failed to satisfy constraint: Member must not be null", i+1)
		}
		if in.Name == nil {
			return nil, invalid("1 validation error detected: Value null at 'changeBatch.changes.%d.member.resourceRecordSet.name' failed to satisfy constraint: Member must not be null", i+1)
		}
		typ := deref(in.Type)
		if in.Type == nil || !awsTypes[typ] {
			return nil, invalid("1 validation error detected: Value '%s' at 'changeBatch.changes.%d.member.resourceRecordSet.type' failed to satisfy constraint: Member must satisfy enum value set: [SOA, A, TXT, NS, CNAME, MX, NAPTR, PTR, SRV, SPF, AAAA, CAA, DS, TLSA, SSHFP, SVCB, HTTPS]", typ, i+1)
		}
		if in.Region != nil || in.GeoLocation != nil || in.GeoProximityLocation != nil || in.CidrRoutingConfig != nil {
			return nil, invalid("Flotta does not serve latency, geolocation, geoproximity or IP-based routing (%s).", changeRef(action, in))
		}
		if in.TrafficPolicyInstanceID != nil {
			return nil, invalid("Flotta does not serve traffic policies (%s).", changeRef(action, in))
		}
		alias := in.AliasTarget != nil
		plain := in.TTL != nil || len(in.ResourceRecords) > 0
		switch {
		case alias && plain:
			return nil, invalid("Invalid request: Expected exactly one of [AliasTarget, all of [TTL, and ResourceRecords], or TrafficPolicyInstanceId], but found more than one in %s", changeRef(action, in))
		case !alias && (in.TTL == nil || len(in.ResourceRecords) == 0):
			missing := "none"
			if plain {
				missing = "only part of [TTL, and ResourceRecords]"
			}
			return nil, invalid("Invalid request: Expected exactly one of [AliasTarget, all of [TTL, and ResourceRecords], or TrafficPolicyInstanceId], but found %s in %s", missing, changeRef(action, in))
		}
		rs := state.R53RecordSet{Type: typ}
		name, err := normalizeName(*in.Name)
		if err != nil {
			msgs = append(msgs, fmt.Sprintf("Invalid Resource Record Set name '%s': %s", *in.Name, err))
			continue
		}
		rs.Name = name
		if !recordTypes[typ] {
			msgs = append(msgs, fmt.Sprintf("Flotta does not serve records of type %s yet %s", typ, describe(&rs)))
			continue
		}
		if !within(name, z.Name) {
			msgs = append(msgs, fmt.Sprintf("RRSet with DNS name %s is not permitted in zone %s", name, z.Name))
			continue
		}
		if err := routing(in, &rs, action); err != nil {
			return nil, err
		}
		if in.HealthCheckID != nil {
			ok, err := look.healthCheck(*in.HealthCheckID)
			if err != nil {
				return nil, err
			}
			if !ok && action != "DELETE" {
				return nil, noSuchHealthCheck(*in.HealthCheckID)
			}
			rs.HealthCheckID = *in.HealthCheckID
		}
		if alias {
			at := in.AliasTarget
			if at.HostedZoneID == nil || at.DNSName == nil {
				return nil, invalid("Invalid request: an AliasTarget needs both HostedZoneId and DNSName in %s", changeRef(action, in))
			}
			target, err := normalizeName(*at.DNSName)
			if err != nil {
				msgs = append(msgs, fmt.Sprintf("Invalid alias target name '%s': %s", *at.DNSName, err))
				continue
			}
			rs.Alias = &state.R53Alias{HostedZoneID: zoneID(*at.HostedZoneID), DNSName: target, EvaluateTargetHealth: at.EvaluateTargetHealth != nil && *at.EvaluateTargetHealth}
			if typ == "SOA" || typ == "NS" {
				msgs = append(msgs, fmt.Sprintf("Alias records of type %s are not permitted %s", typ, describe(&rs)))
				continue
			}
			if rs.Alias.HostedZoneID != z.ID && action != "DELETE" {
				if elbNames == nil {
					if elbNames, err = look.loadBalancers(); err != nil {
						return nil, err
					}
				}
				if rs.Alias.HostedZoneID != ELBHostedZoneID || !elbNames[target] || typ != "A" && typ != "AAAA" {
					msgs = append(msgs, fmt.Sprintf("Tried to create an alias that targets %s, type %s in zone %s, but the alias target name does not lie within the target zone", target, typ, rs.Alias.HostedZoneID))
					continue
				}
			}
		} else {
			if *in.TTL < 0 || *in.TTL > math.MaxInt32 {
				return nil, invalid("1 validation error detected: Value '%d' at 'changeBatch.changes.%d.member.resourceRecordSet.tTL' failed to satisfy constraint: Member must have value between 0 and 2147483647", *in.TTL, i+1)
			}
			rs.TTL = *in.TTL
			if len(in.ResourceRecords) > 1 && (typ == "CNAME" || typ == "SOA") {
				msgs = append(msgs, fmt.Sprintf("RRSet of type %s with DNS name %s has more than one resource record", typ, name))
				continue
			}
			bad := false
			seen := map[string]bool{}
			for _, r := range in.ResourceRecords {
				v := r.Value
				valueChars += len(v)
				if len(v) > 4000 {
					msgs = append(msgs, badRecord("RRDATATooLong", "Value is longer than 4000 characters", v[:40]+"..."))
					bad = true
					continue
				}
				if m := checkValue(typ, v); m != "" {
					msgs = append(msgs, m)
					bad = true
					continue
				}
				if seen[v] {
					msgs = append(msgs, fmt.Sprintf("Duplicate Resource Record: '%s'", v))
					bad = true
					continue
				}
				seen[v] = true
				rs.Values = append(rs.Values, v)
			}
			if bad {
				continue
			}
		}
		out = append(out, change{action: action, rs: rs})
	}
	if valueChars > maxValueChars {
		return nil, invalid("The total number of characters in Value elements exceeds the limit of %d.", maxValueChars)
	}
	if len(msgs) > 0 {
		return nil, &ChangeBatchError{Messages: msgs}
	}
	return out, nil
}

// routing reads a record set's routing policy: none (a simple record), or
// with a SetIdentifier exactly one of Weight (0-255), Failover (PRIMARY or
// SECONDARY) and MultiValueAnswer.
func routing(in *ResourceRecordSet, rs *state.R53RecordSet, action string) error {
	policies := 0
	if in.Weight != nil {
		policies++
		if *in.Weight < 0 || *in.Weight > 255 {
			return invalid("1 validation error detected: Value '%d' at 'resourceRecordSet.weight' failed to satisfy constraint: Member must have value between 0 and 255", *in.Weight)
		}
		w := *in.Weight
		rs.Weight = &w
	}
	if in.Failover != nil {
		policies++
		if *in.Failover != "PRIMARY" && *in.Failover != "SECONDARY" {
			return invalid("1 validation error detected: Value '%s' at 'resourceRecordSet.failover' failed to satisfy constraint: Member must satisfy enum value set: [PRIMARY, SECONDARY]", *in.Failover)
		}
		rs.Failover = *in.Failover
	}
	if in.MultiValueAnswer != nil {
		policies++
		m := *in.MultiValueAnswer
		rs.MultiValueAnswer = &m
	}
	hasID := in.SetIdentifier != nil
	switch {
	case hasID && policies == 0:
		return invalid("Invalid request: A SetIdentifier needs a routing policy (Weight, Failover or MultiValueAnswer) in %s", changeRef(action, in))
	case !hasID && policies > 0:
		return invalid("Invalid request: Missing field 'SetIdentifier' in %s", changeRef(action, in))
	case policies > 1:
		return invalid("Invalid request: Expected at most one of [Weight, Failover, MultiValueAnswer] in %s", changeRef(action, in))
	}
	if hasID {
		id := *in.SetIdentifier
		if id == "" || len(id) > maxSetIdentifier {
			return invalid("1 validation error detected: Value '%s' at 'resourceRecordSet.setIdentifier' failed to satisfy constraint: Member must have length between 1 and %d", id, maxSetIdentifier)
		}
		if strings.ContainsAny(id, " \x00") {
			return invalid("Invalid request: the SetIdentifier '%s' holds a space or a NUL character, which Flotta does not keep.", id)
		}
		if rs.MultiValueAnswer != nil && !*rs.MultiValueAnswer {
			return invalid("Invalid request: MultiValueAnswer, when given, must be true in %s", changeRef(action, in))
		}
		rs.SetIdentifier = id
	}
	return nil
}

// loadBalancerNames are the DNS names of Flotta's load balancers (an alias
// may target them), normalized.
func (a *API) loadBalancerNames(ctx context.Context) (map[string]bool, error) {
	cfg, err := a.State.ReadELB(ctx)
	if err != nil {
		return nil, err
	}
	out := map[string]bool{}
	for _, lb := range cfg.LoadBalancers {
		if n, err := normalizeName(lb.DNSName); err == nil {
			out[n] = true
		}
	}
	return out, nil
}

// plan applies a batch's changes, in order, to the zone's record sets at
// the names they touch, and checks the rules that span record sets: what
// CREATE and DELETE find, the apex SOA and NS, CNAME exclusivity, one
// routing policy a name and type, alias targets in the zone.
func plan(b state.R53Batch, changes []change) (state.R53Writes, error) {
	z := b.Zone
	// now holds the record sets at the touched names as the batch goes.
	now := map[string]*state.R53RecordSet{}
	before := map[string]bool{}
	for _, sets := range b.ByName {
		for i := range sets {
			now[key(&sets[i])] = &sets[i]
			before[key(&sets[i])] = true
		}
	}
	touched := map[string]bool{}
	var msgs []string
	for _, c := range changes {
		rs := c.rs
		k := key(&rs)
		cur := now[k]
		switch c.action {
		case "CREATE":
			if cur != nil {
				msgs = append(msgs, fmt.Sprintf("Tried to create resource record set %s but it already exists", describe(&rs)))
				continue
			}
			now[k] = &rs
		case "DELETE":
			switch {
			case cur == nil:
				msgs = append(msgs, fmt.Sprintf("Tried to delete resource record set %s but it was not found", describe(&rs)))
				continue
			case !sameSet(cur, &rs):
				msgs = append(msgs, fmt.Sprintf("Tried to delete resource record set %s but the values provided do not match the current values", describe(&rs)))
				continue
			}
			delete(now, k)
		case "UPSERT":
			now[k] = &rs
		}
		touched[rs.Name] = true
	}
	// The apex keeps exactly one SOA and its NS records.
	if touched[z.Name] {
		if now[state.R53RecordKey(z.Name, "SOA", "")] == nil {
			msgs = append(msgs, "A HostedZone must contain exactly one SOA record.")
		}
		if now[state.R53RecordKey(z.Name, "NS", "")] == nil {
			msgs = append(msgs, "A HostedZone must contain at least one NS record for the zone itself.")
		}
	}
	// Rules at each touched name, over the record sets it ends with.
	byName := map[string][]*state.R53RecordSet{}
	for _, rs := range now {
		if touched[rs.Name] {
			byName[rs.Name] = append(byName[rs.Name], rs)
		}
	}
	names := make([]string, 0, len(byName))
	for n := range byName {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, name := range names {
		sets := byName[name]
		slices.SortFunc(sets, func(x, y *state.R53RecordSet) int { return strings.Compare(key(x), key(y)) })
		msgs = append(msgs, nameRules(z, name, sets, now)...)
	}
	if len(msgs) > 0 {
		return state.R53Writes{}, &ChangeBatchError{Messages: msgs}
	}
	var w state.R53Writes
	seen := map[string]bool{}
	for _, c := range changes {
		k := key(&c.rs)
		if seen[k] {
			continue
		}
		seen[k] = true
		if rs := now[k]; rs != nil {
			w.Put = append(w.Put, *rs)
		} else if before[k] {
			w.Delete = append(w.Delete, c.rs)
		}
	}
	return w, nil
}

// nameRules checks the record sets one name ends a batch with.
func nameRules(z *state.R53Zone, name string, sets []*state.R53RecordSet, now map[string]*state.R53RecordSet) []string {
	var msgs []string
	types := map[string][]*state.R53RecordSet{}
	for _, rs := range sets {
		types[rs.Type] = append(types[rs.Type], rs)
	}
	if cn := types["CNAME"]; len(cn) > 0 {
		if name == z.Name {
			msgs = append(msgs, fmt.Sprintf("RRSet of type CNAME with DNS name %s is not permitted at apex in zone %s", name, z.Name))
		} else if len(types) > 1 {
			for _, rs := range sets {
				if rs.Type != "CNAME" {
					msgs = append(msgs, fmt.Sprintf("RRSet of type %s with DNS name %s is not permitted because a conflicting RRSet of type CNAME with the same DNS name already exists in zone %s", rs.Type, name, z.Name))
					break
				}
			}
		}
	}
	if soa := types["SOA"]; len(soa) > 0 && name != z.Name {
		msgs = append(msgs, fmt.Sprintf("RRSet of type SOA with DNS name %s is not permitted: the SOA record belongs at the apex of zone %s", name, z.Name))
	}
	typeNames := make([]string, 0, len(types))
	for t := range types {
		typeNames = append(typeNames, t)
	}
	slices.Sort(typeNames)
	for _, t := range typeNames {
		group := types[t]
		if len(group) > 1 {
			simple, policy := false, ""
			primary, secondary := 0, 0
			for _, rs := range group {
				p := policyOf(rs)
				switch {
				case p == "simple":
					simple = true
				case policy == "":
					policy = p
				case policy != p:
					msgs = append(msgs, fmt.Sprintf("RRSet with DNS name %s, type %s, SetIdentifier %s cannot be created because a %s set exists with the same name and type.", name, t, rs.SetIdentifier, policy))
				}
				switch rs.Failover {
				case "PRIMARY":
					primary++
				case "SECONDARY":
					secondary++
				}
			}
			if simple {
				msgs = append(msgs, fmt.Sprintf("RRSet with DNS name %s, type %s cannot be created because a non-%s set exists with the same name and type.", name, t, policy))
			}
			if primary > 1 || secondary > 1 {
				msgs = append(msgs, fmt.Sprintf("RRSet with DNS name %s, type %s has more than one failover record set of the same kind (PRIMARY or SECONDARY).", name, t))
			}
		}
		for _, rs := range group {
			if al := rs.Alias; al != nil && al.HostedZoneID == z.ID {
				if !within(al.DNSName, z.Name) || al.DNSName == rs.Name || !hasType(now, al.DNSName, rs.Type) {
					msgs = append(msgs, fmt.Sprintf("Tried to create an alias that targets %s, type %s in zone %s, but that target was not found", al.DNSName, rs.Type, z.ID))
				}
			}
		}
	}
	return msgs
}

// policyOf names a record set's routing policy.
func policyOf(rs *state.R53RecordSet) string {
	switch {
	case rs.SetIdentifier == "":
		return "simple"
	case rs.Weight != nil:
		return "weighted"
	case rs.Failover != "":
		return "failover"
	default:
		return "multivalue"
	}
}

// hasType says whether the batch's view holds a record set of a name and type.
func hasType(now map[string]*state.R53RecordSet, name, typ string) bool {
	for _, rs := range now {
		if rs.Name == name && rs.Type == typ {
			return true
		}
	}
	return false
}

// sameSet says whether a DELETE names a record set exactly as it is.
func sameSet(cur, del *state.R53RecordSet) bool {
	if cur.TTL != del.TTL || cur.Failover != del.Failover || cur.HealthCheckID != del.HealthCheckID {
		return false
	}
	if (cur.Weight == nil) != (del.Weight == nil) || cur.Weight != nil && *cur.Weight != *del.Weight {
		return false
	}
	if (cur.MultiValueAnswer == nil) != (del.MultiValueAnswer == nil) {
		return false
	}
	if (cur.Alias == nil) != (del.Alias == nil) || cur.Alias != nil && *cur.Alias != *del.Alias {
		return false
	}
	a, b := slices.Clone(cur.Values), slices.Clone(del.Values)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// ListResourceRecordSets pages through a zone's record sets in Route 53's
// order, from the position that name, type and identifier give.
func (a *API) ListResourceRecordSets(ctx context.Context, r *restxml.Request) (*restxml.Response, error) {
	limit, err := maxItems(r.Query, defaultRecordPage)
	if err != nil {
		return nil, err
	}
	name, typ, ident := r.Query.Get("name"), r.Query.Get("type"), r.Query.Get("identifier")
	if typ != "" && name == "" {
		return nil, invalid("The input is not valid: a type to start from needs a name to start from.")
	}
	if ident != "" && typ == "" {
		return nil, invalid("The input is not valid: an identifier to start from needs a name and a type to start from.")
	}
	if typ != "" && !awsTypes[typ] {
		return nil, invalid("1 validation error detected: Value '%s' at 'startRecordType' failed to satisfy constraint: Member must satisfy enum value set: [SOA, A, TXT, NS, CNAME, MX, NAPTR, PTR, SRV, SPF, AAAA, CAA, DS, TLSA, SSHFP, SVCB, HTTPS]", typ)
	}
	from := ""
	if name != "" {
		n, err := normalizeName(name)
		if err != nil {
			return nil, invalid("The input is not valid: %s is not a valid name to start from: %s.", name, err)
		}
		from = state.R53SortName(n)
		if typ != "" {
			from += " " + typ
			if ident != "" {
				from += " " + ident
			}
		}
	}
	z, err := a.zone(ctx, r.Path["Id"])
	if err != nil {
		return nil, err
	}
	// One more than a page: the first of the next page, if any.
	sets, _, err := a.State.ListR53RecordSetsFrom(ctx, z.ID, from, limit+1)
	if err != nil {
		return nil, err
	}
	out := &ListResourceRecordSetsResponse{Xmlns: Namespace, MaxItems: limit, ResourceRecordSets: []ResourceRecordSetOut{}}
	for i := range sets {
		if i == limit {
			next := &sets[i]
			out.IsTruncated, out.NextRecordName, out.NextRecordType, out.NextRecordIdentifier = true, next.Name, next.Type, next.SetIdentifier
			break
		}
		out.ResourceRecordSets = append(out.ResourceRecordSets, recordOut(&sets[i]))
	}
	return &restxml.Response{Body: out}, nil
}
