package servicediscovery

import (
	"context"
	"errors"
	"maps"
	"net/netip"
	"regexp"
	"slices"
	"strconv"

	"github.com/flotta-dev/flotta/internal/state"
)

// The attributes Cloud Map reads itself.
const (
	attrAliasDNSName = "AWS_ALIAS_DNS_NAME"
	attrInitHealth   = "AWS_INIT_HEALTH_STATUS"
	attrCNAME        = "AWS_INSTANCE_CNAME"
	attrIPv4         = "AWS_INSTANCE_IPV4"
	attrIPv6         = "AWS_INSTANCE_IPV6"
	attrPort         = "AWS_INSTANCE_PORT"
	attrEC2ID        = "AWS_EC2_INSTANCE_ID"
)

// RegisterInstanceInput is RegisterInstance's request.
type RegisterInstanceInput struct {
	ServiceID        string            `json:"ServiceId"`
	InstanceID       string            `json:"InstanceId"`
	CreatorRequestID string            `json:"CreatorRequestId"`
	Attributes       map[string]string `json:"Attributes"`
}

var (
	attrKeyRE   = regexp.MustCompile(`^[a-zA-Z0-9!-~]+$`)
	attrValueRE = regexp.MustCompile(`^([a-zA-Z0-9!-~][ \ta-zA-Z0-9!-~]*)?[a-zA-Z0-9!-~]?$`)
)

// checkAttributes checks an instance's attributes against its service's
// configuration, as Cloud Map does: an A record needs AWS_INSTANCE_IPV4,
// AAAA needs AWS_INSTANCE_IPV6, SRV needs AWS_INSTANCE_PORT and an
// address, CNAME needs AWS_INSTANCE_CNAME; an alias stands alone.
func checkAttributes(svc *state.SDService, attrs map[string]string) error {
	if len(attrs) > maxAttributes {
		return invalid("An instance can have at most %d attributes; %d were given.", maxAttributes, len(attrs))
	}
	total := 0
	for k, v := range attrs {
		if len(k) > maxAttrKeyLen || !attrKeyRE.MatchString(k) {
			return invalid("Attribute key %q is not valid: 1 to %d printable characters without spaces.", k, maxAttrKeyLen)
		}
		if len(v) > maxAttrValueLen || !attrValueRE.MatchString(v) {
			return invalid("The value of attribute %s is not valid: at most %d printable characters, not starting or ending with a space.", k, maxAttrValueLen)
		}
		total += len(k) + len(v)
	}
	if total > 5000 {
		return invalid("The attributes add up to %d characters; at most 5,000 are allowed.", total)
	}
	if v, ok := attrs[attrIPv4]; ok {
		if a, err := netip.ParseAddr(v); err != nil || !a.Is4() {
			return invalid("%s %q is not an IPv4 address.", attrIPv4, v)
		}
	}
	if v, ok := attrs[attrIPv6]; ok {
		if a, err := netip.ParseAddr(v); err != nil || !a.Is6() || a.Is4In6() {
			return invalid("%s %q is not an IPv6 address.", attrIPv6, v)
		}
	}
	if v, ok := attrs[attrPort]; ok {
		if p, err := strconv.Atoi(v); err != nil || p < 1 || p > 65535 {
			return invalid("%s %q is not a port from 1 to 65535.", attrPort, v)
		}
	}
	if v, ok := attrs[attrInitHealth]; ok {
		if v != "HEALTHY" && v != "UNHEALTHY" {
			return invalid("%s must be HEALTHY or UNHEALTHY; got %q.", attrInitHealth, v)
		}
		if svc.HealthCheckCustom == nil {
			return invalid("%s is only for services with a HealthCheckCustomConfig.", attrInitHealth)
		}
	}
	if _, ok := attrs[attrAliasDNSName]; ok {
		if !svc.HasRecord("A") && !svc.HasRecord("AAAA") {
			return invalid("%s needs a service with an A or AAAA record.", attrAliasDNSName)
		}
		if svc.RoutingPolicy != "WEIGHTED" {
			return invalid("%s needs a service whose RoutingPolicy is WEIGHTED.", attrAliasDNSName)
		}
		for _, k := range []string{attrIPv4, attrIPv6, attrPort, attrCNAME} {
			if _, has := attrs[k]; has {
				return invalid("An instance with %s cannot have %s.", attrAliasDNSName, k)
			}
		}
		return nil
	}
	_, v4 := attrs[attrIPv4]
	_, v6 := attrs[attrIPv6]
	_, port := attrs[attrPort]
	_, cname := attrs[attrCNAME]
	switch {
	case svc.HasRecord("A") && !v4:
		return invalid("The service has an A record: %s is required.", attrIPv4)
	case svc.HasRecord("AAAA") && !v6:
		return invalid("The service has an AAAA record: %s is required.", attrIPv6)
	case svc.HasRecord("SRV") && !port:
		return invalid("The service has an SRV record: %s is required.", attrPort)
	case svc.HasRecord("SRV") && !v4 && !v6:
		return invalid("The service has an SRV record: %s or %s is required.", attrIPv4, attrIPv6)
	case svc.HasRecord("CNAME") && !cname:
		return invalid("The service has a CNAME record: %s is required.", attrCNAME)
	case svc.HealthCheckConfig != nil && !port:
		return invalid("The service has a HealthCheckConfig: %s is required.", attrPort)
	}
	return nil
}

// RegisterInstance submits an instance's registration (or, for an
// InstanceId already registered, its update).
func (a *API) RegisterInstance(ctx context.Context, in *RegisterInstanceInput) (*OperationOutput, error) {
	if err := requireID("ServiceId", in.ServiceID); err != nil {
		return nil, err
	}
	if err := checkInstanceID(in.InstanceID); err != nil {
		return nil, err
	}
	if in.Attributes == nil {
		return nil, invalid("Attributes is required.")
	}
	if err := checkRequestID(in.CreatorRequestID); err != nil {
		return nil, err
	}
	svc, err := a.service(ctx, "ServiceId", in.ServiceID)
	if err != nil {
		return nil, err
	}
	if err := checkAttributes(svc, in.Attributes); err != nil {
		return nil, err
	}
	inst := state.SDInstance{ServiceID: svc.ID, ID: in.InstanceID, Attributes: in.Attributes, CreatorRequestID: in.CreatorRequestID}
	cur, err := a.State.GetSDInstance(ctx, svc.ID, in.InstanceID)
	switch {
	case errors.Is(err, state.ErrNotFound):
		n, err := a.State.CountSDInstances(ctx, svc.ID)
		if err != nil {
			return nil, err
		}
		if n >= state.MaxSDInstancesPerService {
			return nil, errorf(codeResourceLimitExceeded, "Service %s has the most instances a service may have (%d).", svc.ID, state.MaxSDInstancesPerService)
		}
	case err != nil:
		return nil, err
	}
	if svc.HealthCheckCustom != nil {
		switch {
		case in.Attributes[attrInitHealth] != "":
			inst.CustomHealth = in.Attributes[attrInitHealth]
		case cur != nil && cur.CustomHealth != "":
			inst.CustomHealth = cur.CustomHealth
		default:
			inst.CustomHealth = "HEALTHY"
		}
	}
	op := a.newOperation(state.SDOpRegisterInstance, map[string]string{"SERVICE": svc.ID, "INSTANCE": in.InstanceID})
	op.Instance = &inst
	if err := a.State.SubmitSDOperation(ctx, op); err != nil {
		return nil, err
	}
	return &OperationOutput{OperationID: op.ID}, nil
}

// InstanceRef is the request of the operations on one instance.
type InstanceRef struct {
	ServiceID  string `json:"ServiceId"`
	InstanceID string `json:"InstanceId"`
}

// instance reads an instance; ServiceNotFound or InstanceNotFound.
func (a *API) instance(ctx context.Context, in *InstanceRef) (*state.SDService, *state.SDInstance, error) {
	if err := requireID("InstanceId", in.InstanceID); err != nil {
		return nil, nil, err
	}
	svc, err := a.service(ctx, "ServiceId", in.ServiceID)
	if err != nil {
		return nil, nil, err
	}
	inst, err := a.State.GetSDInstance(ctx, svc.ID, in.InstanceID)
	if errors.Is(err, state.ErrNotFound) {
		return nil, nil, errInstanceNotFound(in.InstanceID)
	}
	return svc, inst, err
}

// DeregisterInstance submits an instance's deregistration.
func (a *API) DeregisterInstance(ctx context.Context, in *InstanceRef) (*OperationOutput, error) {
	svc, inst, err := a.instance(ctx, in)
	if err != nil {
		return nil, err
	}
	op := a.newOperation(state.SDOpDeregisterInstance, map[string]string{"SERVICE": svc.ID, "INSTANCE": inst.ID})
	if err := a.State.SubmitSDOperation(ctx, op); err != nil {
		return nil, err
	}
	return &OperationOutput{OperationID: op.ID}, nil
}

// Instance is an instance as GetInstance and ListInstances tell of it.
type Instance struct {
	ID               string            `json:"Id"`
	Attributes       map[string]string `json:"Attributes"`
	CreatorRequestID string            `json:"CreatorRequestId,omitempty"`
	CreatedByAccount string            `json:"CreatedByAccount,omitempty"`
}

// GetInstanceOutput is GetInstance's answer.
type GetInstanceOutput struct {
	Instance      Instance `json:"Instance"`
	ResourceOwner string   `json:"ResourceOwner,omitempty"`
}

// GetInstance describes an instance.
func (a *API) GetInstance(ctx context.Context, in *InstanceRef) (*GetInstanceOutput, error) {
	_, inst, err := a.instance(ctx, in)
	if err != nil {
		return nil, err
	}
	acct := a.State.Scope.Account
	return &GetInstanceOutput{Instance: Instance{ID: inst.ID, Attributes: inst.Attributes, CreatorRequestID: inst.CreatorRequestID,
		CreatedByAccount: acct}, ResourceOwner: acct}, nil
}

// ListInstancesInput is ListInstances' request.
type ListInstancesInput struct {
	ServiceID  string `json:"ServiceId"`
	MaxResults *int   `json:"MaxResults"`
	NextToken  string `json:"NextToken"`
}

// ListInstancesOutput is one page of ListInstances.
type ListInstancesOutput struct {
	Instances     []Instance `json:"Instances"`
	NextToken     string     `json:"NextToken,omitempty"`
	ResourceOwner string     `json:"ResourceOwner,omitempty"`
}

// ListInstances lists a service's instances, by id.
func (a *API) ListInstances(ctx context.Context, in *ListInstancesInput) (*ListInstancesOutput, error) {
	size, err := pageSize(in.MaxResults, 100, 100)
	if err != nil {
		return nil, err
	}
	svc, err := a.service(ctx, "ServiceId", in.ServiceID)
	if err != nil {
		return nil, err
	}
	all, err := a.State.ListSDInstances(ctx, svc.ID)
	if err != nil {
		return nil, err
	}
	got, next, err := page(all, func(i state.SDInstance) string { return i.ID }, in.NextToken, size)
	if err != nil {
		return nil, err
	}
	acct := a.State.Scope.Account
	out := &ListInstancesOutput{Instances: []Instance{}, NextToken: next, ResourceOwner: acct}
	for _, inst := range got {
		out.Instances = append(out.Instances, Instance{ID: inst.ID, Attributes: inst.Attributes, CreatedByAccount: acct})
	}
	return out, nil
}

// DiscoverInstancesInput is DiscoverInstances' request.
type DiscoverInstancesInput struct {
	NamespaceName      string            `json:"NamespaceName"`
	ServiceName        string            `json:"ServiceName"`
	MaxResults         *int              `json:"MaxResults"`
	QueryParameters    map[string]string `json:"QueryParameters"`
	OptionalParameters map[string]string `json:"OptionalParameters"`
	HealthStatus       string            `json:"HealthStatus"`
	OwnerAccount       string            `json:"OwnerAccount"`
}

// HttpInstanceSummary is an instance as DiscoverInstances finds it.
type HttpInstanceSummary struct {
	InstanceID    string            `json:"InstanceId"`
	NamespaceName string            `json:"NamespaceName"`
	ServiceName   string            `json:"ServiceName"`
	HealthStatus  string            `json:"HealthStatus"`
	Attributes    map[string]string `json:"Attributes"`
}

// DiscoverInstancesOutput is DiscoverInstances' answer.
type DiscoverInstancesOutput struct {
	Instances         []HttpInstanceSummary `json:"Instances"`
	InstancesRevision int64                 `json:"InstancesRevision"`
}

// discoverTarget finds a service by its namespace's HTTP name and its name.
func (a *API) discoverTarget(ctx context.Context, nsName, svcName string) (*state.SDNamespace, *state.SDService, error) {
	if nsName == "" {
		return nil, nil, invalid("NamespaceName is required.")
	}
	if svcName == "" {
		return nil, nil, invalid("ServiceName is required.")
	}
	all, err := a.State.ListSDNamespaces(ctx)
	if err != nil {
		return nil, nil, err
	}
	i := slices.IndexFunc(all, func(n state.SDNamespace) bool { return state.SDNameKey(n.HTTPName) == state.SDNameKey(nsName) })
	if i < 0 {
		return nil, nil, errNamespaceNotFound(nsName)
	}
	ns := &all[i]
	services, err := a.State.ListSDServices(ctx)
	if err != nil {
		return nil, nil, err
	}
	j := slices.IndexFunc(services, func(s state.SDService) bool {
		return s.NamespaceID == ns.ID && state.SDNameKey(s.Name) == state.SDNameKey(svcName)
	})
	if j < 0 {
		return nil, nil, errServiceNotFound(svcName)
	}
	return ns, &services[j], nil
}

func hasAll(attrs, want map[string]string) bool {
	for k, v := range want {
		if got, ok := attrs[k]; !ok || got != v {
			return false
		}
	}
	return true
}

// DiscoverInstances finds a service's instances by attributes and health.
// Instances of a service without a health check of its own (or with a
// Route 53 one, which Flotta does not run) count as healthy.
func (a *API) DiscoverInstances(ctx context.Context, in *DiscoverInstancesInput) (*DiscoverInstancesOutput, error) {
	size, err := pageSize(in.MaxResults, 100, 1000)
	if err != nil {
		return nil, err
	}
	switch in.HealthStatus {
	case "":
		in.HealthStatus = "HEALTHY"
	case "HEALTHY", "UNHEALTHY", "ALL", "HEALTHY_OR_ELSE_ALL":
	default:
		return nil, invalid("HealthStatus %q is not HEALTHY, UNHEALTHY, ALL or HEALTHY_OR_ELSE_ALL.", in.HealthStatus)
	}
	for _, m := range []map[string]string{in.QueryParameters, in.OptionalParameters} {
		for k, v := range m {
			if len(k) > maxAttrKeyLen || len(v) > maxAttrValueLen {
				return nil, invalid("Query parameter %q is too long.", k)
			}
		}
	}
	ns, svc, err := a.discoverTarget(ctx, in.NamespaceName, in.ServiceName)
	if err != nil {
		return nil, err
	}
	rev, err := a.State.SDInstancesRevision(ctx, svc.ID)
	if err != nil {
		return nil, err
	}
	all, err := a.State.ListSDInstances(ctx, svc.ID)
	if err != nil {
		return nil, err
	}
	var matched []state.SDInstance
	for _, inst := range all {
		if hasAll(inst.Attributes, in.QueryParameters) {
			matched = append(matched, inst)
		}
	}
	if len(in.OptionalParameters) > 0 {
		var opt []state.SDInstance
		for _, inst := range matched {
			if hasAll(inst.Attributes, in.OptionalParameters) {
				opt = append(opt, inst)
			}
		}
		if len(opt) > 0 {
			matched = opt
		}
	}
	if svc.HealthCheckCustom != nil && in.HealthStatus != "ALL" {
		var healthy, unhealthy []state.SDInstance
		for _, inst := range matched {
			if healthOf(svc, &inst) == "UNHEALTHY" {
				unhealthy = append(unhealthy, inst)
			} else {
				healthy = append(healthy, inst)
			}
		}
		switch {
		case in.HealthStatus == "HEALTHY":
			matched = healthy
		case in.HealthStatus == "UNHEALTHY":
			matched = unhealthy
		case len(healthy) > 0: // HEALTHY_OR_ELSE_ALL
			matched = healthy
		}
	}
	out := &DiscoverInstancesOutput{Instances: []HttpInstanceSummary{}, InstancesRevision: rev}
	for i := range matched {
		if i == size {
			break
		}
		inst := &matched[i]
		out.Instances = append(out.Instances, HttpInstanceSummary{InstanceID: inst.ID, NamespaceName: ns.HTTPName, ServiceName: svc.Name,
			HealthStatus: healthOf(svc, inst), Attributes: maps.Clone(inst.Attributes)})
	}
	return out, nil
}

// DiscoverInstancesRevisionInput is DiscoverInstancesRevision's request.
type DiscoverInstancesRevisionInput struct {
	NamespaceName string `json:"NamespaceName"`
	ServiceName   string `json:"ServiceName"`
	OwnerAccount  string `json:"OwnerAccount"`
}

// DiscoverInstancesRevisionOutput is DiscoverInstancesRevision's answer.
type DiscoverInstancesRevisionOutput struct {
	InstancesRevision int64 `json:"InstancesRevision"`
}

// DiscoverInstancesRevision tells a number that changes whenever the
// service's instances (or their health) change.
func (a *API) DiscoverInstancesRevision(ctx context.Context, in *DiscoverInstancesRevisionInput) (*DiscoverInstancesRevisionOutput, error) {
	_, svc, err := a.discoverTarget(ctx, in.NamespaceName, in.ServiceName)
	if err != nil {
		return nil, err
	}
	rev, err := a.State.SDInstancesRevision(ctx, svc.ID)
	if err != nil {
		return nil, err
	}
	return &DiscoverInstancesRevisionOutput{InstancesRevision: rev}, nil
}

// GetInstancesHealthStatusInput is GetInstancesHealthStatus' request.
type GetInstancesHealthStatusInput struct {
	ServiceID  string   `json:"ServiceId"`
	Instances  []string `json:"Instances"`
	MaxResults *int     `json:"MaxResults"`
	NextToken  string   `json:"NextToken"`
}

// GetInstancesHealthStatusOutput is GetInstancesHealthStatus' answer.
type GetInstancesHealthStatusOutput struct {
	Status    map[string]string `json:"Status"`
	NextToken string            `json:"NextToken,omitempty"`
}

// GetInstancesHealthStatus tells the health of a service's instances (of
// those named, or of all).
func (a *API) GetInstancesHealthStatus(ctx context.Context, in *GetInstancesHealthStatusInput) (*GetInstancesHealthStatusOutput, error) {
	size, err := pageSize(in.MaxResults, 100, 100)
	if err != nil {
		return nil, err
	}
	if len(in.Instances) > 100 {
		return nil, invalid("Instances can name at most 100 instances.")
	}
	svc, err := a.service(ctx, "ServiceId", in.ServiceID)
	if err != nil {
		return nil, err
	}
	all, err := a.State.ListSDInstances(ctx, svc.ID)
	if err != nil {
		return nil, err
	}
	if len(in.Instances) > 0 {
		var named []state.SDInstance
		for _, id := range in.Instances {
			i := slices.IndexFunc(all, func(inst state.SDInstance) bool { return inst.ID == id })
			if i < 0 {
				return nil, errInstanceNotFound(id)
			}
			named = append(named, all[i])
		}
		slices.SortFunc(named, func(x, y state.SDInstance) int {
			if x.ID < y.ID {
				return -1
			}
			if x.ID > y.ID {
				return 1
			}
			return 0
		})
		all = slices.CompactFunc(named, func(x, y state.SDInstance) bool { return x.ID == y.ID })
	}
	got, next, err := page(all, func(i state.SDInstance) string { return i.ID }, in.NextToken, size)
	if err != nil {
		return nil, err
	}
	out := &GetInstancesHealthStatusOutput{Status: map[string]string{}, NextToken: next}
	for i := range got {
		out.Status[got[i].ID] = healthOf(svc, &got[i])
	}
	return out, nil
}

// UpdateInstanceCustomHealthStatusInput is UpdateInstanceCustomHealthStatus' request.
type UpdateInstanceCustomHealthStatusInput struct {
	ServiceID  string `json:"ServiceId"`
	InstanceID string `json:"InstanceId"`
	Status     string `json:"Status"`
}

// UpdateInstanceCustomHealthStatus sets an instance's health, for a
// service with a HealthCheckCustomConfig.
func (a *API) UpdateInstanceCustomHealthStatus(ctx context.Context, in *UpdateInstanceCustomHealthStatusInput) (*Empty, error) {
	if in.Status != "HEALTHY" && in.Status != "UNHEALTHY" {
		return nil, invalid("Status must be HEALTHY or UNHEALTHY; got %q.", in.Status)
	}
	svc, inst, err := a.instance(ctx, &InstanceRef{ServiceID: in.ServiceID, InstanceID: in.InstanceID})
	if err != nil {
		return nil, err
	}
	if svc.HealthCheckCustom == nil {
		return nil, errorf(codeCustomHealthNotFound, "Service %s has no HealthCheckCustomConfig: its instances' health cannot be set.", svc.ID)
	}
	if inst.CustomHealth == in.Status {
		return &Empty{}, nil
	}
	_, err = a.State.UpdateSDInstance(ctx, svc.ID, inst.ID, func(cur *state.SDInstance) error {
		cur.CustomHealth = in.Status
		return nil
	})
	if errors.Is(err, state.ErrNotFound) {
		return nil, errInstanceNotFound(in.InstanceID)
	}
	if err != nil {
		return nil, err
	}
	return &Empty{}, nil
}
