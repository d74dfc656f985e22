package dns

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestQuery(t *testing.T) {
	s := startServer(t, Options{}, testZone())
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	a, err := Query(ctx, s.Addr(), "web.local", "a")
	if err != nil {
		t.Fatal(err)
	}
	if a.Rcode != "NOERROR" || !a.Authoritative || a.RecursionAvailable || a.TCP || a.Truncated {
		t.Errorf("answer %+v", a)
	}
	if !slices.Contains(a.Records, "web.local.\t30\tIN\tA\t10.0.0.1") || len(a.Records) != 2 {
		t.Errorf("records %q", a.Records)
	}

	a, err = Query(ctx, s.Addr(), "big.local.", "A")
	if err != nil {
		t.Fatal(err)
	}
	if !a.TCP || a.Truncated || len(a.Records) != 100 {
		t.Errorf("100 records: TCP %v truncated %v, %d records; want the whole set over TCP", a.TCP, a.Truncated, len(a.Records))
	}

	a, err = Query(ctx, s.Addr(), "nope.local", "TXT")
	if err != nil {
		t.Fatal(err)
	}
	if a.Rcode != "NXDOMAIN" || len(a.Authority) != 1 || !strings.Contains(a.Authority[0], "SOA") {
		t.Errorf("NXDOMAIN answer %+v", a)
	}

	a, err = Query(ctx, s.Addr(), "_http._tcp.web.local", "SRV")
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Records) != 2 || len(a.Additional) != 3 {
		t.Errorf("SRV answer %+v, want 2 records and 3 addresses (no OPT)", a)
	}

	a, err = Query(ctx, s.Addr(), "example.com", "A")
	if err != nil {
		t.Fatal(err)
	}
	if a.Rcode != "REFUSED" {
		t.Errorf("outside name: %+v", a)
	}

	if _, err := Query(ctx, s.Addr(), "web.local", "NOPE"); err == nil || !strings.Contains(err.Error(), "unknown DNS type") {
		t.Errorf("unknown type error %v", err)
	}
	short, cancel2 := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel2()
	if _, err := Query(short, "127.0.0.1:1", "web.local", "A"); err == nil {
		t.Errorf("a query to a closed port succeeded")
	}
}
