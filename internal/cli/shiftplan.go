package cli

import (
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/flotta-dev/flotta/internal/model"
)

// trafficShift is the production traffic schedule of a blue/green, canary
// or linear deployment, as plan shows it: the steps of
// model.ProductionShift, then the bake, then the old revision removed.
// Minutes count from the first production shift.
type trafficShift struct {
	Strategy          string           `json:"strategy"`
	Steps             []trafficShiftAt `json:"steps"`
	BakeTimeInMinutes int              `json:"bakeTimeInMinutes"`
	BlueRemovedAt     int              `json:"blueRemovedAtMinute"`
}

// trafficShiftAt is one step: at minute AtMinute, green has GreenPercent
// of production traffic, and the deployment bakes BakeMinutes before the
// next step.
type trafficShiftAt struct {
	AtMinute     int     `json:"atMinute"`
	GreenPercent float64 `json:"greenPercent"`
	BluePercent  float64 `json:"bluePercent"`
	BakeMinutes  int     `json:"bakeMinutes"`
}

// planShift is the traffic schedule of a deployment configuration, nil
// for a rolling one. Settings it lacks take ECS's defaults.
func planShift(c *types.DeploymentConfiguration) *trafficShift {
	if c == nil || !shiftsTraffic(c.Strategy) {
		return nil
	}
	i32 := func(p *int32, def int) int {
		if p == nil {
			return def
		}
		return int(*p)
	}
	f64 := func(p *float64, def float64) float64 {
		if p == nil {
			return def
		}
		return *p
	}
	canaryPct, canaryBake := model.DefaultCanaryPercent, model.DefaultCanaryBakeTimeInMinutes
	if cc := c.CanaryConfiguration; cc != nil {
		canaryPct, canaryBake = f64(cc.CanaryPercent, canaryPct), i32(cc.CanaryBakeTimeInMinutes, canaryBake)
	}
	stepPct, stepBake := model.DefaultStepPercent, model.DefaultStepBakeTimeInMinutes
	if lc := c.LinearConfiguration; lc != nil {
		stepPct, stepBake = f64(lc.StepPercent, stepPct), i32(lc.StepBakeTimeInMinutes, stepBake)
	}
	steps := model.ProductionShift(string(c.Strategy), model.Tenths(canaryPct), time.Duration(canaryBake)*time.Minute,
		model.Tenths(stepPct), time.Duration(stepBake)*time.Minute)
	out := &trafficShift{Strategy: string(c.Strategy), BakeTimeInMinutes: i32(c.BakeTimeInMinutes, 0)}
	at := 0
	for i, s := range steps {
		bake := int(s.Bake / time.Minute)
		if i == len(steps)-1 {
			bake = out.BakeTimeInMinutes
		}
		out.Steps = append(out.Steps, trafficShiftAt{AtMinute: at, GreenPercent: s.GreenPercent(), BluePercent: float64(1000-s.GreenTenths) / 10, BakeMinutes: bake})
		at += bake
	}
	out.BlueRemovedAt = at
	return out
}

// hmm writes minutes as h:mm.
func hmm(m int) string { return fmt.Sprintf("%d:%02d", m/60, m%60) }

// percent writes a share of traffic: 10%, 0.5%, 33.3%.
func percent(p float64) string { return strconv.FormatFloat(p, 'f', -1, 64) + "%" }

// printShift shows a traffic schedule after a rollout plan.
func printShift(w io.Writer, s *trafficShift, newDeployment bool) error {
	when := "The new deployment"
	if !newDeployment {
		when = "The next deployment (this update starts none)"
	}
	fmt.Fprintf(w, "\nTraffic shift (%s): %s runs beside the old one and takes production traffic by the\n"+
		"production listener rule's weights. Times (h:mm) from the first shift, after the new tasks\n"+
		"are up, test traffic has moved and the hooks before it have run:\n", s.Strategy, when)
	rows := [][]string{}
	for i, st := range s.Steps {
		then := ""
		switch {
		case i < len(s.Steps)-1:
			then = "bake " + fmtMinutes(st.BakeMinutes)
		case st.BakeMinutes > 0:
			then = "bake " + fmtMinutes(st.BakeMinutes) + " (bakeTimeInMinutes)"
		}
		rows = append(rows, []string{hmm(st.AtMinute), percent(st.GreenPercent) + " to green", percent(st.BluePercent), then})
	}
	rows = append(rows, []string{hmm(s.BlueRemovedAt), "-", "-", "blue removed"})
	if err := table(w, []string{"AT", "GREEN", "BLUE", "THEN"}, rows); err != nil {
		return err
	}
	if s.BlueRemovedAt > 0 {
		fmt.Fprintln(w, "flotta service promote NAME skips the remaining bakes of a deployment under way.")
	}
	return nil
}
