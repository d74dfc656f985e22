package model

// Quotas are the ECS service quotas that Flotta enforces. Besides matching
// what ECS users expect, they bound what one request can make the server
// hold: no allocation grows with a number a client sent beyond these. As in
// ECS, where they are adjustable, a server may set other values.
type Quotas struct {
	// TasksPerService bounds a service's desiredCount.
	TasksPerService int
	// ServicesPerCluster bounds the ACTIVE and DRAINING services of a cluster.
	ServicesPerCluster int
	// InstancesPerCluster bounds the registered container instances of a cluster.
	InstancesPerCluster int
	// RevisionsPerFamily bounds the revisions a task definition family ever
	// gets; deregistered revisions count too, as in ECS.
	RevisionsPerFamily int
}

// DefaultQuotas are ECS's default values
// (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-quotas.html).
// The limits that ECS does not let anyone adjust live beside the rules they
// belong to: MaxTags (tags per resource), MaxContainers and
// MaxTaskDefinitionBytes (task definitions), MaxCustomAttributes in the ECS
// handlers, and the per-call limits of each operation (RunTask count 10,
// DescribeServices 10, ...).
func DefaultQuotas() Quotas {
	return Quotas{TasksPerService: 5000, ServicesPerCluster: 5000, InstancesPerCluster: 5000, RevisionsPerFamily: 1_000_000}
}

// WithDefaults fills the quotas left at zero with ECS's defaults.
func (q Quotas) WithDefaults() Quotas {
	d := DefaultQuotas()
	for _, p := range []struct{ v, def *int }{{&q.TasksPerService, &d.TasksPerService}, {&q.ServicesPerCluster, &d.ServicesPerCluster},
		{&q.InstancesPerCluster, &d.InstancesPerCluster}, {&q.RevisionsPerFamily, &d.RevisionsPerFamily}} {
		if *p.v <= 0 {
			*p.v = *p.def
		}
	}
	return q
}

// ErrDesiredCountLimit is ECS's answer to a desiredCount above the tasks-per-service quota.
func ErrDesiredCountLimit() *Error { return InvalidParameter("Desired count exceeds limit.") }
