package sigv4

import (
	"net/http"

	"github.com/flotta-dev/flotta/internal/model"
)

// MessageSignatureMismatch is what AWS says when the recomputed signature differs.
const MessageSignatureMismatch = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."

// MessageInvalidToken is what AWS says for an unknown key or a bad session token.
const MessageInvalidToken = "The security token included in the request is invalid."

// Refusals are *model.Error values in AWS's words. AWS JSON services answer
// signature and key failures with 400 (ECS's own "UnrecognizedClientException
// ... status code: 400" is on public record); only a request with no
// credentials at all gets 403.

func incomplete(msg string) *model.Error {
	return &model.Error{Code: "IncompleteSignatureException", Status: http.StatusBadRequest, Message: msg}
}

func invalidSignature(msg string) *model.Error {
	return &model.Error{Code: "InvalidSignatureException", Status: http.StatusBadRequest, Message: msg}
}

func unrecognizedClient() *model.Error {
	return &model.Error{Code: "UnrecognizedClientException", Status: http.StatusBadRequest, Message: MessageInvalidToken}
}

func missingToken() *model.Error {
	return &model.Error{Code: "MissingAuthenticationTokenException", Status: http.StatusForbidden, Message: "Missing Authentication Token"}
}

func expiredToken() *model.Error {
	return &model.Error{Code: "ExpiredTokenException", Status: http.StatusBadRequest, Message: "The security token included in the request is expired"}
}

// mustSign refuses a signature that leaves out a header it must cover, in
// the words AWS uses for the Host header.
func mustSign(name string) *model.Error {
	return incomplete("'" + name + "' must be a 'SignedHeader' in the AWS Authorization.")
}
