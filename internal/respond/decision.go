package respond

import (
	"encoding/json"
	"net/netip"
	"time"

	"github.com/vigil-sec/vigil/internal/detect"
)

// Action is what a decision does.
type Action string

// Actions.
const (
	ActionBan     Action = "ban"
	ActionUnban   Action = "unban"
	ActionAlert   Action = "alert"
	ActionRecover Action = "recover"
)

// Decision is what the respond stage decided, with why. It is a value handed
// to the enforcing side (firewall, audit log, notifications) and to replay's
// output.
type Decision struct {
	// Time is the event time of the decision.
	Time time.Time
	// Action is ban, unban, alert or recover.
	Action Action
	// Target is the banned or unbanned address or prefix (ban/unban only).
	Target netip.Prefix
	// Detector, Rule and Class come from the finding behind the decision
	// (for an unban: from the ban it lifts).
	Detector string
	Rule     string
	Class    detect.Class
	// Reason is one sentence an operator understands.
	Reason string
	// Duration is the ban length; zero with Permanent.
	Duration time.Duration
	// Permanent reports a ban that never expires.
	Permanent bool
	// Until is when the ban expires (zero when permanent).
	Until time.Time
	// Offense is the client's offense count that chose the ladder step.
	Offense int
	// Manual reports an operator's ban or unban.
	Manual bool
	// Shadow reports a would-be ban in shadow mode: not enforced.
	Shadow bool
	// Evidence is the measurement behind the decision.
	Evidence detect.Evidence
	// Request is the request that triggered it, when there is one.
	Request *detect.Request
}

// DurationString returns the ban duration as Go formats it ("10m0s") or
// "permanent".
func (d *Decision) DurationString() string {
	if d.Permanent {
		return Permanent
	}
	return d.Duration.String()
}

// IP returns the target as shown to operators: the bare address for a
// single-address prefix, else the CIDR.
func (d *Decision) IP() string {
	if !d.Target.IsValid() {
		return ""
	}
	if d.Target.IsSingleIP() {
		return d.Target.Addr().String()
	}
	return d.Target.String()
}

// MarshalJSON encodes the decision in replay's documented, stable format:
// time (RFC 3339), action, ip, detector, rule, condition (rate detectors),
// class, reason, duration, until, offense, manual, shadow, evidence, request.
func (d Decision) MarshalJSON() ([]byte, error) {
	type evidence = detect.EvidenceJSON
	v := struct {
		Time      string          `json:"time"`
		Action    Action          `json:"action"`
		IP        string          `json:"ip,omitempty"`
		Detector  string          `json:"detector"`
		Rule      string          `json:"rule,omitempty"`
		Condition string          `json:"condition,omitempty"`
		Class     detect.Class    `json:"class,omitempty"`
		Reason    string          `json:"reason"`
		Duration  string          `json:"duration,omitempty"`
		Until     string          `json:"until,omitempty"`
		Offense   int             `json:"offense,omitempty"`
		Manual    bool            `json:"manual,omitempty"`
		Shadow    bool            `json:"shadow,omitempty"`
		Evidence  *evidence       `json:"evidence,omitempty"`
		Request   *detect.Request `json:"request,omitempty"`
	}{Time: d.Time.Format(time.RFC3339), Action: d.Action, IP: d.IP(), Detector: d.Detector, Rule: d.Rule,
		Class: d.Class, Reason: d.Reason, Offense: d.Offense, Manual: d.Manual, Shadow: d.Shadow, Request: d.Request}
	if isCondition(d.Detector) {
		v.Condition = d.Rule
	}
	if d.Action == ActionBan {
		v.Duration = d.DurationString()
		if !d.Permanent {
			v.Until = d.Until.Format(time.RFC3339)
		}
	}
	if !d.Manual && d.Action != ActionUnban {
		e := detect.NewEvidenceJSON(d.Evidence)
		v.Evidence = &e
	}
	return json.Marshal(v)
}

func isCondition(detector string) bool { return detector == "rate" || detector == "global" }
