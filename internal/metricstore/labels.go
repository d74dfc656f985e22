package metricstore

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/prometheus/prometheus/model/labels"
)

// Fixed label names; dimensions use dimPrefix plus the escaped name.
const (
	labelName      = labels.MetricName // "__name__"
	labelNamespace = "namespace"
	labelUnit      = "unit"
	dimPrefix      = "d_"
	unitNone       = "None"
)

// Metric is a CloudWatch metric identity: namespace, name and dimensions.
type Metric struct {
	// Namespace is the CloudWatch namespace, for example "AWS/ECS".
	Namespace string
	// Name is the metric name, for example "CPUUtilization".
	Name string
	// Dimensions are name/value pairs such as ClusterName and ServiceName.
	Dimensions map[string]string
}

func (m Metric) validate() error {
	if m.Namespace == "" {
		return errors.New("metricstore: metric namespace is empty")
	}
	if m.Name == "" {
		return errors.New("metricstore: metric name is empty")
	}
	for k, v := range m.Dimensions {
		if k == "" || v == "" {
			return fmt.Errorf("metricstore: dimension %q=%q: names and values must not be empty", k, v)
		}
	}
	return nil
}

// escapeDim turns a dimension name into a label name, reversibly.
func escapeDim(name string) string {
	var b strings.Builder
	b.Grow(len(dimPrefix) + len(name))
	b.WriteString(dimPrefix)
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
			b.WriteByte(c)
			continue
		}
		const hex = "0123456789abcdef"
		b.WriteByte('_')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

// unescapeDim reverses escapeDim; ok is false for a label that is not a
// dimension.
func unescapeDim(label string) (string, bool) {
	rest, ok := strings.CutPrefix(label, dimPrefix)
	if !ok {
		return "", false
	}
	out := make([]byte, 0, len(rest))
	for i := 0; i < len(rest); i++ {
		if rest[i] != '_' {
			out = append(out, rest[i])
			continue
		}
		if i+2 >= len(rest) {
			return "", false
		}
		hi, lo := unhex(rest[i+1]), unhex(rest[i+2])
		if hi < 0 || lo < 0 {
			return "", false
		}
		out = append(out, byte(hi<<4|lo))
		i += 2
	}
	return string(out), true
}

func unhex(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	}
	return -1
}

// seriesLabels builds the TSDB labels of m with the given unit.
func seriesLabels(b *labels.ScratchBuilder, m Metric, unit string) labels.Labels {
	if unit == "" {
		unit = unitNone
	}
	b.Reset()
	b.Add(labelName, m.Name)
	b.Add(labelNamespace, m.Namespace)
	b.Add(labelUnit, unit)
	for k, v := range m.Dimensions {
		b.Add(escapeDim(k), v)
	}
	b.Sort()
	return b.Labels()
}

// metricOf reads a Metric and its unit back from series labels.
func metricOf(ls labels.Labels) (Metric, string) {
	var m Metric
	var unit string
	ls.Range(func(l labels.Label) {
		switch l.Name {
		case labelName:
			m.Name = l.Value
		case labelNamespace:
			m.Namespace = l.Value
		case labelUnit:
			unit = l.Value
		default:
			if d, ok := unescapeDim(l.Name); ok {
				if m.Dimensions == nil {
					m.Dimensions = map[string]string{}
				}
				m.Dimensions[d] = l.Value
			}
		}
	})
	return m, unit
}

// dimCount counts the dimension labels of a series.
func dimCount(ls labels.Labels) int {
	n := 0
	ls.Range(func(l labels.Label) {
		if strings.HasPrefix(l.Name, dimPrefix) {
			n++
		}
	})
	return n
}

// key is a stable string identity of m, for de-duplication and sorting.
func (m Metric) key() string {
	names := make([]string, 0, len(m.Dimensions))
	for k := range m.Dimensions {
		names = append(names, k)
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteString(m.Namespace)
	b.WriteByte(0)
	b.WriteString(m.Name)
	for _, k := range names {
		b.WriteByte(0)
		b.WriteString(k)
		b.WriteByte(1)
		b.WriteString(m.Dimensions[k])
	}
	return b.String()
}
