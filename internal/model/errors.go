package model

import (
	"errors"
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

// Error is a refusal in AWS's words: the exception name that the SDK turns
// into a typed error, the HTTP status, and a message for a human. It is the
// one error type of every API Flotta answers (ECS's, Flotta's own, the
// protocol layer's and SigV4's refusals), and what a Flotta client returns
// for an error answer.
type Error struct {
	Code    string
	Message string
	// Status is the HTTP status; 0 means 500 for ServerException and 400
	// for every other code.
	Status int
}

// Errorf builds an Error with a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// IsCode says whether err is, or wraps, an Error with this code.
func IsCode(err error, code string) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == code
}

// ErrorCode is the exception name.
func (e *Error) ErrorCode() string { return e.Code }

// ErrorMessage is the human-readable text.
func (e *Error) ErrorMessage() string { return e.Message }

// HTTPStatus is the status set, or else 500 for ServerException and 400
// for every client error.
func (e *Error) HTTPStatus() int {
	switch {
	case e.Status != 0:
		return e.Status
	case e.Code == CodeServer:
		return http.StatusInternalServerError
	}
	return http.StatusBadRequest
}

// Truncate shortens what a client sent to n bytes for an error message.
func Truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
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
