package integration

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/flotta-dev/flotta/internal/runtime"
)

func percentile(ds []time.Duration, p float64) float64 {
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return float64(s[int(p*float64(len(s)-1))].Microseconds()) / 1000
}

// dockerRun creates and starts a container of the test image the way
// `docker run -d` does (through the API, without the CLI's own start-up cost).
func (n *node) dockerRun(ctx context.Context, name string) (string, error) {
	id, err := n.rt.CreateContainer(ctx, runtime.ContainerSpec{Name: name, Image: testImage, Cmd: []string{"demo-app", "--no-server"},
		NetworkMode: "bridge", MemoryBytes: 32 << 20, Labels: map[string]string{"com.flotta.benchmark": "1", "com.flotta.test": "integration"}})
	if err != nil {
		return "", err
	}
	return id, n.rt.StartContainer(ctx, id)
}

func (n *node) cleanBenchmark(b *testing.B) {
	list, _ := n.rt.ListContainers(context.Background(), map[string]string{"com.flotta.benchmark": "1"})
	for _, c := range list {
		n.rt.RemoveContainer(context.Background(), c.ID)
	}
}

// waitRunning polls the tasks every 5 ms until all are RUNNING.
func (n *node) waitRunning(b *testing.B, arns []string) {
	for start := time.Now(); time.Since(start) < 2*time.Minute; time.Sleep(5 * time.Millisecond) {
		all := true
		for i := 0; i < len(arns); i += 100 {
			out, err := n.env.ECS.DescribeTasks(context.Background(), &ecs.DescribeTasksInput{Tasks: arns[i:min(i+100, len(arns))]})
			if err != nil {
				b.Fatal(err)
			}
			for _, t := range out.Tasks {
				if aws.ToString(t.LastStatus) != "RUNNING" {
					all = false
				}
			}
		}
		if all {
			return
		}
	}
	b.Fatal("tasks did not reach RUNNING within 2 minutes")
}

func (n *node) stopAll(b *testing.B, arns []string) {
	for _, arn := range arns {
		n.env.ECS.StopTask(context.Background(), &ecs.StopTaskInput{Task: aws.String(arn)})
	}
}

// BenchmarkRunTaskLatency compares, one task at a time, the time from
// RunTask to RUNNING with a create-and-start of the same image on the same
// engine. Run with -benchtime=50x for 50 samples of each.
func BenchmarkRunTaskLatency(b *testing.B) {
	n := startNode(b)
	defer n.cleanBenchmark(b)
	n.register("bench", types.NetworkModeBridge, app("app", "demo-app", "--no-server"))
	ctx := context.Background()
	var flotta, raw []time.Duration
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		out, err := n.env.ECS.RunTask(ctx, &ecs.RunTaskInput{TaskDefinition: aws.String("bench")})
		if err != nil || len(out.Tasks) != 1 {
			b.Fatalf("RunTask: %v; placed %d, failures %s", err, len(out.Tasks), failures(out))
		}
		arn := aws.ToString(out.Tasks[0].TaskArn)
		n.waitRunning(b, []string{arn})
		flotta = append(flotta, time.Since(t0))
		n.stopAll(b, []string{arn})

		t0 = time.Now()
		if _, err := n.dockerRun(ctx, fmt.Sprintf("flotta-bench-%d-%d", time.Now().UnixNano(), i)); err != nil {
			b.Fatal(err)
		}
		raw = append(raw, time.Since(t0))
	}
	b.ReportMetric(percentile(flotta, .5), "flotta-p50-ms")
	b.ReportMetric(percentile(flotta, .99), "flotta-p99-ms")
	b.ReportMetric(percentile(raw, .5), "docker-p50-ms")
	b.ReportMetric(percentile(raw, .99), "docker-p99-ms")
	b.ReportMetric(percentile(flotta, .5)/percentile(raw, .5), "p50-ratio")
}

// BenchmarkHundredTasks starts 100 tasks through RunTask (10 calls of 10) and
// 100 containers through the engine (10 at a time), and reports both times.
func BenchmarkHundredTasks(b *testing.B) {
	n := startNode(b)
	defer n.cleanBenchmark(b)
	// 100 tasks must fit the node's 2048 MiB: reserve 16 MiB each, no hard limit.
	small := app("app", "demo-app", "--no-server")
	small.Memory, small.MemoryReservation = nil, aws.Int32(16)
	n.register("bench", types.NetworkModeBridge, small)
	ctx := context.Background()
	var flotta, raw time.Duration
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		var arns []string
		for j := 0; j < 10; j++ {
			out, err := n.env.ECS.RunTask(ctx, &ecs.RunTaskInput{TaskDefinition: aws.String("bench"), Count: aws.Int32(10)})
			if err != nil || len(out.Tasks) != 10 {
				b.Fatalf("RunTask: %v; placed %d, failures %s", err, len(out.Tasks), failures(out))
			}
			for _, t := range out.Tasks {
				arns = append(arns, aws.ToString(t.TaskArn))
			}
		}
		n.waitRunning(b, arns)
		flotta += time.Since(t0)
		n.stopAll(b, arns)

		t0 = time.Now()
		var wg sync.WaitGroup
		sem := make(chan struct{}, 10)
		for j := 0; j < 100; j++ {
			wg.Add(1)
			sem <- struct{}{}
			go func(j int) {
				defer wg.Done()
				defer func() { <-sem }()
				if _, err := n.dockerRun(ctx, fmt.Sprintf("flotta-bench-%d-%d", time.Now().UnixNano(), j)); err != nil {
					b.Error(err)
				}
			}(j)
		}
		wg.Wait()
		raw += time.Since(t0)
		n.cleanBenchmark(b)
	}
	b.ReportMetric(flotta.Seconds()/float64(b.N), "flotta-100-s")
	b.ReportMetric(raw.Seconds()/float64(b.N), "docker-100-s")
	b.ReportMetric(flotta.Seconds()/raw.Seconds(), "ratio")
}

func failures(out *ecs.RunTaskOutput) string {
	if out == nil {
		return "-"
	}
	var s []string
	for _, f := range out.Failures {
		s = append(s, aws.ToString(f.Arn)+" "+aws.ToString(f.Reason))
	}
	return fmt.Sprint(s)
}
