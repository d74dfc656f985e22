package state

import (
	"fmt"
	"time"

	"github.com/flotta-dev/flotta/internal/model"
)

func (s *State) next(r *ServiceRecord) int64 {
	r.Seq++
	return r.Seq
}

// ServiceARN is the ARN of a service.
func (s *State) ServiceARN(cluster, name string) string {
	return model.ARN{Partition: s.Scope.Partition, Service: "ecs", Region: s.Scope.Region, Account: s.Scope.Account,
		Resource: "service/" + cluster + "/" + name}.String()
}

func (s *State) scopedARN(resource string) string {
	return model.ARN{Partition: s.Scope.Partition, Service: "ecs", Region: s.Scope.Region, Account: s.Scope.Account, Resource: resource}.String()
}

// StartDeployment makes a new PRIMARY deployment of a service for a task
// definition: it records a service revision and a service deployment, and
// turns the current deployments ACTIVE (to be drained). A deployment made by
// the circuit breaker or by StopServiceDeployment rolls back: it continues
// the failed service deployment instead of starting one.
func (s *State) StartDeployment(r *ServiceRecord, def *model.TaskDefinition, rollbackOf *model.ServiceDeployment, reason string) {
	now := model.At(s.Now())
	revID := s.next(r)
	rev := model.ServiceRevision{
		ServiceRevisionArn: s.scopedARN(fmt.Sprintf("service-revision/%s/%s/%d", r.Cluster, r.Name, 4000000000000000000+revID)),
		ServiceArn:         r.Service.ServiceArn, ClusterArn: r.Service.ClusterArn, TaskDefinition: def.TaskDefinitionArn,
		LaunchType: "EC2", NetworkConfiguration: r.Service.NetworkConfiguration, LoadBalancers: r.Service.LoadBalancers, CreatedAt: now,
		ServiceRegistries: r.Service.ServiceRegistries,
	}
	for _, c := range def.ContainerDefinitions {
		rev.ContainerImages = append(rev.ContainerImages, model.ContainerImage{ContainerName: c.Name, Image: c.Image})
	}
	r.Revisions = append(r.Revisions, rev)
	desired := r.Service.DesiredCount
	var sources []model.ServiceRevisionSummary
	for i := range r.Deployments {
		d := &r.Deployments[i]
		d.Status, d.DesiredCount, d.UpdatedAt = model.DeploymentActive, 0, now
		sources = append(sources, model.ServiceRevisionSummary{Arn: d.RevisionArn, RunningTaskCount: d.RunningCount, PendingTaskCount: d.PendingCount})
	}
	id := newDeploymentID()
	d := DeploymentRecord{
		Deployment: model.Deployment{ID: id, Status: model.DeploymentPrimary, TaskDefinition: def.TaskDefinitionArn, DesiredCount: desired,
			CreatedAt: now, UpdatedAt: now, LaunchType: "EC2", RolloutState: model.RolloutInProgress,
			RolloutStateReason: "ECS deployment " + id + " in progress."},
		RevisionArn: rev.ServiceRevisionArn,
		Rollback:    rollbackOf != nil,
	}
	if rollbackOf != nil {
		d.ServiceDeploymentArn = rollbackOf.ServiceDeploymentArn
		rollbackOf.Status = model.SDRollbackInProgress
		rollbackOf.StatusReason = reason
		rollbackOf.Rollback = &model.Rollback{Reason: reason, StartedAt: now, ServiceRevisionArn: rev.ServiceRevisionArn}
		rollbackOf.UpdatedAt = now
	} else {
		// A deployment still in progress is superseded by this one.
		for i := range r.ServiceDeployments {
			sd := &r.ServiceDeployments[i]
			if sd.Status == model.SDInProgress || sd.Status == model.SDPending || sd.Status == model.SDRollbackInProgress {
				sd.Status, sd.StatusReason, sd.StoppedAt, sd.UpdatedAt = model.SDStopped, "Superseded by a newer deployment.", now, now
			}
		}
		sdID := NewID()[:22]
		sd := model.ServiceDeployment{
			ServiceDeploymentArn: s.scopedARN(fmt.Sprintf("service-deployment/%s/%s/%s", r.Cluster, r.Name, sdID)),
			ServiceArn:           r.Service.ServiceArn, ClusterArn: r.Service.ClusterArn,
			CreatedAt: now, StartedAt: now, UpdatedAt: now, Status: model.SDInProgress,
			SourceServiceRevisions:  sources,
			TargetServiceRevision:   &model.ServiceRevisionSummary{Arn: rev.ServiceRevisionArn, RequestedTaskCount: desired},
			DeploymentConfiguration: r.Service.DeploymentConfiguration,
		}
		if cb := circuitBreaker(r); cb != nil && cb.Enable {
			sd.DeploymentCircuitBreaker = &model.ServiceDeploymentCircuitBreaker{Status: "MONITORING", Threshold: model.CircuitBreakerThreshold(desired)}
		}
		if sd.SourceServiceRevisions == nil {
			sd.SourceServiceRevisions = []model.ServiceRevisionSummary{}
		}
		r.ServiceDeployments = append(r.ServiceDeployments, sd)
		d.ServiceDeploymentArn = sd.ServiceDeploymentArn
	}
	r.Deployments = append([]DeploymentRecord{d}, r.Deployments...)
	r.Service.TaskDefinition = def.TaskDefinitionArn
	r.Service.CurrentServiceDeployment = d.ServiceDeploymentArn
	r.Steady = false
	r.FailStreak, r.NextStart = 0, time.Time{}
}

func circuitBreaker(r *ServiceRecord) *model.DeploymentCircuitBreaker {
	if c := r.Service.DeploymentConfiguration; c != nil {
		return c.DeploymentCircuitBreaker
	}
	return nil
}

// ServiceDeploymentOf returns the service deployment a deployment carries out.
func (r *ServiceRecord) ServiceDeploymentOf(d *DeploymentRecord) *model.ServiceDeployment {
	for i := range r.ServiceDeployments {
		if r.ServiceDeployments[i].ServiceDeploymentArn == d.ServiceDeploymentArn {
			return &r.ServiceDeployments[i]
		}
	}
	return nil
}

// AddEvent records a service event, newest first.
func (s *State) AddEvent(r *ServiceRecord, format string, args ...any) {
	id := NewID()
	r.Service.Events = append([]model.ServiceEvent{{ID: id[:8] + "-" + id[8:12] + "-" + id[12:16] + "-" + id[16:20] + "-" + id[20:],
		CreatedAt: model.At(s.Now()), Message: fmt.Sprintf(format, args...)}}, r.Service.Events...)
}
