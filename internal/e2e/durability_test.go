package e2e

import (
	"context"
	"fmt"
	"os"
	"sort"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// TestAcknowledgedRevisionsSurviveSIGKILL registers task definitions from
// several clients until 1,000 are acknowledged, kills the server with SIGKILL
// while more are in flight, restarts it, and checks that every acknowledged
// revision is there with its content and that numbering continues.
func TestAcknowledgedRevisionsSurviveSIGKILL(t *testing.T) {
	dir := t.TempDir()
	srv := startServer(t, dir)
	// The SDK's retries are on, as for a user: its transport sometimes closes
	// a connection under a response (see retryingClient). A retried request
	// may have committed once unacknowledged, which the checks below allow.
	client := srv.retryingClient(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	const target = 1000
	var (
		mu    sync.Mutex
		acked = map[int32]string{} // revision -> the marker it was registered with
		count atomic.Int64
		wg    sync.WaitGroup
		next  atomic.Int64
	)
	killed := make(chan struct{})
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				marker := fmt.Sprintf("m%d", next.Add(1))
				out, err := client.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{
					Family: aws.String("durable"),
					ContainerDefinitions: []types.ContainerDefinition{{Name: aws.String("app"), Image: aws.String("demo"), Memory: aws.Int32(64),
						Environment: []types.KeyValuePair{{Name: aws.String("MARKER"), Value: aws.String(marker)}}}},
				})
				if err != nil {
					select {
					case <-killed:
						return // refused because the server is gone: not acknowledged
					default:
						t.Errorf("register before the kill: %v", err)
						return
					}
				}
				mu.Lock()
				acked[out.TaskDefinition.Revision] = marker
				mu.Unlock()
				if count.Add(1) == target {
					close(killed)
					srv.kill() // SIGKILL with other registrations in flight
					cancel()
				}
			}
		}()
	}
	wg.Wait()
	if len(acked) < target {
		t.Fatalf("only %d registrations were acknowledged", len(acked))
	}

	srv = startServer(t, dir)
	client = srv.retryingClient(t)
	ctx = context.Background()
	var present []int32
	p := ecs.NewListTaskDefinitionsPaginator(client, &ecs.ListTaskDefinitionsInput{FamilyPrefix: aws.String("durable")})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, arn := range page.TaskDefinitionArns {
			var rev int32
			fmt.Sscanf(trimARN(arn), "durable:%d", &rev)
			present = append(present, rev)
		}
	}
	sort.Slice(present, func(i, j int) bool { return present[i] < present[j] })
	// Revisions are dense: 1..N, with N at least the acknowledged count (an
	// unacknowledged registration may have committed just before the kill).
	for i, rev := range present {
		if rev != int32(i+1) {
			t.Fatalf("revision %d at position %d: the sequence has a gap or duplicate", rev, i)
		}
	}
	last := int32(len(present))
	for rev, marker := range acked {
		if rev > last {
			t.Fatalf("acknowledged revision %d is missing after the restart (last is %d)", rev, last)
		}
		out, err := client.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String(fmt.Sprintf("durable:%d", rev))})
		if err != nil {
			t.Fatalf("describe acknowledged revision %d: %v", rev, err)
		}
		if got := aws.ToString(out.TaskDefinition.ContainerDefinitions[0].Environment[0].Value); got != marker {
			t.Fatalf("revision %d holds %s, but %s was acknowledged for it", rev, got, marker)
		}
	}
	// One attempt: a retry could register twice and skip a number.
	out, err := srv.client(t).RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String("durable"),
		ContainerDefinitions: []types.ContainerDefinition{{Name: aws.String("app"), Image: aws.String("demo"), Memory: aws.Int32(64)}}})
	if err != nil {
		t.Fatal(err)
	}
	if out.TaskDefinition.Revision != last+1 {
		t.Fatalf("after the restart the next revision is %d, want %d", out.TaskDefinition.Revision, last+1)
	}
	t.Logf("%d acknowledged, %d present after SIGKILL and restart, next revision %d", len(acked), last, out.TaskDefinition.Revision)
	if fi, err := os.Stat(dir + "/credentials"); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("credentials file: %v %v", fi, err)
	}
}
