package metricstore

import (
	"context"
	"errors"
	"math"
	"reflect"
	"strconv"
	"testing"
	"time"
)

// base is a fixed minute boundary; the clock of every test store is near it.
var base = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func openAt(t testing.TB, dir string, now time.Time, o Options) *Store {
	t.Helper()
	o.Dir = dir
	if o.Now == nil {
		o.Now = func() time.Time { return now }
	}
	s, err := Open(o)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func svc(cluster, service string) Metric {
	return Metric{Namespace: "AWS/ECS", Name: "CPUUtilization",
		Dimensions: map[string]string{"ClusterName": cluster, "ServiceName": service}}
}

func f(v float64) *float64 { return &v }

func pts(unit string, start time.Time, step time.Duration, values ...float64) []Point {
	out := make([]Point, len(values))
	for i, v := range values {
		out[i] = Point{Time: start.Add(time.Duration(i) * step), Value: v, Unit: unit}
	}
	return out
}

func TestStatisticsPerPeriod(t *testing.T) {
	ctx := context.Background()
	s := openAt(t, t.TempDir(), base.Add(time.Hour), Options{})
	defer s.Close()
	m := svc("prod", "web")
	// 0..9 at 10 s steps from base: minute 0 holds 0..5, minute 1 holds 6..9.
	// Minute 2 is empty, minute 3 holds 100 at base+3m.
	p := pts("Percent", base, 10*time.Second, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9)
	p = append(p, Point{Time: base.Add(3 * time.Minute), Value: 100, Unit: "Percent"})
	if err := s.Append(ctx, m, p...); err != nil {
		t.Fatal(err)
	}
	got, err := s.Statistics(ctx, m, Query{Start: base, End: base.Add(5 * time.Minute), Period: time.Minute,
		Stats: []string{Average, Sum, Minimum, Maximum, SampleCount, "p50", "p90"}})
	if err != nil {
		t.Fatal(err)
	}
	want := []Datapoint{
		{Timestamp: base, Unit: "Percent", Average: f(2.5), Sum: f(15), Minimum: f(0), Maximum: f(5), SampleCount: f(6),
			Percentiles: map[string]float64{"p50": 2, "p90": 5}},
		{Timestamp: base.Add(time.Minute), Unit: "Percent", Average: f(7.5), Sum: f(30), Minimum: f(6), Maximum: f(9), SampleCount: f(4),
			Percentiles: map[string]float64{"p50": 7, "p90": 9}},
		{Timestamp: base.Add(3 * time.Minute), Unit: "Percent", Average: f(100), Sum: f(100), Minimum: f(100), Maximum: f(100), SampleCount: f(1),
			Percentiles: map[string]float64{"p50": 100, "p90": 100}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("60 s buckets:\n got %s\nwant %s", dump(got), dump(want))
	}

	got, err = s.Statistics(ctx, m, Query{Start: base, End: base.Add(10 * time.Minute), Period: 5 * time.Minute,
		Stats: []string{Average, Maximum, SampleCount}})
	if err != nil {
		t.Fatal(err)
	}
	want = []Datapoint{{Timestamp: base, Unit: "Percent", Average: f(145.0 / 11), Maximum: f(100), SampleCount: f(11)}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("300 s buckets:\n got %s\nwant %s", dump(got), dump(want))
	}
}

func dump(ds []Datapoint) string {
	s := ""
	for _, d := range ds {
		s += d.Timestamp.Format("15:04:05") + " " + d.Unit
		for _, x := range []struct {
			n string
			v *float64
		}{{"avg", d.Average}, {"sum", d.Sum}, {"min", d.Minimum}, {"max", d.Maximum}, {"n", d.SampleCount}} {
			if x.v != nil {
				s += " " + x.n + "=" + ftoa(*x.v)
			}
		}
		for k, v := range d.Percentiles {
			s += " " + k + "=" + ftoa(v)
		}
		s += "; "
	}
	return s
}

func ftoa(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

func TestDimensionsSelectExactly(t *testing.T) {
	ctx := context.Background()
	s := openAt(t, t.TempDir(), base.Add(time.Hour), Options{})
	defer s.Close()
	web, api := svc("prod", "web"), svc("prod", "api")
	cluster := Metric{Namespace: "AWS/ECS", Name: "CPUUtilization", Dimensions: map[string]string{"ClusterName": "prod"}}
	other := Metric{Namespace: "Custom", Name: "CPUUtilization", Dimensions: web.Dimensions}
	err := s.Put(ctx, []Datum{
		{Metric: web, Points: pts("Percent", base, time.Second, 1)},
		{Metric: api, Points: pts("Percent", base, time.Second, 10)},
		{Metric: cluster, Points: pts("Percent", base, time.Second, 100)},
		{Metric: other, Points: pts("Percent", base, time.Second, 1000)},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		m    Metric
		want float64
	}{{web, 1}, {api, 10}, {cluster, 100}, {other, 1000}} {
		got, err := s.Statistics(ctx, c.m, Query{Start: base, End: base.Add(time.Minute), Period: time.Minute, Stats: []string{Sum}})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || *got[0].Sum != c.want {
			t.Errorf("%v: got %s, want one sum of %v", c.m, dump(got), c.want)
		}
	}
	none, err := s.Statistics(ctx, svc("prod", "nope"), Query{Start: base, End: base.Add(time.Minute), Period: time.Minute, Stats: []string{Sum}})
	if err != nil || len(none) != 0 {
		t.Errorf("unknown service: got %s, %v; want nothing", dump(none), err)
	}
}

func TestUnitsAreSeparate(t *testing.T) {
	ctx := context.Background()
	s := openAt(t, t.TempDir(), base.Add(time.Hour), Options{})
	defer s.Close()
	m := svc("prod", "web")
	if err := s.Append(ctx, m, Point{Time: base, Value: 1, Unit: "Bytes"}, Point{Time: base, Value: 8, Unit: "Bits"}, Point{Time: base.Add(time.Second), Value: 3}); err != nil {
		t.Fatal(err)
	}
	all, err := s.Statistics(ctx, m, Query{Start: base, End: base.Add(time.Minute), Period: time.Minute, Stats: []string{Sum}})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 3 || all[0].Unit != "Bits" || *all[0].Sum != 8 || all[1].Unit != "Bytes" || all[2].Unit != "None" {
		t.Fatalf("per unit: got %s", dump(all))
	}
	bytes, err := s.Statistics(ctx, m, Query{Start: base, End: base.Add(time.Minute), Period: time.Minute, Stats: []string{Sum}, Unit: "Bytes"})
	if err != nil || len(bytes) != 1 || *bytes[0].Sum != 1 {
		t.Fatalf("unit Bytes: got %s, %v", dump(bytes), err)
	}
}

func TestSameTimestampInOneBatchKeepsAll(t *testing.T) {
	ctx := context.Background()
	s := openAt(t, t.TempDir(), base.Add(time.Hour), Options{})
	defer s.Close()
	m := svc("prod", "web")
	if err := s.Append(ctx, m, Point{Time: base, Value: 1}, Point{Time: base, Value: 2}, Point{Time: base, Value: 2}); err != nil {
		t.Fatal(err)
	}
	got, err := s.Statistics(ctx, m, Query{Start: base, End: base.Add(time.Minute), Period: time.Minute, Stats: []string{Sum, SampleCount}})
	if err != nil || len(got) != 1 || *got[0].Sum != 5 || *got[0].SampleCount != 3 {
		t.Fatalf("got %s, %v; want sum 5 of 3", dump(got), err)
	}
	// A later batch that repeats the series' newest timestamp with another
	// value is refused (older repeats go through TSDB's out-of-order path;
	// see the package doc).
	last := base.Add(2 * time.Millisecond)
	err = s.Append(ctx, m, Point{Time: last, Value: 7})
	if !errors.Is(err, ErrDuplicate) {
		t.Fatalf("later different value at the newest stored time: got %v, want ErrDuplicate", err)
	}
}

func TestListFilters(t *testing.T) {
	ctx := context.Background()
	s := openAt(t, t.TempDir(), base.Add(time.Hour), Options{})
	defer s.Close()
	web, api := svc("prod", "web"), svc("prod", "api")
	mem := Metric{Namespace: "AWS/ECS", Name: "MemoryUtilization", Dimensions: map[string]string{"ClusterName": "dev", "ServiceName": "web"}}
	odd := Metric{Namespace: "Custom", Name: "Latency", Dimensions: map[string]string{"service.name": "web", "a_b": "c"}}
	for _, m := range []Metric{web, api, mem, odd} {
		// Two units for web: List still names it once.
		if err := s.Append(ctx, m, Point{Time: base, Value: 1, Unit: "Percent"}, Point{Time: base, Value: 1, Unit: "Count"}); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct {
		name      string
		ns, mname string
		dims      map[string]string
		want      []Metric
	}{
		{"all", "", "", nil, []Metric{api, web, mem, odd}},
		{"namespace", "Custom", "", nil, []Metric{odd}},
		{"name", "AWS/ECS", "MemoryUtilization", nil, []Metric{mem}},
		{"dimension value", "", "", map[string]string{"ServiceName": "web"}, []Metric{web, mem}},
		{"dimension any value", "", "", map[string]string{"ClusterName": ""}, []Metric{api, web, mem}},
		{"escaped dimension", "", "", map[string]string{"service.name": "web"}, []Metric{odd}},
		{"no match", "AWS/ECS", "", map[string]string{"ServiceName": "db"}, []Metric{}},
	} {
		got, err := s.List(ctx, c.ns, c.mname, c.dims)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: got %v, want %v", c.name, got, c.want)
		}
	}
}

func TestReopenKeepsData(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	now := base.Add(time.Hour)
	s := openAt(t, dir, now, Options{})
	m := svc("prod", "web")
	if err := s.Append(ctx, m, pts("", base, time.Minute, 1, 2, 3)...); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openAt(t, dir, now, Options{})
	defer s.Close()
	got, err := s.Statistics(ctx, m, Query{Start: base, End: base.Add(time.Hour), Period: time.Hour, Stats: []string{Sum, SampleCount}})
	if err != nil || len(got) != 1 || *got[0].Sum != 6 || *got[0].SampleCount != 3 {
		t.Fatalf("after reopen: got %s, %v; want sum 6 of 3", dump(got), err)
	}
	if l, err := s.List(ctx, "", "", nil); err != nil || len(l) != 1 {
		t.Fatalf("after reopen List: %v, %v", l, err)
	}
}

func TestRetentionDropsOldBlocks(t *testing.T) {
	ctx := context.Background()
	m := svc("prod", "web")
	end := base.Add(24 * time.Hour)
	s := openAt(t, t.TempDir(), end, Options{Retention: 6 * time.Hour})
	defer s.Close()
	// Write the last 6 h... but first data older than the retention is refused.
	if err := s.Append(ctx, m, Point{Time: end.Add(-7 * time.Hour), Value: 1}); !errors.Is(err, ErrTooOld) {
		t.Fatalf("point older than retention: got %v, want ErrTooOld", err)
	}
	// Let the clock move: one point a minute for 24 h, written as time passes.
	now := base
	s.now = func() time.Time { return now }
	for h := 0; h < 24; h++ {
		now = base.Add(time.Duration(h+1) * time.Hour)
		if err := s.Append(ctx, m, pts("", base.Add(time.Duration(h)*time.Hour), time.Minute, make([]float64, 60)...)...); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Compact(ctx); err != nil {
		t.Fatal(err)
	}
	count := func(from, to time.Time) float64 {
		got, err := s.Statistics(ctx, m, Query{Start: from, End: to, Period: to.Sub(from), Stats: []string{SampleCount}})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) == 0 {
			return 0
		}
		return *got[0].SampleCount
	}
	if n := count(base, base.Add(4*time.Hour)); n != 0 {
		t.Errorf("first 4 h after compaction with 6 h retention: %v points, want 0", n)
	}
	if n := count(end.Add(-6*time.Hour), end); n != 360 {
		t.Errorf("last 6 h: %v points, want 360", n)
	}
	if len(s.db.Blocks()) == 0 {
		t.Errorf("no blocks were written; retention was not exercised")
	}
}

func TestRejectsBadPoints(t *testing.T) {
	ctx := context.Background()
	s := openAt(t, t.TempDir(), base, Options{})
	defer s.Close()
	m := svc("prod", "web")
	for _, v := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		err := s.Append(ctx, m, Point{Time: base, Value: 1}, Point{Time: base, Value: v})
		if !errors.Is(err, ErrInvalidValue) {
			t.Errorf("value %v: got %v, want ErrInvalidValue", v, err)
		}
	}
	if err := s.Append(ctx, m, Point{Time: base.Add(3 * time.Hour), Value: 1}); !errors.Is(err, ErrTooNew) {
		t.Errorf("3 h ahead: got %v, want ErrTooNew", err)
	}
	if err := s.Append(ctx, Metric{Namespace: "X", Name: "Y", Dimensions: map[string]string{"A": ""}}, Point{Time: base, Value: 1}); err == nil {
		t.Errorf("empty dimension value accepted")
	}
	// Nothing of the refused batches was stored.
	got, err := s.Statistics(ctx, m, Query{Start: base.Add(-time.Hour), End: base.Add(4 * time.Hour), Period: time.Hour, Stats: []string{SampleCount}})
	if err != nil || len(got) != 0 {
		t.Errorf("refused batches left data: %s, %v", dump(got), err)
	}
	if _, err := s.Statistics(ctx, m, Query{Start: base, End: base.Add(time.Hour), Period: time.Minute, Stats: []string{"p101"}}); err == nil {
		t.Errorf("p101 accepted")
	}
}

func TestOutOfOrderWindow(t *testing.T) {
	ctx := context.Background()
	s := openAt(t, t.TempDir(), base.Add(5*time.Hour), Options{})
	defer s.Close()
	m := svc("prod", "web")
	if err := s.Append(ctx, m, Point{Time: base.Add(4 * time.Hour), Value: 1}); err != nil {
		t.Fatal(err)
	}
	if err := s.Append(ctx, m, Point{Time: base.Add(3 * time.Hour), Value: 2}); err != nil {
		t.Errorf("1 h late: %v", err)
	}
	if err := s.Append(ctx, m, Point{Time: base.Add(time.Hour), Value: 3}); !errors.Is(err, ErrTooOld) {
		t.Errorf("3 h late: got %v, want ErrTooOld", err)
	}
}

func TestEscapeDimRoundTrip(t *testing.T) {
	for _, name := range []string{"ClusterName", "service.name", "a_b", "_", "x-y z", "é", "d_5f"} {
		l := escapeDim(name)
		for i := 0; i < len(l); i++ {
			c := l[i]
			if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
				t.Errorf("%q -> %q: not a valid label name", name, l)
			}
		}
		back, ok := unescapeDim(l)
		if !ok || back != name {
			t.Errorf("%q -> %q -> %q, %v", name, l, back, ok)
		}
	}
	if escapeDim("service.name") != "d_service_2ename" {
		t.Errorf("service.name -> %q", escapeDim("service.name"))
	}
	for _, bad := range []string{"namespace", "d_x_", "d_x_4", "d_x_zz"} {
		if _, ok := unescapeDim(bad); ok {
			t.Errorf("unescapeDim(%q) accepted", bad)
		}
	}
}
