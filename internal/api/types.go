package api

import (
	"math"
	"net/netip"
	"time"

	"github.com/vigil-sec/vigil/internal/baseline"
	"github.com/vigil-sec/vigil/internal/detect"
	"github.com/vigil-sec/vigil/internal/engine"
	"github.com/vigil-sec/vigil/internal/respond"
)

// Every duration in a response appears twice: as a Go duration string
// ("1h30m0s") under its name and as a number of seconds under name_seconds.

// StatusResponse is the body of GET /api/v1/status.
type StatusResponse struct {
	// Version is the daemon's version; Mode "learning", "enforcing",
	// "shadow" or "starting" (no traffic seen yet).
	Version string `json:"version"`
	Mode    string `json:"mode"`
	// Ready is what /readyz reports.
	Ready bool `json:"ready"`
	// StartTime is when the daemon started; Uptime how long ago (wall clock).
	StartTime     time.Time `json:"start_time"`
	Uptime        string    `json:"uptime"`
	UptimeSeconds float64   `json:"uptime_seconds"`
	// EventTime is the log time the engine has reached (zero before the
	// first request); Lag is the wall clock minus EventTime in live mode.
	EventTime time.Time `json:"event_time,omitzero"`
	// SnapshotTime is when the engine published the counts below (about
	// once a second).
	SnapshotTime time.Time `json:"snapshot_time,omitzero"`
	Lag          string    `json:"lag,omitempty"`
	LagSeconds   float64   `json:"lag_seconds,omitempty"`
	// Lines and Requests count lines read and requests processed.
	Lines    uint64 `json:"lines"`
	Requests uint64 `json:"requests"`
	// Rejected counts rejected lines by reason.
	Rejected map[string]uint64 `json:"rejected"`
	// Late and Future count requests with out-of-order or future times.
	Late   uint64 `json:"late"`
	Future uint64 `json:"future"`
	// GlobalRPS is the average requests/s over the last 60 s.
	GlobalRPS float64 `json:"global_rps"`
	// Baseline is the baseline in effect (null before the first minute).
	Baseline *baseline.Snapshot `json:"baseline"`
	// TrackedClients is the number of clients the engine tracks.
	TrackedClients int `json:"tracked_clients"`
	// BansActive counts enforced bans; BansShadow would-be bans (shadow mode).
	BansActive int `json:"bans_active"`
	BansShadow int `json:"bans_shadow"`
	// Alerts summarises the global anomaly alerts.
	Alerts AlertSummary `json:"alerts"`
}

// AlertSummary summarises the global anomaly alerts: how many were raised,
// whether one is ongoing, and the longest and average duration of the
// finished ones.
type AlertSummary struct {
	// Count is the number of alerts raised; Active whether one is ongoing.
	Count  int  `json:"count"`
	Active bool `json:"active"`
	// MaxDuration and AvgDuration are the longest and the average duration
	// of the finished alerts ("0s" when none finished).
	MaxDuration        string  `json:"max_duration"`
	MaxDurationSeconds float64 `json:"max_duration_seconds"`
	AvgDuration        string  `json:"avg_duration"`
	AvgDurationSeconds float64 `json:"avg_duration_seconds"`
}

// AlertsResponse is the body of GET /api/v1/alerts: the summary and the
// recent alerts, oldest first (an ongoing alert is last).
type AlertsResponse struct {
	AlertSummary
	Alerts []AlertInfo `json:"alerts"`
}

// AlertInfo is one global anomaly alert with its duration (until the
// engine's event time when ongoing).
type AlertInfo struct {
	detect.Alert
	// Ongoing reports an alert that has not recovered yet (End is zero).
	Ongoing         bool    `json:"ongoing"`
	Duration        string  `json:"duration"`
	DurationSeconds float64 `json:"duration_seconds"`
}

// BanInfo is an active ban as GET /api/v1/bans returns it.
type BanInfo struct {
	// IP is the bare address for a single-address ban, else the CIDR.
	IP     string       `json:"ip"`
	Prefix netip.Prefix `json:"prefix"`
	// Since and Until delimit the ban (Until absent: permanent).
	Since     time.Time `json:"since"`
	Until     time.Time `json:"until,omitzero"`
	Permanent bool      `json:"permanent"`
	// Remaining is how long until the ban is lifted (absent when
	// permanent; 0s once due: it is lifted on the engine's next tick).
	Remaining        string  `json:"remaining,omitempty"`
	RemainingSeconds float64 `json:"remaining_seconds,omitempty"`
	// Offense is the offense count that chose the ladder step.
	Offense int `json:"offense"`
	// Detector, Rule, Class and Reason explain the ban ("manual" for an
	// operator's ban).
	Detector string       `json:"detector"`
	Rule     string       `json:"rule,omitempty"`
	Class    detect.Class `json:"class,omitempty"`
	Reason   string       `json:"reason"`
	// Manual reports an operator's ban; Shadow a would-be ban (not enforced).
	Manual bool `json:"manual,omitempty"`
	Shadow bool `json:"shadow,omitempty"`
	// Evidence is the measurement behind an automatic ban; Request the
	// request that triggered it.
	Evidence *detect.EvidenceJSON `json:"evidence,omitempty"`
	Request  *detect.Request      `json:"request,omitempty"`
}

// newBanInfo describes b as of now.
func newBanInfo(b *respond.Ban, now time.Time) BanInfo {
	bi := BanInfo{IP: prefixString(b.Prefix), Prefix: b.Prefix, Since: b.Since, Until: b.Until,
		Permanent: b.Permanent(), Offense: b.Offense, Detector: b.Detector, Rule: b.Rule, Class: b.Class,
		Reason: b.Reason, Manual: b.Manual, Shadow: b.Shadow, Request: b.Request}
	if !bi.Permanent {
		left := max(b.Until.Sub(now), 0).Round(time.Second)
		bi.Remaining, bi.RemainingSeconds = left.String(), left.Seconds()
	}
	if !b.Manual {
		e := detect.NewEvidenceJSON(b.Evidence)
		bi.Evidence = &e
	}
	return bi
}

// Decision is a ban or unban as POST /api/v1/bans, DELETE /api/v1/bans and
// POST /api/v1/unban return it: respond.Decision's JSON form.
type Decision struct {
	// Time is when the decision was made; Action "ban" or "unban".
	Time   time.Time `json:"time"`
	Action string    `json:"action"`
	// IP is the bare address for a single-address target, else the CIDR.
	IP string `json:"ip"`
	// Detector is "manual" for an operator's ban; for an unban, the
	// detector of the ban it lifted. Rule and Class likewise.
	Detector string       `json:"detector"`
	Rule     string       `json:"rule,omitempty"`
	Class    detect.Class `json:"class,omitempty"`
	// Reason is the operator's reason (or the default one).
	Reason string `json:"reason"`
	// Duration is a Go duration or "permanent" (bans only); Until is absent
	// for permanent bans and unbans.
	Duration string    `json:"duration,omitempty"`
	Until    time.Time `json:"until,omitzero"`
	// Offense is the target's offense count; Manual marks an operator's
	// decision; Shadow a ban recorded but not enforced (shadow mode).
	Offense int  `json:"offense,omitempty"`
	Manual  bool `json:"manual,omitempty"`
	Shadow  bool `json:"shadow,omitempty"`
}

// errorResponse is the body of every error response.
type errorResponse struct {
	Error string `json:"error"`
}

// banRequest is the body of POST /api/v1/bans.
type banRequest struct {
	IP       string `json:"ip"`
	Duration string `json:"duration"`
	Reason   string `json:"reason"`
}

// unbanRequest is the body of POST /api/v1/unban.
type unbanRequest struct {
	IP     string `json:"ip"`
	Reason string `json:"reason"`
	Forget bool   `json:"forget"`
}

func newAlertSummary(s *detect.AlertStats) AlertSummary {
	return AlertSummary{Count: s.Count, Active: s.Active,
		MaxDuration: s.Max.Round(time.Second).String(), MaxDurationSeconds: s.Max.Round(time.Second).Seconds(),
		AvgDuration: s.Avg.Round(time.Second).String(), AvgDurationSeconds: s.Avg.Round(time.Second).Seconds()}
}

func newStatus(s *engine.Snapshot, now time.Time) StatusResponse {
	st := StatusResponse{Rejected: map[string]uint64{}, Alerts: newAlertSummary(&detect.AlertStats{})}
	if s == nil {
		return st
	}
	st.EventTime, st.Lines, st.Requests, st.Late, st.Future = s.At, s.Lines, s.Events, s.Late, s.Future
	st.SnapshotTime = s.Wall
	for k, v := range s.Rejected {
		st.Rejected[k] = v
	}
	st.GlobalRPS = round4(s.GlobalRate)
	st.Baseline = s.Baseline
	st.TrackedClients = s.Tracked
	st.Alerts = newAlertSummary(&s.Alerts)
	if s.Lag != 0 {
		// Age the published lag by the time since the snapshot was taken.
		lag := s.Lag
		if !s.Wall.IsZero() && now.After(s.Wall) {
			lag += now.Sub(s.Wall)
		}
		lag = lag.Round(time.Millisecond)
		st.Lag, st.LagSeconds = lag.String(), lag.Seconds()
	}
	return st
}

func prefixString(p netip.Prefix) string {
	if p.IsSingleIP() {
		return p.Addr().String()
	}
	return p.String()
}

func round4(v float64) float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0
	}
	return math.Round(v*1e4) / 1e4
}
