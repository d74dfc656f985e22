// Package servicediscovery implements the AWS Cloud Map API (service
// "servicediscovery", JSON 1.1, X-Amz-Target Route53AutoNaming_v20170314)
// over Flotta's store.
//
// It owns the meaning of Cloud Map's resources: ids and ARNs, validation in
// Cloud Map's words and error codes, what a service's DNS configuration
// asks of an instance's attributes, health filters and DiscoverInstances.
// Creating and deleting namespaces, updating namespaces and services and
// registering and deregistering instances are asynchronous, as in AWS: the
// operation is written SUBMITTED and the completer (package controller)
// carries it out.
package servicediscovery

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/flotta-dev/flotta/internal/model"
	"github.com/flotta-dev/flotta/internal/protocol/awsjson"
	"github.com/flotta-dev/flotta/internal/state"
)

// TargetPrefix is the X-Amz-Target prefix of Cloud Map operations.
const TargetPrefix = "Route53AutoNaming_v20170314"

// Cloud Map's exception names (the SDK's types/errors.go).
const (
	codeCustomHealthNotFound   = "CustomHealthNotFound"
	codeDuplicateRequest       = "DuplicateRequest"
	codeInstanceNotFound       = "InstanceNotFound"
	codeInvalidInput           = "InvalidInput"
	codeNamespaceAlreadyExists = "NamespaceAlreadyExists"
	codeNamespaceNotFound      = "NamespaceNotFound"
	codeOperationNotFound      = "OperationNotFound"
	codeResourceInUse          = "ResourceInUse"
	codeResourceLimitExceeded  = "ResourceLimitExceeded"
	codeResourceNotFound       = "ResourceNotFoundException"
	codeServiceAlreadyExists   = "ServiceAlreadyExists"
	codeServiceAttrsLimit      = "ServiceAttributesLimitExceededException"
	codeServiceNotFound        = "ServiceNotFound"
	codeTooManyTags            = "TooManyTagsException"
	codeInternal               = "InternalFailure"
)

// API serves the Cloud Map operations of one account.
type API struct {
	State *state.State
	// Now tells the time; nil means the state's clock.
	Now func() time.Time
}

// Service returns the protocol binding of every operation this API answers.
func (a *API) Service() *awsjson.Service {
	return &awsjson.Service{
		TargetPrefix:      TargetPrefix,
		SigningName:       "servicediscovery",
		ActionPrefix:      "servicediscovery",
		InternalErrorCode: codeInternal,
		Resources:         a.resources,
		Ops: map[string]awsjson.HandlerFunc{
			"CreateHttpNamespace":              awsjson.Op(a.CreateHttpNamespace),
			"CreatePrivateDnsNamespace":        awsjson.Op(a.CreatePrivateDnsNamespace),
			"CreatePublicDnsNamespace":         awsjson.Op(a.CreatePublicDnsNamespace),
			"GetNamespace":                     awsjson.Op(a.GetNamespace),
			"ListNamespaces":                   awsjson.Op(a.ListNamespaces),
			"DeleteNamespace":                  awsjson.Op(a.DeleteNamespace),
			"UpdateHttpNamespace":              awsjson.Op(a.UpdateHttpNamespace),
			"UpdatePrivateDnsNamespace":        awsjson.Op(a.UpdatePrivateDnsNamespace),
			"UpdatePublicDnsNamespace":         awsjson.Op(a.UpdatePublicDnsNamespace),
			"GetOperation":                     awsjson.Op(a.GetOperation),
			"ListOperations":                   awsjson.Op(a.ListOperations),
			"CreateService":                    awsjson.Op(a.CreateService),
			"GetService":                       awsjson.Op(a.GetService),
			"UpdateService":                    awsjson.Op(a.UpdateService),
			"ListServices":                     awsjson.Op(a.ListServices),
			"DeleteService":                    awsjson.Op(a.DeleteService),
			"GetServiceAttributes":             awsjson.Op(a.GetServiceAttributes),
			"UpdateServiceAttributes":          awsjson.Op(a.UpdateServiceAttributes),
			"DeleteServiceAttributes":          awsjson.Op(a.DeleteServiceAttributes),
			"RegisterInstance":                 awsjson.Op(a.RegisterInstance),
			"DeregisterInstance":               awsjson.Op(a.DeregisterInstance),
			"GetInstance":                      awsjson.Op(a.GetInstance),
			"ListInstances":                    awsjson.Op(a.ListInstances),
			"DiscoverInstances":                awsjson.Op(a.DiscoverInstances),
			"DiscoverInstancesRevision":        awsjson.Op(a.DiscoverInstancesRevision),
			"GetInstancesHealthStatus":         awsjson.Op(a.GetInstancesHealthStatus),
			"UpdateInstanceCustomHealthStatus": awsjson.Op(a.UpdateInstanceCustomHealthStatus),
			"TagResource":                      awsjson.Op(a.TagResource),
			"UntagResource":                    awsjson.Op(a.UntagResource),
			"ListTagsForResource":              awsjson.Op(a.ListTagsForResource),
		},
	}
}

// resources names what an operation is authorized on, as the service
// authorization reference for Cloud Map names it: the namespace (creating
// a service, discovering, the namespace operations) or the service (the
// service and instance operations) when the request names one that exists,
// else "*"; and the condition keys servicediscovery:NamespaceArn,
// NamespaceName, ServiceArn and ServiceName where they apply.
func (a *API) resources(ctx context.Context, op string, body []byte) ([]string, map[string][]string) {
	star := []string{"*"}
	var in struct {
		NamespaceID   string `json:"NamespaceId"`
		ServiceID     string `json:"ServiceId"`
		ID            string `json:"Id"`
		ResourceARN   string `json:"ResourceARN"`
		NamespaceName string `json:"NamespaceName"`
		ServiceName   string `json:"ServiceName"`
	}
	if json.Unmarshal(body, &in) != nil {
		return star, nil
	}
	onNamespace := func(id string) ([]string, map[string][]string) {
		if id == "" {
			return star, nil
		}
		ns, err := a.namespace(ctx, id)
		if err != nil {
			return star, nil
		}
		return []string{ns.Arn}, map[string][]string{"servicediscovery:NamespaceArn": {ns.Arn}, "servicediscovery:NamespaceName": {ns.Name}}
	}
	onService := func(id string) ([]string, map[string][]string) {
		if id == "" {
			return star, nil
		}
		svc, err := a.service(ctx, "Id", id)
		if err != nil {
			return star, nil
		}
		return []string{svc.Arn}, map[string][]string{"servicediscovery:ServiceArn": {svc.Arn}, "servicediscovery:ServiceName": {svc.Name}}
	}
	switch op {
	case "GetNamespace", "DeleteNamespace", "UpdateHttpNamespace", "UpdatePrivateDnsNamespace", "UpdatePublicDnsNamespace":
		return onNamespace(in.ID)
	case "CreateService":
		return onNamespace(in.NamespaceID)
	case "GetService", "UpdateService", "DeleteService":
		return onService(in.ID)
	case "RegisterInstance", "DeregisterInstance", "GetInstance", "ListInstances", "GetInstancesHealthStatus", "UpdateInstanceCustomHealthStatus",
		"GetServiceAttributes", "UpdateServiceAttributes", "DeleteServiceAttributes":
		return onService(in.ServiceID)
	case "DiscoverInstances", "DiscoverInstancesRevision":
		ns, svc, err := a.discoverTarget(ctx, in.NamespaceName, in.ServiceName)
		if err != nil {
			return star, nil
		}
		return []string{ns.Arn}, map[string][]string{"servicediscovery:NamespaceArn": {ns.Arn}, "servicediscovery:NamespaceName": {ns.Name},
			"servicediscovery:ServiceArn": {svc.Arn}, "servicediscovery:ServiceName": {svc.Name}}
	case "TagResource", "UntagResource", "ListTagsForResource":
		rest, ok := strings.CutPrefix(in.ResourceARN, a.arn(""))
		switch kind, _, _ := strings.Cut(rest, "/"); {
		case ok && kind == "namespace":
			return onNamespace(in.ResourceARN)
		case ok && kind == "service":
			return onService(in.ResourceARN)
		}
	}
	return star, nil
}

func (a *API) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return a.State.Now()
}

// arn is arn:PARTITION:servicediscovery:REGION:ACCOUNT:RESOURCE.
func (a *API) arn(resource string) string {
	sc := a.State.Scope
	return model.ARN{Partition: sc.Partition, Service: "servicediscovery", Region: sc.Region, Account: sc.Account, Resource: resource}.String()
}

// sdError is a Cloud Map exception, with the members some of them carry.
type sdError struct {
	base   *model.Error
	fields map[string]string
}

func (e *sdError) Error() string        { return e.base.Error() }
func (e *sdError) ErrorCode() string    { return e.base.ErrorCode() }
func (e *sdError) ErrorMessage() string { return e.base.ErrorMessage() }
func (e *sdError) HTTPStatus() int      { return e.base.HTTPStatus() }

// ErrorFields are the exception's members besides its message.
func (e *sdError) ErrorFields() map[string]string { return e.fields }

// Unwrap lets errors.As find the model.Error inside.
func (e *sdError) Unwrap() error { return e.base }

func errorf(code, format string, args ...any) error {
	return model.Errorf(code, format, args...)
}

func invalid(format string, args ...any) error { return errorf(codeInvalidInput, format, args...) }

func withFields(err error, fields map[string]string) error {
	var me *model.Error
	if errors.As(err, &me) {
		return &sdError{base: me, fields: fields}
	}
	return err
}

func errNamespaceNotFound(id string) error {
	return errorf(codeNamespaceNotFound, "Namespace not found: %s", id)
}

func errServiceNotFound(id string) error {
	return errorf(codeServiceNotFound, "Service not found: %s", id)
}

func errInstanceNotFound(id string) error {
	return errorf(codeInstanceNotFound, "Instance not found: %s", id)
}

// randomID is n random characters of alphabet.
func randomID(alphabet string, n int) string {
	out := make([]byte, 0, n)
	var b [32]byte
	limit := byte(256 - 256%len(alphabet))
	for len(out) < n {
		rand.Read(b[:])
		for _, c := range b {
			if c < limit && len(out) < n {
				out = append(out, alphabet[int(c)%len(alphabet)])
			}
		}
	}
	return string(out)
}

const (
	lowerAlnum = "abcdefghijklmnopqrstuvwxyz0123456789"
	upperAlnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
)

// newNamespaceID is "ns-" and 16 lower-case letters and digits, as AWS's.
func newNamespaceID() string { return "ns-" + randomID(lowerAlnum, 16) }

// newServiceID is "srv-" and 16 lower-case letters and digits.
func newServiceID() string { return "srv-" + randomID(lowerAlnum, 16) }

// newOperationID looks like AWS's: 32 characters, a dash, 8 more.
func newOperationID() string { return randomID(lowerAlnum, 32) + "-" + randomID(lowerAlnum, 8) }

// newHostedZoneID looks like a Route 53 hosted zone id; no zone stands behind it.
func newHostedZoneID() string { return "Z" + randomID(upperAlnum, 20) }
