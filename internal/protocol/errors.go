package protocol

import (
	"context"
	"errors"
	"log/slog"
	"net/http"

	"github.com/flotta-dev/flotta/internal/model"
)

// APIError is an error that knows its AWS shape (model.Error is the one
// Flotta uses). Handlers return these for every refusal a client should see;
// anything else becomes an internal error.
type APIError interface {
	error
	ErrorCode() string
	HTTPStatus() int
	ErrorMessage() string
}

// PublicError is a server fault whose cause a client may be told (the disk
// is full, say), answered as the service's internal error with that message.
type PublicError interface {
	error
	PublicMessage() string
}

// AsAPIError is err as the client is to see it: err itself when it is an
// APIError; otherwise a 500 with the service's internalCode
// ("InternalFailure" when empty), saying what a PublicError may say and
// else only where the log has the details. The fault is logged once here:
// as an error, unless the client went away or it is a known condition.
func AsAPIError(logger *slog.Logger, service, op, reqID, internalCode string, err error) APIError {
	var apiErr APIError
	if errors.As(err, &apiErr) {
		return apiErr
	}
	if internalCode == "" {
		internalCode = "InternalFailure"
	}
	msg := "The server could not complete the request; its log has the details under request id " + reqID + "."
	var pub PublicError
	switch {
	case errors.As(err, &pub):
		// A known condition, logged once where it arises.
		msg = pub.PublicMessage()
		logger.Debug("request refused", "service", service, "operation", op, "request_id", reqID, "err", err)
	case errors.Is(err, context.Canceled):
		// The client went away (or the server is stopping): nothing failed.
		logger.Debug("request abandoned", "service", service, "operation", op, "request_id", reqID, "err", err)
	default:
		logger.Error("request failed", "service", service, "operation", op, "request_id", reqID, "err", err)
	}
	return &model.Error{Code: internalCode, Status: http.StatusInternalServerError, Message: msg}
}
