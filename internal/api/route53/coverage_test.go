package route53_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/route53"

	r53api "github.com/flotta-dev/flotta/internal/api/route53"
	"github.com/flotta-dev/flotta/internal/testutil/flottatest"
)

// TestAPICoverageDocIsTrue: the Route 53 table of docs/api-coverage.md
// lists every operation of the SDK's client, and says supported or partial
// exactly for those the server answers.
func TestAPICoverageDocIsTrue(t *testing.T) {
	doc := flottatest.CoverageDoc(t, "../../../docs/api-coverage.md", "Route 53")
	served := map[string]bool{}
	for _, op := range (&r53api.API{}).Operations() {
		served[op] = true
	}
	flottatest.CheckCoverage(t, doc, flottatest.SDKOperations(t, &route53.Client{}, 60), served)
}
