// Package demoapp is the small HTTP service that `flotta demo-app` runs in
// the demo image: it answers with a greeting and a health endpoint, and it
// can be told to misbehave (exit with a code, ignore SIGTERM, turn
// unhealthy), which makes it the workload of Flotta's own tests too.
package demoapp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
	"time"
)

// Options say how the demo app behaves.
type Options struct {
	Port    int
	Message string
	// ExitAfter and ExitCode make it exit on its own.
	ExitAfter time.Duration
	ExitCode  int
	// IgnoreSIGTERM makes it keep running until SIGKILL.
	IgnoreSIGTERM bool
	// UnhealthyAfter makes /health fail after that long.
	UnhealthyAfter time.Duration
	// NoServer runs without the HTTP server (a batch-like container).
	NoServer bool
}

// Run serves until SIGTERM (or SIGINT), or until ExitAfter, and returns the
// process exit code.
func Run(ctx context.Context, o Options, stdout io.Writer) int {
	// Signals first: once the app answers, it handles SIGTERM as told.
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	start := time.Now()
	host, _ := os.Hostname()
	var healthy atomic.Bool
	healthy.Store(true)
	if o.UnhealthyAfter > 0 {
		time.AfterFunc(o.UnhealthyAfter, func() { healthy.Store(false) })
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"message": o.Message, "hostname": host, "uptimeSeconds": int(time.Since(start).Seconds())})
	})
	mux.HandleFunc("/health", func(w http.ResponseWriter, r *http.Request) {
		if !healthy.Load() {
			http.Error(w, "unhealthy", http.StatusInternalServerError)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	if !o.NoServer {
		l, err := net.Listen("tcp", fmt.Sprintf(":%d", o.Port))
		if err != nil {
			fmt.Fprintf(stdout, "demo-app: %v\n", err)
			return 1
		}
		go srv.Serve(l)
		fmt.Fprintf(stdout, "demo-app listening on :%d\n", o.Port)
	}
	var exit <-chan time.Time
	if o.ExitAfter > 0 {
		exit = time.After(o.ExitAfter)
	}
	for {
		select {
		case s := <-sigs:
			if o.IgnoreSIGTERM {
				fmt.Fprintf(stdout, "demo-app: ignoring %v\n", s)
				continue
			}
			fmt.Fprintf(stdout, "demo-app: %v, shutting down\n", s)
			sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			srv.Shutdown(sctx)
			cancel()
			return 0
		case <-exit:
			fmt.Fprintf(stdout, "demo-app: exiting with %d\n", o.ExitCode)
			return o.ExitCode
		case <-ctx.Done():
			return 0
		}
	}
}

// Check asks a local demo app for its health; it is the image's health check
// command (there is no shell in a scratch image). It returns the exit code.
func Check(port int) int {
	c := &http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get(fmt.Sprintf("http://127.0.0.1:%d/health", port))
	if err != nil {
		var ne net.Error
		if errors.As(err, &ne) {
			return 2
		}
		return 1
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 1
	}
	return 0
}

// Pause blocks until SIGTERM or SIGINT: the process that holds an awsvpc
// task's network namespace.
func Pause() int {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	<-sigs
	return 0
}
