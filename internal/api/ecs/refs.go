package ecs

import (
	"context"
	"strconv"
	"strings"

	"github.com/flotta-dev/flotta/internal/model"
)

// clusterName resolves a cluster reference, a name or an ARN, to a name. An
// empty reference is the default cluster. A reference to a cluster that could
// not exist here (another account or region) resolves to found=false.
func (a *API) clusterName(ref string) (name string, found bool, err error) {
	if ref == "" {
		return DefaultCluster, true, nil
	}
	if model.IsARN(ref) {
		arn, perr := model.ParseARN(ref)
		if perr != nil || arn.Service != "ecs" || !strings.HasPrefix(arn.Resource, "cluster/") {
			return "", false, model.InvalidParameter("Invalid cluster identifier %q: expected a cluster name or an ARN of the form arn:aws:ecs:REGION:ACCOUNT:cluster/NAME.", model.Truncate(ref, 300))
		}
		name = strings.TrimPrefix(arn.Resource, "cluster/")
		if !model.ValidName(name) {
			return "", false, model.InvalidParameter("Cluster must match ^[a-zA-Z0-9\\-_]{1,255}$, but was %q.", model.Truncate(name, 300))
		}
		return name, a.State.Scope.Owns(arn), nil
	}
	if !model.ValidName(ref) {
		return "", false, model.InvalidParameter("Cluster must match ^[a-zA-Z0-9\\-_]{1,255}$, but was %q.", model.Truncate(ref, 300))
	}
	return ref, true, nil
}

// activeCluster resolves a reference to an ACTIVE cluster, or answers
// ClusterNotFoundException.
func (a *API) activeCluster(ctx context.Context, ref string) (*model.Cluster, error) {
	name, found, err := a.clusterName(ref)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, model.ErrClusterNotFound()
	}
	c, err := a.State.GetCluster(ctx, name)
	if err != nil {
		return nil, err
	}
	if c == nil || c.Status != model.StatusActive {
		return nil, model.ErrClusterNotFound()
	}
	return c, nil
}

// taskDefRef is a parsed task definition reference.
type taskDefRef struct {
	Family   string
	Revision int // 0: the latest ACTIVE revision
}

// parseTaskDefRef reads "family", "family:revision" or a task definition ARN.
// found is false for an ARN of another account or region.
func (a *API) parseTaskDefRef(ref string) (r taskDefRef, found bool, err error) {
	s := ref
	found = true
	if model.IsARN(ref) {
		arn, perr := model.ParseARN(ref)
		if perr != nil || arn.Service != "ecs" || !strings.HasPrefix(arn.Resource, "task-definition/") {
			return r, false, model.Client("Invalid task definition identifier %q: expected family, family:revision or an ARN of the form arn:aws:ecs:REGION:ACCOUNT:task-definition/FAMILY:REVISION.", model.Truncate(ref, 300))
		}
		s = strings.TrimPrefix(arn.Resource, "task-definition/")
		found = a.State.Scope.Owns(arn)
	}
	family, rev, hasRev := strings.Cut(s, ":")
	if !model.ValidName(family) {
		return r, false, model.Client("Invalid task definition identifier %q: the family must have 1 to 255 letters, numbers, hyphens and underscores.", model.Truncate(ref, 300))
	}
	r.Family = family
	if hasRev {
		n, err := strconv.Atoi(rev)
		if err != nil || n < 1 {
			return r, false, model.InvalidParameter("Invalid revision number. Number: %s", model.Truncate(rev, 32))
		}
		r.Revision = n
	}
	return r, found, nil
}
