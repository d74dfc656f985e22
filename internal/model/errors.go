package model

import (
	"fmt"
	"net/http"
)

// ECS exception names, as they appear in the `__type` of an error body.
const (
	CodeClient                       = "ClientException"
	CodeInvalidParameter             = "InvalidParameterException"
	CodeClusterNotFound              = "ClusterNotFoundException"
	CodeClusterContainsServices      = "ClusterContainsServicesException"
	CodeClusterContainsInstances     = "ClusterContainsContainerInstancesException"
	CodeClusterContainsTasks         = "ClusterContainsTasksException"
	CodeResourceNotFound             = "ResourceNotFoundException"
	CodeResourceInUse                = "ResourceInUseException"
	CodeLimitExceeded                = "LimitExceededException"
	CodeConflict                     = "ConflictException"
	CodeAccessDenied                 = "AccessDeniedException"
	CodeServer                       = "ServerException"
	CodeUnsupportedFeature           = "UnsupportedFeatureException"
	CodeServiceNotFound              = "ServiceNotFoundException"
	CodeServiceNotActive             = "ServiceNotActiveException"
	CodePlatformUnknown              = "PlatformUnknownException"
	CodeTargetNotFound               = "TargetNotFoundException"
	CodeAttributeLimitExceeded       = "AttributeLimitExceededException"
	CodeNoUpdateAvailable            = "NoUpdateAvailableException"
	CodeUpdateInProgress             = "UpdateInProgressException"
	CodeServiceDeploymentNotFound    = "ServiceDeploymentNotFoundException"
	CodeTaskSetNotFound              = "TaskSetNotFoundException"
	CodeTargetNotConnected           = "TargetNotConnectedException"
	CodePlatformTaskDefIncompatibity = "PlatformTaskDefinitionIncompatibilityException"
)

// Error is a refusal in ECS's words. It carries the exception name that the
// SDK turns into a typed error, and a message for a human.
type Error struct {
	Code    string
	Message string
}

// Errorf builds an Error with a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// ErrorCode is the exception name.
func (e *Error) ErrorCode() string { return e.Code }

// ErrorMessage is the human-readable text.
func (e *Error) ErrorMessage() string { return e.Message }

// HTTPStatus is 500 for ServerException and 400 for every client error.
func (e *Error) HTTPStatus() int {
	if e.Code == CodeServer {
		return http.StatusInternalServerError
	}
	return http.StatusBadRequest
}

// Client returns a ClientException, ECS's answer to most invalid content.
func Client(format string, args ...any) *Error { return Errorf(CodeClient, format, args...) }

// InvalidParameter returns an InvalidParameterException, ECS's answer to a bad
// request parameter (an enum value, a range, a malformed identifier).
func InvalidParameter(format string, args ...any) *Error {
	return Errorf(CodeInvalidParameter, format, args...)
}

// ErrClusterNotFound is what ECS answers for an unknown cluster.
func ErrClusterNotFound() *Error { return Errorf(CodeClusterNotFound, "Cluster not found.") }

// ErrServiceNotFound is what ECS answers for an unknown service.
func ErrServiceNotFound() *Error { return Errorf(CodeServiceNotFound, "Service not found.") }

// ErrTaskDefinitionNotFound is what ECS answers for a task definition it
// cannot find.
func ErrTaskDefinitionNotFound() *Error { return Client("Unable to describe task definition.") }
