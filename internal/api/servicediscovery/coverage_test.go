package servicediscovery_test

import (
	"bufio"
	"context"
	"os"
	"reflect"
	"strings"
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
			in = strings.HasPrefix(line, "## Cloud Map")
		}
		cells := strings.Split(line, "|")
		if !in || len(cells) < 4 || strings.TrimSpace(cells[1]) == "Operation" || strings.HasPrefix(strings.TrimSpace(cells[1]), "---") {
			continue
		}
		doc[strings.TrimSpace(cells[1])] = strings.TrimSpace(cells[2])
	}
	ctxType := reflect.TypeOf((*context.Context)(nil)).Elem()
	var ops []string
	ct := reflect.TypeOf(&sd.Client{})
	for i := 0; i < ct.NumMethod(); i++ {
		m := ct.Method(i)
		if m.Type.NumIn() >= 3 && m.Type.In(1) == ctxType && m.Type.In(2).Kind() == reflect.Pointer && m.Type.In(2).Elem().Name() == m.Name+"Input" {
			ops = append(ops, m.Name)
		}
	}
	if len(ops) < 25 {
		t.Fatalf("found only %d SDK operations; the reflection is broken", len(ops))
	}
	served := (&sdapi.API{}).Service().Ops
	e := flottatest.StartServer(t)
	for _, op := range ops {
		_, isServed := served[op]
		switch st, ok := doc[op]; {
		case !ok:
			t.Errorf("docs/api-coverage.md does not list %s", op)
		case (st == "supported" || st == "partial") != isServed:
			t.Errorf("docs/api-coverage.md says %s is %q; served: %v", op, st, isServed)
		case st != "supported" && st != "partial" && st != "not yet":
			t.Errorf("%s has status %q", op, st)
		case st == "not yet":
			if status, code := rawCall(t, e, op, `{}`); code != "UnknownOperationException" {
				t.Errorf("%s is not yet served but answers %d %s", op, status, code)
			}
		}
	}
	for op := range served {
		if _, ok := doc[op]; !ok {
			t.Errorf("the server answers %s, which the table does not list", op)
		}
	}
}
