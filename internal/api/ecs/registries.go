package ecs

import (
	"context"
	"errors"
	"slices"

	"github.com/flotta-dev/flotta/internal/model"
	"github.com/flotta-dev/flotta/internal/state"
)

// maxServiceRegistries is how many service registries a service may have:
// ECS takes one ("Each service may be associated with one service registry").
const maxServiceRegistries = 1

// checkServiceRegistries checks a service's serviceRegistries against the
// Cloud Map services they name and the task definition that will run, as
// ECS checks them: an SRV record needs a port (from a container's port
// mapping, or port in awsvpc mode), anything else must not be given one,
// and bridge or host tasks (which share their host's address) can only be
// found through SRV records.
func (a *API) checkServiceRegistries(ctx context.Context, regs []model.ServiceRegistry, td *model.TaskDefinition) error {
	if len(regs) == 0 {
		return nil
	}
	if len(regs) > maxServiceRegistries {
		return model.InvalidParameter("A service can be associated with only one service registry; got %d.", len(regs))
	}
	mode := td.NetworkMode
	if mode == "" {
		mode = "bridge"
	}
	for _, r := range regs {
		if r.RegistryArn == "" {
			return model.InvalidParameter("registryArn can not be blank.")
		}
		id, ok := r.CloudMapServiceID()
		if !ok {
			return model.InvalidParameter("The service registry %s is not a valid Cloud Map service ARN (arn:aws:servicediscovery:REGION:ACCOUNT:service/srv-ID).", model.Truncate(r.RegistryArn, 300))
		}
		svc, err := a.State.GetSDService(ctx, id)
		if errors.Is(err, state.ErrNotFound) || (err == nil && (svc == nil || svc.Arn != r.RegistryArn)) {
			return model.InvalidParameter("The service registry %s does not exist.", r.RegistryArn)
		}
		if err != nil {
			return err
		}
		srv := slices.ContainsFunc(svc.DnsRecords, func(d state.SDDnsRecord) bool { return d.Type == "SRV" })
		if r.Port != nil && (*r.Port < 1 || *r.Port > 65535) {
			return model.InvalidParameter("The port of a service registry must be between 1 and 65535; got %d.", *r.Port)
		}
		if (r.ContainerName == "") != (r.ContainerPort == nil) {
			return model.InvalidParameter("values for 'containerName' and 'containerPort' must be specified together. Registry: %s", r.RegistryArn)
		}
		if r.ContainerName != "" {
			c := containerDef(td, r.ContainerName)
			if c == nil {
				return model.InvalidParameter("The container %s does not exist in the task definition. Registry: %s", model.Truncate(r.ContainerName, 300), r.RegistryArn)
			}
			if r.ContainerPort != nil && !slices.ContainsFunc(c.PortMappings, func(pm model.PortMapping) bool {
				return pm.ContainerPort != nil && *pm.ContainerPort == *r.ContainerPort
			}) {
				return model.InvalidParameter("The container %s did not have a container port %d defined. Registry: %s", c.Name, *r.ContainerPort, r.RegistryArn)
			}
		}
		switch {
		case mode != "awsvpc" && !srv:
			return model.InvalidParameter("When specifying 'host' or 'bridge' for networkMode, the service registry must have an SRV record: tasks share their host's address, so only SRV records can say where each one listens. Registry: %s", r.RegistryArn)
		case mode != "awsvpc" && (r.ContainerName == "" || r.ContainerPort == nil):
			return model.InvalidParameter("When specifying 'host' or 'bridge' for networkMode, values for 'containerName' and 'containerPort' must be specified from the task definition. Registry: %s", r.RegistryArn)
		case mode != "awsvpc" && r.Port != nil:
			return model.InvalidParameter("When specifying 'host' or 'bridge' for networkMode, a value for 'port' can not be specified; name 'containerName' and 'containerPort' instead. Registry: %s", r.RegistryArn)
		case srv && r.Port == nil && r.ContainerPort == nil:
			return model.InvalidParameter("The service registry has an SRV record: specify either 'containerName' and 'containerPort', or 'port'. Registry: %s", r.RegistryArn)
		case srv && r.Port != nil && r.ContainerPort != nil:
			return model.InvalidParameter("The values specified for serviceRegistries can not include both 'port' and 'containerPort'. Remove one and retry. Registry: %s", r.RegistryArn)
		case !srv && r.ContainerPort != nil:
			return model.InvalidParameter("The values specified for serviceRegistries do not require a value for 'containerPort'. Remove the value and retry. Registry: %s", r.RegistryArn)
		case !srv && r.Port != nil:
			return model.InvalidParameter("A port was provided but is not required by the specified service registry. Registry: %s", r.RegistryArn)
		}
	}
	return nil
}

type listServicesByNamespaceInput struct {
	Namespace  string `json:"namespace"`
	NextToken  string `json:"nextToken"`
	MaxResults *int   `json:"maxResults"`
}

type listServicesByNamespaceOutput struct {
	ServiceArns []string `json:"serviceArns"`
	NextToken   string   `json:"nextToken,omitempty"`
}

// ListServicesByNamespace lists the services, of every cluster, whose
// service registries are Cloud Map services of a namespace (named by name
// or ARN).
func (a *API) ListServicesByNamespace(ctx context.Context, in *listServicesByNamespaceInput) (*listServicesByNamespaceOutput, error) {
	if in.Namespace == "" {
		return nil, model.InvalidParameter("namespace can not be blank.")
	}
	limit, err := state.PageSize(in.MaxResults, 10, 100)
	if err != nil {
		return nil, err
	}
	namespaces, err := a.State.ListSDNamespaces(ctx)
	if err != nil {
		return nil, err
	}
	nsID := ""
	for _, ns := range namespaces {
		if ns.Arn == in.Namespace || state.SDNameKey(ns.Name) == state.SDNameKey(in.Namespace) {
			nsID = ns.ID
			break
		}
	}
	if nsID == "" {
		return nil, model.Errorf("NamespaceNotFoundException", "The specified namespace wasn't found.")
	}
	services, err := a.State.ListSDServices(ctx)
	if err != nil {
		return nil, err
	}
	inNamespace := map[string]bool{}
	for _, s := range services {
		if s.NamespaceID == nsID {
			inNamespace[s.Arn] = true
		}
	}
	arns, next, err := a.State.ListAllServiceARNs(ctx, func(r *state.ServiceRecord) bool {
		return slices.ContainsFunc(r.Service.ServiceRegistries, func(reg model.ServiceRegistry) bool { return inNamespace[reg.RegistryArn] })
	}, in.NextToken, limit)
	if err != nil {
		return nil, err
	}
	if arns == nil {
		arns = []string{}
	}
	return &listServicesByNamespaceOutput{ServiceArns: arns, NextToken: next}, nil
}
