// Package cli implements the client verbs of the flotta command (cluster,
// taskdef, ...). It talks to a Flotta endpoint only through the official AWS
// SDK clients, exactly as a user's program would, and imports no server
// internals: that keeps it honest about compatibility.
package cli

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/servicediscovery"
	"github.com/aws/smithy-go"
	"github.com/spf13/cobra"
)

// DevProfile is the profile that flotta dev writes into its data dir.
const DevProfile = "flotta"

// DefaultDevDataDir is where flotta dev keeps its data unless told otherwise.
func DefaultDevDataDir() string {
	home, err := os.UserHomeDir()
	if err != nil {
		return ".flotta-dev"
	}
	return filepath.Join(home, ".flotta", "dev")
}

// Options are the connection flags every client verb shares.
type Options struct {
	Endpoint string
	Region   string
	Profile  string
	DataDir  string
	Output   string
}

// AddFlags registers the connection flags on a command tree.
func (o *Options) AddFlags(cmd *cobra.Command) {
	f := cmd.PersistentFlags()
	f.StringVar(&o.Endpoint, "endpoint", "", "Flotta endpoint URL (default: $FLOTTA_ENDPOINT, $AWS_ENDPOINT_URL_ECS, $AWS_ENDPOINT_URL, or the one flotta dev wrote in --data-dir)")
	f.StringVar(&o.Region, "region", "", "region to sign requests for (default: from the AWS config)")
	f.StringVar(&o.Profile, "profile", "", "AWS profile with the credentials to use (default: $AWS_PROFILE, or flotta for a dev data dir)")
	f.StringVar(&o.DataDir, "data-dir", DefaultDevDataDir(), "data dir of a flotta dev server, whose config and credentials files are used when no endpoint is given")
	f.StringVarP(&o.Output, "output", "o", "table", "output format: table or json")
}

// config resolves the AWS configuration and, when one is named outside the
// SDK's own settings, the endpoint.
func (o *Options) config(ctx context.Context) (aws.Config, string, error) {
	if o.Output != "table" && o.Output != "json" {
		return aws.Config{}, "", fmt.Errorf("--output must be table or json, not %q", o.Output)
	}
	endpoint := o.Endpoint
	if endpoint == "" {
		endpoint = os.Getenv("FLOTTA_ENDPOINT")
	}
	var opts []func(*config.LoadOptions) error
	if o.Region != "" {
		opts = append(opts, config.WithRegion(o.Region))
	}
	sdkEndpoint := os.Getenv("AWS_ENDPOINT_URL_ECS") != "" || os.Getenv("AWS_ENDPOINT_URL") != ""
	if endpoint == "" && !sdkEndpoint {
		// No endpoint anywhere: use the files a local flotta dev wrote.
		cfgFile := filepath.Join(o.DataDir, "config")
		if _, err := os.Stat(cfgFile); err != nil {
			return aws.Config{}, "", fmt.Errorf("no Flotta endpoint: start one with `flotta dev`, or pass --endpoint (looked for %s)", cfgFile)
		}
		profile := o.Profile
		if profile == "" {
			profile = DevProfile
		}
		opts = append(opts,
			config.WithSharedConfigFiles([]string{cfgFile}),
			config.WithSharedCredentialsFiles([]string{filepath.Join(o.DataDir, "credentials")}),
			config.WithSharedConfigProfile(profile))
		bundle, err := caBundle(cfgFile, profile)
		if err != nil {
			return aws.Config{}, "", err
		}
		if bundle != nil {
			// The server's CA, beside those AWS_CA_BUNDLE names (which
			// would otherwise win over the config file's).
			if env := os.Getenv("AWS_CA_BUNDLE"); env != "" {
				more, err := os.ReadFile(env)
				if err != nil {
					return aws.Config{}, "", fmt.Errorf("AWS_CA_BUNDLE: %w", err)
				}
				bundle = append(append(more, '\n'), bundle...)
			}
			opts = append(opts, config.WithCustomCABundle(bytes.NewReader(bundle)))
		}
	} else if o.Profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(o.Profile))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, "", fmt.Errorf("load AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		return aws.Config{}, "", errors.New("no region: pass --region or set AWS_REGION")
	}
	if endpoint == "" {
		if e := os.Getenv("AWS_ENDPOINT_URL_ECS"); e != "" {
			endpoint = e
		} else if cfg.BaseEndpoint != nil {
			endpoint = *cfg.BaseEndpoint
		}
	}
	return cfg, endpoint, nil
}

// ECS builds an SDK ECS client from the flags and environment.
func (o *Options) ECS(ctx context.Context) (*ecs.Client, error) {
	cfg, endpoint, err := o.config(ctx)
	if err != nil {
		return nil, err
	}
	return ecs.NewFromConfig(cfg, func(eo *ecs.Options) {
		if endpoint != "" {
			eo.BaseEndpoint = aws.String(endpoint)
		}
	}), nil
}

// ELB builds an SDK Elastic Load Balancing v2 client from the flags and
// environment. A Flotta server answers every service at one endpoint, so
// the client goes where the ECS client goes, unless
// AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2 names a place of its own.
func (o *Options) ELB(ctx context.Context) (*elb.Client, error) {
	cfg, endpoint, err := o.config(ctx)
	if err != nil {
		return nil, err
	}
	own := os.Getenv("AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2")
	return elb.NewFromConfig(cfg, func(eo *elb.Options) {
		switch {
		case own != "" && o.Endpoint == "" && os.Getenv("FLOTTA_ENDPOINT") == "":
			eo.BaseEndpoint = aws.String(own)
		case endpoint != "":
			eo.BaseEndpoint = aws.String(endpoint)
		}
	}), nil
}

// ServiceDiscovery builds an SDK Cloud Map client from the flags and
// environment; it goes where the ECS client goes, unless
// AWS_ENDPOINT_URL_SERVICEDISCOVERY names a place of its own.
func (o *Options) ServiceDiscovery(ctx context.Context) (*servicediscovery.Client, error) {
	cfg, endpoint, err := o.config(ctx)
	if err != nil {
		return nil, err
	}
	own := os.Getenv("AWS_ENDPOINT_URL_SERVICEDISCOVERY")
	return servicediscovery.NewFromConfig(cfg, func(so *servicediscovery.Options) {
		switch {
		case own != "" && o.Endpoint == "" && os.Getenv("FLOTTA_ENDPOINT") == "":
			so.BaseEndpoint = aws.String(own)
		case endpoint != "":
			so.BaseEndpoint = aws.String(endpoint)
		}
	}), nil
}

// Route53 builds an SDK Route 53 client from the flags and environment;
// it goes where the ECS client goes, unless AWS_ENDPOINT_URL_ROUTE_53 names
// a place of its own.
func (o *Options) Route53(ctx context.Context) (*route53.Client, error) {
	cfg, endpoint, err := o.config(ctx)
	if err != nil {
		return nil, err
	}
	own := os.Getenv("AWS_ENDPOINT_URL_ROUTE_53")
	return route53.NewFromConfig(cfg, func(ro *route53.Options) {
		switch {
		case own != "" && o.Endpoint == "" && os.Getenv("FLOTTA_ENDPOINT") == "":
			ro.BaseEndpoint = aws.String(own)
		case endpoint != "":
			ro.BaseEndpoint = aws.String(endpoint)
		}
	}), nil
}

// Explain turns an SDK error into one line a human can act on.
func Explain(err error) string {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		line := apiErr.ErrorCode()
		if apiErr.ErrorMessage() != "" {
			line += ": " + apiErr.ErrorMessage()
		}
		// Keep what the CLI wrapped around the SDK's error (which step
		// failed), and drop the SDK's operation and request details.
		if i := strings.Index(err.Error(), "operation error "); i > 0 {
			line = strings.TrimSuffix(err.Error()[:i], ": ") + ": " + line
		}
		return line
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) {
		return fmt.Sprintf("cannot reach Flotta at %s (%v): is the server running?", opErr.Addr, opErr.Err)
	}
	return err.Error()
}

// caBundle reads the certificates that a profile's ca_bundle names in a
// shared config file, as the AWS CLI and boto3 do (the Go SDK reads only
// AWS_CA_BUNDLE); nil when the profile names none.
func caBundle(cfgFile, profile string) ([]byte, error) {
	f, err := os.Open(cfgFile)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	section := "[profile " + profile + "]"
	if profile == "default" {
		section = "[default]"
	}
	in := false
	lines := bufio.NewScanner(f)
	for lines.Scan() {
		line := strings.TrimSpace(lines.Text())
		if strings.HasPrefix(line, "[") {
			in = line == section
			continue
		}
		key, value, ok := strings.Cut(line, "=")
		if !in || !ok || strings.TrimSpace(key) != "ca_bundle" {
			continue
		}
		path := strings.TrimSpace(value)
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("ca_bundle of profile %s in %s: %w", profile, cfgFile, err)
		}
		return b, nil
	}
	return nil, lines.Err()
}
