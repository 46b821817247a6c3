package source

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// tailMetrics are the Tail's Prometheus metrics. Label values are fixed, so
// the children are looked up once and updating them allocates nothing.
type tailMetrics struct {
	lines          prometheus.Counter
	bytes          prometheus.Counter
	rotateRename   prometheus.Counter
	rotateTruncate prometheus.Counter
	skippedLong    prometheus.Counter
	ckptErrors     prometheus.Counter
	lostBytes      prometheus.Counter
	offset         prometheus.Gauge
}

// newTailMetrics creates the metrics and registers them with reg (nil = not
// registered).
func newTailMetrics(reg prometheus.Registerer) (*tailMetrics, error) {
	rotations := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "vigil_source_rotations_total",
		Help: "Rotations of the followed log file, by kind: rename (the path now names another file) or truncate (copytruncate or > in place).",
	}, []string{"kind"})
	skipped := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "vigil_source_lines_skipped_total",
		Help: "Lines dropped by the source, by reason (line_too_long: longer than the line limit).",
	}, []string{"reason"})
	m := &tailMetrics{
		lines: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "vigil_source_lines_total",
			Help: "Complete lines read from the followed log and handed to the engine.",
		}),
		bytes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "vigil_source_bytes_total",
			Help: "Bytes read from the followed log, including skipped lines.",
		}),
		rotateRename:   rotations.WithLabelValues("rename"),
		rotateTruncate: rotations.WithLabelValues("truncate"),
		skippedLong:    skipped.WithLabelValues("line_too_long"),
		ckptErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "vigil_source_checkpoint_errors_total",
			Help: "Failed writes of the positions file.",
		}),
		lostBytes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "vigil_source_lost_bytes_total",
			Help: "Bytes known to be lost: a rotated or truncated file vanished before it was read to its end (a lower bound).",
		}),
		offset: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "vigil_source_offset_bytes",
			Help: "Read offset in the file currently followed, in bytes.",
		}),
	}
	if reg == nil {
		return m, nil
	}
	all := []prometheus.Collector{m.lines, m.bytes, rotations, skipped, m.ckptErrors, m.lostBytes, m.offset}
	for i, c := range all {
		if err := reg.Register(c); err != nil {
			for _, done := range all[:i] {
				reg.Unregister(done)
			}
			return nil, fmt.Errorf("register source metrics: %w", err)
		}
	}
	return m, nil
}
