package detect

import (
	"fmt"
	"time"

	"github.com/vigil-sec/vigil/internal/baseline"
	"github.com/vigil-sec/vigil/internal/window"
)

// Alert is one global traffic anomaly, ongoing or over.
type Alert struct {
	// Start and End delimit the anomaly; End is zero while it is ongoing.
	Start time.Time `json:"start"`
	End   time.Time `json:"end,omitzero"`
	// Condition is the check that fired: "zscore" or "multiplier".
	Condition string `json:"condition"`
	// Peak is the highest average rate (requests/s over 60 s) seen.
	Peak float64 `json:"peak_rps"`
	// Threshold is the rate that raised the alert.
	Threshold float64 `json:"threshold_rps"`
	// Mean and Stddev are the baseline when the alert started.
	Mean   float64 `json:"baseline_mean_rps"`
	Stddev float64 `json:"baseline_stddev_rps"`
}

// Duration returns how long the alert lasted (until now when ongoing).
func (a *Alert) Duration(now time.Time) time.Duration {
	if a.End.IsZero() {
		return now.Sub(a.Start)
	}
	return a.End.Sub(a.Start)
}

// AlertStats summarises the alert history.
type AlertStats struct {
	// Count is the number of alerts raised; Active whether one is ongoing.
	Count  int  `json:"count"`
	Active bool `json:"active"`
	// Max and Avg are the longest and the average duration of finished alerts.
	Max time.Duration `json:"-"`
	Avg time.Duration `json:"-"`
	// Recent holds the latest alerts, newest last.
	Recent []Alert `json:"recent"`
}

// Global detects anomalies of all traffic together: it compares the average
// rate of the last 60 s with the global baseline, raises an alert when the
// z-score or the multiplier check fires, and a recovery once traffic stayed
// under the threshold (scaled by the hysteresis) for recover_after. It never
// bans. Global is owned by one goroutine (the engine's dispatcher).
type Global struct {
	cfg      GlobalConfig
	win      window.Window[uint32]
	first    int64 // second of the first request; 0 = none yet
	active   *Alert
	calm     int64 // first second of the current calm streak; 0 = not calm
	history  []Alert
	count    int
	finished int
	maxDur   time.Duration
	sumDur   time.Duration
}

// NewGlobal returns a global detector. cfg must be valid.
func NewGlobal(cfg GlobalConfig) *Global { return &Global{cfg: cfg} }

// SetConfig replaces the settings (on reload), keeping the window, the
// ongoing alert and the history.
func (g *Global) SetConfig(cfg GlobalConfig) { g.cfg = cfg }

// Add counts one request at second sec.
func (g *Global) Add(sec int64, isErr bool) {
	if g.first == 0 {
		g.first = sec
	}
	g.win.Add(sec, isErr)
}

// Rate returns the average requests per second of the 60 s window ending at
// sec (of the seconds observed so far, when fewer than 60).
func (g *Global) Rate(sec int64) float64 {
	g.win.Advance(sec)
	span := int64(window.Size)
	if g.first != 0 && sec-g.first+1 < span {
		span = max(1, sec-g.first+1)
	}
	return float64(g.win.Requests()) / float64(span)
}

// full reports whether a whole window has been observed by second sec.
func (g *Global) full(sec int64) bool { return g.first != 0 && sec-g.first+1 >= window.Size }

// Tick evaluates the second sec once it is complete (t is its end as a time,
// seq orders the finding). It returns an alert or recovery finding, or nil.
func (g *Global) Tick(sec int64, t time.Time, seq uint64, snap *baseline.Snapshot) *Finding {
	if g.cfg.Mode == ModeOff {
		return nil
	}
	rate := g.Rate(sec)
	b := snap.Global
	thr, cond := thresholds(b.Mean, b.Stddev, g.cfg.ZScore, g.cfg.Multiplier, g.cfg.MinRate)
	req, errs := g.win.Requests(), g.win.Errors()
	ev := Evidence{Value: rate, Threshold: thr, Mean: b.Mean, Stddev: b.Stddev, ZScore: (rate - b.Mean) / b.Stddev,
		BaselineSource: b.Source, Requests: req, Errors: errs, ErrorRatio: ratio(errs, req),
		BaselineErrorRate: b.ErrorRate, Window: window.Size * time.Second, Learning: snap.Learning}
	if g.active == nil {
		if snap.Learning || !g.full(sec) || rate <= thr {
			return nil
		}
		g.count++
		g.active = &Alert{Start: t, Condition: cond, Peak: rate, Threshold: thr, Mean: b.Mean, Stddev: b.Stddev}
		g.calm = 0
		f := &Finding{Time: t, Seq: seq, Detector: "global", Rule: cond, Class: ClassRate, Mode: g.cfg.Mode,
			Action: ActionAlert, Evidence: ev}
		what := fmt.Sprintf("z-score %.1f over %.1f", ev.ZScore, g.cfg.ZScore)
		if cond == "multiplier" {
			what = fmt.Sprintf("%.1fx the normal rate, over %.1fx", rate/b.Mean, g.cfg.Multiplier)
		}
		f.Reason = fmt.Sprintf("global traffic anomaly: %.1f requests/s over the last 60s, %s (baseline %.1f ± %.1f requests/s)",
			rate, what, b.Mean, b.Stddev)
		return f
	}
	a := g.active
	a.Peak = max(a.Peak, rate)
	if rate > a.Threshold*g.cfg.Hysteresis {
		g.calm = 0
		return nil
	}
	if g.calm == 0 {
		g.calm = sec
	}
	if time.Duration(sec-g.calm+1)*time.Second < g.cfg.RecoverAfter {
		return nil
	}
	a.End = t
	d := a.Duration(t)
	g.finished++
	g.sumDur += d
	g.maxDur = max(g.maxDur, d)
	g.remember(*a)
	g.active, g.calm = nil, 0
	ev.AlertDuration = d
	ev.Threshold = a.Threshold * g.cfg.Hysteresis
	f := &Finding{Time: t, Seq: seq, Detector: "global", Rule: "recovered", Class: ClassRate, Mode: g.cfg.Mode,
		Action: ActionRecover, Evidence: ev}
	f.Reason = fmt.Sprintf("global traffic back to normal: %.1f requests/s over the last 60s (baseline %.1f ± %.1f); the anomaly lasted %s, peak %.1f requests/s",
		rate, b.Mean, b.Stddev, d.Round(time.Second), a.Peak)
	return f
}

func (g *Global) remember(a Alert) {
	if g.cfg.History == 0 {
		return
	}
	if len(g.history) == g.cfg.History {
		copy(g.history, g.history[1:])
		g.history = g.history[:len(g.history)-1]
	}
	g.history = append(g.history, a)
}

// Stats returns the alert history and its statistics; the ongoing alert, if
// any, is the last of Recent.
func (g *Global) Stats() AlertStats {
	s := AlertStats{Count: g.count, Active: g.active != nil, Max: g.maxDur}
	if g.finished > 0 {
		s.Avg = g.sumDur / time.Duration(g.finished)
	}
	s.Recent = append(s.Recent, g.history...)
	if g.active != nil {
		s.Recent = append(s.Recent, *g.active)
	}
	return s
}
