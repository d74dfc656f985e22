package placement

import (
	"strings"

	"github.com/flotta-dev/flotta/internal/model"
)

// The most rules a request may carry, as ECS sets them.
const (
	maxConstraints = 10
	maxStrategies  = 5
)

// Rules builds the engine's constraints and strategies: a request's (or a
// service's) constraints, then its task definition's, and its strategies.
// What ECS refuses, it refuses in ECS's words (InvalidParameterException),
// so that RunTask, CreateService and UpdateService answer with its error
// and the service controller can say why a service cannot place.
func Rules(def *model.TaskDefinition, constraints []model.PlacementConstraint, strategies []model.PlacementStrategy) ([]Constraint, []Strategy, error) {
	if len(constraints) > maxConstraints {
		return nil, nil, model.InvalidParameter("placementConstraints can have at most %d items.", maxConstraints)
	}
	all := append([]model.PlacementConstraint(nil), constraints...)
	for _, pc := range def.PlacementConstraints {
		all = append(all, model.PlacementConstraint{Type: pc.Type, Expression: pc.Expression})
	}
	var cons []Constraint
	for _, pc := range all {
		switch pc.Type {
		case "distinctInstance":
			if pc.Expression != "" {
				return nil, nil, model.InvalidParameter("A distinctInstance constraint takes no expression.")
			}
			cons = append(cons, Constraint{Type: "distinctInstance"})
		case "memberOf":
			q, err := Parse(pc.Expression)
			if err != nil {
				return nil, nil, model.InvalidParameter("Invalid memberOf expression %q: %v.", model.Truncate(pc.Expression, 300), err)
			}
			cons = append(cons, Constraint{Type: "memberOf", Query: q})
		default:
			return nil, nil, model.InvalidParameter("placementConstraints type should be one of [distinctInstance,memberOf]; got %q.", model.Truncate(pc.Type, 64))
		}
	}
	if len(strategies) > maxStrategies {
		return nil, nil, model.InvalidParameter("placementStrategy can have at most %d items.", maxStrategies)
	}
	var strats []Strategy
	for _, ps := range strategies {
		switch ps.Type {
		case "random":
		case "binpack":
			if ps.Field != "cpu" && ps.Field != "memory" {
				return nil, nil, model.InvalidParameter("binpack placement strategy field should be one of [cpu,memory]; got %q.", model.Truncate(ps.Field, 64))
			}
		case "spread":
			if ps.Field != "instanceId" && ps.Field != "host" && !strings.HasPrefix(ps.Field, "attribute:") {
				return nil, nil, model.InvalidParameter("spread placement strategy field should be instanceId, host or attribute:NAME; got %q.", model.Truncate(ps.Field, 64))
			}
		default:
			return nil, nil, model.InvalidParameter("placementStrategy type should be one of [random,spread,binpack]; got %q.", model.Truncate(ps.Type, 64))
		}
		strats = append(strats, Strategy{Type: ps.Type, Field: ps.Field})
	}
	return cons, strats, nil
}
