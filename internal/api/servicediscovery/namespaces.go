package servicediscovery

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/flotta-dev/flotta/internal/model"
	"github.com/flotta-dev/flotta/internal/state"
)

// CreatePrivateDnsNamespaceInput is CreatePrivateDnsNamespace's request.
type CreatePrivateDnsNamespaceInput struct {
	Name             string `json:"Name"`
	Vpc              string `json:"Vpc"`
	CreatorRequestID string `json:"CreatorRequestId"`
	Description      *string
	Properties       *struct {
		DnsProperties *struct {
			SOA *SOA `json:"SOA"`
		} `json:"DnsProperties"`
	} `json:"Properties"`
	Tags []Tag `json:"Tags"`
}

// CreatePublicDnsNamespaceInput is CreatePublicDnsNamespace's request.
type CreatePublicDnsNamespaceInput struct {
	Name             string `json:"Name"`
	CreatorRequestID string `json:"CreatorRequestId"`
	Description      *string
	Properties       *struct {
		DnsProperties *struct {
			SOA *SOA `json:"SOA"`
		} `json:"DnsProperties"`
	} `json:"Properties"`
	Tags []Tag `json:"Tags"`
}

// CreateHttpNamespaceInput is CreateHttpNamespace's request.
type CreateHttpNamespaceInput struct {
	Name             string `json:"Name"`
	CreatorRequestID string `json:"CreatorRequestId"`
	Description      *string
	Tags             []Tag `json:"Tags"`
}

// OperationOutput is the answer of every asynchronous operation.
type OperationOutput struct {
	OperationID string `json:"OperationId"`
}

// defaultSOATTL is the SOA TTL Cloud Map gives a DNS namespace when none is
// asked for (Route 53's default for a new hosted zone).
const defaultSOATTL = 15

// CreatePrivateDnsNamespace submits a private DNS namespace's creation.
func (a *API) CreatePrivateDnsNamespace(ctx context.Context, in *CreatePrivateDnsNamespaceInput) (*OperationOutput, error) {
	if in.Vpc == "" {
		return nil, invalid("Vpc is required.")
	}
	if len(in.Vpc) > 64 {
		return nil, invalid("Vpc must be at most 64 characters long.")
	}
	var soa *SOA
	if in.Properties != nil && in.Properties.DnsProperties != nil {
		if soa = in.Properties.DnsProperties.SOA; soa == nil {
			return nil, invalid("Properties.DnsProperties.SOA is required.")
		}
	}
	return a.createNamespace(ctx, "DNS_PRIVATE", in.Name, in.Vpc, in.CreatorRequestID, in.Description, soa, in.Tags)
}

// CreatePublicDnsNamespace submits a public DNS namespace's creation.
// Flotta serves its records from its own DNS server only; nothing is
// published on the public Internet (see docs/service-discovery.md).
func (a *API) CreatePublicDnsNamespace(ctx context.Context, in *CreatePublicDnsNamespaceInput) (*OperationOutput, error) {
	var soa *SOA
	if in.Properties != nil && in.Properties.DnsProperties != nil {
		if soa = in.Properties.DnsProperties.SOA; soa == nil {
			return nil, invalid("Properties.DnsProperties.SOA is required.")
		}
	}
	return a.createNamespace(ctx, "DNS_PUBLIC", in.Name, "", in.CreatorRequestID, in.Description, soa, in.Tags)
}

// CreateHttpNamespace submits an HTTP namespace's creation.
func (a *API) CreateHttpNamespace(ctx context.Context, in *CreateHttpNamespaceInput) (*OperationOutput, error) {
	return a.createNamespace(ctx, "HTTP", in.Name, "", in.CreatorRequestID, in.Description, nil, in.Tags)
}

func (a *API) createNamespace(ctx context.Context, typ, name, vpc, requestID string, desc *string, soa *SOA, tags []Tag) (*OperationOutput, error) {
	if name == "" {
		return nil, invalid("Name is required.")
	}
	if typ == "HTTP" {
		if len(name) > 1024 || !printable.MatchString(name) {
			return nil, invalid("Name %q is not valid: it must be 1 to 1024 printable characters without spaces.", name)
		}
	} else if err := checkDomain(name); err != nil {
		return nil, err
	}
	if err := checkRequestID(requestID); err != nil {
		return nil, err
	}
	if err := checkDescription(desc); err != nil {
		return nil, err
	}
	ns := state.SDNamespace{ID: newNamespaceID(), Name: name, Type: typ, Vpc: vpc, HTTPName: name,
		CreatorRequestID: requestID, CreateDate: a.now()}
	ns.Arn = a.arn("namespace/" + ns.ID)
	if desc != nil {
		ns.Description = *desc
	}
	if typ != "HTTP" {
		ns.HostedZoneID = newHostedZoneID()
		ns.SOATTL = defaultSOATTL
		if soa != nil {
			if err := checkTTL("SOA.TTL", soa.TTL); err != nil {
				return nil, err
			}
			ns.SOATTL = *soa.TTL
		}
	}
	var err error
	if ns.Tags, err = checkTags(tags, ns.Arn); err != nil {
		return nil, err
	}
	op := a.newOperation(state.SDOpCreateNamespace, map[string]string{"NAMESPACE": ns.ID})
	op.Namespace = &ns
	err = a.State.SubmitSDNamespace(ctx, op)
	var taken *state.SDNameTakenError
	switch {
	case errors.As(err, &taken):
		if requestID != "" && taken.CreatorRequestID == requestID && taken.OperationID != "" {
			// The same request again (an SDK's retry): the same answer.
			return &OperationOutput{OperationID: taken.OperationID}, nil
		}
		return nil, withFields(errorf(codeNamespaceAlreadyExists, "Namespace with name %s already exists.", name),
			map[string]string{"NamespaceId": taken.ID, "CreatorRequestId": taken.CreatorRequestID})
	case errors.Is(err, state.ErrSDLimit):
		return nil, errorf(codeResourceLimitExceeded, "The account has the most namespaces it may have in this Region (%d).", state.MaxSDNamespaces)
	case err != nil:
		return nil, err
	}
	return &OperationOutput{OperationID: op.ID}, nil
}

// newOperation is a SUBMITTED operation.
func (a *API) newOperation(typ string, targets map[string]string) state.SDOperation {
	now := a.now()
	return state.SDOperation{ID: newOperationID(), Type: typ, Status: state.SDOpSubmitted, CreateDate: now, UpdateDate: now, Targets: targets}
}

// Namespace is a namespace as GetNamespace and ListNamespaces tell of it.
type Namespace struct {
	Arn              string              `json:"Arn"`
	ID               string              `json:"Id"`
	Name             string              `json:"Name"`
	Type             string              `json:"Type"`
	Description      string              `json:"Description,omitempty"`
	CreatorRequestID string              `json:"CreatorRequestId,omitempty"`
	CreateDate       *model.Time         `json:"CreateDate"`
	ServiceCount     int                 `json:"ServiceCount"`
	Properties       NamespaceProperties `json:"Properties"`
	ResourceOwner    string              `json:"ResourceOwner,omitempty"`
}

func (a *API) wireNamespace(ns *state.SDNamespace, services int) Namespace {
	out := Namespace{Arn: ns.Arn, ID: ns.ID, Name: ns.Name, Type: ns.Type, Description: ns.Description,
		CreatorRequestID: ns.CreatorRequestID, CreateDate: model.At(ns.CreateDate), ServiceCount: services,
		Properties:    NamespaceProperties{HttpProperties: &HttpProperties{HttpName: ns.HTTPName}},
		ResourceOwner: a.State.Scope.Account}
	if ns.IsDNS() {
		out.Properties.DnsProperties = &DnsProperties{HostedZoneID: ns.HostedZoneID, SOA: &SOA{TTL: ptr(ns.SOATTL)}}
	}
	return out
}

// namespace reads a namespace by id or ARN; NamespaceNotFound when there is none.
func (a *API) namespace(ctx context.Context, id string) (*state.SDNamespace, error) {
	if err := requireID("Id", id); err != nil && !strings.HasPrefix(id, "arn:") {
		return nil, err
	}
	key := id
	if i := strings.LastIndex(id, "/"); strings.HasPrefix(id, "arn:") && i >= 0 {
		key = id[i+1:]
	}
	ns, err := a.State.GetSDNamespace(ctx, key)
	if errors.Is(err, state.ErrNotFound) || (err == nil && strings.HasPrefix(id, "arn:") && ns.Arn != id) {
		return nil, errNamespaceNotFound(id)
	}
	return ns, err
}

func (a *API) serviceCount(ctx context.Context, nsID string) (int, error) {
	all, err := a.State.ListSDServices(ctx)
	n := 0
	for i := range all {
		if all[i].NamespaceID == nsID {
			n++
		}
	}
	return n, err
}

// IDInput is the request of the operations that take one Id.
type IDInput struct {
	ID string `json:"Id"`
}

// GetNamespaceOutput is GetNamespace's answer.
type GetNamespaceOutput struct {
	Namespace Namespace `json:"Namespace"`
}

// GetNamespace describes a namespace.
func (a *API) GetNamespace(ctx context.Context, in *IDInput) (*GetNamespaceOutput, error) {
	ns, err := a.namespace(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	n, err := a.serviceCount(ctx, ns.ID)
	if err != nil {
		return nil, err
	}
	return &GetNamespaceOutput{Namespace: a.wireNamespace(ns, n)}, nil
}

// ListNamespacesInput is ListNamespaces' request.
type ListNamespacesInput struct {
	MaxResults *int     `json:"MaxResults"`
	NextToken  string   `json:"NextToken"`
	Filters    []filter `json:"Filters"`
}

// ListNamespacesOutput is one page of ListNamespaces.
type ListNamespacesOutput struct {
	Namespaces []Namespace `json:"Namespaces"`
	NextToken  string      `json:"NextToken,omitempty"`
}

// ListNamespaces lists the namespaces, by id, filtered by TYPE, NAME or
// HTTP_NAME.
func (a *API) ListNamespaces(ctx context.Context, in *ListNamespacesInput) (*ListNamespacesOutput, error) {
	size, err := pageSize(in.MaxResults, 100, 100)
	if err != nil {
		return nil, err
	}
	for i, f := range in.Filters {
		switch f.Name {
		case "TYPE":
			err = f.check("EQ", "IN")
			for _, v := range f.Values {
				if err == nil && !slices.Contains([]string{"DNS_PUBLIC", "DNS_PRIVATE", "HTTP"}, v) {
					err = invalid("TYPE filter value %q is not DNS_PUBLIC, DNS_PRIVATE or HTTP.", v)
				}
			}
		case "NAME", "HTTP_NAME":
			err = f.check("EQ", "BEGINS_WITH")
		case "RESOURCE_OWNER":
			err = f.check("EQ")
		default:
			err = invalid("Filter name %q is not TYPE, NAME, HTTP_NAME or RESOURCE_OWNER.", f.Name)
		}
		if err != nil {
			return nil, err
		}
		if in.Filters[i].Condition == "" {
			in.Filters[i].Condition = "EQ"
		}
	}
	all, err := a.State.ListSDNamespaces(ctx)
	if err != nil {
		return nil, err
	}
	services, err := a.State.ListSDServices(ctx)
	if err != nil {
		return nil, err
	}
	counts := map[string]int{}
	for _, s := range services {
		counts[s.NamespaceID]++
	}
	kept := all[:0]
	for _, ns := range all {
		ok := true
		for _, f := range in.Filters {
			switch f.Name {
			case "TYPE":
				ok = ok && f.matches(ns.Type)
			case "NAME":
				ok = ok && f.matches(ns.Name)
			case "HTTP_NAME":
				ok = ok && f.matches(ns.HTTPName)
			case "RESOURCE_OWNER":
				ok = ok && f.matches(a.State.Scope.Account)
			}
		}
		if ok {
			kept = append(kept, ns)
		}
	}
	got, next, err := page(kept, func(n state.SDNamespace) string { return n.ID }, in.NextToken, size)
	if err != nil {
		return nil, err
	}
	out := &ListNamespacesOutput{Namespaces: []Namespace{}, NextToken: next}
	for i := range got {
		out.Namespaces = append(out.Namespaces, a.wireNamespace(&got[i], counts[got[i].ID]))
	}
	return out, nil
}

// DeleteNamespace submits a namespace's deletion; ResourceInUse when it has
// services.
func (a *API) DeleteNamespace(ctx context.Context, in *IDInput) (*OperationOutput, error) {
	ns, err := a.namespace(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	n, err := a.serviceCount(ctx, ns.ID)
	if err != nil {
		return nil, err
	}
	if n > 0 {
		return nil, errorf(codeResourceInUse, "Namespace %s has %d associated services; delete them before the namespace.", ns.ID, n)
	}
	op := a.newOperation(state.SDOpDeleteNamespace, map[string]string{"NAMESPACE": ns.ID})
	if err := a.State.SubmitSDOperation(ctx, op); err != nil {
		return nil, err
	}
	return &OperationOutput{OperationID: op.ID}, nil
}

// UpdateNamespaceInput is the request of the UpdateXxxNamespace operations.
type UpdateNamespaceInput struct {
	ID               string `json:"Id"`
	UpdaterRequestID string `json:"UpdaterRequestId"`
	Namespace        *struct {
		Description *string `json:"Description"`
		Properties  *struct {
			DnsProperties *struct {
				SOA *SOA `json:"SOA"`
			} `json:"DnsProperties"`
		} `json:"Properties"`
	} `json:"Namespace"`
}

// UpdateHttpNamespace submits a change of an HTTP namespace's description.
func (a *API) UpdateHttpNamespace(ctx context.Context, in *UpdateNamespaceInput) (*OperationOutput, error) {
	return a.updateNamespace(ctx, in, "HTTP")
}

// UpdatePrivateDnsNamespace submits a change of a private DNS namespace.
func (a *API) UpdatePrivateDnsNamespace(ctx context.Context, in *UpdateNamespaceInput) (*OperationOutput, error) {
	return a.updateNamespace(ctx, in, "DNS_PRIVATE")
}

// UpdatePublicDnsNamespace submits a change of a public DNS namespace.
func (a *API) UpdatePublicDnsNamespace(ctx context.Context, in *UpdateNamespaceInput) (*OperationOutput, error) {
	return a.updateNamespace(ctx, in, "DNS_PUBLIC")
}

func (a *API) updateNamespace(ctx context.Context, in *UpdateNamespaceInput, typ string) (*OperationOutput, error) {
	if in.Namespace == nil {
		return nil, invalid("Namespace is required.")
	}
	if err := checkRequestID(in.UpdaterRequestID); err != nil {
		return nil, err
	}
	if err := checkDescription(in.Namespace.Description); err != nil {
		return nil, err
	}
	u := &state.SDNamespaceUpdate{Description: in.Namespace.Description}
	if p := in.Namespace.Properties; p != nil {
		if typ == "HTTP" {
			return nil, invalid("An HTTP namespace has no DNS properties to change.")
		}
		if p.DnsProperties == nil || p.DnsProperties.SOA == nil {
			return nil, invalid("Namespace.Properties.DnsProperties.SOA is required.")
		}
		if err := checkTTL("SOA.TTL", p.DnsProperties.SOA.TTL); err != nil {
			return nil, err
		}
		u.SOATTL = p.DnsProperties.SOA.TTL
	}
	ns, err := a.namespace(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	if ns.Type != typ {
		return nil, invalid("Namespace %s is of type %s, not %s.", ns.ID, ns.Type, typ)
	}
	op := a.newOperation(state.SDOpUpdateNamespace, map[string]string{"NAMESPACE": ns.ID})
	op.NamespaceUpdate = u
	if err := a.State.SubmitSDOperation(ctx, op); err != nil {
		return nil, err
	}
	return &OperationOutput{OperationID: op.ID}, nil
}
