package metricstore

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
)

// Errors that Append wraps, so that an API handler can map them to
// CloudWatch's InvalidParameterValue answers.
var (
	// ErrInvalidValue: the value is NaN or ±Inf, which CloudWatch rejects.
	ErrInvalidValue = errors.New("metricstore: value is NaN or infinite")
	// ErrTooOld: the point is older than the retention, or older than the
	// out-of-order window allows for its series.
	ErrTooOld = errors.New("metricstore: point is too old")
	// ErrTooNew: the point is more than two hours in the future.
	ErrTooNew = errors.New("metricstore: point is more than two hours in the future")
	// ErrDuplicate: the series already holds a different value at this
	// millisecond.
	ErrDuplicate = errors.New("metricstore: a different value is already stored at this timestamp")
)

// Point is one value of a metric at one time.
type Point struct {
	// Time is when the value was observed; stored to the millisecond.
	Time time.Time
	// Value is the observation. NaN and ±Inf are rejected.
	Value float64
	// Unit is a CloudWatch unit such as "Percent" or "Bytes"; empty means
	// "None".
	Unit string
}

// Datum is one metric with its points: one MetricDatum of PutMetricData.
type Datum struct {
	// Metric identifies the series.
	Metric Metric
	// Points are its new values, in any order.
	Points []Point
}

// Append stores points of one metric. It is Put with one Datum.
func (s *Store) Append(ctx context.Context, m Metric, pts ...Point) error {
	return s.Put(ctx, []Datum{{Metric: m, Points: pts}})
}

// Put stores a batch (one PutMetricData call) atomically: either every point
// is committed to the write-ahead log or none is, and the error says which
// point was refused and why.
func (s *Store) Put(ctx context.Context, data []Datum) error {
	if err := s.check(data); err != nil {
		return err
	}
	app := s.db.Appender(ctx)
	var b labels.ScratchBuilder
	type seen struct {
		ref  storage.SeriesRef
		last map[int64]bool
	}
	for i, d := range data {
		// Series of this datum, by unit; most data has one unit.
		refs := map[string]*seen{}
		for j, p := range d.Points {
			sr := refs[p.Unit]
			var ls labels.Labels
			if sr == nil {
				sr = &seen{}
				refs[p.Unit] = sr
			}
			if sr.ref == 0 {
				ls = seriesLabels(&b, d.Metric, p.Unit)
			}
			t := p.Time.UnixMilli()
			if sr.last == nil {
				sr.last = make(map[int64]bool, len(d.Points))
			}
			for sr.last[t] {
				t++ // spread same-millisecond points of one batch
			}
			sr.last[t] = true
			ref, err := app.Append(sr.ref, ls, t, p.Value)
			if err != nil {
				_ = app.Rollback()
				return fmt.Errorf("datum %d (%s %s) point %d at %s: %w",
					i, d.Metric.Namespace, d.Metric.Name, j, p.Time.UTC().Format(time.RFC3339Nano), mapAppendErr(err))
			}
			sr.ref = ref
		}
	}
	if err := app.Commit(); err != nil {
		return fmt.Errorf("metricstore: commit: %w", mapAppendErr(err))
	}
	return nil
}

// check validates a batch before anything is appended.
func (s *Store) check(data []Datum) error {
	now := s.now()
	oldest, newest := now.Add(-s.retention), now.Add(maxFuture)
	for i, d := range data {
		if err := d.Metric.validate(); err != nil {
			return fmt.Errorf("datum %d: %w", i, err)
		}
		for j, p := range d.Points {
			switch {
			case math.IsNaN(p.Value) || math.IsInf(p.Value, 0):
				return fmt.Errorf("datum %d (%s %s) point %d: %w", i, d.Metric.Namespace, d.Metric.Name, j, ErrInvalidValue)
			case p.Time.Before(oldest):
				return fmt.Errorf("datum %d (%s %s) point %d at %s is older than the retention of %v: %w",
					i, d.Metric.Namespace, d.Metric.Name, j, p.Time.UTC().Format(time.RFC3339), s.retention, ErrTooOld)
			case p.Time.After(newest):
				return fmt.Errorf("datum %d (%s %s) point %d at %s: %w",
					i, d.Metric.Namespace, d.Metric.Name, j, p.Time.UTC().Format(time.RFC3339), ErrTooNew)
			}
		}
	}
	return nil
}

// mapAppendErr turns TSDB's append errors into the package's own.
func mapAppendErr(err error) error {
	switch {
	case errors.Is(err, storage.ErrOutOfBounds), errors.Is(err, storage.ErrTooOldSample), errors.Is(err, storage.ErrOutOfOrderSample):
		return fmt.Errorf("%w (%v)", ErrTooOld, err)
	case errors.Is(err, storage.ErrDuplicateSampleForTimestamp):
		return fmt.Errorf("%w (%v)", ErrDuplicate, err)
	}
	return err
}
