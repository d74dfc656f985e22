package metricstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/prometheus/prometheus/tsdb"
)

// DefaultRetention is how long data is kept when Options.Retention is zero:
// 15 days, as long as CloudWatch keeps one-minute data points.
const DefaultRetention = 15 * 24 * time.Hour

// DefaultOutOfOrderWindow is how far behind a series' newest point a late
// point may be and still be accepted, when Options.OutOfOrderWindow is zero.
const DefaultOutOfOrderWindow = 2 * time.Hour

// maxFuture is how far ahead of Now a point may be (CloudWatch: two hours).
const maxFuture = 2 * time.Hour

// Options configure Open.
type Options struct {
	// Dir is the directory that holds the TSDB (WAL and blocks). It is
	// created if missing. Required.
	Dir string
	// Retention is how long points are kept. Zero means DefaultRetention.
	Retention time.Duration
	// OutOfOrderWindow is how late a point may arrive for its series.
	// Zero means DefaultOutOfOrderWindow; negative disables late points.
	OutOfOrderWindow time.Duration
	// Logger receives TSDB's log lines. Nil discards them.
	Logger *slog.Logger
	// Now is the clock used to reject too old and too new points. Nil means
	// time.Now.
	Now func() time.Time
}

// Store is an open metric store. Its methods are safe for concurrent use.
type Store struct {
	db        *tsdb.DB
	retention time.Duration
	now       func() time.Time
}

// Open opens (or creates) the store in o.Dir, replaying its write-ahead log.
func Open(o Options) (*Store, error) {
	if o.Dir == "" {
		return nil, errors.New("metricstore: Options.Dir is required")
	}
	if o.Retention == 0 {
		o.Retention = DefaultRetention
	}
	if o.Retention < 0 {
		return nil, fmt.Errorf("metricstore: negative retention %v", o.Retention)
	}
	if o.OutOfOrderWindow == 0 {
		o.OutOfOrderWindow = DefaultOutOfOrderWindow
	}
	if o.OutOfOrderWindow < 0 {
		o.OutOfOrderWindow = 0
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if err := os.MkdirAll(o.Dir, 0o750); err != nil {
		return nil, fmt.Errorf("metricstore: %w", err)
	}
	opts := tsdb.DefaultOptions()
	opts.RetentionDuration = o.Retention.Milliseconds()
	opts.OutOfOrderTimeWindow = o.OutOfOrderWindow.Milliseconds()
	db, err := tsdb.Open(o.Dir, o.Logger, nil, opts, nil)
	if err != nil {
		return nil, fmt.Errorf("metricstore: open %s: %w", o.Dir, err)
	}
	return &Store{db: db, retention: o.Retention, now: o.Now}, nil
}

// Close flushes and closes the store. Points acknowledged by Append are in
// the write-ahead log and survive Close and crashes.
func (s *Store) Close() error {
	return s.db.Close()
}

// Compact persists full head ranges as blocks and applies retention now,
// instead of waiting for TSDB's background cycle (once a minute).
func (s *Store) Compact(ctx context.Context) error {
	if err := s.db.Compact(ctx); err != nil {
		return fmt.Errorf("metricstore: compact: %w", err)
	}
	return nil
}
