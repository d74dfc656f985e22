package route53

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/flotta-dev/flotta/internal/protocol/restxml"
	"github.com/flotta-dev/flotta/internal/state"
)

// The name server and SOA every zone starts with. Flotta's DNS server
// answers for every zone itself; these names stand for it, as Route 53's
// awsdns servers do for AWS's private zones.
const (
	NameServer = "ns-1.flotta.internal."
	soaRName   = "hostmaster.flotta.internal."
	// The TTLs Route 53 gives a new zone's SOA and NS records.
	soaTTL = 900
	nsTTL  = 172800
)

// Quotas, Route 53's defaults.
const (
	MaxHostedZones        = 500
	maxCallerReferenceLen = 128
	maxCommentLen         = 256
	defaultZonePage       = 100
)

func (a *API) location(id string) http.Header {
	return http.Header{"Location": {"https://route53.amazonaws.com/" + Version + "/hostedzone/" + id}}
}

// CreateHostedZone makes a private zone with its SOA and NS records.
// Flotta serves private zones only: a request without a VPC is refused
// with InvalidInput, saying so.
func (a *API) CreateHostedZone(ctx context.Context, r *restxml.Request) (*restxml.Response, error) {
	var in CreateHostedZoneRequest
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	if in.Name == nil {
		return nil, invalid("Invalid request: the Name of the hosted zone is required.")
	}
	if in.CallerReference == nil || *in.CallerReference == "" {
		return nil, invalid("Invalid request: CallerReference is required.")
	}
	ref := *in.CallerReference
	if len(ref) > maxCallerReferenceLen {
		return nil, invalid("1 validation error detected: Value '%s' at 'callerReference' failed to satisfy constraint: Member must have length less than or equal to %d", ref, maxCallerReferenceLen)
	}
	name, err := normalizeName(*in.Name)
	if err != nil {
		return nil, fail(CodeInvalidDomainName, http.StatusBadRequest, "%s is not a valid domain name: %s.", *in.Name, err)
	}
	comment := ""
	private := in.VPC != nil
	if cfg := in.HostedZoneConfig; cfg != nil {
		comment = cfg.Comment
		if cfg.PrivateZone != nil && *cfg.PrivateZone {
			private = true
		}
	}
	if len(comment) > maxCommentLen {
		return nil, invalid("1 validation error detected: Value at 'hostedZoneConfig.comment' failed to satisfy constraint: Member must have length less than or equal to %d", maxCommentLen)
	}
	if !private {
		return nil, invalid("Flotta serves private hosted zones only: give the zone a VPC (VPCId and VPCRegion) to answer in.")
	}
	if in.VPC == nil || in.VPC.VPCId == "" {
		return nil, fail(CodeInvalidVPCId, http.StatusBadRequest, "A VPC is required for a private hosted zone: give its VPCId and VPCRegion.")
	}
	if in.DelegationSetID != "" {
		return nil, invalid("A private hosted zone cannot use a delegation set (DelegationSetId %s).", in.DelegationSetID)
	}
	vpc := state.R53VPC{ID: in.VPC.VPCId, Region: in.VPC.VPCRegion}
	if vpc.Region == "" {
		vpc.Region = a.State.Scope.Region
	}
	if len(vpc.ID) > 1024 || strings.ContainsAny(vpc.ID, " \t\n/") {
		return nil, fail(CodeInvalidVPCId, http.StatusBadRequest, "The VPC ID '%s' is not valid.", vpc.ID)
	}
	now := a.now()
	z := &state.R53Zone{ID: a.newID("Z"), Name: name, CallerReference: ref, Comment: comment, Private: true,
		VPCs: []state.R53VPC{vpc}, CreatedAt: now}
	change := state.R53ChangeRecord{ID: a.newID("C"), ZoneID: z.ID, SubmittedAt: now}
	sets := []state.R53RecordSet{
		{Name: name, Type: "NS", TTL: nsTTL, Values: []string{NameServer}},
		{Name: name, Type: "SOA", TTL: soaTTL, Values: []string{NameServer + " " + soaRName + " 1 7200 900 1209600 86400"}},
	}
	err = a.State.CreateR53Zone(ctx, z, sets, change, func(same []state.R53Zone) error {
		for _, o := range same {
			for _, v := range o.VPCs {
				if v == vpc {
					return fail(CodeConflictingDomainExists, http.StatusBadRequest,
						"The hosted zone %s (%s) already answers for %s in VPC %s.", o.ID, o.Name, name, vpc.ID)
				}
			}
		}
		zones, err := a.State.ListR53Zones(ctx)
		if err != nil {
			return err
		}
		if len(zones) >= MaxHostedZones {
			return fail("TooManyHostedZones", http.StatusBadRequest, "This operation can't be completed because the current account has reached the limit on the number of hosted zones (%d).", MaxHostedZones)
		}
		return nil
	})
	if errors.Is(err, state.ErrR53CallerReferenceUsed) {
		return nil, fail(CodeHostedZoneAlreadyExists, http.StatusConflict,
			"A hosted zone has already been created with the specified caller reference.")
	}
	if err != nil {
		return nil, err
	}
	out := &CreateHostedZoneResponse{Xmlns: Namespace, HostedZone: zoneOut(z), ChangeInfo: changeOut(change, "PENDING"),
		VPC: &VPC{VPCRegion: vpc.Region, VPCId: vpc.ID}}
	return &restxml.Response{Status: http.StatusCreated, Header: a.location(z.ID), Body: out}, nil
}

// GetHostedZone answers a zone with its VPCs.
func (a *API) GetHostedZone(ctx context.Context, r *restxml.Request) (*restxml.Response, error) {
	z, err := a.zone(ctx, r.Path["Id"])
	if err != nil {
		return nil, err
	}
	out := &GetHostedZoneResponse{Xmlns: Namespace, HostedZone: zoneOut(z)}
	for _, v := range z.VPCs {
		out.VPCs = append(out.VPCs, VPC{VPCRegion: v.Region, VPCId: v.ID})
	}
	if !z.Private {
		out.DelegationSet = &DelegationSet{NameServers: []string{NameServer}}
	}
	return &restxml.Response{Body: out}, nil
}

// maxItems reads the maxitems parameter: def when absent, at most def.
func maxItems(q map[string][]string, def int) (int, error) {
	v := ""
	if vs := q["maxitems"]; len(vs) > 0 {
		v = vs[0]
	}
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, invalid("1 validation error detected: Value '%s' at 'maxItems' failed to satisfy constraint: Member must be a number", v)
	}
	if n == 0 || n > def {
		n = def
	}
	return n, nil
}

// ListHostedZones pages through the zones by id: marker is the id of the
// first zone of the page, NextMarker that of the next page's.
func (a *API) ListHostedZones(ctx context.Context, r *restxml.Request) (*restxml.Response, error) {
	limit, err := maxItems(r.Query, defaultZonePage)
	if err != nil {
		return nil, err
	}
	if d := r.Query.Get("delegationsetid"); d != "" {
		return nil, fail("NoSuchDelegationSet", http.StatusBadRequest, "A reusable delegation set with the specified ID does not exist: %s", d)
	}
	kind := r.Query.Get("hostedzonetype")
	if kind != "" && kind != "PrivateHostedZone" {
		return nil, invalid("1 validation error detected: Value '%s' at 'hostedZoneType' failed to satisfy constraint: Member must satisfy enum value set: [PrivateHostedZone]", kind)
	}
	zones, err := a.State.ListR53Zones(ctx)
	if err != nil {
		return nil, err
	}
	marker := zoneID(r.Query.Get("marker"))
	out := &ListHostedZonesResponse{Xmlns: Namespace, Marker: r.Query.Get("marker"), MaxItems: limit, HostedZones: []HostedZone{}}
	for i := range zones {
		z := &zones[i]
		if marker != "" && z.ID < marker {
			continue
		}
		if len(out.HostedZones) == limit {
			out.IsTruncated, out.NextMarker = true, z.ID
			break
		}
		out.HostedZones = append(out.HostedZones, zoneOut(z))
	}
	return &restxml.Response{Body: out}, nil
}

// ListHostedZonesByName pages through the zones by name, with the labels
// reversed as Route 53 sorts them, then by id.
func (a *API) ListHostedZonesByName(ctx context.Context, r *restxml.Request) (*restxml.Response, error) {
	limit, err := maxItems(r.Query, defaultZonePage)
	if err != nil {
		return nil, err
	}
	dnsName, startID := r.Query.Get("dnsname"), zoneID(r.Query.Get("hostedzoneid"))
	if startID != "" && dnsName == "" {
		return nil, invalid("The parameter hostedzoneid requires dnsname.")
	}
	start := ""
	if dnsName != "" {
		n, err := normalizeName(dnsName)
		if err != nil {
			return nil, fail(CodeInvalidDomainName, http.StatusBadRequest, "%s is not a valid domain name: %s.", dnsName, err)
		}
		dnsName, start = n, state.R53SortName(n)
	}
	zones, err := a.State.ListR53Zones(ctx)
	if err != nil {
		return nil, err
	}
	slices.SortFunc(zones, func(x, y state.R53Zone) int {
		if c := strings.Compare(state.R53SortName(x.Name), state.R53SortName(y.Name)); c != 0 {
			return c
		}
		return strings.Compare(x.ID, y.ID)
	})
	out := &ListHostedZonesByNameResponse{Xmlns: Namespace, DNSName: dnsName, HostedZoneID: r.Query.Get("hostedzoneid"),
		MaxItems: limit, HostedZones: []HostedZone{}}
	for i := range zones {
		z := &zones[i]
		sn := state.R53SortName(z.Name)
		if sn < start || sn == start && z.ID < startID {
			continue
		}
		if len(out.HostedZones) == limit {
			out.IsTruncated, out.NextDNSName, out.NextHostedZoneID = true, z.Name, z.ID
			break
		}
		out.HostedZones = append(out.HostedZones, zoneOut(z))
	}
	return &restxml.Response{Body: out}, nil
}

// GetHostedZoneCount counts the zones.
func (a *API) GetHostedZoneCount(ctx context.Context, r *restxml.Request) (*restxml.Response, error) {
	zones, err := a.State.ListR53Zones(ctx)
	if err != nil {
		return nil, err
	}
	return &restxml.Response{Body: &GetHostedZoneCountResponse{Xmlns: Namespace, HostedZoneCount: int64(len(zones))}}, nil
}

// UpdateHostedZoneComment sets (or, with none, clears) a zone's comment.
func (a *API) UpdateHostedZoneComment(ctx context.Context, r *restxml.Request) (*restxml.Response, error) {
	var in UpdateHostedZoneCommentRequest
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	if len(in.Comment) > maxCommentLen {
		return nil, invalid("1 validation error detected: Value at 'comment' failed to satisfy constraint: Member must have length less than or equal to %d", maxCommentLen)
	}
	id := zoneID(r.Path["Id"])
	z, err := a.State.UpdateR53Zone(ctx, id, func(z *state.R53Zone) error {
		z.Comment = in.Comment
		return nil
	})
	if errors.Is(err, state.ErrR53ZoneNotFound) {
		return nil, noSuchZone(id)
	}
	if err != nil {
		return nil, err
	}
	return &restxml.Response{Body: &UpdateHostedZoneCommentResponse{Xmlns: Namespace, HostedZone: zoneOut(z)}}, nil
}

// DeleteHostedZone deletes a zone that holds nothing but its apex SOA and
// NS records.
func (a *API) DeleteHostedZone(ctx context.Context, r *restxml.Request) (*restxml.Response, error) {
	id := zoneID(r.Path["Id"])
	change := state.R53ChangeRecord{ID: a.newID("C"), ZoneID: id, SubmittedAt: a.now()}
	_, err := a.State.DeleteR53Zone(ctx, id, change, func(z *state.R53Zone, sets []state.R53RecordSet) error {
		for _, rs := range sets {
			if rs.Name != z.Name || rs.Type != "SOA" && rs.Type != "NS" {
				return fail(CodeHostedZoneNotEmpty, http.StatusBadRequest,
					"The specified hosted zone contains non-required resource record sets and so cannot be deleted.")
			}
		}
		return nil
	})
	if errors.Is(err, state.ErrR53ZoneNotFound) {
		return nil, noSuchZone(id)
	}
	if err != nil {
		return nil, err
	}
	return &restxml.Response{Body: &DeleteHostedZoneResponse{Xmlns: Namespace, ChangeInfo: changeOut(change, "PENDING")}}, nil
}

// GetChange answers a change's state: PENDING until SyncDelay after its
// commit, INSYNC after.
func (a *API) GetChange(ctx context.Context, r *restxml.Request) (*restxml.Response, error) {
	id := strings.TrimPrefix(strings.TrimPrefix(r.Path["Id"], "/"), "change/")
	c, err := a.State.GetR53Change(ctx, id)
	if err != nil {
		return nil, err
	}
	if c == nil {
		return nil, fail(CodeNoSuchChange, http.StatusNotFound, "A change with the specified change ID does not exist.")
	}
	return &restxml.Response{Body: &GetChangeResponse{Xmlns: Namespace, ChangeInfo: changeOut(*c, a.status(c))}}, nil
}

func (a *API) status(c *state.R53ChangeRecord) string {
	d := a.SyncDelay
	if d == 0 {
		d = DefaultSyncDelay
	}
	if a.now().Sub(c.SubmittedAt) >= d {
		return "INSYNC"
	}
	return "PENDING"
}
