package model

import (
	"regexp"
)

// Cluster statuses.
const (
	StatusActive   = "ACTIVE"
	StatusInactive = "INACTIVE"
)

// Cluster is an ECS cluster. The counts are derived when the cluster is
// described; the store keeps everything else.
type Cluster struct {
	ClusterArn                        string                         `json:"clusterArn"`
	ClusterName                       string                         `json:"clusterName"`
	Status                            string                         `json:"status"`
	RegisteredContainerInstancesCount int                            `json:"registeredContainerInstancesCount"`
	RunningTasksCount                 int                            `json:"runningTasksCount"`
	PendingTasksCount                 int                            `json:"pendingTasksCount"`
	ActiveServicesCount               int                            `json:"activeServicesCount"`
	Statistics                        []KeyValuePair                 `json:"statistics,omitempty"`
	Tags                              []Tag                          `json:"tags,omitempty"`
	Settings                          []ClusterSetting               `json:"settings,omitempty"`
	Configuration                     *ClusterConfiguration          `json:"configuration,omitempty"`
	CapacityProviders                 []string                       `json:"capacityProviders"`
	DefaultCapacityProviderStrategy   []CapacityProviderStrategyItem `json:"defaultCapacityProviderStrategy"`
	Attachments                       []Attachment                   `json:"attachments,omitempty"`
	AttachmentsStatus                 string                         `json:"attachmentsStatus,omitempty"`
	ServiceConnectDefaults            *ServiceConnectDefaults        `json:"serviceConnectDefaults,omitempty"`
}

// ClusterSetting is a named cluster setting; ECS has one, containerInsights.
type ClusterSetting struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// ClusterConfiguration holds execute-command and managed-storage settings.
type ClusterConfiguration struct {
	ExecuteCommandConfiguration *ExecuteCommandConfiguration `json:"executeCommandConfiguration,omitempty"`
	ManagedStorageConfiguration *ManagedStorageConfiguration `json:"managedStorageConfiguration,omitempty"`
}

// ExecuteCommandConfiguration says how ECS Exec sessions are logged.
type ExecuteCommandConfiguration struct {
	KmsKeyID         string                          `json:"kmsKeyId,omitempty"`
	Logging          string                          `json:"logging,omitempty"`
	LogConfiguration *ExecuteCommandLogConfiguration `json:"logConfiguration,omitempty"`
}

// ExecuteCommandLogConfiguration names where ECS Exec logs go.
type ExecuteCommandLogConfiguration struct {
	CloudWatchEncryptionEnabled bool   `json:"cloudWatchEncryptionEnabled,omitempty"`
	CloudWatchLogGroupName      string `json:"cloudWatchLogGroupName,omitempty"`
	S3BucketName                string `json:"s3BucketName,omitempty"`
	S3EncryptionEnabled         bool   `json:"s3EncryptionEnabled,omitempty"`
	S3KeyPrefix                 string `json:"s3KeyPrefix,omitempty"`
}

// ManagedStorageConfiguration names the keys for managed storage.
type ManagedStorageConfiguration struct {
	FargateEphemeralStorageKmsKeyID string `json:"fargateEphemeralStorageKmsKeyId,omitempty"`
	KmsKeyID                        string `json:"kmsKeyId,omitempty"`
}

// CapacityProviderStrategyItem weights a capacity provider.
type CapacityProviderStrategyItem struct {
	CapacityProvider string `json:"capacityProvider"`
	Weight           int    `json:"weight"`
	Base             int    `json:"base"`
}

// Attachment is a resource attached to a cluster or task (e.g. an ENI).
type Attachment struct {
	ID      string         `json:"id,omitempty"`
	Type    string         `json:"type,omitempty"`
	Status  string         `json:"status,omitempty"`
	Details []KeyValuePair `json:"details,omitempty"`
}

// ServiceConnectDefaults names a cluster's default Service Connect namespace.
type ServiceConnectDefaults struct {
	Namespace string `json:"namespace,omitempty"`
}

// KeyValuePair is ECS's name/value pair (environment, statistics, details).
type KeyValuePair struct {
	Name  *string `json:"name,omitempty"`
	Value *string `json:"value,omitempty"`
}

// Pair builds a KeyValuePair from two strings.
func Pair(name, value string) KeyValuePair { return KeyValuePair{Name: &name, Value: &value} }

var nameRE = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,255}$`)

// ValidName says whether s is a valid cluster, family, container or volume
// name: 1 to 255 letters, digits, hyphens and underscores.
func ValidName(s string) bool { return nameRE.MatchString(s) }

// ValidateClusterName checks a cluster name as CreateCluster does.
func ValidateClusterName(name string) error {
	if !ValidName(name) {
		return InvalidParameter("Cluster name must match ^[a-zA-Z0-9\\-_]{1,255}$, but was %q. Up to 255 letters (uppercase and lowercase), numbers, underscores, and hyphens are allowed.", Truncate(name, 300))
	}
	return nil
}

// ValidateClusterSettings checks settings as CreateCluster, UpdateCluster and
// UpdateClusterSettings do.
func ValidateClusterSettings(settings []ClusterSetting) error {
	for _, s := range settings {
		if s.Name != "containerInsights" {
			return InvalidParameter("Invalid setting 'name': %q is not a cluster setting. The only cluster setting is containerInsights.", Truncate(s.Name, 100))
		}
		switch s.Value {
		case "enabled", "disabled", "enhanced":
		default:
			return InvalidParameter("Invalid setting 'value': containerInsights must be enabled, disabled or enhanced, not %q.", Truncate(s.Value, 100))
		}
	}
	return nil
}

// MergeSettings returns current with each of updates replacing the setting of
// the same name.
func MergeSettings(current, updates []ClusterSetting) []ClusterSetting {
	out := append([]ClusterSetting(nil), current...)
	for _, u := range updates {
		replaced := false
		for i := range out {
			if out[i].Name == u.Name {
				out[i].Value = u.Value
				replaced = true
			}
		}
		if !replaced {
			out = append(out, u)
		}
	}
	return out
}

// ValidateClusterConfiguration checks the enum members of a configuration.
func ValidateClusterConfiguration(c *ClusterConfiguration) error {
	if c == nil || c.ExecuteCommandConfiguration == nil {
		return nil
	}
	switch c.ExecuteCommandConfiguration.Logging {
	case "", "NONE", "DEFAULT", "OVERRIDE":
	default:
		return InvalidParameter("executeCommandConfiguration.logging must be NONE, DEFAULT or OVERRIDE, not %q.", Truncate(c.ExecuteCommandConfiguration.Logging, 100))
	}
	if c.ExecuteCommandConfiguration.Logging == "OVERRIDE" && c.ExecuteCommandConfiguration.LogConfiguration == nil {
		return InvalidParameter("executeCommandConfiguration.logConfiguration is required when logging is OVERRIDE.")
	}
	return nil
}

// Truncate cuts s to n bytes, marked "...", so that a refusal quotes a
// hostile input without echoing all of it.
func Truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
