package ecs

import (
	"context"
	"slices"

	"github.com/flotta-dev/flotta/internal/model"
	"github.com/flotta-dev/flotta/internal/state"
)

type createClusterInput struct {
	ClusterName                     string                               `json:"clusterName"`
	Tags                            []model.Tag                          `json:"tags"`
	Settings                        []model.ClusterSetting               `json:"settings"`
	Configuration                   *model.ClusterConfiguration          `json:"configuration"`
	CapacityProviders               []string                             `json:"capacityProviders"`
	DefaultCapacityProviderStrategy []model.CapacityProviderStrategyItem `json:"defaultCapacityProviderStrategy"`
	ServiceConnectDefaults          *model.ServiceConnectDefaults        `json:"serviceConnectDefaults"`
}

type clusterOutput struct {
	Cluster *model.Cluster `json:"cluster"`
}

// builtinCapacityProviders are the providers every account has.
var builtinCapacityProviders = []string{"FARGATE", "FARGATE_SPOT"}

// CreateCluster creates a cluster, or returns the ACTIVE one of that name.
func (a *API) CreateCluster(ctx context.Context, in *createClusterInput) (*clusterOutput, error) {
	name := in.ClusterName
	if name == "" {
		name = DefaultCluster
	}
	if err := model.ValidateClusterName(name); err != nil {
		return nil, err
	}
	if err := model.ValidateTags(nil, in.Tags); err != nil {
		return nil, err
	}
	if err := model.ValidateClusterSettings(in.Settings); err != nil {
		return nil, err
	}
	if err := model.ValidateClusterConfiguration(in.Configuration); err != nil {
		return nil, err
	}
	if err := validateCapacityProviders(in.CapacityProviders, in.DefaultCapacityProviderStrategy); err != nil {
		return nil, err
	}
	settings := in.Settings
	if !slices.ContainsFunc(settings, func(s model.ClusterSetting) bool { return s.Name == "containerInsights" }) {
		// Like ECS, a new cluster takes containerInsights from the account setting.
		eff, err := a.State.EffectiveAccountSettings(ctx, a.caller(ctx))
		if err != nil {
			return nil, err
		}
		for _, s := range eff {
			if s.Name == "containerInsights" {
				settings = append(settings, model.ClusterSetting{Name: s.Name, Value: s.Value})
			}
		}
	}
	c, _, err := a.State.CreateCluster(ctx, model.Cluster{
		ClusterName:                     name,
		Tags:                            in.Tags,
		Settings:                        settings,
		Configuration:                   in.Configuration,
		CapacityProviders:               in.CapacityProviders,
		DefaultCapacityProviderStrategy: in.DefaultCapacityProviderStrategy,
		ServiceConnectDefaults:          in.ServiceConnectDefaults,
	})
	if err != nil {
		return nil, err
	}
	return &clusterOutput{Cluster: a.present(ctx, c, allIncludes)}, nil
}

func validateCapacityProviders(providers []string, strategy []model.CapacityProviderStrategyItem) error {
	for _, p := range providers {
		if !slices.Contains(builtinCapacityProviders, p) {
			return model.InvalidParameter("The specified capacity provider %q does not exist. Flotta offers FARGATE and FARGATE_SPOT.", model.Truncate(p, 255))
		}
	}
	for _, s := range strategy {
		if !slices.Contains(providers, s.CapacityProvider) {
			return model.InvalidParameter("The default capacity provider strategy names %q, which is not one of the cluster's capacity providers.", model.Truncate(s.CapacityProvider, 255))
		}
		if s.Weight < 0 || s.Weight > 1000 || s.Base < 0 || s.Base > 100000 {
			return model.InvalidParameter("A capacity provider strategy weight must be between 0 and 1000 and its base between 0 and 100000.")
		}
	}
	return nil
}

// checkStrategy refuses a capacityProviderStrategy of RunTask, CreateService
// or UpdateService in ECS's words. Capacity providers come later; until then
// a strategy that ECS would accept is refused as not supported yet, rather
// than run on container instances as if it had not been given.
func checkStrategy(c *model.Cluster, launchType string, strategy []model.CapacityProviderStrategyItem) error {
	if len(strategy) == 0 {
		return nil
	}
	if launchType != "" {
		return model.InvalidParameter("Specifying both a launch type and capacity provider strategy is not supported. Remove one and try again.")
	}
	for _, s := range strategy {
		if !slices.Contains(c.CapacityProviders, s.CapacityProvider) {
			return model.InvalidParameter("The specified capacity provider strategy cannot contain a capacity provider that is not associated with the cluster. Associate the capacity provider with the cluster or specify a valid capacity provider and try again.")
		}
	}
	return model.InvalidParameter("Capacity provider strategies are not supported yet; leave capacityProviderStrategy out to run on container instances (EC2).")
}

// includes are DescribeClusters' optional parts.
type includes struct{ attachments, configurations, settings, statistics, tags bool }

var allIncludes = includes{true, true, true, true, true}

func parseIncludes(in []string) (includes, error) {
	var inc includes
	for _, s := range in {
		switch s {
		case "ATTACHMENTS":
			inc.attachments = true
		case "CONFIGURATIONS":
			inc.configurations = true
		case "SETTINGS":
			inc.settings = true
		case "STATISTICS":
			inc.statistics = true
		case "TAGS":
			inc.tags = true
		default:
			return inc, model.InvalidParameter("include should be one of [ATTACHMENTS,CONFIGURATIONS,SETTINGS,STATISTICS,TAGS]")
		}
	}
	return inc, nil
}

// present fills a cluster's counts and keeps only the parts asked for.
func (a *API) present(ctx context.Context, c *model.Cluster, inc includes) *model.Cluster {
	out := *c
	if c.Status == model.StatusActive {
		if u, err := a.State.CountClusterUsage(ctx, c.ClusterName); err == nil {
			out.ActiveServicesCount = int(u.Services)
			out.RegisteredContainerInstancesCount = int(u.Instances)
		} else {
			a.Logger.Warn("count cluster usage", "cluster", c.ClusterName, "err", err)
		}
		if running, pending, err := a.State.CountTasks(ctx, c.ClusterName); err == nil {
			out.RunningTasksCount, out.PendingTasksCount = running, pending
		} else {
			a.Logger.Warn("count cluster tasks", "cluster", c.ClusterName, "err", err)
		}
	}
	if !inc.tags {
		out.Tags = nil
	}
	if !inc.settings {
		out.Settings = nil
	}
	if !inc.configurations {
		out.Configuration = nil
	}
	if !inc.attachments {
		out.Attachments = nil
	}
	if inc.statistics {
		out.Statistics = state.ClusterStatistics(&out)
	}
	return &out
}

type describeClustersInput struct {
	Clusters []string `json:"clusters"`
	Include  []string `json:"include"`
}

type describeClustersOutput struct {
	Clusters []*model.Cluster `json:"clusters"`
	Failures []failure        `json:"failures"`
}

// DescribeClusters describes clusters by name or ARN; unknown ones are failures.
func (a *API) DescribeClusters(ctx context.Context, in *describeClustersInput) (*describeClustersOutput, error) {
	inc, err := parseIncludes(in.Include)
	if err != nil {
		return nil, err
	}
	refs := in.Clusters
	if len(refs) == 0 {
		refs = []string{DefaultCluster}
	}
	if len(refs) > 100 {
		return nil, model.InvalidParameter("clusters can have at most 100 items.")
	}
	names := make([]string, len(refs))
	var lookup []string
	for i, ref := range refs {
		name, found, err := a.clusterName(ref)
		if err != nil {
			return nil, err
		}
		if found {
			names[i] = name
			lookup = append(lookup, name)
		}
	}
	clusters, err := a.State.GetClusters(ctx, lookup)
	if err != nil {
		return nil, err
	}
	out := &describeClustersOutput{Clusters: []*model.Cluster{}, Failures: []failure{}}
	for i, ref := range refs {
		c := clusters[names[i]]
		if names[i] == "" || c == nil {
			arn := ref
			if !model.IsARN(ref) {
				arn = a.State.Scope.ClusterARN(ref)
			}
			out.Failures = append(out.Failures, failure{Arn: arn, Reason: "MISSING"})
			continue
		}
		out.Clusters = append(out.Clusters, a.present(ctx, c, inc))
	}
	return out, nil
}

type listInput struct {
	MaxResults *int   `json:"maxResults"`
	NextToken  string `json:"nextToken"`
}

type listClustersOutput struct {
	ClusterArns []string `json:"clusterArns"`
	NextToken   string   `json:"nextToken,omitempty"`
}

// ListClusters lists ACTIVE clusters.
func (a *API) ListClusters(ctx context.Context, in *listInput) (*listClustersOutput, error) {
	limit, err := state.PageSize(in.MaxResults, 100, 100)
	if err != nil {
		return nil, err
	}
	arns, next, err := a.State.ListClusters(ctx, in.NextToken, limit)
	if err != nil {
		return nil, err
	}
	if arns == nil {
		arns = []string{}
	}
	return &listClustersOutput{ClusterArns: arns, NextToken: next}, nil
}

type updateClusterInput struct {
	Cluster                *string                       `json:"cluster"`
	Settings               []model.ClusterSetting        `json:"settings"`
	Configuration          *model.ClusterConfiguration   `json:"configuration"`
	ServiceConnectDefaults *model.ServiceConnectDefaults `json:"serviceConnectDefaults"`
}

// UpdateCluster changes a cluster's settings, configuration or Service Connect defaults.
func (a *API) UpdateCluster(ctx context.Context, in *updateClusterInput) (*clusterOutput, error) {
	if in.Cluster == nil || *in.Cluster == "" {
		return nil, model.InvalidParameter("cluster is required.")
	}
	if err := model.ValidateClusterSettings(in.Settings); err != nil {
		return nil, err
	}
	if err := model.ValidateClusterConfiguration(in.Configuration); err != nil {
		return nil, err
	}
	return a.updateCluster(ctx, *in.Cluster, func(c *model.Cluster) error {
		c.Settings = model.MergeSettings(c.Settings, in.Settings)
		if in.Configuration != nil {
			c.Configuration = in.Configuration
		}
		if in.ServiceConnectDefaults != nil {
			c.ServiceConnectDefaults = in.ServiceConnectDefaults
		}
		return nil
	})
}

type updateClusterSettingsInput struct {
	Cluster  *string                `json:"cluster"`
	Settings []model.ClusterSetting `json:"settings"`
}

// UpdateClusterSettings changes a cluster's settings.
func (a *API) UpdateClusterSettings(ctx context.Context, in *updateClusterSettingsInput) (*clusterOutput, error) {
	if in.Cluster == nil || *in.Cluster == "" {
		return nil, model.InvalidParameter("cluster is required.")
	}
	if in.Settings == nil {
		return nil, model.InvalidParameter("settings is required.")
	}
	if err := model.ValidateClusterSettings(in.Settings); err != nil {
		return nil, err
	}
	return a.updateCluster(ctx, *in.Cluster, func(c *model.Cluster) error {
		c.Settings = model.MergeSettings(c.Settings, in.Settings)
		return nil
	})
}

func (a *API) updateCluster(ctx context.Context, ref string, fn func(*model.Cluster) error) (*clusterOutput, error) {
	name, found, err := a.clusterName(ref)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, model.ErrClusterNotFound()
	}
	c, err := a.State.UpdateCluster(ctx, name, fn)
	if err != nil {
		return nil, err
	}
	return &clusterOutput{Cluster: a.present(ctx, c, allIncludes)}, nil
}

type deleteClusterInput struct {
	Cluster *string `json:"cluster"`
}

// DeleteCluster deletes an empty cluster; it then shows as INACTIVE.
func (a *API) DeleteCluster(ctx context.Context, in *deleteClusterInput) (*clusterOutput, error) {
	if in.Cluster == nil || *in.Cluster == "" {
		return nil, model.InvalidParameter("cluster is required.")
	}
	name, found, err := a.clusterName(*in.Cluster)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, model.ErrClusterNotFound()
	}
	c, err := a.State.DeleteCluster(ctx, name)
	if err != nil {
		return nil, err
	}
	return &clusterOutput{Cluster: a.present(ctx, c, allIncludes)}, nil
}
