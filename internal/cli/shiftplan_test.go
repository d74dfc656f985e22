package cli

import (
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// TestPlanShiftCanaryAndLinear: the schedule plan prints, with its times.
func TestPlanShiftCanaryAndLinear(t *testing.T) {
	for _, c := range []struct {
		name string
		dc   types.DeploymentConfiguration
		want string
	}{
		{"canary 10% 5m, bake 5m", types.DeploymentConfiguration{Strategy: types.DeploymentStrategyCanary, BakeTimeInMinutes: aws.Int32(5),
			CanaryConfiguration: &types.CanaryConfiguration{CanaryPercent: aws.Float64(10), CanaryBakeTimeInMinutes: aws.Int32(5)}},
			`AT    GREEN          BLUE  THEN
0:00  10% to green   90%   bake 5m
0:05  100% to green  0%    bake 5m (bakeTimeInMinutes)
0:10  -              -     blue removed
`},
		// Linear 25% with ECS's default step bake (6 minutes), no bake.
		{"linear 25%", types.DeploymentConfiguration{Strategy: types.DeploymentStrategyLinear,
			LinearConfiguration: &types.LinearConfiguration{StepPercent: aws.Float64(25)}},
			`AT    GREEN          BLUE  THEN
0:00  25% to green   75%   bake 6m
0:06  50% to green   50%   bake 6m
0:12  75% to green   25%   bake 6m
0:18  100% to green  0%    
0:18  -              -     blue removed
`},
		{"blue/green, bake 1h30m", types.DeploymentConfiguration{Strategy: types.DeploymentStrategyBlueGreen, BakeTimeInMinutes: aws.Int32(90)},
			`AT    GREEN          BLUE  THEN
0:00  100% to green  0%    bake 1h30m (bakeTimeInMinutes)
1:30  -              -     blue removed
`},
	} {
		var b strings.Builder
		if err := printShift(&b, planShift(&c.dc), true); err != nil {
			t.Fatal(err)
		}
		out := b.String()
		if !strings.Contains(out, "Traffic shift ("+string(c.dc.Strategy)+")") || !strings.Contains(out, c.want) {
			t.Errorf("%s:\n%s\nwant the table:\n%s", c.name, out, c.want)
		}
	}
	if planShift(&types.DeploymentConfiguration{Strategy: types.DeploymentStrategyRolling}) != nil || planShift(nil) != nil {
		t.Error("a rolling deployment has a traffic shift")
	}
	// A canary of 0.5% keeps its tenths; blue is exact.
	s := planShift(&types.DeploymentConfiguration{Strategy: types.DeploymentStrategyCanary,
		CanaryConfiguration: &types.CanaryConfiguration{CanaryPercent: aws.Float64(0.5)}})
	if s.Steps[0].GreenPercent != 0.5 || s.Steps[0].BluePercent != 99.5 || s.Steps[0].BakeMinutes != 10 || s.BlueRemovedAt != 10 {
		t.Errorf("canary 0.5%% with the default bake: %+v", s)
	}
}

func TestMinutesAndStrategyWords(t *testing.T) {
	for in, want := range map[string]int32{"5m": 5, "5": 5, "1h30m": 90, "0": 0, "0s": 0} {
		if got, err := minutes("bake", in); err != nil || got != want {
			t.Errorf("minutes(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for in, want := range map[string]string{
		"90s":   "--bake 90s: ECS counts bake times in whole minutes; use 1m or 2m",
		"-5m":   "cannot be negative",
		"soon":  "give a duration in whole minutes",
		"1m30s": "use 1m or 2m",
	} {
		if _, err := minutes("bake", in); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("minutes(%q): %v; want %q", in, err, want)
		}
	}
	for in, want := range map[string]types.DeploymentStrategy{"canary": "CANARY", "blue-green": "BLUE_GREEN", "BLUE_GREEN": "BLUE_GREEN", "Linear": "LINEAR", "rolling": "ROLLING"} {
		if got, err := parseStrategy(in); err != nil || got != want {
			t.Errorf("parseStrategy(%q) = %s, %v", in, got, err)
		}
	}
	if _, err := parseStrategy("spread:instanceId"); err == nil || !strings.Contains(err.Error(), "use --placement-strategy spread:instanceId") {
		t.Errorf("a placement strategy given as --strategy: %v", err)
	}
}

// TestShiftView: a line for each change of stage, weights, hook and
// status; the blue group is the one that had the traffic first.
func TestShiftView(t *testing.T) {
	const blue, green = "arn:aws:elasticloadbalancing:r:1:targetgroup/web/1", "arn:aws:elasticloadbalancing:r:1:targetgroup/web-green/2"
	const rule = "arn:aws:elasticloadbalancing:r:1:listener-rule/app/front/1/2/3"
	var b strings.Builder
	clock := time.Date(2025, 1, 1, 12, 0, 0, 0, time.Local)
	v := newShiftView(&b, func() time.Time { return clock })
	traffic := func(bw, gw int32) []ruleTraffic {
		return []ruleTraffic{{Rule: rule, Weights: map[string]int32{blue: bw, green: gw}}}
	}
	steps := []shiftSnapshot{
		{Stage: "RECONCILE_SERVICE", Status: "IN_PROGRESS", Traffic: traffic(1, 0)},
		{Stage: "SCALE_UP", Status: "IN_PROGRESS", Traffic: traffic(1, 0)},
		{Stage: "SCALE_UP", Status: "IN_PROGRESS", Traffic: traffic(1, 0)}, // nothing new
		{Stage: "PRODUCTION_TRAFFIC_SHIFT", Status: "IN_PROGRESS", Traffic: traffic(9, 1),
			Hooks: []hookResult{{ID: "h1", Target: "https://hooks.example/check", Status: "SUCCEEDED"}}},
		{Stage: "BAKE_TIME", Status: "IN_PROGRESS", Traffic: traffic(0, 1), Hooks: []hookResult{{ID: "h1", Target: "https://hooks.example/check", Status: "SUCCEEDED"}}},
		{Stage: "CLEAN_UP", Status: "ROLLBACK_SUCCESSFUL", Reason: "hook https://hooks.example/check FAILED", Traffic: traffic(1, 0)},
	}
	for _, s := range steps {
		v.show(s)
		clock = clock.Add(time.Minute)
	}
	want := `12:00:00  stage    RECONCILE_SERVICE
12:00:00  traffic  blue web 100% / green web-green 0%
12:00:00  status   IN_PROGRESS
12:01:00  stage    SCALE_UP
12:03:00  stage    PRODUCTION_TRAFFIC_SHIFT
12:03:00  traffic  blue web 90% / green web-green 10%
12:03:00  hook     https://hooks.example/check SUCCEEDED
12:04:00  stage    BAKE_TIME
12:04:00  traffic  blue web 0% / green web-green 100%
12:05:00  stage    CLEAN_UP
12:05:00  traffic  blue web 100% / green web-green 0%
12:05:00  status   ROLLBACK_SUCCESSFUL: hook https://hooks.example/check FAILED
`
	if b.String() != want {
		t.Fatalf("live view:\n%s\nwant:\n%s", b.String(), want)
	}
}
