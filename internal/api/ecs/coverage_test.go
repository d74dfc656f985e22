package ecs_test

import (
	"bufio"
	"context"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/ecs"

	ecsapi "github.com/flotta-dev/flotta/internal/api/ecs"
	"github.com/flotta-dev/flotta/internal/testutil/flottatest"
)

// sdkOperations lists the operations of the official ECS client, read from
// its methods: each takes (context.Context, *<Op>Input, ...).
func sdkOperations() []string {
	var ops []string
	ctxType := reflect.TypeOf((*context.Context)(nil)).Elem()
	t := reflect.TypeOf(&ecs.Client{})
	for i := 0; i < t.NumMethod(); i++ {
		m := t.Method(i)
		if m.Type.NumIn() >= 3 && m.Type.In(1) == ctxType && m.Type.In(2).Kind() == reflect.Pointer &&
			m.Type.In(2).Elem().Name() == m.Name+"Input" {
			ops = append(ops, m.Name)
		}
	}
	return ops
}

func readCoverage(t *testing.T) map[string]string {
	f, err := os.Open("../../../docs/api-coverage.md")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	status := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "## ") {
			break // the other services' tables follow ECS's
		}
		cells := strings.Split(sc.Text(), "|")
		if len(cells) < 4 || strings.TrimSpace(cells[1]) == "Operation" || strings.HasPrefix(strings.TrimSpace(cells[1]), "---") {
			continue
		}
		status[strings.TrimSpace(cells[1])] = strings.TrimSpace(cells[2])
	}
	return status
}

func TestAPICoverageDocIsTrue(t *testing.T) {
	doc := readCoverage(t)
	sdk := sdkOperations()
	if len(sdk) < 80 {
		t.Fatalf("found only %d SDK operations; the reflection is broken", len(sdk))
	}
	served := (&ecsapi.API{}).Service().Ops
	e := flottatest.StartServer(t)
	for _, op := range sdk {
		st, ok := doc[op]
		if !ok {
			t.Errorf("docs/api-coverage.md does not list %s", op)
			continue
		}
		_, isServed := served[op]
		switch st {
		case "supported", "partial":
			if !isServed {
				t.Errorf("docs/api-coverage.md says %s is %s, but the server does not answer it", op, st)
			}
		case "not yet":
			if isServed {
				t.Errorf("the server answers %s, but docs/api-coverage.md says not yet", op)
			}
			if r := e.Raw(t, op, []byte(`{}`), nil); r.Type != "UnknownOperationException" {
				t.Errorf("%s is not yet supported but answers %d %s", op, r.Status, r.Type)
			}
		default:
			t.Errorf("%s has status %q; use supported, partial or not yet", op, st)
		}
	}
	for op := range served {
		if _, ok := doc[op]; !ok {
			t.Errorf("the server answers %s, which is not an operation of the SDK's client", op)
		}
	}
}
