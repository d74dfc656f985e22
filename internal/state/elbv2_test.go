package state

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

const (
	testLB       = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/web/0123456789abcdef"
	testTG       = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web/1111111111111111"
	testListener = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/web/0123456789abcdef/2222222222222222"
)

func seedELB(t *testing.T, s *State) {
	t.Helper()
	_, err := s.UpdateELB(context.Background(), func(tx *ELBTxn) error {
		tx.Config.LoadBalancers[testLB] = &ELBLoadBalancer{Arn: testLB, Name: "web", Type: "application"}
		tx.Config.TargetGroups[testTG] = &ELBTargetGroup{Arn: testTG, Name: "web", Protocol: "HTTP", Port: 80,
			Targets: []ELBTarget{{ID: "10.0.0.1", Port: 80}, {ID: "10.0.0.2", Port: 80}}}
		tx.Config.Listeners[testListener] = &ELBListener{Arn: testListener, LoadBalancerArn: testLB, Protocol: "HTTP", Port: 80,
			DefaultActions: []ELBAction{{Type: "forward", Forward: &ELBForward{TargetGroups: []ELBWeightedTargetGroup{{Arn: testTG, Weight: 1}}}}}}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestELBWritesAreWholeOrNothing: a refused write leaves the store as it
// was; concurrent writes to the same configuration all land (none lost to
// another's read); the configuration reads back with its cross-references.
func TestELBWritesAreWholeOrNothing(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	seedELB(t, s)
	before, _ := s.Revision(ctx)
	refusal := errors.New("no")
	if _, err := s.UpdateELB(ctx, func(tx *ELBTxn) error {
		delete(tx.Config.LoadBalancers, testLB)
		return refusal
	}); err != refusal {
		t.Fatalf("refused update: %v", err)
	}
	if after, _ := s.Revision(ctx); after != before {
		t.Fatalf("a refused update wrote: revision %d -> %d", before, after)
	}
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := s.UpdateELB(ctx, func(tx *ELBTxn) error {
				tg := tx.Config.TargetGroups[testTG]
				tg.Targets = append(tg.Targets, ELBTarget{ID: fmt.Sprintf("10.0.1.%d", i), Port: 80})
				return nil
			}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	cfg, err := s.ReadELB(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(cfg.TargetGroups[testTG].Targets); n != 10 {
		t.Fatalf("concurrent registrations: %d targets, want 10 (one was lost)", n)
	}
	if lbs := cfg.LoadBalancersOf(testTG); len(lbs) != 1 || lbs[0] != testLB {
		t.Fatalf("LoadBalancersOf = %v", lbs)
	}
	if ls := cfg.ListenersOf(testLB); len(ls) != 1 || ls[0].Arn != testListener {
		t.Fatalf("ListenersOf = %v", ls)
	}
}

// TestELBDrainingTargetsAreSweptWithTheirHealth: a draining target stays
// until its deadline; the sweep then removes it and its health
// observation, and the watch from the configuration's revision sees it.
func TestELBDrainingTargetsAreSweptWithTheirHealth(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	seedELB(t, s)
	deadline := time.Date(2030, 1, 1, 0, 5, 0, 0, time.UTC)
	if err := s.PutELBTargetHealth(ctx, testTG, ELBTargetHealth{TargetID: "10.0.0.1", Port: 80, State: "healthy"}); err != nil {
		t.Fatal(err)
	}
	cfg, err := s.UpdateELB(ctx, func(tx *ELBTxn) error {
		tx.Config.TargetGroups[testTG].Targets[0].DrainingUntil = deadline
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	changes, _ := s.WatchELB(wctx, cfg.Revision)

	if n, err := s.SweepELBTargets(ctx, deadline.Add(-time.Second)); err != nil || n != 0 {
		t.Fatalf("sweep before the deadline removed %d (%v)", n, err)
	}
	if h, _ := s.ELBTargetHealths(ctx, testTG, nil); len(h) != 1 {
		t.Fatalf("health before the sweep: %v", h)
	}
	if n, err := s.SweepELBTargets(ctx, deadline); err != nil || n != 1 {
		t.Fatalf("sweep at the deadline removed %d (%v), want 1", n, err)
	}
	got, _ := s.ReadELB(ctx)
	if ts := got.TargetGroups[testTG].Targets; len(ts) != 1 || ts[0].ID != "10.0.0.2" {
		t.Fatalf("targets after the sweep: %+v", ts)
	}
	if h, _ := s.ELBTargetHealths(ctx, testTG, nil); len(h) != 0 {
		t.Fatalf("the swept target's health is still there: %v", h)
	}
	// An observation made before a target's registration is not its health.
	if err := s.PutELBTargetHealth(ctx, testTG, ELBTargetHealth{TargetID: "10.0.0.2", Port: 80, State: "healthy", ObservedAt: deadline}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UpdateELB(ctx, func(tx *ELBTxn) error {
		tx.Config.TargetGroups[testTG].Targets[0].RegisteredAt = deadline.Add(time.Second)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	got, _ = s.ReadELB(ctx)
	if h, _ := s.ELBTargetHealths(ctx, testTG, got.TargetGroups[testTG]); len(h) != 0 {
		t.Fatalf("an observation older than the registration counts: %v", h)
	}
	select {
	case batch := <-changes:
		if len(batch) == 0 || batch[0].Kind != "tg" || batch[0].ID != "1111111111111111" {
			t.Fatalf("watch saw %+v", batch)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the watch saw no change after the sweep")
	}
}

// TestServerCertificateInUseIsNotDeleted: a certificate a listener serves
// is refused deletion; once the listener is gone it goes.
func TestServerCertificateInUseIsNotDeleted(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	seedELB(t, s)
	certArn := "arn:aws:iam::123456789012:server-certificate/web"
	if err := s.CreateServerCertificate(ctx, ServerCertificate{Name: "web", Arn: certArn, Path: "/"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UpdateELB(ctx, func(tx *ELBTxn) error {
		c, err := tx.ServerCertificate(certArn)
		if err != nil || c == nil {
			return fmt.Errorf("certificate not found: %v", err)
		}
		l := tx.Config.Listeners[testListener]
		l.Protocol, l.Certificates = "HTTPS", []ELBCertificate{{Arn: certArn, IsDefault: true}}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if certs, err := s.ListenerCertificates(ctx, testListener); err != nil || len(certs) != 1 || certs[0].Arn != certArn {
		t.Fatalf("ListenerCertificates = %v, %v", certs, err)
	}
	if _, err := s.DeleteServerCertificate(ctx, "web"); !errors.Is(err, ErrCertificateInUse) {
		t.Fatalf("delete in use: %v", err)
	}
	if _, err := s.UpdateELB(ctx, func(tx *ELBTxn) error { delete(tx.Config.Listeners, testListener); return nil }); err != nil {
		t.Fatal(err)
	}
	if found, err := s.DeleteServerCertificate(ctx, "web"); err != nil || !found {
		t.Fatalf("delete after the listener went: %v %v", found, err)
	}
}
