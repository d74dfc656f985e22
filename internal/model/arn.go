package model

import (
	"fmt"
	"strconv"
	"strings"
)

// ARN is an Amazon Resource Name split into its parts.
type ARN struct {
	Partition string
	Service   string
	Region    string
	Account   string
	// Resource is everything after the fifth colon, e.g. "cluster/web".
	Resource string
}

// IsARN says whether s looks like an ARN rather than a short name.
func IsARN(s string) bool { return strings.HasPrefix(s, "arn:") }

// ParseARN splits an ARN. Its error says which part is missing.
func ParseARN(s string) (ARN, error) {
	parts := strings.SplitN(s, ":", 6)
	if len(parts) < 6 || parts[0] != "arn" {
		return ARN{}, fmt.Errorf("%q is not an ARN of the form arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE", s)
	}
	a := ARN{Partition: parts[1], Service: parts[2], Region: parts[3], Account: parts[4], Resource: parts[5]}
	if a.Partition == "" || a.Service == "" || a.Resource == "" {
		return ARN{}, fmt.Errorf("%q is not an ARN of the form arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE", s)
	}
	return a, nil
}

// String joins the parts again.
func (a ARN) String() string {
	return "arn:" + a.Partition + ":" + a.Service + ":" + a.Region + ":" + a.Account + ":" + a.Resource
}

// Scope is the partition, region and account that a server's ARNs carry.
type Scope struct {
	Partition string
	Region    string
	Account   string
}

func (s Scope) ecs(resource string) string {
	return ARN{Partition: s.Partition, Service: "ecs", Region: s.Region, Account: s.Account, Resource: resource}.String()
}

// ClusterARN is arn:aws:ecs:REGION:ACCOUNT:cluster/NAME.
func (s Scope) ClusterARN(name string) string { return s.ecs("cluster/" + name) }

// TaskDefinitionARN is arn:aws:ecs:REGION:ACCOUNT:task-definition/FAMILY:REVISION.
func (s Scope) TaskDefinitionARN(family string, revision int) string {
	return s.ecs(fmt.Sprintf("task-definition/%s:%d", family, revision))
}

// InstanceARN is arn:aws:ecs:REGION:ACCOUNT:container-instance/CLUSTER/ID.
func (s Scope) InstanceARN(cluster, id string) string {
	return s.ecs("container-instance/" + cluster + "/" + id)
}

// TaskARN is arn:aws:ecs:REGION:ACCOUNT:task/CLUSTER/ID.
func (s Scope) TaskARN(cluster, id string) string { return s.ecs("task/" + cluster + "/" + id) }

// ContainerARN is arn:aws:ecs:REGION:ACCOUNT:container/CLUSTER/TASK/ID.
func (s Scope) ContainerARN(cluster, task, id string) string {
	return s.ecs("container/" + cluster + "/" + task + "/" + id)
}

// ShortServiceARN is the old form of a service ARN,
// arn:aws:ecs:REGION:ACCOUNT:service/NAME, which ECS still uses to name a
// service it could not find in DescribeServices failures.
func (s Scope) ShortServiceARN(name string) string { return s.ecs("service/" + name) }

// RootARN is the account's root principal, arn:aws:iam::ACCOUNT:root.
func (s Scope) RootARN() string {
	return ARN{Partition: s.Partition, Service: "iam", Account: s.Account, Resource: "root"}.String()
}

// Owns says whether an ARN belongs to this scope's partition, region and account.
func (s Scope) Owns(a ARN) bool {
	return a.Partition == s.Partition && a.Region == s.Region && a.Account == s.Account
}

// TaskDefinitionRef names a task definition as requests and records do:
// "family", "family:revision" or
// arn:aws:ecs:REGION:ACCOUNT:task-definition/FAMILY:REVISION.
type TaskDefinitionRef struct {
	Family string
	// Revision is 0 when the reference names none: the latest ACTIVE one.
	Revision int
	// ARN is the reference as an ARN, nil for a family; its scope says
	// whose task definition it names.
	ARN *ARN
}

// ParseTaskDefinitionRef reads a task definition reference. Its errors are
// ECS's answers to a malformed one.
func ParseTaskDefinitionRef(ref string) (TaskDefinitionRef, error) {
	var r TaskDefinitionRef
	s := ref
	if IsARN(ref) {
		arn, err := ParseARN(ref)
		if err != nil || arn.Service != "ecs" || !strings.HasPrefix(arn.Resource, "task-definition/") {
			return TaskDefinitionRef{}, Client("Invalid task definition identifier %q: expected family, family:revision or an ARN of the form arn:aws:ecs:REGION:ACCOUNT:task-definition/FAMILY:REVISION.", Truncate(ref, 300))
		}
		s = strings.TrimPrefix(arn.Resource, "task-definition/")
		r.ARN = &arn
	}
	family, rev, hasRev := strings.Cut(s, ":")
	if !ValidName(family) {
		return TaskDefinitionRef{}, Client("Invalid task definition identifier %q: the family must have 1 to 255 letters, numbers, hyphens and underscores.", Truncate(ref, 300))
	}
	r.Family = family
	if hasRev {
		n, err := strconv.Atoi(rev)
		if err != nil || n < 1 {
			return TaskDefinitionRef{}, InvalidParameter("Invalid revision number. Number: %s", Truncate(rev, 32))
		}
		r.Revision = n
	}
	return r, nil
}

// ParseInstanceARN returns the cluster and the id that a container
// instance ARN (arn:aws:ecs:REGION:ACCOUNT:container-instance/CLUSTER/ID)
// names. Its error says what the ARN should look like.
func ParseInstanceARN(s string) (cluster, id string, err error) {
	a, err := ParseARN(s)
	parts := strings.Split(a.Resource, "/")
	if err != nil || a.Service != "ecs" || len(parts) != 3 || parts[0] != "container-instance" || parts[1] == "" || parts[2] == "" {
		return "", "", fmt.Errorf("%q is not a container instance ARN of the form arn:aws:ecs:REGION:ACCOUNT:container-instance/CLUSTER/ID", s)
	}
	return parts[1], parts[2], nil
}

// ParseTaskARN returns the cluster and the id that a task ARN in the long
// form (arn:aws:ecs:REGION:ACCOUNT:task/CLUSTER/ID) names.
func ParseTaskARN(s string) (cluster, id string, err error) {
	a, err := ParseARN(s)
	parts := strings.Split(a.Resource, "/")
	if err != nil || a.Service != "ecs" || len(parts) != 3 || parts[0] != "task" || parts[1] == "" || parts[2] == "" {
		return "", "", fmt.Errorf("%q is not a task ARN of the form arn:aws:ecs:REGION:ACCOUNT:task/CLUSTER/ID", s)
	}
	return parts[1], parts[2], nil
}
