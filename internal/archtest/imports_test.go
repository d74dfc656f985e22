package archtest

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/flotta-dev/flotta/"

// owners maps an outside module path prefix to the only packages (relative to
// the module root) whose non-test code may import it.
var owners = map[string][]string{
	"go.etcd.io/":              {"internal/store"},
	"google.golang.org/grpc":   {"internal/store"},
	"go.uber.org/zap":          {"internal/store"},
	"github.com/docker/":       {"internal/runtime/docker"},
	"github.com/moby/":         {"internal/runtime/docker"},
	"github.com/prometheus/":   {"internal/metrics", "internal/lb", "internal/dns", "internal/metricstore"},
	"github.com/miekg/dns":     {"internal/dns"},
	"github.com/aws/":          {"internal/cli", "internal/testutil/flottatest", "examples/quickstart", "examples/customscheduler", "internal/protocol/rpcv2cbor"}, // rpcv2cbor: smithy-go's encoding/cbor only
	"github.com/spf13/cobra":   {"internal/cli", "cmd/flotta"},
	"github.com/google/go-cmp": {},
	"golang.org/x/time":        {"internal/throttle"},

	// The Prometheus server module (its TSDB) is metricstore's alone; the
	// prefix rule above also lists metricstore because it matches too.
	"github.com/prometheus/prometheus": {"internal/metricstore"},
}

// allowedInternal maps a package to the internal packages its non-test code
// may import. A package missing from this map may import no internal package.
var allowedInternal = map[string][]string{
	"internal/agent":               {"internal/model", "internal/runtime", "internal/flottaapi", "internal/pki"},
	"internal/runtime":             {},
	"internal/images":              {},
	"internal/demoapp":             {},
	"internal/runtime/docker":      {"internal/runtime"},
	"internal/runtime/fake":        {"internal/runtime"},
	"internal/controller":          {"internal/model", "internal/placement", "internal/scheduler", "internal/state", "internal/flottaapi"},
	"internal/scheduler":           {"internal/model", "internal/placement", "internal/state"},
	"internal/placement":           {"internal/model"},
	"internal/model":               {},
	"internal/sigv4":               {"internal/model"},
	"internal/store":               {},
	"internal/metrics":             {},
	"internal/metricstore":         {},
	"internal/connlimit":           {},
	"internal/lb":                  {},
	"internal/lb/lbbench":          {"internal/lb"},
	"internal/dns":                 {},
	"internal/dns/dnsbench":        {"internal/dns"},
	"internal/dnssync":             {"internal/dns", "internal/state"},
	"internal/lbsync":              {"internal/lb", "internal/state", "internal/sealing", "internal/api/iam", "internal/flottaapi", "internal/model"},
	"internal/throttle":            {},
	"internal/protocol":            {"internal/model"},
	"internal/protocol/awsjson":    {"internal/model", "internal/protocol"},
	"internal/protocol/query":      {"internal/model", "internal/protocol"},
	"internal/protocol/restxml":    {"internal/model", "internal/protocol"},
	"internal/protocol/rpcv2cbor":  {"internal/model", "internal/protocol"},
	"internal/state":               {"internal/model", "internal/store"},
	"internal/iam":                 {"internal/model", "internal/state", "internal/sigv4", "internal/pki", "internal/iam/policy", "internal/protocol"},
	"internal/pki":                 {},
	"internal/iam/policy":          {"internal/model"},
	"internal/events":              {"internal/model", "internal/state", "internal/flottaapi"},
	"internal/gateway":             {"internal/model", "internal/state", "internal/iam", "internal/protocol/awsjson", "internal/flottaapi", "internal/pki", "internal/throttle"},
	"internal/api/ssm":             {"internal/iam", "internal/model", "internal/protocol/awsjson", "internal/sealing", "internal/state"},
	"internal/api/secretsmanager":  {"internal/iam", "internal/model", "internal/protocol/awsjson", "internal/sealing", "internal/state"},
	"internal/sealing":             {},
	"internal/api/iam":             {"internal/iam", "internal/model", "internal/protocol/query", "internal/sealing", "internal/state"},
	"internal/api/elbv2":           {"internal/model", "internal/protocol/query", "internal/state"},
	"internal/api/route53":         {"internal/model", "internal/protocol/restxml", "internal/state"},
	"internal/api/ecs":             {"internal/model", "internal/state", "internal/iam", "internal/iam/policy", "internal/placement", "internal/scheduler", "internal/protocol/awsjson", "internal/flottaapi"},
	"internal/server":              {"internal/model", "internal/state", "internal/iam", "internal/api/ecs", "internal/protocol/awsjson", "internal/metrics", "internal/gateway", "internal/scheduler", "internal/controller", "internal/connlimit", "internal/throttle", "internal/flottaapi", "internal/events", "internal/pki", "internal/api/iam", "internal/api/elbv2", "internal/protocol/query", "internal/sealing", "internal/api/ssm", "internal/api/secretsmanager", "internal/lb", "internal/lbsync", "internal/api/servicediscovery", "internal/api/route53", "internal/protocol/restxml", "internal/dns", "internal/dnssync"},
	"internal/cli":                 {"internal/flottaapi", "internal/model", "internal/sigv4", "internal/dns"}, // internal/dns for its DNS client (flotta dns query)
	"internal/flottaapi":           {"internal/model", "internal/sigv4", "internal/lb"},
	"internal/testutil/flottatest": {"internal/server", "internal/iam", "internal/model", "internal/flottaapi"},
	"internal/testutil/fleet":      {"internal/agent", "internal/runtime", "internal/runtime/fake", "internal/testutil/flottatest"},
	"cmd/flotta":                   {"internal/cli", "internal/server", "internal/model", "internal/agent", "internal/demoapp", "internal/images", "internal/runtime/docker", "internal/lb", "internal/lbsync", "internal/metrics"},
	"internal/archtest":            {},
	"examples/quickstart":          {},
	"examples/customscheduler":     {},

	// Cloud Map: an API handler like the others.
	"internal/api/servicediscovery": {"internal/model", "internal/protocol/awsjson", "internal/state"},
}

func TestImportRules(t *testing.T) {
	root := moduleRoot(t)
	imports := packageImports(t, root)
	if len(imports) < 10 {
		t.Fatalf("found only %d packages under %s; the walk is broken", len(imports), root)
	}
	for pkg, deps := range imports {
		allowed, known := allowedInternal[pkg]
		if !known {
			t.Errorf("package %s is not in archtest's map: add it, with the internal packages it may use, and say why in ARCHITECTURE.md if it is a new layer", pkg)
			continue
		}
		for _, dep := range deps {
			if rel, ok := strings.CutPrefix(dep, module); ok {
				if !contains(allowed, rel) {
					t.Errorf("%s imports %s, which the import rules do not allow", pkg, rel)
				}
				continue
			}
			for prefix, owner := range owners {
				if strings.HasPrefix(dep, prefix) && !contains(owner, pkg) {
					t.Errorf("%s imports %s; only %v may use %s", pkg, dep, owner, prefix)
				}
			}
		}
	}
}

// TestOnlyStateReachesTheStore: the state package is the one door to etcd.
// Every other part reads, writes and watches through its typed methods, so
// the key layout lives in one place and every new part is a reader of the
// same watches.
func TestOnlyStateReachesTheStore(t *testing.T) {
	for pkg, deps := range packageImports(t, moduleRoot(t)) {
		if pkg != "internal/state" && contains(deps, module+"internal/store") {
			t.Errorf("%s imports internal/store; only internal/state may (go through state's methods)", pkg)
		}
	}
}

// TestModelUsesOnlyStandardLibrary is the strictest rule: the domain model is
// plain Go.
func TestModelUsesOnlyStandardLibrary(t *testing.T) {
	for _, dep := range packageImports(t, moduleRoot(t))["internal/model"] {
		if strings.Contains(strings.SplitN(dep, "/", 2)[0], ".") {
			t.Errorf("internal/model imports %s; it may import only the standard library", dep)
		}
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func moduleRoot(t *testing.T) string {
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found")
		}
		dir = parent
	}
}

// packageImports returns, for each package directory (relative to root), the
// sorted import paths of its non-test Go files.
func packageImports(t *testing.T, root string) map[string][]string {
	out := map[string][]string{}
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			name := d.Name()
			if path != root && (strings.HasPrefix(name, ".") || name == "testdata" || name == "vendor") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, filepath.Dir(path))
		rel = filepath.ToSlash(rel)
		set := map[string]bool{}
		for _, d := range out[rel] {
			set[d] = true
		}
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			set[p] = true
		}
		deps := make([]string, 0, len(set))
		for d := range set {
			deps = append(deps, d)
		}
		sort.Strings(deps)
		out[rel] = deps
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
