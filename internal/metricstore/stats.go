package metricstore

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
)

// Statistic names, as GetMetricStatistics spells them. Percentiles are
// written "p" plus a number from 0 to 100, for example "p99" or "p99.9".
const (
	Average     = "Average"
	Sum         = "Sum"
	Minimum     = "Minimum"
	Maximum     = "Maximum"
	SampleCount = "SampleCount"
)

// Query selects the data of one metric for Statistics.
type Query struct {
	// Start is inclusive, End exclusive. Buckets start at Start.
	Start, End time.Time
	// Period is the bucket length; at least one millisecond.
	Period time.Duration
	// Stats are the statistics to compute (Average, Sum, Minimum, Maximum,
	// SampleCount, pNN.NN). At least one.
	Stats []string
	// Unit, when set, selects only points sent with this unit. When empty,
	// each unit gets its own datapoints, as in CloudWatch.
	Unit string
}

// Datapoint is the statistics of one period bucket, as GetMetricStatistics
// answers them. Only the requested statistics are set.
type Datapoint struct {
	// Timestamp is the start of the bucket.
	Timestamp time.Time
	// Unit of the points in the bucket.
	Unit string
	// Average, Sum, Minimum, Maximum and SampleCount are set when asked for.
	Average, Sum, Minimum, Maximum, SampleCount *float64
	// Percentiles maps each asked "pNN" to its value (nearest rank).
	Percentiles map[string]float64
}

// Statistics computes q.Stats over each q.Period bucket of metric m, which
// must match exactly: the same namespace, name and set of dimensions. It
// returns one Datapoint per bucket (and unit) that has data, oldest first.
func (s *Store) Statistics(ctx context.Context, m Metric, q Query) ([]Datapoint, error) {
	pcts, err := checkQuery(m, q)
	if err != nil {
		return nil, err
	}
	start, end := q.Start.UnixMilli(), q.End.UnixMilli()
	period := q.Period.Milliseconds()
	querier, err := s.db.Querier(start, end-1)
	if err != nil {
		return nil, fmt.Errorf("metricstore: %w", err)
	}
	defer querier.Close()

	ms := []*labels.Matcher{
		labels.MustNewMatcher(labels.MatchEqual, labelName, m.Name),
		labels.MustNewMatcher(labels.MatchEqual, labelNamespace, m.Namespace),
	}
	if q.Unit != "" {
		ms = append(ms, labels.MustNewMatcher(labels.MatchEqual, labelUnit, q.Unit))
	}
	for k, v := range m.Dimensions {
		ms = append(ms, labels.MustNewMatcher(labels.MatchEqual, escapeDim(k), v))
	}
	hints := &storage.SelectHints{Start: start, End: end - 1}
	set := querier.Select(ctx, false, hints, ms...)

	type key struct {
		unit   string
		bucket int64
	}
	buckets := map[key]*acc{}
	var it chunkenc.Iterator
	for set.Next() {
		series := set.At()
		ls := series.Labels()
		if dimCount(ls) != len(m.Dimensions) {
			continue // more dimensions: a different CloudWatch metric
		}
		unit := ls.Get(labelUnit)
		it = series.Iterator(it)
		var cur *acc
		curBucket := int64(math.MinInt64)
		for vt := it.Next(); vt != chunkenc.ValNone; vt = it.Next() {
			if vt != chunkenc.ValFloat {
				continue
			}
			t, v := it.At()
			if t < start || t >= end {
				continue
			}
			b := (t - start) / period
			if b != curBucket {
				k := key{unit, b}
				cur = buckets[k]
				if cur == nil {
					cur = &acc{min: math.Inf(1), max: math.Inf(-1)}
					buckets[k] = cur
				}
				curBucket = b
			}
			cur.add(v, len(pcts) > 0)
		}
		if err := it.Err(); err != nil {
			return nil, fmt.Errorf("metricstore: read series: %w", err)
		}
	}
	if err := set.Err(); err != nil {
		return nil, fmt.Errorf("metricstore: select: %w", err)
	}

	out := make([]Datapoint, 0, len(buckets))
	for k, a := range buckets {
		out = append(out, a.datapoint(time.UnixMilli(start+k.bucket*period).UTC(), k.unit, q.Stats, pcts))
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].Timestamp.Equal(out[j].Timestamp) {
			return out[i].Timestamp.Before(out[j].Timestamp)
		}
		return out[i].Unit < out[j].Unit
	})
	return out, nil
}

// checkQuery validates q and parses its percentiles (name -> fraction 0..1).
func checkQuery(m Metric, q Query) (map[string]float64, error) {
	if err := m.validate(); err != nil {
		return nil, err
	}
	if q.Period < time.Millisecond {
		return nil, fmt.Errorf("metricstore: period %v is shorter than a millisecond", q.Period)
	}
	if !q.End.After(q.Start) {
		return nil, fmt.Errorf("metricstore: end %s is not after start %s", q.End, q.Start)
	}
	if len(q.Stats) == 0 {
		return nil, fmt.Errorf("metricstore: no statistics asked for")
	}
	pcts := map[string]float64{}
	for _, st := range q.Stats {
		switch st {
		case Average, Sum, Minimum, Maximum, SampleCount:
			continue
		}
		num, ok := strings.CutPrefix(st, "p")
		f, err := strconv.ParseFloat(num, 64)
		if !ok || err != nil || f < 0 || f > 100 || math.IsNaN(f) {
			return nil, fmt.Errorf("metricstore: unknown statistic %q (want Average, Sum, Minimum, Maximum, SampleCount or pNN.NN)", st)
		}
		pcts[st] = f / 100
	}
	return pcts, nil
}
