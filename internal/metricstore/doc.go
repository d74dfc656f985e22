// Package metricstore owns Flotta's CloudWatch metric data: the time series
// behind PutMetricData, GetMetricStatistics, GetMetricData and ListMetrics.
//
// It embeds the Prometheus TSDB (github.com/prometheus/prometheus/tsdb) in a
// directory of its own under the server's data directory, and it is the only
// package that imports github.com/prometheus/prometheus. Callers see
// CloudWatch shapes only: a Metric (namespace, name, dimensions), Points,
// and Datapoints computed per period.
//
// # Label scheme
//
// Every CloudWatch metric becomes one or more TSDB series with these labels:
//
//	__name__    the metric name (MetricName), verbatim
//	namespace   the namespace, verbatim
//	unit        the unit of the points ("None" when the caller gave none)
//	d_<escaped> one label per dimension, value verbatim
//
// Dimension names are escaped reversibly into valid Prometheus label names:
// ASCII letters and digits are kept, every other byte (including '_') becomes
// '_' followed by two lower-case hex digits. "ClusterName" stays
// "d_ClusterName"; "service.name" becomes "d_service_2ename". The "d_" prefix
// keeps dimensions from colliding with the fixed labels.
//
// Units are a label, so points of one metric sent with different units live
// in separate series. As in CloudWatch, statistics are then computed per unit
// unless the query names one unit.
//
// # Time, retention and out-of-order data
//
// Timestamps are stored with millisecond precision. Retention (default 15
// days, as CloudWatch keeps one-minute data) is TSDB's block retention: it is
// applied whenever TSDB compacts (every minute in the background, or when
// Compact is called) and removes whole two-hour blocks whose end is older
// than the newest block's end minus the retention. Append itself rejects
// points older than Now minus the retention, or more than two hours in the
// future, as CloudWatch does.
//
// Out-of-order ingestion is enabled with a window (default two hours): a
// series accepts points up to that much older than its newest point.
// CloudWatch accepts data up to two weeks old, but an out-of-order window
// that wide would keep two weeks of data in TSDB's head, in memory; older
// late points are rejected with ErrTooOld.
//
// TSDB keeps one value per series and millisecond. Points of one series that
// share a timestamp within one Append are spread one millisecond apart, so
// none is lost. A point in a later Append that repeats a stored timestamp of
// its series is not added to the count: when it repeats the series' newest
// timestamp with another value it is rejected with ErrDuplicate; an equal
// value is dropped silently; when it lands behind the newest point (TSDB's
// out-of-order path) it is accepted and queries see only one of the two
// values. The API layer should therefore give each PutMetricData point its
// own millisecond if it needs every repeat counted.
package metricstore
