package ecs_test

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/flotta-dev/flotta/internal/testutil/flottatest"
)

// latencies collects per-call durations from parallel workers and reports
// their percentiles alongside the rate.
type latencies struct {
	mu  sync.Mutex
	all []time.Duration
}

func (l *latencies) add(d time.Duration) {
	l.mu.Lock()
	l.all = append(l.all, d)
	l.mu.Unlock()
}

func (l *latencies) report(b *testing.B, elapsed time.Duration) {
	sort.Slice(l.all, func(i, j int) bool { return l.all[i] < l.all[j] })
	pct := func(p float64) float64 {
		return float64(l.all[int(p*float64(len(l.all)-1))].Microseconds()) / 1000
	}
	b.ReportMetric(float64(len(l.all))/elapsed.Seconds(), "ops/s")
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
}

// benchParallel runs op from 32 concurrent SDK callers.
func benchParallel(b *testing.B, op func(worker int64) error) {
	var lat latencies
	var worker atomic.Int64
	b.SetParallelism(16)
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		w := worker.Add(1)
		for pb.Next() {
			t0 := time.Now()
			if err := op(w); err != nil {
				b.Error(err)
				return
			}
			lat.add(time.Since(t0))
		}
	})
	lat.report(b, time.Since(start))
}

// BenchmarkDescribeTaskDefinition measures DescribeTaskDefinition through the
// SDK, by family (latest ACTIVE revision), against the embedded store.
func BenchmarkDescribeTaskDefinition(b *testing.B) {
	e := flottatest.StartServer(b)
	ctx := context.Background()
	for i := 0; i < 20; i++ {
		if _, err := e.ECS.RegisterTaskDefinition(ctx, fullTaskDefinition("bench")); err != nil {
			b.Fatal(err)
		}
	}
	benchParallel(b, func(int64) error {
		_, err := e.ECS.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String("bench")})
		return err
	})
}

// BenchmarkRegisterTaskDefinition measures RegisterTaskDefinition through the
// SDK, each caller registering revisions of its own family; every answer is a
// durable (fsynced) commit.
func BenchmarkRegisterTaskDefinition(b *testing.B) {
	e := flottatest.StartServer(b)
	ctx := context.Background()
	benchParallel(b, func(w int64) error {
		_, err := e.ECS.RegisterTaskDefinition(ctx, fullTaskDefinition(fmt.Sprintf("bench-%d", w)))
		return err
	})
}

// BenchmarkRegisterTaskDefinitionOneFamily is the contended case: every caller
// registers revisions of the same family, so their transactions collide.
func BenchmarkRegisterTaskDefinitionOneFamily(b *testing.B) {
	e := flottatest.StartServer(b)
	ctx := context.Background()
	benchParallel(b, func(int64) error {
		_, err := e.ECS.RegisterTaskDefinition(ctx, fullTaskDefinition("contended"))
		return err
	})
}
