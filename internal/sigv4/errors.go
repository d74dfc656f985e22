package sigv4

import "net/http"

// Error is a refusal in AWS's words: the error code a client's SDK maps to an
// exception type, the HTTP status, and a message for a human.
type Error struct {
	Code    string
	Status  int
	Message string
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// ErrorCode returns the AWS error code, for the protocol layer.
func (e *Error) ErrorCode() string { return e.Code }

// HTTPStatus returns the HTTP status to answer with.
func (e *Error) HTTPStatus() int { return e.Status }

// ErrorMessage returns the human-readable message.
func (e *Error) ErrorMessage() string { return e.Message }

// MessageSignatureMismatch is what AWS says when the recomputed signature differs.
const MessageSignatureMismatch = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."

// MessageInvalidToken is what AWS says for an unknown key or a bad session token.
const MessageInvalidToken = "The security token included in the request is invalid."

func incomplete(msg string) *Error {
	return &Error{Code: "IncompleteSignatureException", Status: http.StatusBadRequest, Message: msg}
}

// AWS JSON services answer signature and key failures with 400 (ECS's own
// "UnrecognizedClientException ... status code: 400" is on public record);
// only a request with no credentials at all gets 403.

func invalidSignature(msg string) *Error {
	return &Error{Code: "InvalidSignatureException", Status: http.StatusBadRequest, Message: msg}
}

func unrecognizedClient() *Error {
	return &Error{Code: "UnrecognizedClientException", Status: http.StatusBadRequest, Message: MessageInvalidToken}
}

func missingToken() *Error {
	return &Error{Code: "MissingAuthenticationTokenException", Status: http.StatusForbidden, Message: "Missing Authentication Token"}
}

func expiredToken() *Error {
	return &Error{Code: "ExpiredTokenException", Status: http.StatusBadRequest, Message: "The security token included in the request is expired"}
}

// mustSign refuses a signature that leaves out a header it must cover, in
// the words AWS uses for the Host header.
func mustSign(name string) *Error {
	return incomplete("'" + name + "' must be a 'SignedHeader' in the AWS Authorization.")
}
