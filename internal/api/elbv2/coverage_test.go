package elbv2_test

import (
	"testing"

	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"

	elbapi "github.com/flotta-dev/flotta/internal/api/elbv2"
	"github.com/flotta-dev/flotta/internal/testutil/flottatest"
)

// TestCoverageDocIsTrue: the ELBv2 table of docs/api-coverage.md lists
// every operation of the SDK's client, and says supported or partial
// exactly for those the server answers.
func TestCoverageDocIsTrue(t *testing.T) {
	doc := flottatest.CoverageDoc(t, "../../../docs/api-coverage.md", "Elastic Load Balancing v2")
	served := map[string]bool{}
	for op := range (&elbapi.API{}).Service().Ops {
		served[op] = true
	}
	flottatest.CheckCoverage(t, doc, flottatest.SDKOperations(t, &elb.Client{}, 50), served)
}
