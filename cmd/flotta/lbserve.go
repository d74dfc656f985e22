package main

import (
	"fmt"
	"net/http"
	"time"

	"github.com/spf13/cobra"

	"github.com/flotta-dev/flotta/internal/cli"
	"github.com/flotta-dev/flotta/internal/lb"
	"github.com/flotta-dev/flotta/internal/lbsync"
	"github.com/flotta-dev/flotta/internal/metrics"
)

// lbServeCommand runs a load balancer data plane apart from the server.
func lbServeCommand(opts *cli.Options) *cobra.Command {
	var host, metricsAddr, logLevel string
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve every load balancer's listeners on this machine, following the server's configuration",
		Long: `Serve the listeners of every load balancer on this machine. The process asks the
server (--endpoint, with the credentials of every other command: they must allow
flotta:GetLoadBalancerConfig and flotta:PutTargetHealth) for the load balancing
configuration, applies each change as soon as the server has it, runs the target
groups' health checks and reports what they see, so that any number of machines
can carry the traffic while the control plane stays out of its way.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f := serverFlags{logLevel: logLevel, logFormat: "text"}
			logger, err := f.logger(cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			remote := &lbsync.Remote{Call: opts.CallFlotta, Logger: logger}
			m := metrics.New()
			bal, err := lb.New(lb.Options{Registerer: m.Registerer(), Logger: logger, OnHealthChange: remote.Observe})
			if err != nil {
				return err
			}
			defer bal.Close()
			if metricsAddr != "" {
				srv := &http.Server{Addr: metricsAddr, Handler: m.Handler(), ReadHeaderTimeout: 10 * time.Second}
				go func() {
					if err := srv.ListenAndServe(); err != nil && err != http.ErrServerClosed {
						logger.Error("serve metrics", "err", err)
					}
				}()
				defer srv.Close()
			}
			remote.Run(cmd.Context(), func(c lb.Config) error {
				for i := range c.LoadBalancers {
					for j := range c.LoadBalancers[i].Listeners {
						c.LoadBalancers[i].Listeners[j].Host = host
					}
				}
				return bal.Apply(c)
			})
			fmt.Fprintln(cmd.ErrOrStderr(), "flotta lb: stopped")
			return nil
		},
	}
	cmd.Flags().StringVar(&host, "host", "", "address the listeners bind (empty: every interface)")
	cmd.Flags().StringVar(&metricsAddr, "metrics", "", "serve the load balancers' metrics on this address (HOST:PORT, path /metrics)")
	cmd.Flags().StringVar(&logLevel, "log-level", "info", "debug, info, warn or error")
	return cmd
}
