package servicediscovery

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/flotta-dev/flotta/internal/model"
	"github.com/flotta-dev/flotta/internal/state"
)

// CreateServiceInput is CreateService's request.
type CreateServiceInput struct {
	Name                    string                   `json:"Name"`
	NamespaceID             string                   `json:"NamespaceId"`
	CreatorRequestID        string                   `json:"CreatorRequestId"`
	Description             *string                  `json:"Description"`
	DnsConfig               *DnsConfig               `json:"DnsConfig"`
	HealthCheckConfig       *HealthCheckConfig       `json:"HealthCheckConfig"`
	HealthCheckCustomConfig *HealthCheckCustomConfig `json:"HealthCheckCustomConfig"`
	Tags                    []Tag                    `json:"Tags"`
	Type                    string                   `json:"Type"`
}

// Service is a service as CreateService, GetService and ListServices tell of it.
type Service struct {
	ID                      string                   `json:"Id"`
	Arn                     string                   `json:"Arn"`
	Name                    string                   `json:"Name"`
	NamespaceID             string                   `json:"NamespaceId,omitempty"`
	Description             string                   `json:"Description,omitempty"`
	InstanceCount           *int                     `json:"InstanceCount,omitempty"`
	DnsConfig               *DnsConfig               `json:"DnsConfig,omitempty"`
	Type                    string                   `json:"Type"`
	HealthCheckConfig       *HealthCheckConfig       `json:"HealthCheckConfig,omitempty"`
	HealthCheckCustomConfig *HealthCheckCustomConfig `json:"HealthCheckCustomConfig,omitempty"`
	CreateDate              *model.Time              `json:"CreateDate"`
	CreatorRequestID        string                   `json:"CreatorRequestId,omitempty"`
	CreatedByAccount        string                   `json:"CreatedByAccount,omitempty"`
	ResourceOwner           string                   `json:"ResourceOwner,omitempty"`
}

// ServiceOutput is the answer of CreateService and GetService.
type ServiceOutput struct {
	Service Service `json:"Service"`
}

func (a *API) wireService(s *state.SDService, instances *int, summary bool) Service {
	out := Service{ID: s.ID, Arn: s.Arn, Name: s.Name, Description: s.Description, InstanceCount: instances, Type: s.Type,
		CreateDate: model.At(s.CreateDate), CreatedByAccount: a.State.Scope.Account, ResourceOwner: a.State.Scope.Account}
	if !summary {
		out.NamespaceID, out.CreatorRequestID = s.NamespaceID, s.CreatorRequestID
	}
	if len(s.DnsRecords) > 0 {
		dc := &DnsConfig{RoutingPolicy: s.RoutingPolicy, DnsRecords: []DnsRecord{}}
		if !summary {
			dc.NamespaceID = s.NamespaceID
		}
		for _, r := range s.DnsRecords {
			dc.DnsRecords = append(dc.DnsRecords, DnsRecord{Type: r.Type, TTL: ptr(r.TTL)})
		}
		out.DnsConfig = dc
	}
	if h := s.HealthCheckConfig; h != nil {
		out.HealthCheckConfig = &HealthCheckConfig{Type: h.Type, ResourcePath: h.ResourcePath, FailureThreshold: ptr(int(h.FailureThreshold))}
	}
	if h := s.HealthCheckCustom; h != nil {
		out.HealthCheckCustomConfig = &HealthCheckCustomConfig{FailureThreshold: ptr(int(h.FailureThreshold))}
	}
	return out
}

var recordTypes = []string{"A", "AAAA", "SRV", "CNAME"}

// checkDnsRecords checks a DnsConfig's records as Cloud Map does: known
// types, each once, TTLs in range, CNAME alone and only with WEIGHTED.
func checkDnsRecords(recs []DnsRecord, policy string) ([]state.SDDnsRecord, error) {
	if len(recs) == 0 {
		return nil, invalid("DnsConfig.DnsRecords must have at least one record.")
	}
	out := make([]state.SDDnsRecord, 0, len(recs))
	seen := map[string]bool{}
	for _, r := range recs {
		if !slices.Contains(recordTypes, r.Type) {
			return nil, invalid("DnsRecord Type %q is not A, AAAA, SRV or CNAME.", r.Type)
		}
		if seen[r.Type] {
			return nil, invalid("DnsConfig.DnsRecords has more than one record of type %s.", r.Type)
		}
		seen[r.Type] = true
		if err := checkTTL("DnsRecord TTL", r.TTL); err != nil {
			return nil, err
		}
		out = append(out, state.SDDnsRecord{Type: r.Type, TTL: *r.TTL})
	}
	if seen["CNAME"] {
		if len(recs) > 1 {
			return nil, invalid("A CNAME record cannot be combined with other record types.")
		}
		if policy != "WEIGHTED" {
			return nil, invalid("A CNAME record requires the WEIGHTED routing policy.")
		}
	}
	return out, nil
}

func checkHealthCheckConfig(h *HealthCheckConfig) (*state.SDHealthCheckConfig, error) {
	if !slices.Contains([]string{"HTTP", "HTTPS", "TCP"}, h.Type) {
		return nil, invalid("HealthCheckConfig.Type %q is not HTTP, HTTPS or TCP.", h.Type)
	}
	out := &state.SDHealthCheckConfig{Type: h.Type, ResourcePath: h.ResourcePath, FailureThreshold: 1}
	if h.Type == "TCP" && h.ResourcePath != "" {
		return nil, invalid("HealthCheckConfig.ResourcePath is not allowed for a TCP health check.")
	}
	if h.Type != "TCP" && out.ResourcePath == "" {
		out.ResourcePath = "/"
	}
	if len(out.ResourcePath) > 255 {
		return nil, invalid("HealthCheckConfig.ResourcePath must be at most 255 characters long.")
	}
	if h.FailureThreshold != nil {
		if *h.FailureThreshold < 1 || *h.FailureThreshold > 10 {
			return nil, invalid("HealthCheckConfig.FailureThreshold must be from 1 to 10; got %d.", *h.FailureThreshold)
		}
		out.FailureThreshold = int32(*h.FailureThreshold)
	}
	return out, nil
}

// CreateService creates a service in a namespace. It is synchronous, as
// in AWS.
func (a *API) CreateService(ctx context.Context, in *CreateServiceInput) (*ServiceOutput, error) {
	if err := checkServiceName(in.Name); err != nil {
		return nil, err
	}
	nsID := in.NamespaceID
	if nsID == "" && in.DnsConfig != nil {
		nsID = in.DnsConfig.NamespaceID // deprecated, still accepted
	}
	if nsID == "" {
		return nil, invalid("NamespaceId is required.")
	}
	if err := checkRequestID(in.CreatorRequestID); err != nil {
		return nil, err
	}
	if err := checkDescription(in.Description); err != nil {
		return nil, err
	}
	if in.Type != "" && in.Type != "HTTP" {
		return nil, invalid("Type %q is not valid: the only value is HTTP.", in.Type)
	}
	if in.HealthCheckConfig != nil && in.HealthCheckCustomConfig != nil {
		return nil, invalid("A service can have HealthCheckConfig or HealthCheckCustomConfig, not both.")
	}
	ns, err := a.namespace(ctx, nsID)
	if err != nil {
		return nil, err
	}
	svc := state.SDService{ID: newServiceID(), Name: in.Name, NamespaceID: ns.ID, CreatorRequestID: in.CreatorRequestID, CreateDate: a.now()}
	svc.Arn = a.arn("service/" + svc.ID)
	if in.Description != nil {
		svc.Description = *in.Description
	}
	switch {
	case in.DnsConfig != nil && !ns.IsDNS():
		return nil, invalid("Namespace %s is an HTTP namespace: a service in it cannot have a DnsConfig.", ns.ID)
	case in.DnsConfig != nil && in.Type == "HTTP":
		return nil, invalid("A service of type HTTP cannot have a DnsConfig.")
	case in.DnsConfig != nil:
		svc.Type, svc.RoutingPolicy = "DNS_HTTP", in.DnsConfig.RoutingPolicy
		if svc.RoutingPolicy == "" {
			svc.RoutingPolicy = "MULTIVALUE"
		}
		if svc.RoutingPolicy != "MULTIVALUE" && svc.RoutingPolicy != "WEIGHTED" {
			return nil, invalid("RoutingPolicy %q is not MULTIVALUE or WEIGHTED.", svc.RoutingPolicy)
		}
		if svc.DnsRecords, err = checkDnsRecords(in.DnsConfig.DnsRecords, svc.RoutingPolicy); err != nil {
			return nil, err
		}
	default:
		svc.Type = "HTTP"
	}
	if in.HealthCheckConfig != nil {
		if ns.Type != "DNS_PUBLIC" {
			return nil, invalid("HealthCheckConfig (a Route 53 health check) is only for services in public DNS namespaces; use HealthCheckCustomConfig.")
		}
		if svc.HasRecord("CNAME") {
			return nil, invalid("A service with a CNAME record cannot have a HealthCheckConfig.")
		}
		if svc.HealthCheckConfig, err = checkHealthCheckConfig(in.HealthCheckConfig); err != nil {
			return nil, err
		}
	}
	if c := in.HealthCheckCustomConfig; c != nil {
		svc.HealthCheckCustom = &state.SDHealthCheckCustom{FailureThreshold: 1}
		if c.FailureThreshold != nil {
			if *c.FailureThreshold < 1 || *c.FailureThreshold > 10 {
				return nil, invalid("HealthCheckCustomConfig.FailureThreshold must be from 1 to 10; got %d.", *c.FailureThreshold)
			}
			svc.HealthCheckCustom.FailureThreshold = int32(*c.FailureThreshold)
		}
	}
	if svc.Tags, err = checkTags(in.Tags, svc.Arn); err != nil {
		return nil, err
	}
	err = a.State.CreateSDService(ctx, svc)
	var taken *state.SDNameTakenError
	switch {
	case errors.As(err, &taken):
		if in.CreatorRequestID != "" && taken.CreatorRequestID == in.CreatorRequestID {
			// The same request again: the service it made.
			if cur, err := a.State.GetSDService(ctx, taken.ID); err == nil {
				return &ServiceOutput{Service: a.wireService(cur, nil, false)}, nil
			}
		}
		return nil, withFields(errorf(codeServiceAlreadyExists, "Service with name %s already exists in namespace %s: %s.", in.Name, ns.ID, taken.ID),
			map[string]string{"ServiceId": taken.ID, "ServiceArn": a.arn("service/" + taken.ID), "CreatorRequestId": taken.CreatorRequestID})
	case errors.Is(err, state.ErrNotFound):
		return nil, errNamespaceNotFound(ns.ID)
	case err != nil:
		return nil, err
	}
	return &ServiceOutput{Service: a.wireService(&svc, nil, false)}, nil
}

// service reads a service by id or ARN; ServiceNotFound when there is none.
func (a *API) service(ctx context.Context, member, id string) (*state.SDService, error) {
	if err := requireID(member, id); err != nil && !strings.HasPrefix(id, "arn:") {
		return nil, err
	}
	key := id
	if i := strings.LastIndex(id, "/"); strings.HasPrefix(id, "arn:") && i >= 0 {
		key = id[i+1:]
	}
	svc, err := a.State.GetSDService(ctx, key)
	if errors.Is(err, state.ErrNotFound) || (err == nil && strings.HasPrefix(id, "arn:") && svc.Arn != id) {
		return nil, errServiceNotFound(id)
	}
	return svc, err
}

// GetService describes a service.
func (a *API) GetService(ctx context.Context, in *IDInput) (*ServiceOutput, error) {
	svc, err := a.service(ctx, "Id", in.ID)
	if err != nil {
		return nil, err
	}
	n, err := a.State.CountSDInstances(ctx, svc.ID)
	if err != nil {
		return nil, err
	}
	return &ServiceOutput{Service: a.wireService(svc, &n, false)}, nil
}

// ListServicesInput is ListServices' request.
type ListServicesInput struct {
	MaxResults *int     `json:"MaxResults"`
	NextToken  string   `json:"NextToken"`
	Filters    []filter `json:"Filters"`
}

// ListServicesOutput is one page of ListServices.
type ListServicesOutput struct {
	Services  []Service `json:"Services"`
	NextToken string    `json:"NextToken,omitempty"`
}

// ListServices lists the services, by id, filtered by NAMESPACE_ID.
func (a *API) ListServices(ctx context.Context, in *ListServicesInput) (*ListServicesOutput, error) {
	size, err := pageSize(in.MaxResults, 100, 100)
	if err != nil {
		return nil, err
	}
	for i, f := range in.Filters {
		switch f.Name {
		case "NAMESPACE_ID", "RESOURCE_OWNER":
			err = f.check("EQ", "IN")
		default:
			err = invalid("Filter name %q is not NAMESPACE_ID or RESOURCE_OWNER.", f.Name)
		}
		if err != nil {
			return nil, err
		}
		if in.Filters[i].Condition == "" {
			in.Filters[i].Condition = "EQ"
		}
	}
	all, err := a.State.ListSDServices(ctx)
	if err != nil {
		return nil, err
	}
	kept := all[:0]
	for _, s := range all {
		ok := true
		for _, f := range in.Filters {
			if f.Name == "NAMESPACE_ID" {
				ok = ok && f.matches(s.NamespaceID)
			} else {
				ok = ok && f.matches(a.State.Scope.Account)
			}
		}
		if ok {
			kept = append(kept, s)
		}
	}
	got, next, err := page(kept, func(s state.SDService) string { return s.ID }, in.NextToken, size)
	if err != nil {
		return nil, err
	}
	out := &ListServicesOutput{Services: []Service{}, NextToken: next}
	for i := range got {
		n, err := a.State.CountSDInstances(ctx, got[i].ID)
		if err != nil {
			return nil, err
		}
		out.Services = append(out.Services, a.wireService(&got[i], &n, true))
	}
	return out, nil
}

// UpdateServiceInput is UpdateService's request.
type UpdateServiceInput struct {
	ID      string `json:"Id"`
	Service *struct {
		Description *string `json:"Description"`
		DnsConfig   *struct {
			DnsRecords []DnsRecord `json:"DnsRecords"`
		} `json:"DnsConfig"`
		HealthCheckConfig *HealthCheckConfig `json:"HealthCheckConfig"`
	} `json:"Service"`
}

// UpdateService submits a change of a service's description, record TTLs
// or Route 53 health check settings. The record types stay as they are.
func (a *API) UpdateService(ctx context.Context, in *UpdateServiceInput) (*OperationOutput, error) {
	if in.Service == nil {
		return nil, invalid("Service is required.")
	}
	if err := checkDescription(in.Service.Description); err != nil {
		return nil, err
	}
	svc, err := a.service(ctx, "Id", in.ID)
	if err != nil {
		return nil, err
	}
	u := &state.SDServiceUpdate{Description: in.Service.Description}
	if dc := in.Service.DnsConfig; dc != nil {
		if len(svc.DnsRecords) == 0 {
			return nil, invalid("Service %s has no DnsConfig to change.", svc.ID)
		}
		recs, err := checkDnsRecords(dc.DnsRecords, svc.RoutingPolicy)
		if err != nil {
			return nil, err
		}
		if len(recs) != len(svc.DnsRecords) {
			return nil, invalid("UpdateService changes the TTLs of the service's records (%s); it cannot add or remove record types.", recordList(svc))
		}
		for _, r := range recs {
			if !svc.HasRecord(r.Type) {
				return nil, invalid("The service has no %s record; UpdateService cannot add or remove record types.", r.Type)
			}
		}
		u.DnsRecords = recs
	}
	if h := in.Service.HealthCheckConfig; h != nil {
		if svc.HealthCheckConfig == nil {
			return nil, invalid("Service %s has no HealthCheckConfig to change.", svc.ID)
		}
		if u.HealthCheckConfig, err = checkHealthCheckConfig(h); err != nil {
			return nil, err
		}
	}
	op := a.newOperation(state.SDOpUpdateService, map[string]string{"SERVICE": svc.ID})
	op.ServiceUpdate = u
	if err := a.State.SubmitSDOperation(ctx, op); err != nil {
		return nil, err
	}
	return &OperationOutput{OperationID: op.ID}, nil
}

func recordList(svc *state.SDService) string {
	var types []string
	for _, r := range svc.DnsRecords {
		types = append(types, r.Type)
	}
	return strings.Join(types, ", ")
}

// Empty is the answer of the operations that answer nothing.
type Empty struct{}

// DeleteService deletes a service; ResourceInUse while it has instances.
func (a *API) DeleteService(ctx context.Context, in *IDInput) (*Empty, error) {
	svc, err := a.service(ctx, "Id", in.ID)
	if err != nil {
		return nil, err
	}
	found, err := a.State.DeleteSDService(ctx, svc.ID)
	switch {
	case errors.Is(err, state.ErrSDInUse):
		return nil, errorf(codeResourceInUse, "Service %s has registered instances; deregister them before deleting the service.", svc.ID)
	case err != nil:
		return nil, err
	case !found:
		return nil, errServiceNotFound(in.ID)
	}
	return &Empty{}, nil
}
