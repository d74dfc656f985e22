package servicediscovery_test

import (
	"testing"

	sd "github.com/aws/aws-sdk-go-v2/service/servicediscovery"

	sdapi "github.com/flotta-dev/flotta/internal/api/servicediscovery"
	"github.com/flotta-dev/flotta/internal/testutil/flottatest"
)

// TestCoverageDocIsTrue: the Cloud Map table of docs/api-coverage.md lists
// every operation of the SDK's client, and says supported or partial
// exactly for those the server answers; the others answer
// UnknownOperationException.
func TestCoverageDocIsTrue(t *testing.T) {
	doc := flottatest.CoverageDoc(t, "../../../docs/api-coverage.md", "Cloud Map")
	served := map[string]bool{}
	for op := range (&sdapi.API{}).Service().Ops {
		served[op] = true
	}
	ops := flottatest.SDKOperations(t, &sd.Client{}, 25)
	flottatest.CheckCoverage(t, doc, ops, served)
	e := flottatest.StartServer(t)
	for _, op := range ops {
		if doc[op] == "not yet" {
			if status, code := rawCall(t, e, op, `{}`); code != "UnknownOperationException" {
				t.Errorf("%s is not yet served but answers %d %s", op, status, code)
			}
		}
	}
}
