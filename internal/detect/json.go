package detect

import (
	"encoding/json"
	"math"
	"time"
)

// MarshalJSON encodes the finding in replay's documented, stable format:
// time (RFC 3339), ip, detector, rule, condition (rate detectors), class,
// severity, action, mode, field, reason, evidence, request.
func (f Finding) MarshalJSON() ([]byte, error) {
	v := struct {
		Time      string       `json:"time"`
		IP        string       `json:"ip,omitempty"`
		Detector  string       `json:"detector"`
		Rule      string       `json:"rule"`
		Condition string       `json:"condition,omitempty"`
		Class     Class        `json:"class"`
		Severity  string       `json:"severity,omitempty"`
		Action    string       `json:"action"`
		Mode      Mode         `json:"mode,omitempty"`
		Field     string       `json:"field,omitempty"`
		Reason    string       `json:"reason"`
		Evidence  EvidenceJSON `json:"evidence"`
		Request   *Request     `json:"request,omitempty"`
	}{Time: f.Time.Format(time.RFC3339), Detector: f.Detector, Rule: f.Rule, Class: f.Class, Action: f.Action.String(),
		Mode: f.Mode, Reason: f.Reason, Evidence: NewEvidenceJSON(f.Evidence), Request: f.Request}
	if f.Client.IsValid() {
		v.IP = f.Client.String()
	}
	if f.Detector == "rate" || f.Detector == "global" {
		v.Condition = f.Rule
	}
	if f.Severity > 0 {
		v.Severity = f.Severity.String()
	}
	if f.Field != 0 {
		v.Field = f.Field.String()
	}
	return json.Marshal(v)
}

// EvidenceJSON is Evidence as written to JSON outputs: floats rounded
// to 4 decimals, durations as Go duration strings.
type EvidenceJSON struct {
	Value             float64 `json:"value"`
	Threshold         float64 `json:"threshold"`
	Mean              float64 `json:"baseline_mean"`
	Stddev            float64 `json:"baseline_stddev"`
	ZScore            float64 `json:"zscore,omitempty"`
	BaselineSource    string  `json:"baseline_source,omitempty"`
	BaselineErrorRate float64 `json:"baseline_error_rate,omitempty"`
	Requests          int     `json:"window_requests"`
	Errors            int     `json:"window_errors"`
	ErrorRatio        float64 `json:"error_ratio"`
	Window            string  `json:"window,omitempty"`
	Tightened         bool    `json:"tightened,omitempty"`
	Learning          bool    `json:"learning,omitempty"`
	Score             int     `json:"score,omitempty"`
	Distinct          int     `json:"distinct,omitempty"`
	AlertDuration     string  `json:"alert_duration,omitempty"`
}

// NewEvidenceJSON converts evidence for JSON output.
func NewEvidenceJSON(e Evidence) EvidenceJSON {
	j := EvidenceJSON{Value: round(e.Value), Threshold: round(e.Threshold), Mean: round(e.Mean),
		Stddev: round(e.Stddev), ZScore: round(e.ZScore), BaselineSource: e.BaselineSource,
		BaselineErrorRate: round(e.BaselineErrorRate), Requests: e.Requests, Errors: e.Errors,
		ErrorRatio: round(e.ErrorRatio), Tightened: e.Tightened, Learning: e.Learning, Score: e.Score,
		Distinct: e.Distinct}
	if e.Window > 0 {
		j.Window = e.Window.String()
	}
	if e.AlertDuration > 0 {
		j.AlertDuration = e.AlertDuration.String()
	}
	return j
}

func round(v float64) float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0
	}
	return math.Round(v*1e4) / 1e4
}
