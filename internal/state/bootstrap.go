package state

import (
	"context"
	"errors"

	"github.com/flotta-dev/flotta/internal/model"
	"github.com/flotta-dev/flotta/internal/store"
)

const defaultClusterMarker = Root + "bootstrap/default-cluster"

// EnsureDefaultCluster creates the "default" cluster the first time the store
// is used, so that it exists from the first start like ECS's. It runs on every
// start but acts once: a user who deletes the default cluster keeps it deleted.
func (s *State) EnsureDefaultCluster(ctx context.Context, settings []model.ClusterSetting) error {
	c := model.Cluster{
		ClusterName:                     "default",
		ClusterArn:                      s.Scope.ClusterARN("default"),
		Status:                          model.StatusActive,
		Settings:                        settings,
		CapacityProviders:               []string{},
		DefaultCapacityProviderStrategy: []model.CapacityProviderStrategyItem{},
	}
	_, err := s.db.Commit(ctx,
		[]store.Guard{{Key: defaultClusterMarker, ModRev: 0}, {Key: clusterKey("default"), ModRev: 0}},
		[]store.Op{store.Put(defaultClusterMarker, []byte("1")), store.Put(clusterKey("default"), mustJSON(c))})
	if errors.Is(err, store.ErrConflict) {
		return nil
	}
	return err
}
