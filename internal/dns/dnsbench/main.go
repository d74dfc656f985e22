// Command dnsbench measures Flotta's DNS server against CoreDNS (file plugin)
// serving the same zone, with the same dnsperf client and query file, in one
// run. It prints queries/s at full load and p50/p99 latency at a fixed rate
// for each, and the ratio. scripts/bench-dns.sh installs dnsperf, builds
// CoreDNS and runs it.
//
// Two passes per server:
//   - throughput: dnsperf -l <duration> -c <clients> -q <outstanding>, no rate
//     limit; queries/s is dnsperf's "Queries per second".
//   - latency: dnsperf -v -Q <qps> -l <duration>; dnsperf 2.10 prints no
//     percentiles, so -v makes it print each query's latency and dnsbench
//     sorts them to read p50 and p99.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"log"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/flotta-dev/flotta/internal/dns"
)

// origin is the benchmark zone's apex.
const origin = "bench."

func main() {
	coredns := flag.String("coredns", "coredns", "CoreDNS binary")
	dnsperf := flag.String("dnsperf", "dnsperf", "dnsperf binary")
	duration := flag.Int("l", 10, "seconds each dnsperf pass runs")
	clients := flag.Int("c", 2, "dnsperf clients (-c)")
	outstanding := flag.Int("q", 100, "dnsperf outstanding queries (-q) in the throughput pass")
	qps := flag.Int("Q", 10000, "dnsperf rate (-Q) in the latency pass")
	hosts := flag.Int("hosts", 1000, "A records in the zone (plus a tenth as many SRV and TXT)")
	only := flag.String("only", "", "flotta or coredns: measure one server only")
	serve := flag.String("serve", "", "only serve the zone with Flotta on this host:port until killed (for profiling)")
	cpuprofile := flag.String("cpuprofile", "", "write Flotta's CPU profile during its passes here")
	flag.Parse()

	z := benchZone(*hosts)
	if *serve != "" {
		s := startFlotta(*serve, z)
		log.Printf("serving %s on %s", origin, s.Addr())
		select {}
	}

	dir, err := os.MkdirTemp("", "dnsbench")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	zoneFile := filepath.Join(dir, "db.bench")
	queryFile := filepath.Join(dir, "queries.txt")
	must(os.WriteFile(zoneFile, []byte(zoneText(z)), 0o644))
	must(os.WriteFile(queryFile, []byte(queries(*hosts)), 0o644))

	type result struct {
		name          string
		qps           float64
		lost, rcodes  string
		p50, p99, avg time.Duration
	}
	var results []result
	perf := func(name, addr string) result {
		host, port, _ := net.SplitHostPort(addr)
		base := []string{"-s", host, "-p", port, "-d", queryFile, "-l", strconv.Itoa(*duration), "-c", strconv.Itoa(*clients)}
		out := run(*dnsperf, append(base, "-q", strconv.Itoa(*outstanding))...)
		r := result{name: name, qps: parseFloat(out, `Queries per second:\s+([0-9.]+)`), lost: find(out, `Queries lost:\s+(\d+ \([0-9.]+%\))`),
			rcodes: find(out, `Response codes:\s+(.*)`)}
		lat := run(*dnsperf, append(base, "-Q", strconv.Itoa(*qps), "-v")...)
		r.p50, r.p99, r.avg = percentiles(lat)
		log.Printf("%s: %.0f queries/s, p50 %v, p99 %v", name, r.qps, r.p50, r.p99)
		return r
	}

	if *only == "" || *only == "flotta" {
		s := startFlotta("127.0.0.1:0", z)
		if *cpuprofile != "" {
			f, err := os.Create(*cpuprofile)
			must(err)
			must(pprof.StartCPUProfile(f))
		}
		results = append(results, perf("flotta", s.Addr()))
		if *cpuprofile != "" {
			pprof.StopCPUProfile()
		}
		s.Close()
	}
	if *only == "" || *only == "coredns" {
		addr := freeAddr()
		_, port, _ := net.SplitHostPort(addr)
		corefile := filepath.Join(dir, "Corefile")
		must(os.WriteFile(corefile, []byte(fmt.Sprintf("%s:%s {\n\tbind 127.0.0.1\n\tfile %s %s\n}\n", origin, port, zoneFile, origin)), 0o644))
		cmd := exec.Command(*coredns, "-conf", corefile, "-quiet")
		cmd.Stderr = os.Stderr
		must(cmd.Start())
		waitUDP(addr)
		results = append(results, perf("coredns", addr))
		cmd.Process.Kill()
		cmd.Wait()
	}

	fmt.Printf("zone %s: %d A, %d SRV, %d TXT; dnsperf -c %d -q %d for %ds (throughput), -Q %d -v for %ds (latency); GOMAXPROCS %d\n",
		origin, *hosts, *hosts/10, *hosts/10, *clients, *outstanding, *duration, *qps, *duration, runtime.GOMAXPROCS(0))
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "server\tqueries/s\tlost\tp50 @Q\tp99 @Q\tavg @Q\tresponse codes (throughput pass)")
	for _, r := range results {
		fmt.Fprintf(w, "%s\t%.0f\t%s\t%v\t%v\t%v\t%s\n", r.name, r.qps, r.lost, r.p50, r.p99, r.avg, r.rcodes)
	}
	w.Flush()
	if len(results) == 2 && results[1].qps > 0 {
		fmt.Printf("flotta/coredns throughput ratio: %.2fx; p99 ratio (lower is better): %.2fx\n",
			results[0].qps/results[1].qps, float64(results[0].p99)/float64(results[1].p99))
	}
}

// benchZone builds the benchmark zone: hosts A records, a tenth as many SRV
// records pointing at them and as many TXT records.
func benchZone(hosts int) dns.Zone {
	z := dns.Zone{Name: origin, Serial: 1, TTL: 60, NS: []string{"ns1." + origin}}
	z.Records = append(z.Records, dns.RRSet{Name: "ns1." + origin, Type: "A", TTL: 300, Values: []string{"127.0.0.1"}})
	for i := range hosts {
		z.Records = append(z.Records, dns.RRSet{Name: fmt.Sprintf("host-%d.%s", i, origin), Type: "A", TTL: 300,
			Values: []string{fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255)}})
	}
	for i := range hosts / 10 {
		z.Records = append(z.Records,
			dns.RRSet{Name: fmt.Sprintf("_svc-%d._tcp.%s", i, origin), Type: "SRV", TTL: 300,
				Values: []string{fmt.Sprintf("1 10 %d host-%d.%s", 8000+i, i, origin)}},
			dns.RRSet{Name: fmt.Sprintf("txt-%d.%s", i, origin), Type: "TXT", TTL: 300,
				Values: []string{fmt.Sprintf(`"service=%d" "owner=bench"`, i)}})
	}
	return z
}

// zoneText renders z as an RFC 1035 zone file with the SOA and NS that
// Flotta's server builds for it.
func zoneText(z dns.Zone) string {
	var b strings.Builder
	fmt.Fprintf(&b, "$ORIGIN %s\n$TTL %d\n", z.Name, z.TTL)
	fmt.Fprintf(&b, "@ %d IN SOA %s hostmaster.%s %d 7200 900 1209600 %d\n", z.TTL, z.NS[0], z.Name, z.Serial, z.TTL)
	for _, ns := range z.NS {
		fmt.Fprintf(&b, "@ %d IN NS %s\n", z.TTL, ns)
	}
	for _, rs := range z.Records {
		for _, v := range rs.Values {
			fmt.Fprintf(&b, "%s %d IN %s %s\n", rs.Name, rs.TTL, rs.Type, v)
		}
	}
	return b.String()
}

// queries is the dnsperf query file: mostly A, some SRV and TXT, some
// NODATA and NXDOMAIN, interleaved.
func queries(hosts int) string {
	var b strings.Builder
	for i := range hosts {
		fmt.Fprintf(&b, "host-%d.%s A\n", i, origin)
		switch i % 10 {
		case 1:
			fmt.Fprintf(&b, "_svc-%d._tcp.%s SRV\n", i/10, origin)
		case 3:
			fmt.Fprintf(&b, "txt-%d.%s TXT\n", i/10, origin)
		case 5:
			fmt.Fprintf(&b, "host-%d.%s AAAA\n", i, origin)
		case 7:
			fmt.Fprintf(&b, "missing-%d.%s A\n", i, origin)
		}
	}
	return b.String()
}

// startFlotta serves z with Flotta's server on addr.
func startFlotta(addr string, z dns.Zone) *dns.Server {
	s, err := dns.New(dns.Options{Addr: addr})
	must(err)
	must(s.SetZone(z))
	return s
}

// run runs a command and returns its standard output, failing on error.
func run(name string, args ...string) string {
	out, err := exec.Command(name, args...).Output()
	if err != nil {
		log.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// percentiles reads dnsperf -v lines ("> NOERROR name type 0.000123") and
// returns p50, p99 and the mean.
func percentiles(out string) (p50, p99, avg time.Duration) {
	var lat []float64
	sc := bufio.NewScanner(strings.NewReader(out))
	var sum float64
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 5 || f[0] != ">" {
			continue
		}
		v, err := strconv.ParseFloat(f[4], 64)
		if err != nil {
			continue
		}
		lat = append(lat, v)
		sum += v
	}
	if len(lat) == 0 {
		log.Fatalf("dnsperf -v printed no latencies:\n%.2000s", out)
	}
	slices.Sort(lat)
	d := func(s float64) time.Duration { return time.Duration(s * 1e9).Round(time.Microsecond) }
	return d(lat[len(lat)/2]), d(lat[len(lat)*99/100]), d(sum / float64(len(lat)))
}

// find returns the first group of re in s, or "?".
func find(s, re string) string {
	m := regexp.MustCompile(re).FindStringSubmatch(s)
	if m == nil {
		return "?"
	}
	return m[1]
}

// parseFloat returns the number that re's first group finds in s.
func parseFloat(s, re string) float64 {
	v, err := strconv.ParseFloat(find(s, re), 64)
	if err != nil {
		log.Fatalf("dnsperf output lacks %s:\n%s", re, s)
	}
	return v
}

// freeAddr returns a loopback host:port that is free on UDP and TCP now.
func freeAddr() string {
	for {
		u, err := net.ListenPacket("udp", "127.0.0.1:0")
		must(err)
		addr := u.LocalAddr().String()
		t, err := net.Listen("tcp", addr)
		u.Close()
		if err == nil {
			t.Close()
			return addr
		}
	}
}

// waitUDP waits until a server answers on addr over TCP (CoreDNS opens both
// together), for at most ten seconds.
func waitUDP(addr string) {
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	log.Fatalf("CoreDNS did not start listening on %s within 10s", addr)
}

func must(err error) {
	if err != nil {
		log.Fatal(err)
	}
}
