package servicediscovery

import (
	"context"
	"maps"

	"github.com/flotta-dev/flotta/internal/state"
)

// maxServiceAttributes is how many attributes a service may have (the
// key and value lengths are those of instance attributes, shapes.go).
const maxServiceAttributes = 30

// ServiceAttributesInput names a service (by id or ARN), for
// GetServiceAttributes.
type ServiceAttributesInput struct {
	ServiceID string `json:"ServiceId"`
}

// ServiceAttributes is a service's attributes as Cloud Map shows them.
type ServiceAttributes struct {
	ServiceArn    string            `json:"ServiceArn"`
	ResourceOwner string            `json:"ResourceOwner"`
	Attributes    map[string]string `json:"Attributes"`
}

// ServiceAttributesOutput is GetServiceAttributes' answer.
type ServiceAttributesOutput struct {
	ServiceAttributes ServiceAttributes `json:"ServiceAttributes"`
}

// GetServiceAttributes answers a service's own attributes.
func (a *API) GetServiceAttributes(ctx context.Context, in *ServiceAttributesInput) (*ServiceAttributesOutput, error) {
	svc, err := a.service(ctx, "ServiceId", in.ServiceID)
	if err != nil {
		return nil, err
	}
	attrs := svc.Attributes
	if attrs == nil {
		attrs = map[string]string{}
	}
	return &ServiceAttributesOutput{ServiceAttributes: ServiceAttributes{ServiceArn: svc.Arn, ResourceOwner: a.State.Scope.Account, Attributes: attrs}}, nil
}

// UpdateServiceAttributesInput adds or replaces attributes of a service.
type UpdateServiceAttributesInput struct {
	ServiceID  string            `json:"ServiceId"`
	Attributes map[string]string `json:"Attributes"`
}

// UpdateServiceAttributes adds or replaces a service's attributes: at most
// 30 in all (ServiceAttributesLimitExceededException past that).
func (a *API) UpdateServiceAttributes(ctx context.Context, in *UpdateServiceAttributesInput) (*struct{}, error) {
	if len(in.Attributes) == 0 || len(in.Attributes) > maxServiceAttributes {
		return nil, invalid("Attributes must hold between 1 and %d attributes.", maxServiceAttributes)
	}
	for k, v := range in.Attributes {
		if k == "" || len(k) > maxAttrKeyLen {
			return nil, invalid("An attribute key must be 1 to %d characters long.", maxAttrKeyLen)
		}
		if len(v) > maxAttrValueLen {
			return nil, invalid("The value of attribute %s is longer than %d characters.", k, maxAttrValueLen)
		}
	}
	svc, err := a.service(ctx, "ServiceId", in.ServiceID)
	if err != nil {
		return nil, err
	}
	_, err = a.State.UpdateSDService(ctx, svc.ID, func(s *state.SDService) error {
		next := maps.Clone(s.Attributes)
		if next == nil {
			next = map[string]string{}
		}
		maps.Copy(next, in.Attributes)
		if len(next) > maxServiceAttributes {
			return errorf(codeServiceAttrsLimit, "The service %s would have %d attributes; a service can have at most %d.", svc.ID, len(next), maxServiceAttributes)
		}
		s.Attributes = next
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &struct{}{}, nil
}

// DeleteServiceAttributesInput removes attributes of a service by key.
type DeleteServiceAttributesInput struct {
	ServiceID  string   `json:"ServiceId"`
	Attributes []string `json:"Attributes"`
}

// DeleteServiceAttributes removes the named attributes of a service (keys
// it does not have are no error).
func (a *API) DeleteServiceAttributes(ctx context.Context, in *DeleteServiceAttributesInput) (*struct{}, error) {
	if len(in.Attributes) == 0 || len(in.Attributes) > maxServiceAttributes {
		return nil, invalid("Attributes must name between 1 and %d attribute keys.", maxServiceAttributes)
	}
	svc, err := a.service(ctx, "ServiceId", in.ServiceID)
	if err != nil {
		return nil, err
	}
	_, err = a.State.UpdateSDService(ctx, svc.ID, func(s *state.SDService) error {
		next := maps.Clone(s.Attributes)
		for _, k := range in.Attributes {
			delete(next, k)
		}
		if len(next) == 0 {
			next = nil
		}
		s.Attributes = next
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &struct{}{}, nil
}
