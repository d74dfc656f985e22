package placement

import (
	"errors"
	"strings"
	"testing"

	"github.com/flotta-dev/flotta/internal/model"
)

func TestRules(t *testing.T) {
	type pc = model.PlacementConstraint
	type ps = model.PlacementStrategy
	memberOf := func(expr string) pc { return pc{Type: "memberOf", Expression: expr} }
	many := func(n int, c pc) []pc {
		out := make([]pc, n)
		for i := range out {
			out[i] = c
		}
		return out
	}
	cases := []struct {
		name        string
		def         []model.TaskDefinitionPlacementConstraint
		constraints []pc
		strategies  []ps
		want        string // the constraints' types, then the strategies, as "type(query)|type:field"
		err         string // InvalidParameterException's message
	}{
		{name: "none"},
		{name: "the request's constraints, then the task definition's",
			def:         []model.TaskDefinitionPlacementConstraint{{Type: "memberOf", Expression: "attribute:ecs.os-type == linux"}},
			constraints: []pc{{Type: "distinctInstance"}, memberOf("attribute:zone in [a, b]")},
			strategies:  []ps{{Type: "spread", Field: "attribute:zone"}, {Type: "binpack", Field: "memory"}, {Type: "random"}},
			want:        "distinctInstance memberOf(attribute:zone in [a, b]) memberOf(attribute:ecs.os-type == linux) | spread:attribute:zone binpack:memory random:"},
		{name: "spread by host and instance", strategies: []ps{{Type: "spread", Field: "host"}, {Type: "spread", Field: "instanceId"}},
			want: "| spread:host spread:instanceId"},
		{name: "ten constraints", constraints: many(10, pc{Type: "distinctInstance"}), want: strings.Repeat("distinctInstance ", 10) + "|"},
		{name: "eleven constraints", constraints: many(11, pc{Type: "distinctInstance"}), err: "placementConstraints can have at most 10 items."},
		{name: "the task definition's do not count towards ten", constraints: many(10, pc{Type: "distinctInstance"}),
			def:  []model.TaskDefinitionPlacementConstraint{{Type: "memberOf", Expression: "attribute:a == b"}},
			want: strings.Repeat("distinctInstance ", 10) + "memberOf(attribute:a == b) |"},
		{name: "distinctInstance with an expression", constraints: []pc{{Type: "distinctInstance", Expression: "x"}},
			err: "A distinctInstance constraint takes no expression."},
		{name: "a memberOf that does not parse", constraints: []pc{memberOf("attribute:a ==")}, err: `Invalid memberOf expression "attribute:a ==": `},
		{name: "the task definition's memberOf does not parse", def: []model.TaskDefinitionPlacementConstraint{{Type: "memberOf", Expression: "("}},
			err: `Invalid memberOf expression "(": `},
		{name: "a long expression is quoted in part", constraints: []pc{memberOf("(" + strings.Repeat("x", 400))},
			err: `Invalid memberOf expression "(` + strings.Repeat("x", 299) + `...": `},
		{name: "an unknown constraint", constraints: []pc{{Type: "affinity"}},
			err: `placementConstraints type should be one of [distinctInstance,memberOf]; got "affinity".`},
		{name: "six strategies", strategies: make([]ps, 6), err: "placementStrategy can have at most 5 items."},
		{name: "binpack by disk", strategies: []ps{{Type: "binpack", Field: "disk"}},
			err: `binpack placement strategy field should be one of [cpu,memory]; got "disk".`},
		{name: "spread by nothing", strategies: []ps{{Type: "spread"}},
			err: `spread placement strategy field should be instanceId, host or attribute:NAME; got "".`},
		{name: "an unknown strategy", strategies: []ps{{Type: "pack"}},
			err: `placementStrategy type should be one of [random,spread,binpack]; got "pack".`},
		{name: "constraints are checked before strategies", constraints: []pc{{Type: "affinity"}}, strategies: []ps{{Type: "pack"}},
			err: "placementConstraints type should be one of"},
	}
	for _, c := range cases {
		cons, strats, err := Rules(&model.TaskDefinition{PlacementConstraints: c.def}, c.constraints, c.strategies)
		if c.err != "" {
			e, ok := errors.AsType[*model.Error](err)
			if !ok || e.Code != model.CodeInvalidParameter || !strings.HasPrefix(e.Message, c.err) {
				t.Errorf("%s: error %v, want InvalidParameterException %q", c.name, err, c.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		var parts []string
		for _, k := range cons {
			if k.Query != nil {
				parts = append(parts, k.Type+"("+k.Query.String()+")")
			} else {
				parts = append(parts, k.Type)
			}
		}
		parts = append(parts, "|")
		for _, s := range strats {
			parts = append(parts, s.Type+":"+s.Field)
		}
		if got := strings.Join(parts, " "); got != c.want && !(c.want == "" && got == "|") {
			t.Errorf("%s: %s, want %s", c.name, got, c.want)
		}
	}
}
