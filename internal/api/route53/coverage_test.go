package route53_test

import (
	"bufio"
	"context"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/route53"

	r53api "github.com/flotta-dev/flotta/internal/api/route53"
)

// TestAPICoverageDocIsTrue: the Route 53 table of docs/api-coverage.md
// lists every operation of the SDK's client, and says supported or partial
// exactly for those the server answers.
func TestAPICoverageDocIsTrue(t *testing.T) {
	f, err := os.Open("../../../docs/api-coverage.md")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc := map[string]string{}
	in := false
	for sc := bufio.NewScanner(f); sc.Scan(); {
		line := sc.Text()
		if strings.HasPrefix(line, "## ") {
			in = strings.HasPrefix(line, "## Route 53")
		}
		cells := strings.Split(line, "|")
		if !in || len(cells) < 4 || strings.TrimSpace(cells[1]) == "Operation" || strings.HasPrefix(strings.TrimSpace(cells[1]), "---") {
			continue
		}
		doc[strings.TrimSpace(cells[1])] = strings.TrimSpace(cells[2])
	}
	ctxType := reflect.TypeOf((*context.Context)(nil)).Elem()
	var sdk []string
	ct := reflect.TypeOf(&route53.Client{})
	for i := 0; i < ct.NumMethod(); i++ {
		m := ct.Method(i)
		if m.Type.NumIn() >= 3 && m.Type.In(1) == ctxType && m.Type.In(2).Kind() == reflect.Pointer && m.Type.In(2).Elem().Name() == m.Name+"Input" {
			sdk = append(sdk, m.Name)
		}
	}
	if len(sdk) < 60 {
		t.Fatalf("found only %d SDK operations; the reflection is broken", len(sdk))
	}
	served := map[string]bool{}
	for _, op := range (&r53api.API{}).Operations() {
		served[op] = true
	}
	for _, op := range sdk {
		switch st, ok := doc[op]; {
		case !ok:
			t.Errorf("docs/api-coverage.md does not list %s", op)
		case (st == "supported" || st == "partial") != served[op]:
			t.Errorf("docs/api-coverage.md says %s is %q; served: %v", op, st, served[op])
		case st != "supported" && st != "partial" && st != "not yet":
			t.Errorf("%s has status %q", op, st)
		}
	}
	for op := range served {
		if _, ok := doc[op]; !ok {
			t.Errorf("the server answers %s, which the table does not list", op)
		}
	}
}
