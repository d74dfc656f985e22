package state

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

func r53Zone(t *testing.T, s *State, id, name string) {
	t.Helper()
	z := &R53Zone{ID: id, Name: name, CallerReference: "ref-" + id, Private: true, VPCs: []R53VPC{{Region: "us-east-1", ID: "vpc-1"}}}
	sets := []R53RecordSet{{Name: name, Type: "NS", TTL: 60, Values: []string{"ns."}}, {Name: name, Type: "SOA", TTL: 60, Values: []string{"ns. h. 1 2 3 4 5"}}}
	if err := s.CreateR53Zone(context.Background(), z, sets, R53ChangeRecord{ID: "C" + id}, nil); err != nil {
		t.Fatal(err)
	}
}

// TestRoute53ReadAndWatch: a data plane reads every zone and record set at
// one revision, then follows each write (and deletion) after it.
func TestRoute53ReadAndWatch(t *testing.T) {
	s := open(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r53Zone(t, s, "Z1", "example.com.")
	zones, sets, rev, err := s.ReadRoute53(ctx)
	if err != nil || len(zones) != 1 || len(sets["Z1"]) != 2 || zones[0].RecordCount != 2 {
		t.Fatalf("read: %v %+v %+v", err, zones, sets)
	}
	changes, errc := s.WatchRoute53(ctx, rev)
	a := R53RecordSet{Name: "www.example.com.", Type: "A", TTL: 60, Values: []string{"192.0.2.1"}}
	if err := s.ChangeR53RecordSets(ctx, "Z1", []string{a.Name}, R53ChangeRecord{ID: "C2"}, func(b R53Batch) (R53Writes, error) {
		return R53Writes{Put: []R53RecordSet{a}}, nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.ChangeR53RecordSets(ctx, "Z1", []string{a.Name}, R53ChangeRecord{ID: "C3"}, func(b R53Batch) (R53Writes, error) {
		if len(b.ByName[a.Name]) != 1 {
			return R53Writes{}, fmt.Errorf("the batch sees %+v", b.ByName)
		}
		return R53Writes{Delete: []R53RecordSet{a}}, nil
	}); err != nil {
		t.Fatal(err)
	}
	var got []string
	for len(got) < 4 {
		select {
		case batch := <-changes:
			for _, c := range batch {
				switch {
				case c.Kind == "rrset" && c.RecordSet != nil:
					got = append(got, "put "+c.RecordSet.Name)
				case c.Kind == "rrset":
					got = append(got, "delete")
				case c.Kind == "zone":
					got = append(got, fmt.Sprintf("zone %d", c.Zone.RecordCount))
				}
			}
		case err := <-errc:
			t.Fatal(err)
		case <-ctx.Done():
			t.Fatalf("watched only %v", got)
		}
	}
	if fmt.Sprint(got) != "[put www.example.com. zone 3 delete zone 2]" {
		t.Fatalf("watched %v", got)
	}
	if c, err := s.GetR53Change(ctx, "C3"); err != nil || c == nil {
		t.Fatalf("change: %v %v", c, err)
	}
}

// TestRoute53BatchesAreAtomicUnderConcurrency: many batches on one zone at
// once each commit whole, and the record count stays exact.
func TestRoute53BatchesAreAtomicUnderConcurrency(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	r53Zone(t, s, "Z1", "example.com.")
	var wg sync.WaitGroup
	refusal := errors.New("refused")
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			name := fmt.Sprintf("h%d.example.com.", i)
			err := s.ChangeR53RecordSets(ctx, "Z1", []string{name}, R53ChangeRecord{ID: fmt.Sprintf("C%d", i)}, func(b R53Batch) (R53Writes, error) {
				if i%4 == 0 {
					return R53Writes{}, refusal
				}
				return R53Writes{Put: []R53RecordSet{{Name: name, Type: "A", TTL: 1, Values: []string{"192.0.2.1"}}, {Name: name, Type: "TXT", TTL: 1, Values: []string{`"x"`}}}}, nil
			})
			if err != nil && !errors.Is(err, refusal) {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	z, err := s.GetR53Zone(ctx, "Z1")
	if err != nil {
		t.Fatal(err)
	}
	sets, err := s.ListR53RecordSets(ctx, "Z1")
	if err != nil {
		t.Fatal(err)
	}
	if len(sets) != 2+12*2 || z.RecordCount != int64(len(sets)) {
		t.Fatalf("%d record sets, count %d", len(sets), z.RecordCount)
	}
	if _, err := s.GetR53Zone(ctx, "Z2"); !errors.Is(err, ErrR53ZoneNotFound) {
		t.Fatalf("unknown zone: %v", err)
	}
}
