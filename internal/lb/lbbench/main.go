// Command lbbench measures Flotta's load balancer against
// net/http/httputil.ReverseProxy and nginx in front of one static backend
// (a process of its own),
// with the same wrk client in one run, and prints requests/s, p50, p99 and
// the latency each proxy adds at p50. scripts/bench-lb.sh installs wrk and
// nginx and runs it.
package main

import (
	"bufio"
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime/pprof"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/flotta-dev/flotta/internal/lb"
)

func main() {
	duration := flag.Duration("duration", 10*time.Second, "how long wrk runs against each target")
	conns := flag.Int("connections", 64, "wrk connections")
	threads := flag.Int("threads", 2, "wrk threads")
	wrk := flag.String("wrk", "wrk", "wrk binary")
	nginx := flag.String("nginx", "nginx", "nginx binary")
	only := flag.String("only", "", "comma-separated subset of direct,flotta,reverseproxy,nginx")
	flag.StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile of this process while wrk runs against Flotta")
	serveBackend := flag.Bool("backend", false, "only serve the static backend and print its address (the harness runs itself so)")
	flag.Parse()
	if *serveBackend {
		runBackend()
		return
	}
	if err := run(*duration, *conns, *threads, *wrk, *nginx, *only); err != nil {
		log.Fatal(err)
	}
}

var cpuProfile string

var body = []byte("hello from the static backend\n")

// runBackend serves the static body and prints the address it listens on.
func runBackend() {
	ln := listen()
	fmt.Println(ln.Addr().String())
	log.Fatal(http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		_, _ = w.Write(body)
	})))
}

// startBackend runs this program again with -backend.
func startBackend() (*net.TCPAddr, func(), error) {
	self, err := os.Executable()
	if err != nil {
		return nil, nil, err
	}
	cmd := exec.Command(self, "-backend")
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, nil, err
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, nil, err
	}
	stop := func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		stop()
		return nil, nil, err
	}
	addr, err := net.ResolveTCPAddr("tcp", strings.TrimSpace(line))
	if err != nil {
		stop()
		return nil, nil, err
	}
	return addr, stop, nil
}

func listen() net.Listener {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	return ln
}

func run(d time.Duration, conns, threads int, wrk, nginx, only string) error {
	// The static backend, in a process of its own so that it shares no Go
	// runtime with the proxies measured.
	baddr, stopBackend, err := startBackend()
	if err != nil {
		return fmt.Errorf("backend: %w", err)
	}
	defer stopBackend()

	// Flotta's load balancer.
	b, err := lb.New(lb.Options{})
	if err != nil {
		return err
	}
	defer b.Close()
	err = b.Apply(lb.Config{
		LoadBalancers: []lb.LoadBalancer{{ARN: "lb", Name: "bench", Type: lb.TypeApplication, Dimension: "app/bench/1",
			Listeners: []lb.Listener{{ARN: "l", Host: "127.0.0.1", Protocol: lb.ProtocolHTTP,
				DefaultActions: []lb.Action{{Type: lb.ActionForward, Forward: &lb.Forward{TargetGroups: []lb.WeightedGroup{{ARN: "tg", Weight: 1}}}}}}}}},
		TargetGroups: []lb.TargetGroup{{ARN: "tg", Name: "bench", Dimension: "targetgroup/bench/1", Protocol: lb.ProtocolHTTP, Port: baddr.Port,
			Targets: []lb.Target{{ID: "static", Host: "127.0.0.1", Port: baddr.Port}}}},
	})
	if err != nil {
		return err
	}

	// httputil.ReverseProxy with the same pool size as Flotta's transport.
	target, _ := url.Parse("http://" + baddr.String())
	rp := httputil.NewSingleHostReverseProxy(target)
	rp.Transport = &http.Transport{MaxIdleConnsPerHost: 1024, DisableCompression: true}
	rln := listen()
	rps := &http.Server{Handler: rp}
	go func() { _ = rps.Serve(rln) }()
	defer rps.Close()

	targets := []struct{ name, addr string }{
		{"direct", baddr.String()},
		{"flotta", b.Addr("l").String()},
		{"reverseproxy", rln.Addr().String()},
	}
	if only == "" || strings.Contains(only, "nginx") {
		addr, stop, err := startNginx(nginx, baddr.String())
		if err != nil {
			return fmt.Errorf("nginx: %w", err)
		}
		defer stop()
		targets = append(targets, struct{ name, addr string }{"nginx", addr})
	}

	type row struct {
		name          string
		rps           float64
		p50, p99, add time.Duration
	}
	var rows []row
	var direct time.Duration
	for _, tgt := range targets {
		if only != "" && !strings.Contains(only, tgt.name) {
			continue
		}
		if err := warm("http://" + tgt.addr + "/"); err != nil {
			return fmt.Errorf("%s: %w", tgt.name, err)
		}
		if tgt.name == "flotta" && cpuProfile != "" {
			f, err := os.Create(cpuProfile)
			if err != nil {
				return err
			}
			if err := pprof.StartCPUProfile(f); err != nil {
				return err
			}
		}
		r, p50, p99, err := runWrk(wrk, "http://"+tgt.addr+"/", d, conns, threads)
		if tgt.name == "flotta" && cpuProfile != "" {
			pprof.StopCPUProfile()
		}
		if err != nil {
			return fmt.Errorf("%s: %w", tgt.name, err)
		}
		if tgt.name == "direct" {
			direct = p50
		}
		rows = append(rows, row{tgt.name, r, p50, p99, p50 - direct})
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "target\treq/s\tp50\tp99\tadded p50\t\n")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%.0f\t%v\t%v\t%v\t\n", r.name, r.rps, r.p50.Round(10*time.Microsecond), r.p99.Round(10*time.Microsecond), r.add.Round(10*time.Microsecond))
	}
	return tw.Flush()
}

func warm(u string) error {
	for range 50 {
		resp, err := http.Get(u)
		if err != nil {
			return err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			return fmt.Errorf("warm-up answered %d", resp.StatusCode)
		}
	}
	return nil
}

var (
	reqsRe = regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`)
	pctRe  = regexp.MustCompile(`(?m)^\s+(50|99)%\s+([0-9.]+)(us|ms|s)\s*$`)
)

func runWrk(wrk, u string, d time.Duration, conns, threads int) (float64, time.Duration, time.Duration, error) {
	out, err := exec.Command(wrk, "-t"+strconv.Itoa(threads), "-c"+strconv.Itoa(conns),
		"-d"+strconv.Itoa(int(d.Seconds()))+"s", "--latency", u).CombinedOutput()
	if err != nil {
		return 0, 0, 0, fmt.Errorf("wrk: %v: %s", err, out)
	}
	m := reqsRe.FindSubmatch(out)
	if m == nil {
		return 0, 0, 0, fmt.Errorf("no Requests/sec in wrk's output: %s", out)
	}
	if bytes.Contains(out, []byte("Non-2xx")) || bytes.Contains(out, []byte("Socket errors")) {
		return 0, 0, 0, fmt.Errorf("errors in wrk's output: %s", out)
	}
	r, _ := strconv.ParseFloat(string(m[1]), 64)
	var p50, p99 time.Duration
	for _, pm := range pctRe.FindAllSubmatch(out, -1) {
		v, _ := strconv.ParseFloat(string(pm[2]), 64)
		unit := map[string]float64{"us": 1e3, "ms": 1e6, "s": 1e9}[string(pm[3])]
		dur := time.Duration(v * unit)
		if string(pm[1]) == "50" {
			p50 = dur
		} else {
			p99 = dur
		}
	}
	return r, p50, p99, nil
}

// startNginx runs nginx as a reverse proxy with upstream keep-alive, as it
// is deployed in front of services.
func startNginx(bin, backend string) (string, func(), error) {
	dir, err := os.MkdirTemp("", "lbbench-nginx")
	if err != nil {
		return "", nil, err
	}
	ln := listen()
	addr := ln.Addr().String()
	ln.Close()
	conf := fmt.Sprintf(`worker_processes auto;
daemon off;
pid %[1]s/nginx.pid;
error_log %[1]s/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path %[1]s/body;
  proxy_temp_path %[1]s/proxy;
  fastcgi_temp_path %[1]s/fastcgi;
  uwsgi_temp_path %[1]s/uwsgi;
  scgi_temp_path %[1]s/scgi;
  upstream backend { server %[2]s; keepalive 128; }
  server {
    listen %[3]s;
    location / {
      proxy_pass http://backend;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
    }
  }
}
`, dir, backend, addr)
	path := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		return "", nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "-p", dir, "-c", path)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		cancel()
		return "", nil, err
	}
	stop := func() {
		cancel()
		_ = cmd.Wait()
		os.RemoveAll(dir)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
			return addr, stop, nil
		}
		if time.Now().After(deadline) {
			stop()
			return "", nil, fmt.Errorf("nginx did not listen on %s", addr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
