package model

import (
	"encoding/json"
	"math"
	"strings"
)

// Service statuses.
const (
	ServiceActive   = "ACTIVE"
	ServiceDraining = "DRAINING"
	ServiceInactive = "INACTIVE"
)

// Deployment statuses and rollout states.
const (
	DeploymentPrimary  = "PRIMARY"
	DeploymentActive   = "ACTIVE"
	DeploymentInactive = "INACTIVE"

	RolloutInProgress = "IN_PROGRESS"
	RolloutCompleted  = "COMPLETED"
	RolloutFailed     = "FAILED"
)

// ServiceDeployment statuses.
const (
	SDPending             = "PENDING"
	SDInProgress          = "IN_PROGRESS"
	SDSuccessful          = "SUCCESSFUL"
	SDStopped             = "STOPPED"
	SDStopRequested       = "STOP_REQUESTED"
	SDRollbackRequested   = "ROLLBACK_REQUESTED"
	SDRollbackInProgress  = "ROLLBACK_IN_PROGRESS"
	SDRollbackSuccessful  = "ROLLBACK_SUCCESSFUL"
	SDRollbackFailed      = "ROLLBACK_FAILED"
	SchedulingReplica     = "REPLICA"
	SchedulingDaemon      = "DAEMON"
	DefaultMinimumHealthy = 100
	DefaultMaximumPercent = 200
)

// Service keeps desiredCount tasks of a task definition running.
type Service struct {
	ServiceArn                    string                         `json:"serviceArn"`
	ServiceName                   string                         `json:"serviceName"`
	ClusterArn                    string                         `json:"clusterArn"`
	LoadBalancers                 []LoadBalancer                 `json:"loadBalancers"`
	ServiceRegistries             []ServiceRegistry              `json:"serviceRegistries"`
	Status                        string                         `json:"status"`
	DesiredCount                  int                            `json:"desiredCount"`
	RunningCount                  int                            `json:"runningCount"`
	PendingCount                  int                            `json:"pendingCount"`
	LaunchType                    string                         `json:"launchType,omitempty"`
	CapacityProviderStrategy      []CapacityProviderStrategyItem `json:"capacityProviderStrategy,omitempty"`
	TaskDefinition                string                         `json:"taskDefinition,omitempty"` // none for an EXTERNAL service without a primary task set
	DeploymentConfiguration       *DeploymentConfiguration       `json:"deploymentConfiguration,omitempty"`
	Deployments                   []Deployment                   `json:"deployments"`
	RoleArn                       string                         `json:"roleArn,omitempty"`
	Events                        []ServiceEvent                 `json:"events"`
	CreatedAt                     *Time                          `json:"createdAt,omitempty"`
	PlacementConstraints          []PlacementConstraint          `json:"placementConstraints"`
	PlacementStrategy             []PlacementStrategy            `json:"placementStrategy"`
	NetworkConfiguration          json.RawMessage                `json:"networkConfiguration,omitempty"`
	HealthCheckGracePeriodSeconds *int                           `json:"healthCheckGracePeriodSeconds,omitempty"`
	SchedulingStrategy            string                         `json:"schedulingStrategy"`
	DeploymentController          *DeploymentController          `json:"deploymentController,omitempty"`
	Tags                          []Tag                          `json:"tags,omitzero"`
	CreatedBy                     string                         `json:"createdBy,omitempty"`
	EnableECSManagedTags          bool                           `json:"enableECSManagedTags"`
	PropagateTags                 string                         `json:"propagateTags,omitempty"`
	EnableExecuteCommand          bool                           `json:"enableExecuteCommand"`
	CurrentServiceDeployment      string                         `json:"currentServiceDeployment,omitempty"`
	CurrentServiceRevisions       []ServiceRevisionSummary       `json:"currentServiceRevisions,omitempty"`
	// TaskSets are an EXTERNAL service's task sets (nil for other services,
	// which show none).
	TaskSets []TaskSet `json:"taskSets,omitzero"`
}

// DeploymentConfiguration shapes a rollout.
type DeploymentConfiguration struct {
	DeploymentCircuitBreaker *DeploymentCircuitBreaker `json:"deploymentCircuitBreaker,omitempty"`
	MaximumPercent           *int                      `json:"maximumPercent,omitempty"`
	MinimumHealthyPercent    *int                      `json:"minimumHealthyPercent,omitempty"`
	Alarms                   *DeploymentAlarms         `json:"alarms,omitempty"`
	Strategy                 string                    `json:"strategy,omitempty"`
	BakeTimeInMinutes        *int                      `json:"bakeTimeInMinutes,omitempty"`
	LinearConfiguration      *LinearConfiguration      `json:"linearConfiguration,omitempty"`
	CanaryConfiguration      *CanaryConfiguration      `json:"canaryConfiguration,omitempty"`
	LifecycleHooks           []DeploymentLifecycleHook `json:"lifecycleHooks,omitempty"`
}

// DeploymentCircuitBreaker fails (and may roll back) a deployment whose tasks keep failing.
type DeploymentCircuitBreaker struct {
	Enable   bool `json:"enable"`
	Rollback bool `json:"rollback"`
}

// DeploymentController names who deploys: ECS (rolling), CODE_DEPLOY or EXTERNAL.
type DeploymentController struct {
	Type string `json:"type"`
}

// Deployment is one version of a service's tasks during and after a rollout.
type Deployment struct {
	ID                 string `json:"id"`
	Status             string `json:"status"`
	TaskDefinition     string `json:"taskDefinition"`
	DesiredCount       int    `json:"desiredCount"`
	PendingCount       int    `json:"pendingCount"`
	RunningCount       int    `json:"runningCount"`
	FailedTasks        int    `json:"failedTasks"`
	CreatedAt          *Time  `json:"createdAt,omitempty"`
	UpdatedAt          *Time  `json:"updatedAt,omitempty"`
	LaunchType         string `json:"launchType,omitempty"`
	RolloutState       string `json:"rolloutState,omitempty"`
	RolloutStateReason string `json:"rolloutStateReason,omitempty"`
}

// ServiceEvent is a line in a service's history.
type ServiceEvent struct {
	ID        string `json:"id"`
	CreatedAt *Time  `json:"createdAt"`
	Message   string `json:"message"`
}

// PlacementConstraint binds placement (distinctInstance, memberOf).
type PlacementConstraint struct {
	Type       string `json:"type,omitempty"`
	Expression string `json:"expression,omitempty"`
}

// PlacementStrategy guides placement (binpack, spread, random).
type PlacementStrategy struct {
	Type  string `json:"type,omitempty"`
	Field string `json:"field,omitempty"`
}

// ServiceRegistry names the Cloud Map service in which a service's tasks
// are registered while they run (ECS's ServiceRegistry). Port, or
// ContainerName and ContainerPort, say which port an SRV record gives.
type ServiceRegistry struct {
	RegistryArn   string `json:"registryArn,omitempty"`
	Port          *int   `json:"port,omitempty"`
	ContainerName string `json:"containerName,omitempty"`
	ContainerPort *int   `json:"containerPort,omitempty"`
}

// CloudMapServiceID is the id of the Cloud Map service the registry names
// (arn:PARTITION:servicediscovery:REGION:ACCOUNT:service/srv-ID), and
// whether RegistryArn is such an ARN at all.
func (r ServiceRegistry) CloudMapServiceID() (string, bool) {
	parts := strings.SplitN(r.RegistryArn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "servicediscovery" {
		return "", false
	}
	id, ok := strings.CutPrefix(parts[5], "service/")
	if !ok || !strings.HasPrefix(id, "srv-") || strings.Contains(id, "/") {
		return "", false
	}
	return id, true
}

// ServiceRevision is a service's configuration at one change.
type ServiceRevision struct {
	ServiceRevisionArn   string            `json:"serviceRevisionArn"`
	ServiceArn           string            `json:"serviceArn"`
	ClusterArn           string            `json:"clusterArn"`
	TaskDefinition       string            `json:"taskDefinition"`
	LaunchType           string            `json:"launchType,omitempty"`
	LoadBalancers        []LoadBalancer    `json:"loadBalancers,omitempty"`
	ServiceRegistries    []ServiceRegistry `json:"serviceRegistries,omitempty"`
	NetworkConfiguration json.RawMessage   `json:"networkConfiguration,omitempty"`
	ContainerImages      []ContainerImage  `json:"containerImages,omitempty"`
	CreatedAt            *Time             `json:"createdAt,omitempty"`
}

// ContainerImage names an image a revision runs.
type ContainerImage struct {
	ContainerName string `json:"containerName,omitempty"`
	Image         string `json:"image,omitempty"`
}

// ServiceRevisionSummary counts a revision's tasks in a deployment.
type ServiceRevisionSummary struct {
	Arn                string `json:"arn"`
	RequestedTaskCount int    `json:"requestedTaskCount"`
	RunningTaskCount   int    `json:"runningTaskCount"`
	PendingTaskCount   int    `json:"pendingTaskCount"`
}

// ServiceDeployment is one rollout of a service, from revisions to a target.
type ServiceDeployment struct {
	ServiceDeploymentArn     string                           `json:"serviceDeploymentArn"`
	ServiceArn               string                           `json:"serviceArn"`
	ClusterArn               string                           `json:"clusterArn"`
	CreatedAt                *Time                            `json:"createdAt,omitempty"`
	StartedAt                *Time                            `json:"startedAt,omitempty"`
	FinishedAt               *Time                            `json:"finishedAt,omitempty"`
	StoppedAt                *Time                            `json:"stoppedAt,omitempty"`
	UpdatedAt                *Time                            `json:"updatedAt,omitempty"`
	SourceServiceRevisions   []ServiceRevisionSummary         `json:"sourceServiceRevisions"`
	TargetServiceRevision    *ServiceRevisionSummary          `json:"targetServiceRevision,omitempty"`
	Status                   string                           `json:"status"`
	StatusReason             string                           `json:"statusReason,omitempty"`
	DeploymentConfiguration  *DeploymentConfiguration         `json:"deploymentConfiguration,omitempty"`
	Rollback                 *Rollback                        `json:"rollback,omitempty"`
	DeploymentCircuitBreaker *ServiceDeploymentCircuitBreaker `json:"deploymentCircuitBreaker,omitempty"`
	// LifecycleStage is the stage of a blue/green, canary or linear
	// deployment (Stage*).
	LifecycleStage string `json:"lifecycleStage,omitempty"`
	// LifecycleHookDetails are the hooks of the current stage (filled when
	// described, from the deployment under way).
	LifecycleHookDetails []LifecycleHookDetail `json:"lifecycleHookDetails,omitempty"`
}

// LifecycleHookDetail is one hook of a deployment's current stage: its
// hookId (for ContinueServiceDeployment), status and timeout.
type LifecycleHookDetail struct {
	HookID        string `json:"hookId,omitempty"`
	Status        string `json:"status,omitempty"`
	TargetArn     string `json:"targetArn,omitempty"`
	TargetType    string `json:"targetType,omitempty"`
	ExpiresAt     *Time  `json:"expiresAt,omitempty"`
	TimeoutAction string `json:"timeoutAction,omitempty"`
}

// Rollback says why and to what a deployment rolled back.
type Rollback struct {
	Reason             string `json:"reason,omitempty"`
	StartedAt          *Time  `json:"startedAt,omitempty"`
	ServiceRevisionArn string `json:"serviceRevisionArn,omitempty"`
}

// ServiceDeploymentCircuitBreaker is the circuit breaker's view of a deployment.
type ServiceDeploymentCircuitBreaker struct {
	Status       string `json:"status"`
	FailureCount int    `json:"failureCount"`
	Threshold    int    `json:"threshold"`
}

// CircuitBreakerThreshold is how many failed tasks fail a deployment:
// max(3, min(200, ceil(0.5 x desiredCount))).
func CircuitBreakerThreshold(desired int) int {
	return max(3, min(200, int(math.Ceil(0.5*float64(desired)))))
}

// MinimumHealthy is the fewest healthy tasks a rollout may leave: the
// percentage of desired, rounded up.
func MinimumHealthy(desired, percent int) int {
	return int(math.Ceil(float64(desired) * float64(percent) / 100))
}

// MaximumTasks is the most tasks a rollout may run at once: the percentage
// of desired, rounded down.
func MaximumTasks(desired, percent int) int {
	return int(math.Floor(float64(desired) * float64(percent) / 100))
}

// Percentages returns a configuration's minimum healthy and maximum
// percentages with ECS's defaults (for DAEMON services: 0 and 100).
func (c *DeploymentConfiguration) Percentages(daemon bool) (minHealthy, maxPercent int) {
	minHealthy, maxPercent = DefaultMinimumHealthy, DefaultMaximumPercent
	if daemon {
		minHealthy, maxPercent = 0, 100
	}
	if c != nil && c.MinimumHealthyPercent != nil {
		minHealthy = *c.MinimumHealthyPercent
	}
	if c != nil && c.MaximumPercent != nil {
		maxPercent = *c.MaximumPercent
	}
	return minHealthy, maxPercent
}

// ValidateDeploymentConfiguration checks a deployment configuration as ECS
// does: percentages, the strategy and its canary or linear settings, bake
// times and lifecycle hooks (deployconfig.go). Whether a traffic-shifting
// strategy has the load balancers it needs is CheckStrategyLoadBalancers'.
func ValidateDeploymentConfiguration(c *DeploymentConfiguration, daemon bool) error {
	if c == nil {
		return nil
	}
	minH, maxP := c.Percentages(daemon)
	if minH < 0 || minH > 100 {
		return InvalidParameter("deploymentConfiguration.minimumHealthyPercent must be between 0 and 100; got %d.", minH)
	}
	if maxP < 100 || maxP > 200 {
		return InvalidParameter("deploymentConfiguration.maximumPercent must be between 100 and 200; got %d.", maxP)
	}
	if daemon && maxP != 100 {
		return InvalidParameter("The maximumPercent of a DAEMON service must be 100; got %d.", maxP)
	}
	if minH == 100 && maxP == 100 {
		return InvalidParameter("With minimumHealthyPercent 100 and maximumPercent 100 no task could ever be replaced: raise maximumPercent or lower minimumHealthyPercent.")
	}
	switch c.Strategy {
	case "", StrategyRolling, StrategyBlueGreen, StrategyLinear, StrategyCanary:
	default:
		return InvalidParameter("deploymentConfiguration.strategy should be one of [ROLLING,BLUE_GREEN,LINEAR,CANARY]")
	}
	return validateTrafficShift(c)
}

// LoadBalancer is one of a service's load balancer registrations: each of
// its tasks' containerName:containerPort is a target of the target group.
// LoadBalancerName names a Classic Load Balancer, which Flotta does not have.
type LoadBalancer struct {
	TargetGroupArn   string `json:"targetGroupArn,omitempty"`
	LoadBalancerName string `json:"loadBalancerName,omitempty"`
	ContainerName    string `json:"containerName,omitempty"`
	ContainerPort    *int   `json:"containerPort,omitempty"`
	// AdvancedConfiguration is set for blue/green, linear and canary
	// deployments: the alternate group and the listener rules to shift.
	AdvancedConfiguration *AdvancedConfiguration `json:"advancedConfiguration,omitempty"`
}
