package metricstore

import (
	"context"
	"fmt"
	"math"
	"sort"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
)

// List returns the metrics stored, as ListMetrics does: namespace and name
// filter when not empty; every entry of dims must be among a metric's
// dimensions, with the same value, or with any value when the value is
// empty. Metrics are returned once each (whatever their units), sorted by
// namespace, name and dimensions.
func (s *Store) List(ctx context.Context, namespace, name string, dims map[string]string) ([]Metric, error) {
	q, err := s.db.Querier(math.MinInt64, math.MaxInt64)
	if err != nil {
		return nil, fmt.Errorf("metricstore: %w", err)
	}
	defer q.Close()
	// A matcher that every series satisfies, so that Select has one.
	ms := []*labels.Matcher{labels.MustNewMatcher(labels.MatchRegexp, labelNamespace, ".+")}
	if namespace != "" {
		ms[0] = labels.MustNewMatcher(labels.MatchEqual, labelNamespace, namespace)
	}
	if name != "" {
		ms = append(ms, labels.MustNewMatcher(labels.MatchEqual, labelName, name))
	}
	for k, v := range dims {
		if v == "" {
			ms = append(ms, labels.MustNewMatcher(labels.MatchRegexp, escapeDim(k), ".+"))
		} else {
			ms = append(ms, labels.MustNewMatcher(labels.MatchEqual, escapeDim(k), v))
		}
	}
	set := q.Select(ctx, false, &storage.SelectHints{Start: math.MinInt64, End: math.MaxInt64, Func: "series"}, ms...)
	seen := map[string]Metric{}
	for set.Next() {
		m, _ := metricOf(set.At().Labels())
		seen[m.key()] = m
	}
	if err := set.Err(); err != nil {
		return nil, fmt.Errorf("metricstore: list: %w", err)
	}
	keys := make([]string, 0, len(seen))
	for k := range seen {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]Metric, len(keys))
	for i, k := range keys {
		out[i] = seen[k]
	}
	return out, nil
}
