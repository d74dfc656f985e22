package route53

import (
	"context"
	"encoding/xml"
	"errors"
	"net/http"
	"slices"
	"strconv"

	"github.com/flotta-dev/flotta/internal/protocol/restxml"
	"github.com/flotta-dev/flotta/internal/state"
)

// The VPCs a private zone answers in, after it is made.

// VPCAssociationRequest is the body of AssociateVPCWithHostedZone and
// DisassociateVPCFromHostedZone.
type VPCAssociationRequest struct {
	XMLName xml.Name
	VPC     *VPC   `xml:"VPC"`
	Comment string `xml:"Comment"`
}

// VPCAssociationResponse is their answer.
type VPCAssociationResponse struct {
	XMLName    xml.Name
	Xmlns      string     `xml:"xmlns,attr"`
	ChangeInfo ChangeInfo `xml:"ChangeInfo"`
}

// HostedZoneSummary is a zone as ListHostedZonesByVPC shows it.
type HostedZoneSummary struct {
	HostedZoneID string          `xml:"HostedZoneId"`
	Name         string          `xml:"Name"`
	Owner        HostedZoneOwner `xml:"Owner"`
}

// HostedZoneOwner is the account that owns a zone.
type HostedZoneOwner struct {
	OwningAccount string `xml:"OwningAccount"`
}

// ListHostedZonesByVPCResponse is ListHostedZonesByVPC's answer.
type ListHostedZonesByVPCResponse struct {
	XMLName             xml.Name            `xml:"ListHostedZonesByVPCResponse"`
	Xmlns               string              `xml:"xmlns,attr"`
	HostedZoneSummaries []HostedZoneSummary `xml:"HostedZoneSummaries>HostedZoneSummary"`
	MaxItems            int                 `xml:"MaxItems"`
	NextToken           string              `xml:"NextToken,omitempty"`
}

// vpcOf reads a request's VPC, its region defaulting to the account's.
func (a *API) vpcOf(v *VPC) (state.R53VPC, error) {
	if v == nil || v.VPCId == "" {
		return state.R53VPC{}, fail(CodeInvalidVPCId, http.StatusBadRequest, "The VPC ID is required.")
	}
	out := state.R53VPC{ID: v.VPCId, Region: v.VPCRegion}
	if out.Region == "" {
		out.Region = a.State.Scope.Region
	}
	return out, nil
}

// AssociateVPCWithHostedZone adds a VPC to a private zone.
func (a *API) AssociateVPCWithHostedZone(ctx context.Context, r *restxml.Request) (*restxml.Response, error) {
	return a.vpcAssociation(ctx, r, "AssociateVPCWithHostedZone", func(z *state.R53Zone, vpc state.R53VPC) error {
		if slices.Contains(z.VPCs, vpc) {
			return fail(CodeConflictingDomainExists, http.StatusBadRequest, "The VPC %s is already associated with the hosted zone %s.", vpc.ID, z.ID)
		}
		zones, err := a.State.ListR53Zones(ctx)
		if err != nil {
			return err
		}
		for _, o := range zones {
			if o.ID != z.ID && o.Name == z.Name && slices.Contains(o.VPCs, vpc) {
				return fail(CodeConflictingDomainExists, http.StatusBadRequest,
					"The hosted zone %s (%s) already answers for %s in VPC %s.", o.ID, o.Name, z.Name, vpc.ID)
			}
		}
		z.VPCs = append(z.VPCs, vpc)
		return nil
	})
}

// DisassociateVPCFromHostedZone removes a VPC from a private zone; the
// last one stays (LastVPCAssociation).
func (a *API) DisassociateVPCFromHostedZone(ctx context.Context, r *restxml.Request) (*restxml.Response, error) {
	return a.vpcAssociation(ctx, r, "DisassociateVPCFromHostedZone", func(z *state.R53Zone, vpc state.R53VPC) error {
		i := slices.Index(z.VPCs, vpc)
		if i < 0 {
			return fail("VPCAssociationNotFound", http.StatusNotFound, "The specified VPC and hosted zone are not currently associated.")
		}
		if len(z.VPCs) == 1 {
			return fail("LastVPCAssociation", http.StatusBadRequest,
				"The VPC that you're trying to disassociate from the private hosted zone is the last VPC that is associated with the hosted zone.")
		}
		z.VPCs = slices.Delete(z.VPCs, i, i+1)
		return nil
	})
}

func (a *API) vpcAssociation(ctx context.Context, r *restxml.Request, op string, edit func(z *state.R53Zone, vpc state.R53VPC) error) (*restxml.Response, error) {
	var in VPCAssociationRequest
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	if in.XMLName.Local != op+"Request" {
		return nil, invalid("The request's root element is <%s>; %s takes <%sRequest>.", in.XMLName.Local, op, op)
	}
	vpc, err := a.vpcOf(in.VPC)
	if err != nil {
		return nil, err
	}
	id := zoneID(r.Path["Id"])
	_, err = a.State.UpdateR53Zone(ctx, id, func(z *state.R53Zone) error { return edit(z, vpc) })
	if errors.Is(err, state.ErrR53ZoneNotFound) {
		return nil, noSuchZone(id)
	}
	if err != nil {
		return nil, err
	}
	change := state.R53ChangeRecord{ID: a.newID("C"), ZoneID: id, Comment: in.Comment, SubmittedAt: a.now()}
	if err := a.State.PutR53Change(ctx, change); err != nil {
		return nil, err
	}
	return &restxml.Response{Body: &VPCAssociationResponse{XMLName: xml.Name{Local: op + "Response"}, Xmlns: Namespace, ChangeInfo: changeOut(change, "PENDING")}}, nil
}

// ListHostedZonesByVPC lists the zones that answer in a VPC.
func (a *API) ListHostedZonesByVPC(ctx context.Context, r *restxml.Request) (*restxml.Response, error) {
	limit, err := maxItems(r.Query, defaultZonePage)
	if err != nil {
		return nil, err
	}
	if r.Query.Get("vpcid") == "" || r.Query.Get("vpcregion") == "" {
		return nil, invalid("The parameters vpcid and vpcregion are required.")
	}
	vpc := state.R53VPC{ID: r.Query.Get("vpcid"), Region: r.Query.Get("vpcregion")}
	skip := 0
	if t := r.Query.Get("nexttoken"); t != "" {
		if skip, err = strconv.Atoi(t); err != nil || skip < 0 {
			return nil, fail(CodeInvalidPaginationToken, http.StatusBadRequest, "The value that you specified for NextToken in a List request isn't valid.")
		}
	}
	zones, err := a.State.ListR53Zones(ctx)
	if err != nil {
		return nil, err
	}
	out := &ListHostedZonesByVPCResponse{Xmlns: Namespace, MaxItems: limit, HostedZoneSummaries: []HostedZoneSummary{}}
	n := 0
	for _, z := range zones {
		if !slices.Contains(z.VPCs, vpc) {
			continue
		}
		n++
		if n <= skip {
			continue
		}
		if len(out.HostedZoneSummaries) == limit {
			out.NextToken = strconv.Itoa(n - 1)
			break
		}
		out.HostedZoneSummaries = append(out.HostedZoneSummaries, HostedZoneSummary{HostedZoneID: z.ID, Name: z.Name, Owner: HostedZoneOwner{OwningAccount: a.State.Scope.Account}})
	}
	return &restxml.Response{Body: out}, nil
}
