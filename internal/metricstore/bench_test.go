package metricstore

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// BenchmarkAppend measures sustained ingest: 10,000 series (services of a
// cluster) at 10-second resolution, sent as PutMetricData batches of 1,000
// data (one point each). One iteration is one batch; points/s and the
// number of blocks written are reported. Run it with -benchtime 15000x (15
// million points, 4 h 10 min of data) to include a head compaction.
func BenchmarkAppend(b *testing.B) {
	const series, batch = 10000, 1000
	ctx := context.Background()
	metrics := make([]Metric, series)
	for i := range metrics {
		metrics[i] = Metric{Namespace: "AWS/ECS", Name: "CPUUtilization",
			Dimensions: map[string]string{"ClusterName": "bench", "ServiceName": fmt.Sprintf("svc-%05d", i)}}
	}
	now := base
	s := openAt(b, b.TempDir(), base, Options{Now: func() time.Time { return now }})
	defer s.Close()
	data := make([]Datum, batch)
	pt := make([]Point, batch)
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		first := (i * batch) % series
		tick := (i * batch) / series
		now = base.Add(time.Duration(tick) * 10 * time.Second)
		for j := range data {
			pt[j] = Point{Time: now, Value: float64(i + j), Unit: "Percent"}
			data[j] = Datum{Metric: metrics[first+j], Points: pt[j : j+1]}
		}
		if err := s.Put(ctx, data); err != nil {
			b.Fatal(err)
		}
		// Every hour of data time, compact in line (TSDB would do it in the
		// background every minute), so that the figure includes writing
		// blocks once the head spans more than three hours.
		if first+batch == series && (tick+1)%360 == 0 {
			if err := s.Compact(ctx); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.N*batch)/time.Since(start).Seconds(), "points/s")
	b.ReportMetric(float64(len(s.db.Blocks())), "blocks")
}

// BenchmarkStatistics24h measures GetMetricStatistics for one service over
// 24 hours at 10-second resolution (8,640 points), period 300 s, Average and
// Maximum, in a store that also holds 199 other services and whose older
// data has been compacted into blocks.
func BenchmarkStatistics24h(b *testing.B) {
	const others = 199
	ctx := context.Background()
	end := base.Add(24 * time.Hour)
	now := base
	s := openAt(b, b.TempDir(), base, Options{Now: func() time.Time { return now }})
	defer s.Close()
	metrics := make([]Metric, others+1)
	for i := range metrics {
		metrics[i] = svc("bench", fmt.Sprintf("svc-%03d", i))
	}
	data := make([]Datum, len(metrics))
	for t := base; t.Before(end); t = t.Add(10 * time.Second) {
		now = t
		for i := range data {
			data[i] = Datum{Metric: metrics[i], Points: []Point{{Time: t, Value: float64(i) + float64(t.Unix()%100), Unit: "Percent"}}}
		}
		if err := s.Put(ctx, data); err != nil {
			b.Fatal(err)
		}
	}
	if err := s.Compact(ctx); err != nil {
		b.Fatal(err)
	}
	q := Query{Start: base, End: end, Period: 300 * time.Second, Stats: []string{Average, Maximum}}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		dps, err := s.Statistics(ctx, metrics[0], q)
		if err != nil {
			b.Fatal(err)
		}
		if len(dps) != 288 {
			b.Fatalf("%d datapoints, want 288", len(dps))
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(len(s.db.Blocks())), "blocks")
}
