package model

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func ptr[T any](v T) *T { return &v }

// TestValidateDeploymentConfigurationStrategies: each row is one
// configuration and what ECS (or Flotta, where ECS has no rule Flotta can
// follow) answers: nothing, or an InvalidParameterException containing want.
func TestValidateDeploymentConfigurationStrategies(t *testing.T) {
	hook := func(target string, stages ...string) DeploymentLifecycleHook {
		return DeploymentLifecycleHook{HookTargetArn: target, LifecycleStages: stages}
	}
	const td = "arn:aws:ecs:us-east-1:123456789012:task-definition/check:1"
	rows := []struct {
		name string
		c    DeploymentConfiguration
		want string // "" means valid
	}{
		{"rolling", DeploymentConfiguration{Strategy: "ROLLING"}, ""},
		{"blue/green", DeploymentConfiguration{Strategy: "BLUE_GREEN", BakeTimeInMinutes: ptr(5)}, ""},
		{"linear without settings", DeploymentConfiguration{Strategy: "LINEAR"}, ""},
		{"canary without settings", DeploymentConfiguration{Strategy: "CANARY"}, ""},
		{"unknown strategy", DeploymentConfiguration{Strategy: "RAINBOW"}, "should be one of [ROLLING,BLUE_GREEN,LINEAR,CANARY]"},
		{"lower-case strategy", DeploymentConfiguration{Strategy: "canary"}, "should be one of"},

		{"bake time 0", DeploymentConfiguration{Strategy: "BLUE_GREEN", BakeTimeInMinutes: ptr(0)}, ""},
		{"bake time 1440", DeploymentConfiguration{Strategy: "BLUE_GREEN", BakeTimeInMinutes: ptr(1440)}, ""},
		{"bake time 1441", DeploymentConfiguration{Strategy: "BLUE_GREEN", BakeTimeInMinutes: ptr(1441)}, "bakeTimeInMinutes must be between 0 and 1440"},
		{"bake time -1", DeploymentConfiguration{Strategy: "CANARY", BakeTimeInMinutes: ptr(-1)}, "bakeTimeInMinutes must be between 0 and 1440"},

		{"canary 0.1%", DeploymentConfiguration{Strategy: "CANARY", CanaryConfiguration: &CanaryConfiguration{CanaryPercent: ptr(0.1)}}, ""},
		{"canary 100%", DeploymentConfiguration{Strategy: "CANARY", CanaryConfiguration: &CanaryConfiguration{CanaryPercent: ptr(100.0)}}, ""},
		{"canary 33.3%", DeploymentConfiguration{Strategy: "CANARY", CanaryConfiguration: &CanaryConfiguration{CanaryPercent: ptr(33.3)}}, ""},
		{"canary 0%", DeploymentConfiguration{Strategy: "CANARY", CanaryConfiguration: &CanaryConfiguration{CanaryPercent: ptr(0.0)}}, "canaryPercent must be a multiple of 0.1 from 0.1 to 100.0"},
		{"canary 100.1%", DeploymentConfiguration{Strategy: "CANARY", CanaryConfiguration: &CanaryConfiguration{CanaryPercent: ptr(100.1)}}, "canaryPercent"},
		{"canary 5.05%", DeploymentConfiguration{Strategy: "CANARY", CanaryConfiguration: &CanaryConfiguration{CanaryPercent: ptr(5.05)}}, "canaryPercent"},
		{"canary bake 1440", DeploymentConfiguration{Strategy: "CANARY", CanaryConfiguration: &CanaryConfiguration{CanaryBakeTimeInMinutes: ptr(1440)}}, ""},
		{"canary bake 1441", DeploymentConfiguration{Strategy: "CANARY", CanaryConfiguration: &CanaryConfiguration{CanaryBakeTimeInMinutes: ptr(1441)}}, "canaryBakeTimeInMinutes must be between 0 and 1440"},
		{"canary bake -1", DeploymentConfiguration{Strategy: "CANARY", CanaryConfiguration: &CanaryConfiguration{CanaryBakeTimeInMinutes: ptr(-1)}}, "canaryBakeTimeInMinutes"},
		{"canary settings with LINEAR", DeploymentConfiguration{Strategy: "LINEAR", CanaryConfiguration: &CanaryConfiguration{}}, "canaryConfiguration is only valid when the deployment strategy is CANARY"},
		{"canary settings with no strategy", DeploymentConfiguration{CanaryConfiguration: &CanaryConfiguration{}}, "got ROLLING"},

		{"step 3%", DeploymentConfiguration{Strategy: "LINEAR", LinearConfiguration: &LinearConfiguration{StepPercent: ptr(3.0)}}, ""},
		{"step 100%", DeploymentConfiguration{Strategy: "LINEAR", LinearConfiguration: &LinearConfiguration{StepPercent: ptr(100.0)}}, ""},
		{"step 12.5%", DeploymentConfiguration{Strategy: "LINEAR", LinearConfiguration: &LinearConfiguration{StepPercent: ptr(12.5)}}, ""},
		{"step 2.9%", DeploymentConfiguration{Strategy: "LINEAR", LinearConfiguration: &LinearConfiguration{StepPercent: ptr(2.9)}}, "stepPercent must be a multiple of 0.1 from 3.0 to 100.0"},
		{"step 100.5%", DeploymentConfiguration{Strategy: "LINEAR", LinearConfiguration: &LinearConfiguration{StepPercent: ptr(100.5)}}, "stepPercent"},
		{"step 10.01%", DeploymentConfiguration{Strategy: "LINEAR", LinearConfiguration: &LinearConfiguration{StepPercent: ptr(10.01)}}, "stepPercent"},
		{"step bake 0", DeploymentConfiguration{Strategy: "LINEAR", LinearConfiguration: &LinearConfiguration{StepBakeTimeInMinutes: ptr(0)}}, ""},
		{"step bake 1441", DeploymentConfiguration{Strategy: "LINEAR", LinearConfiguration: &LinearConfiguration{StepBakeTimeInMinutes: ptr(1441)}}, "stepBakeTimeInMinutes must be between 0 and 1440"},
		{"linear settings with CANARY", DeploymentConfiguration{Strategy: "CANARY", LinearConfiguration: &LinearConfiguration{}}, "linearConfiguration is only valid when the deployment strategy is LINEAR"},
		{"linear settings with BLUE_GREEN", DeploymentConfiguration{Strategy: "BLUE_GREEN", LinearConfiguration: &LinearConfiguration{}}, "linearConfiguration is only valid"},

		{"hook: task definition, every stage", DeploymentConfiguration{Strategy: "BLUE_GREEN", LifecycleHooks: []DeploymentLifecycleHook{hook(td, LifecycleStages...)}}, ""},
		{"hook: https URL", DeploymentConfiguration{Strategy: "CANARY", LifecycleHooks: []DeploymentLifecycleHook{hook("https://hooks.example.com/check", "POST_SCALE_UP")}}, ""},
		{"hook: http URL", DeploymentConfiguration{Strategy: "LINEAR", LifecycleHooks: []DeploymentLifecycleHook{hook("http://10.0.0.1:8080/", "PRODUCTION_TRAFFIC_SHIFT")}}, ""},
		{"hook: details and role", DeploymentConfiguration{Strategy: "CANARY", LifecycleHooks: []DeploymentLifecycleHook{{HookTargetArn: td, LifecycleStages: []string{"PRE_SCALE_UP"},
			RoleArn: "arn:aws:iam::123456789012:role/hooks", HookDetails: json.RawMessage(`{"path":"/health","n":[1,2]}`)}}}, ""},
		{"hook: Lambda", DeploymentConfiguration{Strategy: "BLUE_GREEN", LifecycleHooks: []DeploymentLifecycleHook{hook("arn:aws:lambda:us-east-1:123456789012:function:check", "PRE_SCALE_UP")}}, "Lambda lifecycle hooks are not supported"},
		{"hook: other ARN", DeploymentConfiguration{Strategy: "BLUE_GREEN", LifecycleHooks: []DeploymentLifecycleHook{hook("arn:aws:sns:us-east-1:123456789012:topic", "PRE_SCALE_UP")}}, "hookTargetArn must be a task definition ARN or an http:// or https:// URL"},
		{"hook: ftp URL", DeploymentConfiguration{Strategy: "BLUE_GREEN", LifecycleHooks: []DeploymentLifecycleHook{hook("ftp://example.com/x", "PRE_SCALE_UP")}}, "hookTargetArn must be"},
		{"hook: bare word", DeploymentConfiguration{Strategy: "BLUE_GREEN", LifecycleHooks: []DeploymentLifecycleHook{hook("check", "PRE_SCALE_UP")}}, "hookTargetArn must be"},
		{"hook: no target", DeploymentConfiguration{Strategy: "BLUE_GREEN", LifecycleHooks: []DeploymentLifecycleHook{hook("", "PRE_SCALE_UP")}}, "hookTargetArn is required"},
		{"hook: no stages", DeploymentConfiguration{Strategy: "BLUE_GREEN", LifecycleHooks: []DeploymentLifecycleHook{hook(td)}}, "lifecycleStages is required"},
		{"hook: unknown stage", DeploymentConfiguration{Strategy: "BLUE_GREEN", LifecycleHooks: []DeploymentLifecycleHook{hook(td, "SCALE_UP")}}, "lifecycleStages should be one of [RECONCILE_SERVICE,"},
		{"hook: stage twice", DeploymentConfiguration{Strategy: "BLUE_GREEN", LifecycleHooks: []DeploymentLifecycleHook{hook(td, "PRE_SCALE_UP", "PRE_SCALE_UP")}}, "named twice"},
		{"hook: bad role", DeploymentConfiguration{Strategy: "BLUE_GREEN", LifecycleHooks: []DeploymentLifecycleHook{{HookTargetArn: td, LifecycleStages: []string{"PRE_SCALE_UP"}, RoleArn: "hooks"}}}, "must be an IAM role ARN"},
		{"hook with ROLLING", DeploymentConfiguration{Strategy: "ROLLING", LifecycleHooks: []DeploymentLifecycleHook{hook(td, "PRE_SCALE_UP")}}, "lifecycleHooks are only valid with the BLUE_GREEN, LINEAR or CANARY"},

		{"alarms", DeploymentConfiguration{Alarms: &DeploymentAlarms{AlarmNames: []string{"5xx"}, Enable: true, Rollback: true}}, ""},
		{"alarms enabled without names", DeploymentConfiguration{Alarms: &DeploymentAlarms{Enable: true}}, "alarmNames"},
	}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			err := ValidateDeploymentConfiguration(&r.c, false)
			if r.want == "" {
				if err != nil {
					t.Fatalf("want valid, got %v", err)
				}
				return
			}
			var e *Error
			if !errors.As(err, &e) || e.Code != CodeInvalidParameter || !strings.Contains(e.Message, r.want) {
				t.Fatalf("want InvalidParameterException containing %q, got %v", r.want, err)
			}
		})
	}
}

// TestCheckStrategyLoadBalancers: a traffic-shifting strategy needs a load
// balancer with an advancedConfiguration; ROLLING needs none and keeps one.
func TestCheckStrategyLoadBalancers(t *testing.T) {
	plain := LoadBalancer{TargetGroupArn: "tg"}
	advanced := LoadBalancer{TargetGroupArn: "tg", AdvancedConfiguration: &AdvancedConfiguration{AlternateTargetGroupArn: "alt"}}
	rows := []struct {
		strategy string
		lbs      []LoadBalancer
		ok       bool
	}{
		{"", nil, true}, {"ROLLING", []LoadBalancer{plain}, true}, {"ROLLING", []LoadBalancer{advanced}, true},
		{"BLUE_GREEN", nil, false}, {"CANARY", []LoadBalancer{plain}, false}, {"LINEAR", []LoadBalancer{plain}, false},
		{"BLUE_GREEN", []LoadBalancer{advanced}, true}, {"CANARY", []LoadBalancer{plain, advanced}, true}, {"LINEAR", []LoadBalancer{advanced}, true},
	}
	for _, r := range rows {
		err := CheckStrategyLoadBalancers(r.strategy, r.lbs)
		if (err == nil) != r.ok {
			t.Errorf("CheckStrategyLoadBalancers(%q, %d load balancers) = %v, want ok=%v", r.strategy, len(r.lbs), err, r.ok)
		}
		if err != nil && !strings.Contains(err.Error(), "requires a load balancer with an advancedConfiguration") {
			t.Errorf("unexpected message: %v", err)
		}
	}
}

// TestTrafficShiftDefaults: Describe shows ECS's documented defaults for a
// CANARY or LINEAR service, keeping what was given.
func TestTrafficShiftDefaults(t *testing.T) {
	c := DeploymentConfiguration{Strategy: "CANARY"}
	c.WithTrafficShiftDefaults()
	if want := (&CanaryConfiguration{CanaryPercent: ptr(5.0), CanaryBakeTimeInMinutes: ptr(10)}); !reflect.DeepEqual(c.CanaryConfiguration, want) {
		t.Errorf("CANARY defaults: got %+v", c.CanaryConfiguration)
	}
	given := &CanaryConfiguration{CanaryPercent: ptr(20.0)}
	c = DeploymentConfiguration{Strategy: "CANARY", CanaryConfiguration: given}
	c.WithTrafficShiftDefaults()
	if *c.CanaryConfiguration.CanaryPercent != 20 || *c.CanaryConfiguration.CanaryBakeTimeInMinutes != 10 || given.CanaryBakeTimeInMinutes != nil {
		t.Errorf("partial canary settings: got %+v (given changed: %+v)", c.CanaryConfiguration, given)
	}
	c = DeploymentConfiguration{Strategy: "LINEAR", LinearConfiguration: &LinearConfiguration{StepBakeTimeInMinutes: ptr(0)}}
	c.WithTrafficShiftDefaults()
	if want := (&LinearConfiguration{StepPercent: ptr(10.0), StepBakeTimeInMinutes: ptr(0)}); !reflect.DeepEqual(c.LinearConfiguration, want) {
		t.Errorf("LINEAR defaults: got %+v", c.LinearConfiguration)
	}
	for _, s := range []string{"ROLLING", "BLUE_GREEN"} {
		c = DeploymentConfiguration{Strategy: s}
		c.WithTrafficShiftDefaults()
		if c.CanaryConfiguration != nil || c.LinearConfiguration != nil {
			t.Errorf("%s got traffic shift settings: %+v", s, c)
		}
	}
}

// TestDeploymentConfigurationStoredJSON: records stored while these members
// were raw JSON decode into the typed fields and encode back the same.
func TestDeploymentConfigurationStoredJSON(t *testing.T) {
	stored := `{"deploymentCircuitBreaker":{"enable":true,"rollback":true},"maximumPercent":200,"minimumHealthyPercent":100,` +
		`"alarms":{"alarmNames":["a"],"enable":true,"rollback":false},"strategy":"ROLLING","bakeTimeInMinutes":3,` +
		`"linearConfiguration":{"stepPercent":12.5,"stepBakeTimeInMinutes":2},"canaryConfiguration":{"canaryPercent":5,"canaryBakeTimeInMinutes":10},` +
		`"lifecycleHooks":[{"hookTargetArn":"https://h.example/x","roleArn":"arn:aws:iam::1:role/r","lifecycleStages":["PRE_SCALE_UP"],"hookDetails":{"k":[1,"v"]}}]}`
	var c DeploymentConfiguration
	if err := json.Unmarshal([]byte(stored), &c); err != nil {
		t.Fatal(err)
	}
	if *c.LinearConfiguration.StepPercent != 12.5 || *c.CanaryConfiguration.CanaryBakeTimeInMinutes != 10 || c.LifecycleHooks[0].LifecycleStages[0] != "PRE_SCALE_UP" || c.Alarms.AlarmNames[0] != "a" {
		t.Fatalf("decoded %+v", c)
	}
	out, err := json.Marshal(&c)
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != stored {
		t.Errorf("round trip changed the record:\n got %s\nwant %s", out, stored)
	}
	lb := `{"targetGroupArn":"tg","containerName":"web","containerPort":80,"advancedConfiguration":{"alternateTargetGroupArn":"alt","productionListenerRule":"p","testListenerRule":"t","roleArn":"r"}}`
	var l LoadBalancer
	if err := json.Unmarshal([]byte(lb), &l); err != nil {
		t.Fatal(err)
	}
	if out, _ := json.Marshal(&l); string(out) != lb {
		t.Errorf("load balancer round trip:\n got %s\nwant %s", out, lb)
	}
}
