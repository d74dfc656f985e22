package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/flotta-dev/flotta/internal/flottaapi"
)

// SimOptions describe a simulated cluster and its workload.
type SimOptions struct {
	Instances      int
	Tasks          int
	Zones          int
	InstanceCPU    int
	InstanceMemory int
	TaskCPU        int
	TaskMemory     int
	// Strategy is a chain like "spread:attribute:ecs.availability-zone,binpack:memory".
	Strategy    string
	Concurrency int
	// Constraint is an optional memberOf expression.
	Constraint string
	// Services, when set, submits the tasks as that many services (sharing
	// the tasks evenly) instead of RunTask calls.
	Services int
	// Run makes the simulated instances report what is placed on them as
	// RUNNING, as agents do, and waits for the services to be steady.
	Run bool
}

// ParseStrategy reads a strategy chain: comma-separated TYPE[:FIELD].
func ParseStrategy(s string) ([]types.PlacementStrategy, error) {
	var out []types.PlacementStrategy
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		typ, field, _ := strings.Cut(part, ":")
		switch typ {
		case "random":
		case "binpack":
			if field == "" {
				field = "memory"
			}
		case "spread":
			if field == "" {
				field = "attribute:ecs.availability-zone"
			}
		default:
			return nil, fmt.Errorf("unknown strategy %q: use random, binpack[:cpu|memory] or spread[:instanceId|attribute:NAME]", typ)
		}
		ps := types.PlacementStrategy{Type: types.PlacementStrategyType(typ)}
		if field != "" {
			ps.Field = aws.String(field)
		}
		out = append(out, ps)
	}
	return out, nil
}

// Sim runs a simulated cluster against the endpoint that o names: it
// registers simulated container instances (their sessions kept alive by
// batched heartbeats; no containers run), submits the tasks through RunTask,
// and reports what a capacity planner wants to know.
func (o *Options) Sim(ctx context.Context, so SimOptions, w io.Writer) error {
	strategy, err := ParseStrategy(so.Strategy)
	if err != nil {
		return err
	}
	cfg, endpoint, err := o.config(ctx)
	if err != nil {
		return err
	}
	cfg.HTTPClient = awshttp.NewBuildableClient().WithTransportOptions(func(tr *http.Transport) {
		tr.MaxIdleConnsPerHost = so.Concurrency * 2
	})
	client := ecs.NewFromConfig(cfg, func(eo *ecs.Options) {
		if endpoint != "" {
			eo.BaseEndpoint = aws.String(endpoint)
		}
		eo.RetryMaxAttempts = 5
	})
	cluster := "sim"
	if _, err := client.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String(cluster)}); err != nil {
		return err
	}
	fmt.Fprintf(w, "Registering %d simulated container instances (%d CPU, %d MiB each, %d zones)...\n",
		so.Instances, so.InstanceCPU, so.InstanceMemory, so.Zones)
	start := time.Now()
	arns := make([]string, so.Instances)
	if err := parallel(ctx, so.Instances, so.Concurrency, func(i int) error {
		doc, _ := json.Marshal(map[string]string{"instanceId": fmt.Sprintf("sim-%05d", i),
			"availabilityZone": fmt.Sprintf("sim-zone-%c", 'a'+i%so.Zones), "instanceType": "sim.large"})
		out, err := client.RegisterContainerInstance(ctx, &ecs.RegisterContainerInstanceInput{
			Cluster:                  aws.String(cluster),
			InstanceIdentityDocument: aws.String(string(doc)),
			TotalResources: []types.Resource{
				{Name: aws.String("CPU"), Type: aws.String("INTEGER"), IntegerValue: int32(so.InstanceCPU)},
				{Name: aws.String("MEMORY"), Type: aws.String("INTEGER"), IntegerValue: int32(so.InstanceMemory)},
			},
			Attributes: []types.Attribute{{Name: aws.String("ecs.os-type"), Value: aws.String("linux")}},
		})
		if err != nil {
			return err
		}
		arns[i] = aws.ToString(out.ContainerInstance.ContainerInstanceArn)
		return nil
	}); err != nil {
		return fmt.Errorf("register instances: %w", err)
	}
	fmt.Fprintf(w, "  registered in %s\n", time.Since(start).Round(time.Millisecond))
	beat := func() error {
		for i := 0; i < len(arns); i += 1000 {
			var out flottaapi.HeartbeatOutput
			if err := o.callFlotta(ctx, "Heartbeat", flottaapi.HeartbeatInput{ContainerInstanceArns: arns[i:min(i+1000, len(arns))]}, &out); err != nil {
				return err
			}
		}
		return nil
	}
	if err := beat(); err != nil {
		return fmt.Errorf("heartbeat: %w", err)
	}
	hbCtx, stopBeats := context.WithCancel(ctx)
	defer stopBeats()
	go func() {
		for {
			select {
			case <-time.After(5 * time.Second):
				beat()
			case <-hbCtx.Done():
				return
			}
		}
	}()
	// Let the scheduler see the sessions before the first request.
	time.Sleep(500 * time.Millisecond)

	if _, err := client.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String("sim-app"),
		ContainerDefinitions: []types.ContainerDefinition{{Name: aws.String("app"), Image: aws.String("sim/app:1"),
			Cpu: int32(so.TaskCPU), Memory: aws.Int32(int32(so.TaskMemory))}}}); err != nil {
		return err
	}
	var constraints []types.PlacementConstraint
	if so.Constraint != "" {
		constraints = []types.PlacementConstraint{{Type: types.PlacementConstraintTypeMemberOf, Expression: aws.String(so.Constraint)}}
	}
	if so.Services > 0 {
		return o.simServices(ctx, client, cluster, arns, strategy, constraints, so, w)
	}
	calls := (so.Tasks + 9) / 10
	fmt.Fprintf(w, "Placing %d tasks (%d CPU, %d MiB) in %d RunTask calls, %d at a time, strategy %s...\n",
		so.Tasks, so.TaskCPU, so.TaskMemory, calls, so.Concurrency, orDefault(so.Strategy, "random"))
	var placed atomic.Int64
	var mu sync.Mutex
	latencies := make([]time.Duration, 0, calls)
	reasons := map[string]int{}
	start = time.Now()
	err = parallel(ctx, calls, so.Concurrency, func(i int) error {
		count := min(10, so.Tasks-i*10)
		t0 := time.Now()
		out, err := client.RunTask(ctx, &ecs.RunTaskInput{Cluster: aws.String(cluster), TaskDefinition: aws.String("sim-app"),
			Count: aws.Int32(int32(count)), PlacementStrategy: strategy, PlacementConstraints: constraints, Group: aws.String("sim")})
		if err != nil {
			return err
		}
		d := time.Since(t0)
		placed.Add(int64(len(out.Tasks)))
		mu.Lock()
		latencies = append(latencies, d)
		if len(out.Tasks) < count {
			for _, f := range out.Failures {
				reasons[aws.ToString(f.Reason)]++
			}
		}
		mu.Unlock()
		return nil
	})
	elapsed := time.Since(start)
	if err != nil {
		return fmt.Errorf("run tasks: %w", err)
	}
	if err := o.simReport(ctx, client, cluster, arns, so, w); err != nil {
		return err
	}
	failed := so.Tasks - int(placed.Load())
	fmt.Fprintf(w, "\nTasks: %d placed, %d not placed\n", placed.Load(), failed)
	if failed > 0 {
		fmt.Fprintln(w, "Why not (instance rejections, in the last failed calls):")
		keys := make([]string, 0, len(reasons))
		for k := range reasons {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(i, j int) bool { return reasons[keys[i]] > reasons[keys[j]] })
		for _, k := range keys {
			fmt.Fprintf(w, "  %-45s %d\n", k, reasons[k])
		}
	}
	sort.Slice(latencies, func(i, j int) bool { return latencies[i] < latencies[j] })
	pct := func(p float64) float64 {
		if len(latencies) == 0 {
			return 0
		}
		return float64(latencies[int(p*float64(len(latencies)-1))].Microseconds()) / 1000
	}
	fmt.Fprintf(w, "Time: %s for %d RunTask calls\n\n", elapsed.Round(time.Millisecond), len(latencies))
	fmt.Fprintf(w, "placed=%d rate=%.0f/s p50=%.1fms p99=%.1fms\n", placed.Load(), float64(placed.Load())/elapsed.Seconds(), pct(.5), pct(.99))
	return nil
}

// simServices submits the tasks as services and waits until the service
// scheduler has placed them all, or stops making progress. The simulated
// instances run nothing, so the tasks stay PENDING: what is measured is
// placement, as for RunTask.
func (o *Options) simServices(ctx context.Context, client *ecs.Client, cluster string, arns []string, strategy []types.PlacementStrategy,
	constraints []types.PlacementConstraint, so SimOptions, w io.Writer) error {
	names := make([]string, so.Services)
	fmt.Fprintf(w, "Creating %d services of %d tasks in all (%d CPU, %d MiB each), strategy %s...\n",
		so.Services, so.Tasks, so.TaskCPU, so.TaskMemory, orDefault(so.Strategy, "random"))
	start := time.Now()
	if err := parallel(ctx, so.Services, so.Concurrency, func(i int) error {
		names[i] = fmt.Sprintf("sim-svc-%04d", i)
		n := so.Tasks / so.Services
		if i < so.Tasks%so.Services {
			n++
		}
		_, err := client.CreateService(ctx, &ecs.CreateServiceInput{Cluster: aws.String(cluster), ServiceName: aws.String(names[i]),
			TaskDefinition: aws.String("sim-app"), DesiredCount: aws.Int32(int32(n)), PlacementStrategy: strategy, PlacementConstraints: constraints})
		return err
	}); err != nil {
		return fmt.Errorf("create services: %w", err)
	}
	var placed int
	var short []types.Service
	lastProgress, lastPlaced := time.Now(), -1
	for {
		placed, short = 0, nil
		for i := 0; i < len(names); i += 10 {
			out, err := client.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(cluster), Services: names[i:min(i+10, len(names))]})
			if err != nil {
				return err
			}
			for _, s := range out.Services {
				placed += int(s.RunningCount + s.PendingCount)
				if s.RunningCount+s.PendingCount < s.DesiredCount {
					short = append(short, s)
				}
			}
		}
		if placed != lastPlaced {
			lastPlaced, lastProgress = placed, time.Now()
		}
		if len(short) == 0 || time.Since(lastProgress) > 5*time.Second {
			break
		}
		select {
		case <-time.After(200 * time.Millisecond):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	elapsed := time.Since(start)
	if len(short) > 0 {
		elapsed = lastProgress.Sub(start)
	}
	if err := o.simReport(ctx, client, cluster, arns, so, w); err != nil {
		return err
	}
	fmt.Fprintf(w, "\nTasks: %d placed, %d not placed, by %d services\n", placed, so.Tasks-placed, so.Services)
	if len(short) > 0 {
		fmt.Fprintf(w, "%d services could not place all their tasks; for example:\n", len(short))
		for _, s := range short[:min(3, len(short))] {
			msg := "no event yet"
			for _, e := range s.Events {
				if strings.Contains(aws.ToString(e.Message), "unable to place") {
					msg = aws.ToString(e.Message)
					break
				}
			}
			fmt.Fprintf(w, "  %s: %d of %d placed: %s\n", aws.ToString(s.ServiceName), s.RunningCount+s.PendingCount, s.DesiredCount, msg)
		}
	}
	fmt.Fprintf(w, "Time: %s from the first CreateService to the last placement\n", elapsed.Round(time.Millisecond))
	if !so.Run || len(short) > 0 {
		fmt.Fprintf(w, "\nplaced=%d rate=%.0f/s services=%d\n", placed, float64(placed)/elapsed.Seconds(), so.Services)
		return nil
	}
	running, err := o.simRunServices(ctx, client, cluster, names, so, w)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "Steady: every service runs its tasks %s after the first CreateService\n\n", time.Since(start).Round(time.Millisecond))
	fmt.Fprintf(w, "placed=%d rate=%.0f/s services=%d running=%d steady=%.1fs\n", placed, float64(placed)/elapsed.Seconds(), so.Services,
		running, time.Since(start).Seconds())
	return nil
}

// simReport describes utilisation by instance and zone.
func (o *Options) simReport(ctx context.Context, client *ecs.Client, cluster string, arns []string, so SimOptions, w io.Writer) error {
	type zone struct{ instances, used, memUsed, memTotal int }
	zones := map[string]*zone{}
	var utils []float64
	for i := 0; i < len(arns); i += 100 {
		out, err := client.DescribeContainerInstances(ctx, &ecs.DescribeContainerInstancesInput{Cluster: aws.String(cluster), ContainerInstances: arns[i:min(i+100, len(arns))]})
		if err != nil {
			return err
		}
		for _, ci := range out.ContainerInstances {
			z := attribute(ci.Attributes, "ecs.availability-zone")
			if zones[z] == nil {
				zones[z] = &zone{}
			}
			total, left := resource(ci.RegisteredResources, "MEMORY"), resource(ci.RemainingResources, "MEMORY")
			zs := zones[z]
			zs.instances++
			zs.memTotal += total
			zs.memUsed += total - left
			if total-left > 0 {
				zs.used++
			}
			utils = append(utils, float64(total-left)/float64(total))
		}
	}
	sort.Float64s(utils)
	used := 0
	for _, u := range utils {
		if u > 0 {
			used++
		}
	}
	fmt.Fprintf(w, "\nInstances: %d of %d in use; memory use per instance: min %.0f%%, median %.0f%%, max %.0f%%\n",
		used, len(utils), 100*utils[0], 100*utils[len(utils)/2], 100*utils[len(utils)-1])
	names := make([]string, 0, len(zones))
	for n := range zones {
		names = append(names, n)
	}
	sort.Strings(names)
	rows := [][]string{}
	for _, n := range names {
		z := zones[n]
		rows = append(rows, []string{n, fmt.Sprint(z.instances), fmt.Sprint(z.used), fmt.Sprintf("%.1f%%", 100*float64(z.memUsed)/float64(z.memTotal))})
	}
	return table(w, []string{"ZONE", "INSTANCES", "IN USE", "MEMORY USED"}, rows)
}

// parallel runs fn(0..n-1) on up to c goroutines and returns the first error.
func parallel(ctx context.Context, n, c int, fn func(i int) error) error {
	var next atomic.Int64
	var first error
	var once sync.Once
	var wg sync.WaitGroup
	for g := 0; g < c; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				if err := fn(i); err != nil {
					once.Do(func() { first = err })
					return
				}
			}
		}()
	}
	wg.Wait()
	return first
}
