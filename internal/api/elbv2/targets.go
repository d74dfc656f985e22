package elbv2

import (
	"context"
	"fmt"
	"net/netip"
	"strconv"
	"time"

	"github.com/flotta-dev/flotta/internal/state"
)

type targetIn struct {
	ID               string `query:"Id"`
	Port             *int32
	AvailabilityZone string
}

type targetsIn struct {
	TargetGroupArn string
	Targets        []targetIn
}

// target is a target as given, its port defaulted to the group's, checked
// by ELB's rules.
func target(tg *state.ELBTargetGroup, t targetIn) (string, int32, error) {
	if t.ID == "" {
		return "", 0, needed("targets.member.id")
	}
	if err := checkPort(t.Port, "targets.member.port"); err != nil {
		return "", 0, err
	}
	port := tg.Port
	if t.Port != nil {
		port = *t.Port
	}
	if tg.TargetType == "ip" {
		ip, err := netip.ParseAddr(t.ID)
		if err != nil || ip.Zone() != "" {
			version := "IPv4"
			if tg.IPAddressType == "ipv6" {
				version = "IPv6"
			}
			return "", 0, fail(CodeInvalidTarget, "The IP address '%s' is not a valid %s address", t.ID, version)
		}
		if ip.Is4() != (tg.IPAddressType == "ipv4") {
			return "", 0, fail(CodeInvalidTarget, "The IP address '%s' is not of the target group's IP address type '%s'", t.ID, tg.IPAddressType)
		}
	}
	return t.ID, port, nil
}

// RegisterTargets adds targets to a target group (a draining target
// registered again is back in service at once).
func (a *API) RegisterTargets(ctx context.Context, in *targetsIn) (*struct{}, error) {
	if len(in.Targets) == 0 {
		return nil, needed("targets")
	}
	now := a.now()
	_, err := a.State.UpdateELB(ctx, func(tx *state.ELBTxn) error {
		tg, err := findTargetGroup(tx.Config, in.TargetGroupArn)
		if err != nil {
			return err
		}
		for _, t := range in.Targets {
			id, port, err := target(tg, t)
			if err != nil {
				return err
			}
			if i := indexOf(tg.Targets, id, port); i >= 0 {
				tg.Targets[i].DrainingUntil = time.Time{}
				continue
			}
			tg.Targets = append(tg.Targets, state.ELBTarget{ID: id, Port: port, AvailabilityZone: t.AvailabilityZone, RegisteredAt: now})
		}
		if len(tg.Targets) > MaxTargetsPerGroup {
			return fail(CodeTooManyTargets, "You've reached the limit on the number of targets registered to target group '%s' (%d)", tg.Name, MaxTargetsPerGroup)
		}
		return nil
	})
	return nil, err
}

func indexOf(targets []state.ELBTarget, id string, port int32) int {
	for i, t := range targets {
		if t.ID == id && t.Port == port {
			return i
		}
	}
	return -1
}

// DeregisterTargets takes targets out of service: each drains for the
// group's deregistration delay and is then removed (state.SweepELBTargets);
// with a delay of 0 it is removed at once. A target not registered is no
// error: ELB's reference says "If the specified target does not exist, the
// action returns successfully" (API_DeregisterTargets).
func (a *API) DeregisterTargets(ctx context.Context, in *targetsIn) (*struct{}, error) {
	if len(in.Targets) == 0 {
		return nil, needed("targets")
	}
	now := a.now()
	_, err := a.State.UpdateELB(ctx, func(tx *state.ELBTxn) error {
		tg, err := findTargetGroup(tx.Config, in.TargetGroupArn)
		if err != nil {
			return err
		}
		delay := tg.DeregistrationDelay()
		for _, t := range in.Targets {
			id, port, err := target(tg, t)
			if err != nil {
				return err
			}
			i := indexOf(tg.Targets, id, port)
			if i < 0 {
				continue
			}
			if delay == 0 {
				tg.Targets = append(tg.Targets[:i], tg.Targets[i+1:]...)
				continue
			}
			if !tg.Targets[i].Draining() {
				tg.Targets[i].DrainingUntil = now.Add(delay)
			}
		}
		return nil
	})
	return nil, err
}

type describeTargetHealthIn struct {
	TargetGroupArn string
	Targets        []targetIn
}

// TargetDescription is ELB's TargetDescription.
type TargetDescription struct {
	ID               string `xml:"Id"`
	Port             int32  `xml:"Port"`
	AvailabilityZone string `xml:"AvailabilityZone,omitempty"`
}

// TargetHealth is ELB's TargetHealth.
type TargetHealth struct {
	State       string `xml:"State"`
	Reason      string `xml:"Reason,omitempty"`
	Description string `xml:"Description,omitempty"`
}

// TargetHealthDescription is ELB's TargetHealthDescription.
type TargetHealthDescription struct {
	Target          TargetDescription `xml:"Target"`
	HealthCheckPort string            `xml:"HealthCheckPort"`
	TargetHealth    TargetHealth      `xml:"TargetHealth"`
}

type describeTargetHealthOut struct {
	TargetHealthDescriptions []TargetHealthDescription `xml:"TargetHealthDescriptions"`
}

// DescribeTargetHealth says how each target of a group (or each named) is:
// draining once deregistered; unused while no listener or rule forwards to
// the group (or when not registered); unavailable with health checks off;
// else what the data plane last observed, initial before it has.
func (a *API) DescribeTargetHealth(ctx context.Context, in *describeTargetHealthIn) (*describeTargetHealthOut, error) {
	cfg, err := a.read(ctx)
	if err != nil {
		return nil, err
	}
	tg, err := findTargetGroup(cfg, in.TargetGroupArn)
	if err != nil {
		return nil, err
	}
	seen, err := a.State.ELBTargetHealths(ctx, tg.Arn, tg)
	if err != nil {
		return nil, err
	}
	inUse := len(cfg.LoadBalancersOf(tg.Arn)) > 0
	out := &describeTargetHealthOut{TargetHealthDescriptions: []TargetHealthDescription{}}
	describe := func(t state.ELBTarget, registered bool) {
		d := TargetHealthDescription{Target: TargetDescription{ID: t.ID, Port: t.Port, AvailabilityZone: t.AvailabilityZone}, HealthCheckPort: tg.HealthCheck.Port}
		if d.HealthCheckPort == "traffic-port" {
			d.HealthCheckPort = strconv.Itoa(int(t.Port))
		}
		h, observed := seen[fmt.Sprintf("%s:%d", t.ID, t.Port)]
		switch {
		case !registered:
			d.TargetHealth = TargetHealth{State: "unused", Reason: "Target.NotRegistered", Description: "Target is not registered to the target group"}
		case t.Draining():
			d.TargetHealth = TargetHealth{State: "draining", Reason: "Target.DeregistrationInProgress", Description: "Target deregistration is in progress"}
		case !inUse:
			d.TargetHealth = TargetHealth{State: "unused", Reason: "Target.NotInUse", Description: "Target group is not configured to receive traffic from the load balancer"}
		case !tg.HealthCheck.Enabled:
			d.TargetHealth = TargetHealth{State: "unavailable", Reason: "Target.HealthCheckDisabled", Description: "Health checks are disabled"}
		case observed:
			d.TargetHealth = TargetHealth{State: h.State, Reason: h.Reason, Description: h.Description}
		default:
			d.TargetHealth = TargetHealth{State: "initial", Reason: "Elb.RegistrationInProgress", Description: "Target registration is in progress"}
		}
		out.TargetHealthDescriptions = append(out.TargetHealthDescriptions, d)
	}
	now := a.now()
	gone := func(t state.ELBTarget) bool { return t.Draining() && !now.Before(t.DrainingUntil) }
	if len(in.Targets) == 0 {
		for _, t := range tg.Targets {
			if !gone(t) {
				describe(t, true)
			}
		}
		return out, nil
	}
	for _, t := range in.Targets {
		id, port, err := target(tg, t)
		if err != nil {
			return nil, err
		}
		if i := indexOf(tg.Targets, id, port); i >= 0 && !gone(tg.Targets[i]) {
			describe(tg.Targets[i], true)
		} else {
			describe(state.ELBTarget{ID: id, Port: port}, false)
		}
	}
	return out, nil
}
