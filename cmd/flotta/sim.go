package main

import (
	"fmt"
	"log/slog"
	"os"
	"runtime/pprof"

	"github.com/spf13/cobra"

	"github.com/flotta-dev/flotta/internal/cli"
	"github.com/flotta-dev/flotta/internal/model"
	"github.com/flotta-dev/flotta/internal/server"
)

func simCommand() *cobra.Command {
	var so cli.SimOptions
	var dataDir, cpuProfile string
	cmd := &cobra.Command{
		Use:   "sim",
		Short: "Simulate a cluster: would these tasks fit on these instances, and how fast are they placed?",
		Long: `Start a real Flotta server and store (in a temporary directory), register
--instances simulated container instances, submit --tasks tasks through RunTask,
and report how many were placed, where (utilisation by instance and zone), what
failed and why, and the timing. The simulated instances run no containers; their
agents' sessions are kept alive by batched heartbeats.

The last line is meant for scripts and benchmarks:

  placed=M rate=R/s p50=Xms p99=Yms

(p50 and p99 are the latencies of the RunTask calls, each of up to 10 tasks.)

With --services S, the tasks are submitted as S services sharing them evenly,
placed by the service scheduler, and the last line is

  placed=M rate=R/s services=S

With --run as well, the simulated instances report each task placed on them
RUNNING, as their agents would, until every service is steady (its desired
count running, its deployment COMPLETED); the last line adds

  running=N steady=Ts

(T counts from the first CreateService).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if so.Instances < 1 || so.Tasks < 1 || so.Zones < 1 || so.Concurrency < 1 {
				return fmt.Errorf("--instances, --tasks, --zones and --concurrency must be at least 1")
			}
			if so.Services < 0 || so.Services > so.Tasks {
				return fmt.Errorf("--services must be between 0 and --tasks (%d)", so.Tasks)
			}
			if so.Run && so.Services == 0 {
				return fmt.Errorf("--run needs --services: it waits for services to be steady")
			}
			if cpuProfile != "" {
				f, err := os.Create(cpuProfile)
				if err != nil {
					return err
				}
				pprof.StartCPUProfile(f)
				defer pprof.StopCPUProfile()
			}
			dir := dataDir
			if dir == "" {
				tmp, err := os.MkdirTemp("", "flotta-sim-")
				if err != nil {
					return err
				}
				defer os.RemoveAll(tmp)
				dir = tmp
			}
			logger := slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: slog.LevelError}))
			// A simulation may go past ECS's quotas (10,000 instances in one
			// cluster, say), and measures placement, not throttling.
			quotas := model.DefaultQuotas()
			quotas.InstancesPerCluster = max(quotas.InstancesPerCluster, 2*so.Instances)
			quotas.ServicesPerCluster = max(quotas.ServicesPerCluster, 2*so.Services)
			if so.Services > 0 {
				quotas.TasksPerService = max(quotas.TasksPerService, (so.Tasks+so.Services-1)/so.Services)
			}
			srv, err := server.Start(cmd.Context(), server.Config{DataDir: dir, Listen: "127.0.0.1:0", Logger: logger,
				Quotas: quotas, RequestRate: -1})
			if err != nil {
				return err
			}
			defer srv.Shutdown(cmd.Context())
			o := &cli.Options{DataDir: dir, Output: "table"}
			return o.Sim(cmd.Context(), so, cmd.OutOrStdout())
		},
	}
	cmd.Flags().IntVar(&so.Instances, "instances", 100, "simulated container instances")
	cmd.Flags().IntVar(&so.Tasks, "tasks", 1000, "tasks to place")
	cmd.Flags().IntVar(&so.Zones, "zones", 3, "availability zones the instances spread over")
	cmd.Flags().IntVar(&so.InstanceCPU, "instance-cpu", 4096, "CPU units of each instance")
	cmd.Flags().IntVar(&so.InstanceMemory, "instance-memory", 16384, "memory of each instance, MiB")
	cmd.Flags().IntVar(&so.TaskCPU, "task-cpu", 256, "CPU units of each task")
	cmd.Flags().IntVar(&so.TaskMemory, "task-memory", 512, "memory of each task, MiB")
	cmd.Flags().StringVar(&so.Strategy, "strategy", "spread:attribute:ecs.availability-zone,binpack:memory", "placement strategy chain: random, binpack[:cpu|memory], spread[:instanceId|attribute:NAME], comma-separated")
	cmd.Flags().StringVar(&so.Constraint, "member-of", "", "a memberOf expression every task must satisfy")
	cmd.Flags().IntVar(&so.Concurrency, "concurrency", 32, "RunTask calls in flight")
	cmd.Flags().IntVar(&so.Services, "services", 0, "submit the tasks as this many services instead of RunTask calls")
	cmd.Flags().BoolVar(&so.Run, "run", false, "with --services: report each placed task RUNNING, as its agent would, and wait until every service is steady")
	cmd.Flags().StringVar(&dataDir, "data-dir", "", "keep the simulation's store here (default: a temporary directory)")
	cmd.Flags().StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile")
	cmd.Flags().MarkHidden("cpuprofile")
	return cmd
}
