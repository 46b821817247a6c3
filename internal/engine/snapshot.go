package engine

import (
	"time"

	"github.com/vigil-sec/vigil/internal/baseline"
	"github.com/vigil-sec/vigil/internal/detect"
)

// snapshotEvery is how often (wall time) the dispatcher publishes a Snapshot
// in live mode.
const snapshotEvery = time.Second

// Snapshot is the engine's state for the API and dashboards: immutable once
// published, safe to read from any goroutine.
type Snapshot struct {
	// Wall is when the snapshot was taken (wall clock); At the event time
	// reached.
	Wall time.Time `json:"wall"`
	At   time.Time `json:"event_time"`
	// Lines and Events count lines read and requests processed so far.
	Lines  uint64 `json:"lines"`
	Events uint64 `json:"requests"`
	// Rejected counts rejected lines by reason.
	Rejected map[string]uint64 `json:"rejected"`
	// Late and Future count requests with out-of-order or future times.
	Late   uint64 `json:"late"`
	Future uint64 `json:"future"`
	// GlobalRate is the average requests/s over the last 60 s.
	GlobalRate float64 `json:"global_rps"`
	// Baseline is the baseline in effect.
	Baseline *baseline.Snapshot `json:"baseline"`
	// Alerts is the global alert history.
	Alerts detect.AlertStats `json:"alerts"`
	// Tracked is the number of clients tracked.
	Tracked int `json:"tracked_clients"`
	// Lag is wall time minus the latest event time (live mode).
	Lag time.Duration `json:"-"`
}

// Snapshot returns the latest published snapshot, or nil before the first
// event.
func (e *Engine) Snapshot() *Snapshot { return e.snap.Load() }

// publish stores a fresh snapshot (dispatcher goroutine).
func (d *dispatcher) publish(wall time.Time) {
	if d.sec == 0 {
		return
	}
	s := &Snapshot{Wall: wall, At: d.now, Lines: d.lines, Events: d.events, Late: d.late, Future: d.future,
		GlobalRate: d.global.Rate(d.sec), Baseline: d.snap, Alerts: d.global.Stats(),
		Tracked: d.e.metrics.trackedTotal(), Rejected: map[string]uint64{}}
	for i, r := range d.reasons {
		if d.rejected[i] > 0 {
			s.Rejected[r.Reason] = d.rejected[i]
		}
	}
	if v := d.rejected[len(d.reasons)]; v > 0 {
		s.Rejected["no_client"] = v
	}
	if d.e.o.Live {
		s.Lag = wall.Sub(d.now)
	}
	d.e.metrics.rps.Set(s.GlobalRate)
	d.e.snap.Store(s)
	d.published = wall
}
