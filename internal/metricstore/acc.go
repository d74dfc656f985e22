package metricstore

import (
	"math"
	"sort"
	"time"
)

// acc accumulates the points of one bucket.
type acc struct {
	n        int
	sum      float64
	min, max float64
	values   []float64 // kept only when a percentile is asked for
}

func (a *acc) add(v float64, keep bool) {
	a.n++
	a.sum += v
	a.min = math.Min(a.min, v)
	a.max = math.Max(a.max, v)
	if keep {
		a.values = append(a.values, v)
	}
}

func (a *acc) datapoint(ts time.Time, unit string, stats []string, pcts map[string]float64) Datapoint {
	d := Datapoint{Timestamp: ts, Unit: unit}
	f := func(v float64) *float64 { return &v }
	for _, st := range stats {
		switch st {
		case Average:
			d.Average = f(a.sum / float64(a.n))
		case Sum:
			d.Sum = f(a.sum)
		case Minimum:
			d.Minimum = f(a.min)
		case Maximum:
			d.Maximum = f(a.max)
		case SampleCount:
			d.SampleCount = f(float64(a.n))
		}
	}
	if len(pcts) > 0 {
		sort.Float64s(a.values)
		d.Percentiles = make(map[string]float64, len(pcts))
		for name, p := range pcts {
			d.Percentiles[name] = nearestRank(a.values, p)
		}
	}
	return d
}

// nearestRank is the smallest value with at least p of the values at or
// below it; sorted must be sorted and non-empty.
func nearestRank(sorted []float64, p float64) float64 {
	i := int(math.Ceil(p*float64(len(sorted)))) - 1
	if i < 0 {
		i = 0
	}
	return sorted[i]
}
