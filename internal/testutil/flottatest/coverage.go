package flottatest

import (
	"bufio"
	"context"
	"os"
	"reflect"
	"strings"
	"testing"
)

// CoverageDoc reads the table of the section of docs/api-coverage.md (at
// path) whose "## " heading starts with heading: each operation's status
// (supported, partial or not yet).
func CoverageDoc(t testing.TB, path, heading string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc := map[string]string{}
	in := false
	for sc := bufio.NewScanner(f); sc.Scan(); {
		line := sc.Text()
		if strings.HasPrefix(line, "## ") {
			in = strings.HasPrefix(line, "## "+heading)
		}
		cells := strings.Split(line, "|")
		if !in || len(cells) < 4 || strings.TrimSpace(cells[1]) == "Operation" || strings.HasPrefix(strings.TrimSpace(cells[1]), "---") {
			continue
		}
		doc[strings.TrimSpace(cells[1])] = strings.TrimSpace(cells[2])
	}
	if len(doc) == 0 {
		t.Fatalf("%s has no table under a heading %q", path, "## "+heading)
	}
	return doc
}

// SDKOperations are the operations of an SDK client (its methods that take
// a context and a *NameInput), at least atLeast of them (fewer means the
// reflection no longer finds them).
func SDKOperations(t testing.TB, client any, atLeast int) []string {
	t.Helper()
	ctxType := reflect.TypeOf((*context.Context)(nil)).Elem()
	var ops []string
	ct := reflect.TypeOf(client)
	for i := 0; i < ct.NumMethod(); i++ {
		m := ct.Method(i)
		if m.Type.NumIn() >= 3 && m.Type.In(1) == ctxType && m.Type.In(2).Kind() == reflect.Pointer && m.Type.In(2).Elem().Name() == m.Name+"Input" {
			ops = append(ops, m.Name)
		}
	}
	if len(ops) < atLeast {
		t.Fatalf("found only %d SDK operations; the reflection is broken", len(ops))
	}
	return ops
}

// CheckCoverage fails the test for every SDK operation the table does not
// list, or whose status is not one of the three, or says served
// (supported, partial) when the server does not answer it or the other way
// round; and for every served operation the table does not list.
func CheckCoverage(t testing.TB, doc map[string]string, sdkOps []string, served map[string]bool) {
	t.Helper()
	for _, op := range sdkOps {
		switch st, ok := doc[op]; {
		case !ok:
			t.Errorf("docs/api-coverage.md does not list %s", op)
		case st != "supported" && st != "partial" && st != "not yet":
			t.Errorf("%s has status %q", op, st)
		case (st == "supported" || st == "partial") != served[op]:
			t.Errorf("docs/api-coverage.md says %s is %q; served: %v", op, st, served[op])
		}
	}
	for op := range served {
		if _, ok := doc[op]; !ok {
			t.Errorf("the server answers %s, which the table does not list", op)
		}
	}
}
