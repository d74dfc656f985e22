package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	sd "github.com/aws/aws-sdk-go-v2/service/servicediscovery"
	"github.com/spf13/cobra"

	"github.com/flotta-dev/flotta/internal/dns"
)

// defaultDNSAddr is where flotta dev and flotta server answer DNS unless
// told otherwise.
const defaultDNSAddr = "127.0.0.1:8053"

// DNSCommand is `flotta dns`: the zones Flotta's DNS server answers for,
// and queries to it.
func DNSCommand(o *Options) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "dns",
		Short: "List the DNS zones Flotta serves and query its DNS server",
		Long: `Flotta's DNS server answers for Cloud Map DNS namespaces (each service's healthy
instances, and so each ECS service's running tasks that have a serviceRegistries entry) and
for Route 53 hosted zones. flotta dns ls lists both through the Cloud Map and Route 53 APIs;
flotta dns query asks the DNS server itself.`,
	}
	cmd.AddCommand(dnsList(o), dnsQuery(o))
	return cmd
}

// zoneView is one zone in `dns ls`.
type zoneView struct {
	Name string `json:"name"`
	// Kind is "cloudmap" (a DNS namespace) or "route53" (a hosted zone).
	Kind string `json:"kind"`
	ID   string `json:"id"`
	// Records are a hosted zone's record sets; Services a namespace's
	// services, each with its instance count.
	Records  int64          `json:"records,omitempty"`
	Services map[string]int `json:"services,omitempty"`
	Private  bool           `json:"private"`
	// order is the services' order for the table.
	order []string
}

func dnsList(o *Options) *cobra.Command {
	return &cobra.Command{
		Use:     "ls",
		Aliases: []string{"list"},
		Short:   "List Cloud Map DNS namespaces (with their services) and Route 53 hosted zones",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			zones, err := listZones(ctx, o)
			if err != nil {
				return err
			}
			if o.Output == "json" {
				return printJSON(cmd.OutOrStdout(), map[string]any{"zones": zones})
			}
			rows := make([][]string, 0, len(zones))
			for _, z := range zones {
				what := fmt.Sprintf("%d record sets", z.Records)
				if z.Kind == "cloudmap" {
					var parts []string
					for _, name := range z.order {
						parts = append(parts, fmt.Sprintf("%s (%d)", name, z.Services[name]))
					}
					what = strings.Join(parts, ", ")
					if what == "" {
						what = "no services"
					}
				}
				rows = append(rows, []string{z.Name, z.Kind, z.ID, what})
			}
			return table(cmd.OutOrStdout(), []string{"ZONE", "KIND", "ID", "CONTENTS"}, rows)
		},
	}
}

// listZones reads every DNS namespace with its services' instance counts,
// and every hosted zone.
func listZones(ctx context.Context, o *Options) ([]*zoneView, error) {
	sdc, err := o.ServiceDiscovery(ctx)
	if err != nil {
		return nil, err
	}
	var out []*zoneView
	byID := map[string]*zoneView{}
	np := sd.NewListNamespacesPaginator(sdc, &sd.ListNamespacesInput{})
	for np.HasMorePages() {
		page, err := np.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, ns := range page.Namespaces {
			if ns.Type == "HTTP" {
				continue
			}
			z := &zoneView{Name: strings.TrimSuffix(aws.ToString(ns.Name), ".") + ".", Kind: "cloudmap", ID: aws.ToString(ns.Id),
				Services: map[string]int{}, Private: ns.Type == "DNS_PRIVATE"}
			out = append(out, z)
			byID[z.ID] = z
		}
	}
	sp := sd.NewListServicesPaginator(sdc, &sd.ListServicesInput{})
	for sp.HasMorePages() {
		page, err := sp.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, s := range page.Services {
			// ListServices does not say which namespace: ask.
			got, err := sdc.GetService(ctx, &sd.GetServiceInput{Id: s.Id})
			if err != nil {
				return nil, err
			}
			z := byID[aws.ToString(got.Service.NamespaceId)]
			if z == nil {
				continue
			}
			name := aws.ToString(s.Name)
			z.order = append(z.order, name)
			z.Services[name] = int(aws.ToInt32(s.InstanceCount))
		}
	}
	r53, err := o.Route53(ctx)
	if err != nil {
		return nil, err
	}
	zp := route53.NewListHostedZonesPaginator(r53, &route53.ListHostedZonesInput{})
	for zp.HasMorePages() {
		page, err := zp.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, hz := range page.HostedZones {
			private := hz.Config != nil && hz.Config.PrivateZone
			out = append(out, &zoneView{Name: aws.ToString(hz.Name), Kind: "route53", ID: strings.TrimPrefix(aws.ToString(hz.Id), "/hostedzone/"),
				Records: aws.ToInt64(hz.ResourceRecordSetCount), Private: private})
		}
	}
	return out, nil
}

func dnsQuery(o *Options) *cobra.Command {
	var server string
	cmd := &cobra.Command{
		Use:   "query NAME [TYPE]",
		Short: "Ask Flotta's DNS server for NAME (type A unless given: AAAA, SRV, CNAME, TXT, MX, NS, SOA)",
		Long: `Ask Flotta's DNS server for NAME over UDP (again over TCP when the answer is truncated) and
print the answer. The server is --server, else $FLOTTA_DNS, else the address a flotta dev or
flotta server wrote in the config file of --data-dir, else ` + defaultDNSAddr + `.`,
		Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			qtype := "A"
			if len(args) == 2 {
				qtype = strings.ToUpper(args[1])
			}
			addr := server
			if addr == "" {
				addr = dnsServerAddr(o)
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), 10*time.Second)
			defer cancel()
			a, err := dns.Query(ctx, addr, args[0], qtype)
			if err != nil {
				return err
			}
			if o.Output == "json" {
				return printJSON(cmd.OutOrStdout(), a)
			}
			return printAnswer(cmd.OutOrStdout(), addr, a)
		},
	}
	cmd.Flags().StringVar(&server, "server", "", "HOST:PORT of the DNS server")
	return cmd
}

// printAnswer shows a DNS answer as dig's sections do, shortly.
func printAnswer(w io.Writer, addr string, a *dns.Answer) error {
	flags := []string{}
	if a.Authoritative {
		flags = append(flags, "authoritative")
	}
	if a.TCP {
		flags = append(flags, "over TCP (the UDP answer was truncated)")
	}
	fmt.Fprintf(w, "%s from %s in %v", a.Rcode, addr, a.RTT.Round(time.Microsecond))
	if len(flags) > 0 {
		fmt.Fprintf(w, " (%s)", strings.Join(flags, ", "))
	}
	fmt.Fprintln(w)
	for _, section := range []struct {
		name  string
		lines []string
	}{{"Answer", a.Records}, {"Authority", a.Authority}, {"Additional", a.Additional}} {
		if len(section.lines) == 0 {
			continue
		}
		fmt.Fprintf(w, "\n%s:\n", section.name)
		for _, l := range section.lines {
			fmt.Fprintf(w, "  %s\n", l)
		}
	}
	if a.Rcode == "REFUSED" {
		fmt.Fprintln(w, "\nFlotta serves no zone that holds this name (and forwards nothing unless started with --dns-upstream).")
	}
	return nil
}

// dnsServerAddr is where `dns query` asks when --server is not given.
func dnsServerAddr(o *Options) string {
	if env := os.Getenv("FLOTTA_DNS"); env != "" {
		return env
	}
	if addr := configValue(filepath.Join(o.DataDir, "config"), "# flotta_dns"); addr != "" {
		return addr
	}
	return defaultDNSAddr
}

// configValue reads "KEY = VALUE" from a config file ("" if absent).
func configValue(path, key string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), "=")
		if ok && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// serviceRegistries prints, for `service describe`, each service registry
// with its DNS name and how many tasks are registered in it.
func serviceRegistries(ctx context.Context, w io.Writer, o *Options, s *ecstypes.Service) error {
	if len(s.ServiceRegistries) == 0 {
		return nil
	}
	sdc, err := o.ServiceDiscovery(ctx)
	if err != nil {
		return err
	}
	for _, r := range s.ServiceRegistries {
		arn := aws.ToString(r.RegistryArn)
		line := arn
		id := arn[strings.LastIndex(arn, "/")+1:]
		if got, err := sdc.GetService(ctx, &sd.GetServiceInput{Id: aws.String(id)}); err == nil {
			name := aws.ToString(got.Service.Name)
			if ns, err := sdc.GetNamespace(ctx, &sd.GetNamespaceInput{Id: got.Service.NamespaceId}); err == nil {
				name += "." + aws.ToString(ns.Namespace.Name)
			}
			var types []string
			if dc := got.Service.DnsConfig; dc != nil {
				for _, rec := range dc.DnsRecords {
					types = append(types, string(rec.Type))
				}
			}
			n := 0
			if list, err := sdc.ListInstances(ctx, &sd.ListInstancesInput{ServiceId: aws.String(id)}); err == nil {
				n = len(list.Instances)
			}
			line = fmt.Sprintf("%s (%s), %d registered", name, strings.Join(types, ", "), n)
		} else {
			var notFound interface{ ErrorCode() string }
			if errors.As(err, &notFound) && notFound.ErrorCode() == "ServiceNotFound" {
				line += " (the Cloud Map service no longer exists)"
			}
		}
		if r.ContainerName != nil {
			line += fmt.Sprintf(", port of %s:%d", aws.ToString(r.ContainerName), aws.ToInt32(r.ContainerPort))
		} else if r.Port != nil {
			line += fmt.Sprintf(", port %d", aws.ToInt32(r.Port))
		}
		fmt.Fprintf(w, "Registry:    %s\n", line)
	}
	return nil
}
