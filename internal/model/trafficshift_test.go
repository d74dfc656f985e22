package model

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestProductionShift: each strategy's schedule, step for step, as ECS
// documents it (LINEAR 10%/6 min: ten steps, no bake after the tenth).
func TestProductionShift(t *testing.T) {
	m := time.Minute
	linear10 := []ShiftStep{}
	for i := 1; i <= 9; i++ {
		linear10 = append(linear10, ShiftStep{GreenTenths: 100 * i, Bake: 6 * m})
	}
	linear10 = append(linear10, ShiftStep{GreenTenths: 1000})
	for _, tc := range []struct {
		name     string
		strategy string
		canary   float64
		cBake    time.Duration
		step     float64
		sBake    time.Duration
		want     []ShiftStep
	}{
		{"blue/green", "BLUE_GREEN", 0, 0, 0, 0, []ShiftStep{{GreenTenths: 1000}}},
		{"canary 5% (defaults)", "CANARY", 5.0, 10 * m, 0, 0, []ShiftStep{{50, 10 * m}, {1000, 0}}},
		{"canary 0.1%", "CANARY", 0.1, m, 0, 0, []ShiftStep{{1, m}, {1000, 0}}},
		{"canary 100%", "CANARY", 100, m, 0, 0, []ShiftStep{{1000, 0}}},
		{"linear 10%/6 min (defaults)", "LINEAR", 0, 0, 10.0, 6 * m, linear10},
		{"linear 25%", "LINEAR", 0, 0, 25, 0, []ShiftStep{{250, 0}, {500, 0}, {750, 0}, {1000, 0}}},
		{"linear 33.3%", "LINEAR", 0, 0, 33.3, 2 * m, []ShiftStep{{333, 2 * m}, {666, 2 * m}, {999, 2 * m}, {1000, 0}}},
		{"linear 30%", "LINEAR", 0, 0, 30, m, []ShiftStep{{300, m}, {600, m}, {900, m}, {1000, 0}}},
		{"linear 100%", "LINEAR", 0, 0, 100, m, []ShiftStep{{1000, 0}}},
		{"linear 24 h bakes", "LINEAR", 0, 0, 50, 24 * time.Hour, []ShiftStep{{500, 24 * time.Hour}, {1000, 0}}},
	} {
		got := ProductionShift(tc.strategy, Tenths(tc.canary), tc.cBake, Tenths(tc.step), tc.sBake)
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestShiftWeights: the production rule's weights stay within ALB's 0-999
// and give green exactly its share.
func TestShiftWeights(t *testing.T) {
	for tenths, want := range map[int][2]int{
		1: {999, 1}, 50: {19, 1}, 100: {9, 1}, 250: {3, 1}, 333: {667, 333}, 500: {1, 1}, 1000: {0, 1}, 0: {1, 0},
	} {
		blue, green := ShiftStep{GreenTenths: tenths}.Weights()
		if blue != want[0] || green != want[1] {
			t.Errorf("%d tenths: blue %d green %d, want %v", tenths, blue, green, want)
		}
	}
	for tenths := 0; tenths <= 1000; tenths++ {
		blue, green := shareWeights(tenths)
		if blue > 999 || green > 999 || blue+green == 0 || green*1000 != tenths*(blue+green) {
			t.Fatalf("%d tenths: blue %d green %d", tenths, blue, green)
		}
	}
}

func TestTenths(t *testing.T) {
	for p, want := range map[float64]int{0.1: 1, 0.3: 3, 3.0: 30, 33.3: 333, 99.9: 999, 100: 1000, 0.7 + 0.1: 8} {
		if got := Tenths(p); got != want {
			t.Errorf("Tenths(%v) = %d, want %d", p, got, want)
		}
	}
}

// TestPauseHookRules: PAUSE hooks take no target and not the two traffic
// shift stages; timeouts are 1-20160 minutes with CONTINUE or ROLLBACK.
func TestPauseHookRules(t *testing.T) {
	n := func(v int) *int { return &v }
	for _, tc := range []struct {
		hook DeploymentLifecycleHook
		want string // "" when valid
	}{
		{DeploymentLifecycleHook{TargetType: HookTargetPause, LifecycleStages: []string{StagePostScaleUp}}, ""},
		{DeploymentLifecycleHook{TargetType: HookTargetPause, LifecycleStages: []string{StagePreProductionTrafficShift}}, ""},
		{DeploymentLifecycleHook{TargetType: HookTargetPause, HookTargetArn: "https://h.test/", LifecycleStages: []string{StagePostScaleUp}}, "takes no hookTargetArn"},
		{DeploymentLifecycleHook{TargetType: HookTargetPause, LifecycleStages: []string{StageTestTrafficShift}}, "cannot be configured at TEST_TRAFFIC_SHIFT"},
		{DeploymentLifecycleHook{TargetType: HookTargetPause, LifecycleStages: []string{StageProductionTrafficShift}}, "cannot be configured at TEST_TRAFFIC_SHIFT or PRODUCTION_TRAFFIC_SHIFT"},
		{DeploymentLifecycleHook{TargetType: "WEBHOOK", HookTargetArn: "https://h.test/", LifecycleStages: []string{StagePostScaleUp}}, "targetType should be one of"},
		{DeploymentLifecycleHook{HookTargetArn: "https://h.test/", LifecycleStages: []string{StagePostScaleUp},
			TimeoutConfiguration: &HookTimeoutConfiguration{TimeoutInMinutes: n(0)}}, "between 1 and 20160"},
		{DeploymentLifecycleHook{HookTargetArn: "https://h.test/", LifecycleStages: []string{StagePostScaleUp},
			TimeoutConfiguration: &HookTimeoutConfiguration{TimeoutInMinutes: n(20161)}}, "between 1 and 20160"},
		{DeploymentLifecycleHook{HookTargetArn: "https://h.test/", LifecycleStages: []string{StagePostScaleUp},
			TimeoutConfiguration: &HookTimeoutConfiguration{Action: "IGNORE"}}, "should be one of [CONTINUE,ROLLBACK]"},
		{DeploymentLifecycleHook{HookTargetArn: "https://h.test/", LifecycleStages: []string{StagePostScaleUp},
			TimeoutConfiguration: &HookTimeoutConfiguration{Action: HookContinue, TimeoutInMinutes: n(20160)}}, ""},
	} {
		err := ValidateDeploymentConfiguration(&DeploymentConfiguration{Strategy: StrategyBlueGreen, LifecycleHooks: []DeploymentLifecycleHook{tc.hook}}, false)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%+v: refused: %v", tc.hook, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%+v: %v, want %q", tc.hook, err, tc.want)
		}
	}
	h := DeploymentLifecycleHook{}
	if m, a := h.Timeout(); m != 1440 || a != HookRollback {
		t.Errorf("default timeout %d %s, want 1440 ROLLBACK", m, a)
	}
}
