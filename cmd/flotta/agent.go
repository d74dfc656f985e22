package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/flotta-dev/flotta/internal/agent"
	"github.com/flotta-dev/flotta/internal/demoapp"
	"github.com/flotta-dev/flotta/internal/images"
	"github.com/flotta-dev/flotta/internal/runtime/docker"
)

type agentFlags struct {
	server, cluster, token, dataDir  string
	caFingerprint                    string
	cpu, memory, reservedMemory      int
	zone, instanceType               string
	attributes                       []string
	allowPrivileged, allowHostAccess bool
	cleanup                          time.Duration
	credentialsAddress               string
	advertiseAddress                 string
}

func (f *agentFlags) add(cmd *cobra.Command, withConnection bool) {
	if withConnection {
		cmd.Flags().StringVar(&f.server, "server", "", "Flotta server URL, e.g. https://10.0.0.5:8080")
		cmd.Flags().StringVar(&f.cluster, "cluster", "default", "cluster to join")
		cmd.Flags().StringVar(&f.token, "join-token", "", "join token from `flotta token create` (needed the first time only); it ends with the server CA's fingerprint, which the agent pins")
		cmd.Flags().StringVar(&f.caFingerprint, "ca-fingerprint", "", "the server CA's fingerprint (sha256:…) when the join token carries none, or for an agent that joined over plain HTTP")
		cmd.Flags().StringVar(&f.dataDir, "data-dir", "/var/lib/flotta-agent", "where the agent keeps its identity and task checkpoints")
	}
	cmd.Flags().IntVar(&f.cpu, "cpu", 0, "CPU units to offer (default: cores x 1024)")
	cmd.Flags().IntVar(&f.memory, "memory", 0, "memory to offer, MiB (default: the host's, less --reserved-memory)")
	cmd.Flags().IntVar(&f.reservedMemory, "reserved-memory", 256, "memory kept back for the host, MiB")
	cmd.Flags().StringVar(&f.zone, "zone", "local-1a", "availability zone (attribute ecs.availability-zone)")
	cmd.Flags().StringVar(&f.instanceType, "instance-type", "flotta.host", "instance type (attribute ecs.instance-type)")
	cmd.Flags().StringArrayVar(&f.attributes, "attribute", nil, "custom attribute NAME=VALUE (repeatable)")
	cmd.Flags().BoolVar(&f.allowPrivileged, "allow-privileged", false, "let tasks run privileged containers")
	cmd.Flags().BoolVar(&f.allowHostAccess, "allow-host-access", false, "let tasks mount host paths (the Docker socket among them), add kernel capabilities, use host devices and share the host's PID or IPC namespace")
	cmd.Flags().StringVar(&f.credentialsAddress, "credentials-address", agent.DefaultCredentialsAddress,
		"host:port where tasks' containers read their task role credentials (added to the loopback interface when the host lacks it; \"off\" serves none)")
	cmd.Flags().StringVar(&f.advertiseAddress, "advertise-address", "", "address at which load balancers reach this host's published ports (default: the address this host uses to reach the server)")
	cmd.Flags().DurationVar(&f.cleanup, "cleanup-delay", 10*time.Minute, "how long a stopped task's containers are kept")
}

// runAgent connects to Docker, makes the pause image, and runs the agent.
func (f *agentFlags) runAgent(ctx context.Context, logger *slog.Logger, ready func(*agent.Agent)) error {
	attrs := map[string]string{}
	for _, a := range f.attributes {
		k, v, ok := strings.Cut(a, "=")
		if !ok {
			return fmt.Errorf("--attribute %q: use NAME=VALUE", a)
		}
		attrs[k] = v
	}
	rt, err := docker.New(ctx)
	if err != nil {
		return err
	}
	defer rt.Close()
	self, err := os.Executable()
	if err != nil {
		return err
	}
	pause, err := images.Ensure(ctx, rt, images.Spec{Repository: "flotta/pause", Binary: self, Entrypoint: []string{"/flotta"}, Cmd: []string{"pause"}})
	if err != nil {
		return fmt.Errorf("make the pause image: %w", err)
	}
	a, err := agent.New(agent.Config{
		Server: f.server, Cluster: f.cluster, JoinToken: f.token, CAFingerprint: f.caFingerprint, DataDir: f.dataDir,
		CPU: f.cpu, Memory: f.memory, ReservedMemory: f.reservedMemory, Zone: f.zone, InstanceType: f.instanceType,
		Attributes: attrs, AllowPrivileged: f.allowPrivileged, AllowHostAccess: f.allowHostAccess, Runtime: rt, PauseImage: pause,
		CleanupDelay: f.cleanup, CredentialsAddress: f.credentialsAddress, AdvertiseAddress: f.advertiseAddress, Version: version, Logger: logger,
	})
	if err != nil {
		return err
	}
	if ready != nil {
		go func() {
			select {
			case <-a.Registered():
				ready(a)
			case <-ctx.Done():
			}
		}()
	}
	return a.Run(ctx)
}

func agentCommand() *cobra.Command {
	var f agentFlags
	var logLevel string
	cmd := &cobra.Command{
		Use:   "agent",
		Short: "Run the node agent: this machine runs a cluster's tasks on Docker",
		Long: `Run the node agent. The first time, it exchanges --join-token for its own
credentials (kept in --data-dir); then it registers this machine as a container
instance of --cluster and runs the tasks the server places here on the local
Docker engine (DOCKER_HOST, or the default socket).

Stopping the agent leaves its tasks running; started again with the same
--data-dir, it adopts them.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var level slog.Level
			if err := level.UnmarshalText([]byte(logLevel)); err != nil {
				return err
			}
			logger := slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: level}))
			return f.runAgent(cmd.Context(), logger, func(a *agent.Agent) {
				logger.Info("agent ready", "instance", a.ContainerInstanceArn())
			})
		},
	}
	f.add(cmd, true)
	cmd.Flags().StringVar(&logLevel, "log-level", "info", "debug, info, warn or error")
	return cmd
}

func demoAppCommand() *cobra.Command {
	var o demoapp.Options
	var check bool
	cmd := &cobra.Command{
		Use:   "demo-app",
		Short: "Run the demo HTTP service (what the flotta/demo-app image runs)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if check {
				os.Exit(demoapp.Check(o.Port))
			}
			if o.Message == "" {
				o.Message = os.Getenv("GREETING")
			}
			if o.Message == "" {
				o.Message = "Hello from Flotta!"
			}
			// The app handles its own signals (--ignore-sigterm must hold), so it
			// does not take the command's signal-cancelled context.
			os.Exit(demoapp.Run(context.Background(), o, cmd.OutOrStdout()))
			return nil
		},
	}
	cmd.Flags().IntVar(&o.Port, "port", 8080, "port to listen on")
	cmd.Flags().StringVar(&o.Message, "message", "", "greeting (default: $GREETING, or a hello)")
	cmd.Flags().BoolVar(&check, "check", false, "health check: ask the app on --port for /health and exit 0 if healthy")
	cmd.Flags().DurationVar(&o.ExitAfter, "exit-after", 0, "exit on its own after this long")
	cmd.Flags().IntVar(&o.ExitCode, "exit-code", 0, "exit code for --exit-after")
	cmd.Flags().BoolVar(&o.IgnoreSIGTERM, "ignore-sigterm", false, "keep running on SIGTERM (until SIGKILL)")
	cmd.Flags().DurationVar(&o.UnhealthyAfter, "unhealthy-after", 0, "make /health fail after this long")
	cmd.Flags().BoolVar(&o.NoServer, "no-server", false, "do not listen (a batch-like container)")
	return cmd
}

func pauseCommand() *cobra.Command {
	return &cobra.Command{
		Use:    "pause",
		Short:  "Hold a task's network namespace until stopped (used in the pause image)",
		Hidden: true,
		Args:   cobra.NoArgs,
		Run:    func(cmd *cobra.Command, args []string) { os.Exit(demoapp.Pause()) },
	}
}
