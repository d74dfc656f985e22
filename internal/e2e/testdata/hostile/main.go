// Command hostile attacks a Flotta server for TestHostileClientsCannotStarveTheServer:
// slow connections that send their request a byte a second (reopened when
// the server drops them), and floods of unsigned and signed requests. It is
// built without the race detector and run apart from the test, as an
// attacker on another machine would be, and prints what it did as JSON.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/flotta-dev/flotta/internal/sigv4"
)

func main() {
	endpoint := flag.String("endpoint", "", "the server's URL")
	slow := flag.Int("slow", 5000, "slow connections")
	floods := flag.Int("floods", 4, "goroutines flooding unsigned requests, and as many signed")
	duration := flag.Duration("duration", 20*time.Second, "how long to attack")
	key := flag.String("key", "", "access key id of the signed flood")
	secret := flag.String("secret", "", "its secret")
	region := flag.String("region", "us-east-1", "region to sign for")
	flag.Parse()
	host := strings.TrimPrefix(*endpoint, "http://")

	ctx, stop := context.WithTimeout(context.Background(), *duration)
	defer stop()
	var wg sync.WaitGroup
	var opened, unsigned, signed, throttled atomic.Int64
	for i := 0; i < *slow; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			slowClient(ctx, host, i%2 == 0, &opened)
		}()
	}
	for i := 0; i < *floods; i++ {
		wg.Add(2)
		go func() {
			defer wg.Done()
			hc := &http.Client{Timeout: 5 * time.Second}
			for ctx.Err() == nil {
				if status, _ := post(hc, *endpoint, nil); status != 0 {
					unsigned.Add(1)
				}
			}
		}()
		go func() {
			defer wg.Done()
			hc := &http.Client{Timeout: 5 * time.Second}
			sign := func(r *http.Request, body []byte) {
				sigv4.Sign(r, body, *key, sigv4.Secret{SecretAccessKey: *secret}, *region, "ecs", time.Now())
			}
			for ctx.Err() == nil {
				status, body := post(hc, *endpoint, sign)
				if status != 0 {
					signed.Add(1)
				}
				if status == 400 && bytes.Contains(body, []byte("ThrottlingException")) {
					throttled.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	json.NewEncoder(os.Stdout).Encode(map[string]int64{"slowOpened": opened.Load(), "unsigned": unsigned.Load(),
		"signed": signed.Load(), "throttled": throttled.Load()})
}

// slowClient holds a connection that sends its request a byte a second:
// the headers (withBody false), or full headers and then the body. When the
// server drops it, it comes back a moment later.
func slowClient(ctx context.Context, host string, withBody bool, opened *atomic.Int64) {
	d := net.Dialer{Timeout: 2 * time.Second}
	for ctx.Err() == nil {
		c, err := d.DialContext(ctx, "tcp", host)
		if err != nil {
			sleep(ctx, 100*time.Millisecond)
			continue
		}
		opened.Add(1)
		stop := context.AfterFunc(ctx, func() { c.Close() })
		head := "POST / HTTP/1.1\r\nHost: " + host + "\r\nX-Amz-"
		if withBody {
			head = "POST / HTTP/1.1\r\nHost: " + host + "\r\nX-Amz-Target: AmazonEC2ContainerServiceV20141113.ListClusters\r\n" +
				"Content-Type: application/x-amz-json-1.1\r\nContent-Length: 100000\r\n\r\n{"
		}
		_, err = io.WriteString(c, head)
		for err == nil && ctx.Err() == nil {
			sleep(ctx, time.Second)
			_, err = c.Write([]byte("a"))
		}
		stop()
		c.Close()
		sleep(ctx, 100*time.Millisecond)
	}
}

func sleep(ctx context.Context, d time.Duration) {
	select {
	case <-time.After(d):
	case <-ctx.Done():
	}
}

// post sends a ListClusters, signed by sign when given, and returns the
// answer's status (0 for none) and body.
func post(hc *http.Client, endpoint string, sign func(*http.Request, []byte)) (int, []byte) {
	body := []byte(`{}`)
	req, err := http.NewRequest("POST", endpoint+"/", bytes.NewReader(body))
	if err != nil {
		return 0, nil
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "AmazonEC2ContainerServiceV20141113.ListClusters")
	if sign != nil {
		sign(req, body)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return 0, nil
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}
