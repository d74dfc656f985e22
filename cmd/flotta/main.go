// Command flotta is Flotta's one binary: the control plane server, the
// all-in-one local mode, and the command-line client.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/flotta-dev/flotta/internal/cli"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	root := newRootCommand()
	if err := root.ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "flotta: "+cli.Explain(err))
		os.Exit(1)
	}
}

// lbCommand is the CLI's `flotta lb` with `serve`, the data plane, beside
// its verbs.
func lbCommand(opts *cli.Options) *cobra.Command {
	cmd := cli.LBCommand(opts)
	cmd.AddCommand(lbServeCommand(opts))
	return cmd
}

func newRootCommand() *cobra.Command {
	opts := &cli.Options{}
	root := &cobra.Command{
		Use:   "flotta",
		Short: "Flotta: a self-hosted container orchestrator that speaks the Amazon ECS API",
		Long: `Flotta runs containers on your own machines and answers the Amazon ECS API,
so the AWS SDKs, the AWS CLI and Terraform work against it unchanged.

Start everything locally with:   flotta dev
Then, in another terminal:       flotta cluster ls`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       version,
	}
	opts.AddFlags(root)
	root.AddCommand(
		serverCommand(),
		devCommand(),
		agentCommand(),
		cli.ClusterCommand(opts),
		cli.TaskDefCommand(opts),
		cli.RunCommand(opts),
		cli.TaskCommand(opts),
		cli.ServiceCommand(opts),
		cli.InstanceCommand(opts),
		cli.TokenCommand(opts),
		cli.EventsCommand(opts),
		cli.WhoamiCommand(opts),
		cli.IAMCommand(opts),
		lbCommand(opts),
		cli.DNSCommand(opts),
		simCommand(),
		demoAppCommand(),
		pauseCommand(),
	)
	return root
}
