package policy

import (
	"fmt"
	"net/http"

	"github.com/flotta-dev/flotta/internal/model"
)

// CodeMalformedPolicyDocument is IAM's error code for a document that does
// not parse or breaks the grammar.
const CodeMalformedPolicyDocument = "MalformedPolicyDocument"

// CodeLimitExceeded is IAM's error code for a document over its size quota.
const CodeLimitExceeded = "LimitExceeded"

// IAM's messages for malformed documents, in its words.
const (
	msgSyntax          = "Syntax errors in policy."
	msgLegacyParsing   = "The policy failed legacy parsing"
	msgNoPrincipal     = "Policy document should not specify a principal."
	msgMissingField    = "Missing required field %s"
	msgProhibitedField = "Has prohibited field %s"
	msgNoActions       = "Policy statement must contain actions."
	msgNoResources     = "Policy statement must contain resources."
	msgResourceFormat  = "Resource %s must be in ARN format or \"*\"."
	msgVendor          = "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."
	msgOneColon        = "Actions/Condition can contain only one colon."
	msgVendorWildcard  = "Action vendors (e.g., aws, ec2, etc.) must not contain wildcards"
	msgSidUnique       = "Statement IDs (SID) in a single policy must be unique."
	msgSidAlnum        = "Statement IDs (SID) must be alpha-numeric. Check that your input satisfies the regular expression [0-9A-Za-z]*"
	msgPrincipal       = "Invalid principal in policy: %s"
	msgPolicySize      = "Cannot exceed quota for PolicySize: %d"
)

func malformed(format string, args ...any) *model.Error {
	return &model.Error{Code: CodeMalformedPolicyDocument, Message: fmt.Sprintf(format, args...), Status: http.StatusBadRequest}
}
