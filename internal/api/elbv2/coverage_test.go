package elbv2_test

import (
	"bufio"
	"context"
	"os"
	"reflect"
	"strings"
	"testing"

	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"

	elbapi "github.com/flotta-dev/flotta/internal/api/elbv2"
)

// TestCoverageDocIsTrue: the ELBv2 table of docs/api-coverage.md lists
// every operation of the SDK's client, and says supported or partial
// exactly for those the server answers.
func TestCoverageDocIsTrue(t *testing.T) {
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
			in = strings.HasPrefix(line, "## Elastic Load Balancing v2")
		}
		cells := strings.Split(line, "|")
		if !in || len(cells) < 4 || strings.TrimSpace(cells[1]) == "Operation" || strings.HasPrefix(strings.TrimSpace(cells[1]), "---") {
			continue
		}
		doc[strings.TrimSpace(cells[1])] = strings.TrimSpace(cells[2])
	}
	ctxType := reflect.TypeOf((*context.Context)(nil)).Elem()
	var sdk []string
	ct := reflect.TypeOf(&elb.Client{})
	for i := 0; i < ct.NumMethod(); i++ {
		m := ct.Method(i)
		if m.Type.NumIn() >= 3 && m.Type.In(1) == ctxType && m.Type.In(2).Kind() == reflect.Pointer && m.Type.In(2).Elem().Name() == m.Name+"Input" {
			sdk = append(sdk, m.Name)
		}
	}
	if len(sdk) < 50 {
		t.Fatalf("found only %d SDK operations; the reflection is broken", len(sdk))
	}
	served := (&elbapi.API{}).Service().Ops
	for _, op := range sdk {
		_, isServed := served[op]
		switch st, ok := doc[op]; {
		case !ok:
			t.Errorf("docs/api-coverage.md does not list %s", op)
		case (st == "supported" || st == "partial") != isServed:
			t.Errorf("docs/api-coverage.md says %s is %q; served: %v", op, st, isServed)
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
