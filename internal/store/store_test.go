package store

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"
)

func openTest(t *testing.T) *Store {
	t.Helper()
	s, err := OpenEmbedded(context.Background(), EmbeddedOptions{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestCommitGuards(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	if _, err := s.Commit(ctx, []Guard{{Key: "/a", ModRev: 0}}, []Op{Put("/a", []byte("1"))}); err != nil {
		t.Fatalf("create: %v", err)
	}
	// A second create-if-absent must fail and leave the value alone.
	if _, err := s.Commit(ctx, []Guard{{Key: "/a", ModRev: 0}}, []Op{Put("/a", []byte("2"))}); !errors.Is(err, ErrConflict) {
		t.Fatalf("second create: got %v, want ErrConflict", err)
	}
	kv, err := s.Get(ctx, "/a")
	if err != nil || string(kv.Value) != "1" {
		t.Fatalf("get: %q %v", kv.Value, err)
	}
	// An update guarded by a stale revision fails.
	if _, err := s.Commit(ctx, []Guard{{Key: "/a", ModRev: kv.ModRev - 1}}, []Op{Put("/a", []byte("3"))}); !errors.Is(err, ErrConflict) {
		t.Fatalf("stale update: got %v", err)
	}
	if _, err := s.Commit(ctx, []Guard{{Key: "/a", ModRev: kv.ModRev}}, []Op{Put("/a", []byte("4"))}); err != nil {
		t.Fatalf("fresh update: %v", err)
	}
	missing, err := s.Get(ctx, "/missing")
	if err != nil || missing.ModRev != 0 {
		t.Fatalf("missing key: %+v %v", missing, err)
	}
}

func TestListPages(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	for i := 0; i < 25; i++ {
		if _, err := s.Commit(ctx, nil, []Op{Put(fmt.Sprintf("/p/%03d", i), []byte("x"))}); err != nil {
			t.Fatal(err)
		}
	}
	s.Commit(ctx, nil, []Op{Put("/q/000", []byte("other prefix"))})
	var got []string
	after := ""
	for {
		p, err := s.List(ctx, "/p/", ListOptions{After: after, Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		for _, kv := range p.KVs {
			got = append(got, kv.Key)
		}
		if !p.More {
			break
		}
		after = p.KVs[len(p.KVs)-1].Key
	}
	if len(got) != 25 || got[0] != "/p/000" || got[24] != "/p/024" {
		t.Fatalf("paged listing: %v", got)
	}
	desc, err := s.List(ctx, "/p/", ListOptions{After: "/p/010", Limit: 3, Descending: true, KeysOnly: true})
	if err != nil || len(desc.KVs) != 3 || desc.KVs[0].Key != "/p/009" || desc.KVs[2].Key != "/p/007" || !desc.More || desc.KVs[0].Value != nil {
		t.Fatalf("descending page: %+v %v", desc, err)
	}
	n, rev, err := s.Count(ctx, "/p/")
	if err != nil || n != 25 {
		t.Fatalf("count: %d %v", n, err)
	}
	// A prefix guard holds while nothing under the prefix changes...
	if _, err := s.Commit(ctx, []Guard{{Key: "/p/", ModRev: rev, Prefix: true}}, []Op{Put("/r", []byte("1"))}); err != nil {
		t.Fatalf("prefix guard on an unchanged prefix: %v", err)
	}
	// ...and fails once a key appears under it.
	s.Commit(ctx, nil, []Op{Put("/p/new", []byte("x"))})
	if _, err := s.Commit(ctx, []Guard{{Key: "/p/", ModRev: rev, Prefix: true}}, []Op{Put("/r", []byte("2"))}); !errors.Is(err, ErrConflict) {
		t.Fatalf("prefix guard after a new key: %v", err)
	}
	// An empty prefix satisfies the guard.
	if _, err := s.Commit(ctx, []Guard{{Key: "/empty/", ModRev: rev, Prefix: true}}, []Op{Put("/r", []byte("3"))}); err != nil {
		t.Fatalf("prefix guard on an empty prefix: %v", err)
	}
}

func TestRevisionMovesOnlyOnWrite(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	r1, _ := s.Revision(ctx)
	s.Get(ctx, "/x")
	r2, _ := s.Revision(ctx)
	if r1 != r2 {
		t.Fatalf("a read moved the revision: %d -> %d", r1, r2)
	}
	s.Commit(ctx, nil, []Op{Put("/x", []byte("1"))})
	r3, _ := s.Revision(ctx)
	if r3 <= r2 {
		t.Fatalf("a write did not move the revision: %d -> %d", r2, r3)
	}
}

func TestReopenKeepsData(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := OpenEmbedded(ctx, EmbeddedOptions{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Commit(ctx, nil, []Op{Put("/keep", []byte("v"))}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = OpenEmbedded(ctx, EmbeddedOptions{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	kv, err := s.Get(ctx, "/keep")
	if err != nil || string(kv.Value) != "v" {
		t.Fatalf("after reopen: %q %v", kv.Value, err)
	}
}

func TestWaitForChange(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	rev, _ := s.Revision(ctx)
	got := make(chan int64, 1)
	go func() {
		r, err := s.WaitForChange(ctx, "/w/", rev)
		if err != nil {
			t.Error(err)
		}
		got <- r
	}()
	s.Commit(ctx, nil, []Op{Put("/other", []byte("1"))})
	wrote, _ := s.Commit(ctx, nil, []Op{Put("/w/a", []byte("1"))})
	if r := <-got; r != wrote {
		t.Fatalf("woke at %d, want %d (the write under the prefix)", r, wrote)
	}
	// A change already made after `after` is returned at once.
	if r, err := s.WaitForChange(ctx, "/w/", rev); err != nil || r != wrote {
		t.Fatalf("past change: %d %v", r, err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := s.WaitForChange(cctx, "/w/", wrote); err == nil {
		t.Fatal("a cancelled wait must fail")
	}
}

func TestLeasedKeysExpire(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	l, err := s.GrantLease(ctx, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.PutLeased(ctx, "/session", []byte("x"), l); err != nil {
		t.Fatal(err)
	}
	if ok, err := s.KeepAlive(ctx, l); !ok || err != nil {
		t.Fatalf("keepalive: %v %v", ok, err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		kv, _ := s.Get(ctx, "/session")
		if kv.ModRev == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("a leased key outlived its lease")
		}
		time.Sleep(100 * time.Millisecond)
	}
	if ok, _ := s.KeepAlive(ctx, l); ok {
		t.Fatal("an expired lease was kept alive")
	}
}
