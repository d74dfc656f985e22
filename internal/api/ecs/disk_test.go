package ecs_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/flotta-dev/flotta/internal/store"
	"github.com/flotta-dev/flotta/internal/testutil/flottatest"
)

// TestFullDiskRefusesWritesAndRecovers runs a server whose data dir is a
// 512 MiB tmpfs, fills that disk behind its back, and checks that reads go
// on, writes fail with a message that says why (and a metric shows it), the
// server does not exit, and writes work again once space is freed, without
// a restart. Mounting needs root or CAP_SYS_ADMIN; elsewhere it skips.
func TestFullDiskRefusesWritesAndRecovers(t *testing.T) {
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=512m"); err != nil {
		t.Skipf("cannot mount a tmpfs here (%v): this test needs root or CAP_SYS_ADMIN", err)
	}
	t.Cleanup(func() { syscall.Unmount(dir, syscall.MNT_DETACH) })
	e := flottatest.StartServer(t, flottatest.Options{DataDir: filepath.Join(dir, "data")})
	ctx := context.Background()
	if _, err := e.ECS.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("before")}); err != nil {
		t.Fatal(err)
	}

	// Fill the disk until less than the store's reserve is free.
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		t.Fatal(err)
	}
	free := int64(st.Bavail) * st.Bsize
	ballast, err := os.Create(filepath.Join(dir, "ballast"))
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Fallocate(int(ballast.Fd()), 0, 0, free-store.WriteReserve/2); err != nil {
		t.Fatalf("fill the disk: %v", err)
	}
	ballast.Close()

	// The store reads its disk every 100 ms: a write or two may pass first.
	var werr error
	made := 0
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); made++ {
		_, werr = e.ECS.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String(fmt.Sprintf("during-%d", made))})
		if werr != nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	wantAPIError(t, werr, "ServerException", "out of disk space", "reads still work")
	out, err := e.ECS.DescribeClusters(ctx, &ecs.DescribeClustersInput{Clusters: []string{"before", fmt.Sprintf("during-%d", made)}})
	if err != nil {
		t.Fatalf("a read on a full disk: %v", err)
	}
	if len(out.Clusters) != 1 || aws.ToString(out.Clusters[0].ClusterName) != "before" {
		t.Fatalf("clusters on a full disk: %+v (want only the one made before, not the refused one)", out.Clusters)
	}
	if _, body := get(t, e.Server.Endpoint()+"/metrics"); !strings.Contains(body, "flotta_store_read_only 1") {
		t.Fatal("/metrics does not show the store read-only")
	}
	if code, body := get(t, e.Server.Endpoint()+"/healthz"); code != 200 || !strings.Contains(body, "read-only") {
		t.Fatalf("/healthz on a full disk: %d %q", code, body)
	}

	// Space returns: writes resume by themselves.
	if err := os.Remove(filepath.Join(dir, "ballast")); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err := e.ECS.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("after")})
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("writes did not resume after space was freed: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if _, body := get(t, e.Server.Endpoint()+"/metrics"); !strings.Contains(body, "flotta_store_read_only 0") {
		t.Fatal("/metrics still shows the store read-only")
	}
	list, err := e.ECS.ListClusters(ctx, &ecs.ListClustersInput{})
	if err != nil || len(list.ClusterArns) != 3+made {
		t.Fatalf("clusters after recovery: %v %v (want default, before, after and %d made before the refusal)", err, list.ClusterArns, made)
	}
}
